"""Catalog sources: each turns one document into an :class:`~satisfice.catalog.batch.ImportBatch`.

Parsing is pure (nothing is written); :func:`satisfice.catalog.repository.apply_batch` writes a
batch atomically and idempotently, and the pipeline applies a fetched document as dated observations.
Every source is one module declaring a :class:`~satisfice.catalog.sources.registry.Source` (name, sniffer,
default location, what it yields, parser); :data:`~satisfice.catalog.sources.registry.SOURCES` lists them
(``satisfice plugins`` prints it).
"""

from __future__ import annotations

from satisfice.catalog.sources._cells import model_slug
from satisfice.catalog.sources.detect import detect_format, parse_file
from satisfice.catalog.sources.epoch import parse_epoch
from satisfice.catalog.sources.litellm import parse_litellm
from satisfice.catalog.sources.native import parse_native
from satisfice.catalog.sources.openrouter import parse_openrouter, parse_openrouter_history
from satisfice.catalog.sources.registry import SOURCES, Source

__all__ = ["SOURCES", "Source", "detect_format", "parse_epoch", "parse_file", "parse_litellm", "parse_native",
           "parse_openrouter", "parse_openrouter_history", "model_slug"]
