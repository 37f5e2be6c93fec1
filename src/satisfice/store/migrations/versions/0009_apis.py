"""gateway spend rows: the API spoken to the upstream (pass-through or translated to chat)

Revision ID: 0009_apis
Revises: 0004_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_apis'
down_revision = '0004_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('gateway_spend') as batch:
        batch.add_column(sa.Column('upstream_api', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('gateway_spend') as batch:
        batch.drop_column('upstream_api')
