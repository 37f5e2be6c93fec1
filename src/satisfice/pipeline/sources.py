"""Choosing the pipeline's sources: ``--source NAME[=LOCATION]`` options against the one source registry.

Every source is declared once, in :mod:`satisfice.catalog.sources` (name, default location, parser);
the pipeline runs those with a default location when none is named, and any source at a location given.
A location is an ``http(s)://`` URL, a local file (a JSON file, a data module, or a wheel that holds
the data), or ``package:NAME`` for the data bundled in an installed Python package.
"""

from __future__ import annotations

from satisfice.catalog.sources.registry import SOURCES, Source
from satisfice.errors import ConfigError


def source_spec(name: str) -> Source:
    """The source called ``name``; an unknown name is an error listing the known ones."""
    return SOURCES.get(name, "pipeline source")


def parse_selection(options: list[str]) -> dict[str, str]:
    """``NAME`` or ``NAME=URL_OR_FILE`` options as ``{name: location}``; none given means every default source."""
    if not options:
        return SOURCES.pipeline_defaults()
    chosen: dict[str, str] = {}
    for option in options:
        name, eq, location = option.partition("=")
        spec = source_spec(name.strip())
        if eq and not location.strip():
            raise ConfigError(f"--source {option!r}: give a URL or a file after '='")
        if not eq and spec.default is None:
            raise ConfigError(f"--source {spec.name!r} has no default location; give --source {spec.name}=FILE")
        chosen[spec.name] = location.strip() if eq else str(spec.default)
    return chosen


__all__ = ["SOURCES", "parse_selection", "source_spec"]
