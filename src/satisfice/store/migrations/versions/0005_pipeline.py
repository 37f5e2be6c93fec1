"""pipeline tables: snapshots, runs, listings, changes, watches, lock; offers keep their observation time

Revision ID: 0005_pipeline
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_pipeline'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pipeline_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=1000), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=True),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_snapshots'))
    )
    with op.batch_alter_table('pipeline_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_snapshots_source'), ['source'], unique=False)
    op.create_table('pipeline_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_runs'))
    )
    with op.batch_alter_table('pipeline_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_runs_started_at'), ['started_at'], unique=False)
    op.create_table('pipeline_listings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('starts', sa.String(length=10), nullable=False),
    sa.Column('input_per_m', sa.Float(), nullable=True),
    sa.Column('output_per_m', sa.Float(), nullable=True),
    sa.Column('cached_input_per_m', sa.Float(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('gone_since', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_listings')),
    sa.UniqueConstraint('source', 'model_id', 'provider', 'starts', name='uq_pipeline_listings_key')
    )
    with op.batch_alter_table('pipeline_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_listings_model_id'), ['model_id'], unique=False)
    op.create_table('pipeline_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('effective_date', sa.String(length=10), nullable=True),
    sa.Column('old_input_per_m', sa.Float(), nullable=True),
    sa.Column('old_output_per_m', sa.Float(), nullable=True),
    sa.Column('new_input_per_m', sa.Float(), nullable=True),
    sa.Column('new_output_per_m', sa.Float(), nullable=True),
    sa.Column('pct', sa.Float(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_changes'))
    )
    with op.batch_alter_table('pipeline_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_changes_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pipeline_changes_run_id'), ['run_id'], unique=False)
    op.create_table('market_watches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('benchmark', sa.String(length=100), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('max_price', sa.Float(), nullable=True),
    sa.Column('open_only', sa.Boolean(), nullable=False),
    sa.Column('input_share', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('satisfied', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_watches'))
    )
    op.create_table('pipeline_lock',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('acquired_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_pipeline_lock'))
    )
    op.execute("INSERT INTO pipeline_lock (name) VALUES ('run')")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_offers_key', type_='unique')
        batch_op.create_unique_constraint('uq_offers_key', ['model_id', 'provider', 'effective_date', 'recorded_at'])


def downgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_offers_key', type_='unique')
        batch_op.create_unique_constraint('uq_offers_key', ['model_id', 'provider', 'effective_date'])
    op.drop_table('pipeline_lock')
    op.drop_table('market_watches')
    op.drop_table('pipeline_changes')
    op.drop_table('pipeline_listings')
    op.drop_table('pipeline_runs')
    op.drop_table('pipeline_snapshots')
