"""gateway production loop: outcomes (feedback, verifier, shadow), logged content, experiments, drift

Revision ID: 0011_outcomes
Revises: 0004_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_outcomes'
down_revision = '0004_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_outcomes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('request_id', sa.String(length=80), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=True),
    sa.Column('route', sa.String(length=300), nullable=False),
    sa.Column('model', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('experiment', sa.Boolean(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_outcomes'))
    )
    with op.batch_alter_table('gateway_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_gateway_outcomes_request', ['request_id'], unique=False)
        batch_op.create_index('ix_gateway_outcomes_route_model', ['route', 'model', 'created_at'], unique=False)
    op.create_table('gateway_contents',
    sa.Column('request_id', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('route', sa.String(length=300), nullable=False),
    sa.Column('model', sa.String(length=300), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_gateway_contents'))
    )
    with op.batch_alter_table('gateway_contents', schema=None) as batch_op:
        batch_op.create_index('ix_gateway_contents_route_created', ['route', 'created_at'], unique=False)
    op.create_table('gateway_experiments',
    sa.Column('route', sa.String(length=300), nullable=False),
    sa.Column('model', sa.String(length=300), nullable=False),
    sa.Column('incumbent', sa.String(length=300), nullable=False),
    sa.Column('bar', sa.Float(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=False),
    sa.Column('ci_high', sa.Float(), nullable=False),
    sa.Column('spend_usd', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('route', 'model', name=op.f('pk_gateway_experiments'))
    )
    op.create_table('gateway_drift',
    sa.Column('route', sa.String(length=300), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('bar', sa.Float(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=False),
    sa.Column('ci_high', sa.Float(), nullable=False),
    sa.Column('alarm', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('route', name=op.f('pk_gateway_drift'))
    )


def downgrade() -> None:
    op.drop_table('gateway_drift')
    op.drop_table('gateway_experiments')
    with op.batch_alter_table('gateway_contents', schema=None) as batch_op:
        batch_op.drop_index('ix_gateway_contents_route_created')
    op.drop_table('gateway_contents')
    with op.batch_alter_table('gateway_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_gateway_outcomes_route_model')
        batch_op.drop_index('ix_gateway_outcomes_request')
    op.drop_table('gateway_outcomes')
