"""Task specs, datasets, prompt templates and scorers."""
