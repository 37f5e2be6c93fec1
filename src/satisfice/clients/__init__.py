"""Model clients: one seam, complete(request) -> Completion."""
