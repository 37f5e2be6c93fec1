"""gateway ledger: shared spent per key and period, instance leases, spend-row flags and journal ids

Revision ID: 0004_ledger
Revises: 0003_gateway
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_ledger'
down_revision = '0003_gateway'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_ledger',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('spent_usd', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'period', name=op.f('pk_gateway_ledger'))
    )
    op.create_table('gateway_leases',
    sa.Column('instance_id', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('amount_usd', sa.Float(), nullable=False),
    sa.Column('heartbeat_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('instance_id', 'key_id', 'period', name=op.f('pk_gateway_leases'))
    )
    with op.batch_alter_table('gateway_spend') as batch:
        batch.add_column(sa.Column('entry_id', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('usage_invalid', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('over_reservation', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('reserved_usd', sa.Float(), nullable=True))
        batch.create_unique_constraint(op.f('uq_gateway_spend_entry_id'), ['entry_id'])


def downgrade() -> None:
    with op.batch_alter_table('gateway_spend') as batch:
        batch.drop_constraint(op.f('uq_gateway_spend_entry_id'), type_='unique')
        batch.drop_column('reserved_usd')
        batch.drop_column('over_reservation')
        batch.drop_column('usage_invalid')
        batch.drop_column('entry_id')
    op.drop_table('gateway_leases')
    op.drop_table('gateway_ledger')
