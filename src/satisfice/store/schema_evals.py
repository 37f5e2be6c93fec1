"""evals tables (filled in by the evals work)."""
