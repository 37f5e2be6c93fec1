"""gateway tables (filled in by the gateway work)."""
