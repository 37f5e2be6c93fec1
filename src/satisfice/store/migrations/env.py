"""Alembic environment: runs against the engine handed over by satisfice.store.db."""

from alembic import context

from satisfice.store import schema_all

config = context.config
engine = config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=schema_all.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
