"""insight tables: dated insights and their findings

Revision ID: 0010_insights
Revises: 0005_pipeline
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_insights'
down_revision = '0005_pipeline'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insights',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insights')),
    sa.UniqueConstraint('key', name=op.f('uq_insights_key'))
    )
    with op.batch_alter_table('insights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insights_date'), ['date'], unique=False)
    op.create_table('insight_findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('insight_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('benchmark', sa.String(length=100), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('doc', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['insight_id'], ['insights.id'], name=op.f('fk_insight_findings_insight_id_insights')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_findings')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_insight_findings_fingerprint'))
    )
    with op.batch_alter_table('insight_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_findings_insight_id'), ['insight_id'], unique=False)


def downgrade() -> None:
    op.drop_table('insight_findings')
    op.drop_table('insights')
