"""One model, many spellings: the canonical model id for ids and names that sources use.

``deepseek/deepseek-v4-pro``, ``deepseek-v4-pro``, ``DeepSeek V4 Pro`` and
``accounts/fireworks/models/deepseek-v4-pro`` are one model. The rule, in order:

1. drop a path prefix (``vendor/``, ``accounts/x/models/``) and a variant tag (``:thinking``);
   a free or batch variant (``:free``, ``:batch``, ``:flex``) is not a list price, and maps to ''
   (callers skip it); drop a Bedrock region and vendor prefix
   (``global.anthropic.claude-opus-4-7-v1:0`` -> ``claude-opus-4-7``);
2. slugify (lowercase, ``+`` spelled ``plus``, other punctuation to ``-``);
3. spell a version written with a hyphen between two single digits with a dot
   (``claude-opus-4-7`` -> ``claude-opus-4.7``, ``claude-3-5-sonnet`` -> ``claude-3.5-sonnet``); dates
   (``2024-05-13``), longer numbers and sizes (``llama3-8b``) are left alone; Fireworks' ``p``
   between digits is a dot too (``glm-5p2`` -> ``glm-5.2``, ``kimi-k2p7-code`` -> ``kimi-k2.7-code``);
4. drop what names the seller or the serving format rather than the model: a host prefix
   (``databricks-glm-5.2``; the hosts of ``catalog/data/providers.csv``), an organization prefix
   whose remainder is still that organization's model (``meta-llama-3.3-70b`` -> ``llama-3.3-70b``,
   ``nvidia-nemotron-...`` -> ``nemotron-...``, by ``catalog/data/organizations.csv``), a weight
   precision suffix (``-fp8``, ``-nvfp4``, ``-bf16``) and ``-latest``; spell the families'
   vendor spellings one way (``qwen-3.8`` -> ``qwen3.8``, ``llama3.1`` -> ``llama-3.1``);
5. look the result up in the alias table (``catalog/data/aliases.csv``, extendable with more CSV
   files of ``alias,canonical``): a dated snapshot that is the same model as its undated name, or
   a vendor's alternative spelling.

A model's providers stay separate: identity only decides which model a price belongs to.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from satisfice.catalog.providers import shipped
from satisfice.catalog.sources._cells import model_slug
from satisfice.errors import DataError

_BEDROCK = re.compile(r"^(?:(?:us|eu|apac|global|jp|au|ca)\.)?[a-z-]+\.(?=[a-z])")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
SKIPPED_TAGS = frozenset({"free", "batch", "flex"})
_DOT_VERSION = re.compile(r"(?<![\d.])(\d)-(\d)(?![\d.a-z])")
_P_VERSION = re.compile(r"(?<=\d)p(?=\d)")
_SUFFIXES = re.compile(r"-(?:fp8|fp4|nvfp4|bf16|fp16|int8|int4|latest)$")
_FAMILIES = ((re.compile(r"^qwen-(?=\d)"), "qwen"), (re.compile(r"^llama-?v?(?=\d)"), "llama-"))


PROVIDERS = {"x-ai": "xai", "moonshotai": "moonshot", "z-ai": "zai", "z.ai": "zai",
             "mistralai": "mistral", "dashscope": "alibaba", "gemini": "google", "google-ai-studio": "google",
             "meta-llama": "meta"}
"""Provider ids that name the same seller (a vendor's own API under another spelling)."""


def provider_id(raw: str) -> str:
    """The provider id for a source's provider name (``x-ai`` and ``xai`` are one seller)."""
    slug = raw.strip().lower()
    return PROVIDERS.get(slug, slug)


def aliases_path() -> Path:
    """The alias table shipped with the package."""
    return Path(str(resources.files("satisfice.catalog") / "data" / "aliases.csv"))


def read_aliases(path: Path) -> dict[str, str]:
    """``{alias: canonical}`` from a CSV with columns ``alias,canonical`` (more columns are ignored)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read alias table: {exc.strerror}", file=str(path)) from None
    rows = csv.DictReader(text.splitlines())
    if rows.fieldnames is None or not {"alias", "canonical"} <= set(rows.fieldnames):
        raise DataError("an alias table needs the columns alias,canonical", file=str(path), line=1)
    out: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        alias, canonical = (row.get("alias") or "").strip(), (row.get("canonical") or "").strip()
        if not alias and not canonical:
            continue
        if not alias or not canonical:
            raise DataError("both alias and canonical are needed", file=str(path), line=line)
        out[normalise(alias)] = normalise(canonical)
    return out


def normalise(raw: str) -> str:
    """The id a raw model id or display name normalises to, before aliases."""
    text = raw.strip().rsplit("/", 1)[-1].lower()
    if _BEDROCK_VERSION.search(text) and _BEDROCK.match(text):
        text = _BEDROCK_VERSION.sub("", _BEDROCK.sub("", text))
    elif _BEDROCK.match(text):
        text = _BEDROCK.sub("", text)
    text, _, tag = text.partition(":")
    if tag in SKIPPED_TAGS:
        return ""
    slug = _DOT_VERSION.sub(r"\1.\2", _P_VERSION.sub(".", model_slug(text)))
    return _without_seller(slug)


def _without_seller(slug: str) -> str:
    """Step 4 of the rule: drop host and organization prefixes, precision suffixes; one family spelling."""
    hosts, orgs = _prefixes()
    host = hosts.match(slug)
    if host and len(slug) > host.end():
        slug = slug[host.end():]
    for alias in orgs:
        if slug.startswith(alias) and len(slug) > len(alias):
            rest, found = slug[len(alias):], shipped().organization(alias[:-1])
            if found is not None and found.models is not None and found.models.search(rest):
                slug = rest
                break
    while (trimmed := _SUFFIXES.sub("", slug)) != slug and trimmed:
        slug = trimmed
    for pattern, spelling in _FAMILIES:
        slug = pattern.sub(spelling, slug)
    return slug


@lru_cache(maxsize=1)
def _prefixes() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The host prefixes (serving and reseller providers) as a regex, and the organization-alias prefixes."""
    table = shipped()
    hosts = sorted({model_slug(p) for p, kind in table.kinds.items() if kind != "subscription"} - {
        model_slug(a) for org in table.organizations for a in org.aliases}, key=len, reverse=True)
    aliases = sorted({model_slug(a) + "-" for org in table.organizations for a in org.aliases}, key=len, reverse=True)
    return re.compile("^(?:" + "|".join(map(re.escape, hosts)) + ")-"), tuple(aliases)


class Identity:
    """Maps raw ids and names to canonical model ids with a fixed alias table."""

    def __init__(self, aliases: dict[str, str] | None = None) -> None:
        self.aliases = dict(aliases or {})
        self._cache: dict[str, str] = {}

    @classmethod
    def load(cls, extra: Iterable[Path] = ()) -> Identity:
        """The shipped alias table plus ``extra`` tables (later files win)."""
        table = read_aliases(aliases_path())
        for path in extra:
            table.update(read_aliases(path))
        return cls(table)

    def canonical(self, raw: str) -> str:
        """The canonical model id of ``raw`` (an id with or without a vendor prefix, or a display name).

        '' for a free or batch variant, which is not a list price.
        """
        found = self._cache.get(raw)
        if found is None:
            slug = normalise(raw)
            found = self.aliases.get(slug, slug)
            self._cache[raw] = found
        return found
