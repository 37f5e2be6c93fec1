"""gateway journal marks and incidents, lease epochs (fencing): how far each instance journaled, damaged or lost
journals found, the lease generation each spend row was admitted under

Revision ID: faults_0006_journal
Revises: 0004_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = 'faults_0006_journal'
down_revision = '0004_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_journal_marks',
    sa.Column('instance_id', sa.String(length=40), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('directory', sa.String(length=1000), nullable=False),
    sa.Column('journaled_seq', sa.Integer(), nullable=False),
    sa.Column('written_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_gateway_journal_marks'))
    )
    op.create_table('gateway_journal_incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=False), nullable=False),
    sa.Column('instance_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_journal_incidents'))
    )
    with op.batch_alter_table('gateway_leases') as batch:
        batch.add_column(sa.Column('epoch', sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('gateway_spend') as batch:
        batch.add_column(sa.Column('lease_epoch', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('gateway_spend') as batch:
        batch.drop_column('lease_epoch')
    with op.batch_alter_table('gateway_leases') as batch:
        batch.drop_column('epoch')
    op.drop_table('gateway_journal_incidents')
    op.drop_table('gateway_journal_marks')
