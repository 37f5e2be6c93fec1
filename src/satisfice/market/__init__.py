"""Cost at fixed performance: pure analyses over catalog rows (no network, deterministic)."""
