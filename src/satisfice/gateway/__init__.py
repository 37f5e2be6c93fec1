"""An OpenAI-compatible gateway that serves each task from its cheapest good-enough model."""
