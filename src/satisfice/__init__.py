"""satisfice."""
