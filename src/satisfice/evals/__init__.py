"""Evaluations on the user's own task: runner, statistics and selection."""
