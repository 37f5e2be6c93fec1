"""Every table module, imported so that ``Base.metadata`` is complete (for Alembic and tests)."""

from satisfice.store import schema, schema_evals, schema_gateway, schema_insights, schema_outcomes, schema_pipeline
from satisfice.store.schema import Base

metadata = Base.metadata

__all__ = ["metadata", "schema", "schema_evals", "schema_gateway", "schema_insights", "schema_outcomes",
           "schema_pipeline"]
