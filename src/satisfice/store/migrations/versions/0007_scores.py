"""scores are observations: effort, date, stderr, tokens and cost per task; one row per run

Revision ID: 0007_scores
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_scores'
down_revision = '0001'
branch_labels = None
depends_on = None

_COLUMNS = (
    ('effort', sa.String(length=100), False, ''),
    ('observed_on', sa.Date(), True, None),
    ('stderr', sa.Float(), True, None),
    ('input_tokens', sa.Float(), True, None),
    ('cached_tokens', sa.Float(), True, None),
    ('output_tokens', sa.Float(), True, None),
    ('items', sa.Integer(), True, None),
    ('cost_per_task', sa.Float(), True, None),
)


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        for name, kind, nullable, default in _COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=nullable,
                                          server_default=None if default is None else sa.text("''")))
        batch_op.drop_constraint('uq_scores_key', type_='unique')
        batch_op.create_unique_constraint(
            'uq_scores_key', ['model_id', 'benchmark', 'harness', 'effort', 'observed_on'])


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_constraint('uq_scores_key', type_='unique')
        batch_op.create_unique_constraint('uq_scores_key', ['model_id', 'benchmark', 'harness'])
        for name, _kind, _nullable, _default in reversed(_COLUMNS):
            batch_op.drop_column(name)
