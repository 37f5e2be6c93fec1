"""prices a user can trust: each offer's provider kind, each model's kind

Revision ID: 0006_prices
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_prices'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_kind', sa.String(length=20), nullable=True))
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('provider_kind')
