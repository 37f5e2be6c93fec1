"""Every table module, imported so that ``Base.metadata`` is complete (for Alembic and tests)."""

from satisfice.store import schema
from satisfice.store.schema import Base

metadata = Base.metadata

__all__ = ["metadata", "schema"]
