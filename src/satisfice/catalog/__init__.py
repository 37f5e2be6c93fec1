"""The catalog: models, dated prices, benchmark scores and the source of each fact."""
