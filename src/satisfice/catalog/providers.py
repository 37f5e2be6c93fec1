"""Who sells a price: the kind of each provider, and the organization each model comes from.

A price names its provider's kind, decided per offer from two shipped tables:

- ``catalog/data/organizations.csv`` (``name,aliases,providers,models``): each organization's
  canonical display name, the other spellings sources use for it (``anthropic``, ``x-ai``,
  ``meta-llama``), the provider ids of its own API, and a regular expression that recognises
  its model ids (used when a source does not say who made a model);
- ``catalog/data/providers.csv`` (``provider,kind,note``): the kind of known providers:
  ``serving`` (sells at its own per-token list price), ``reseller`` (aggregators and resellers)
  or ``subscription`` (bundles such as a Copilot plan).

The rule, for an offer of model M at provider P:

1. ``first-party`` when P is one of the own-API providers of M's organization;
2. else P's kind in the providers table;
3. else a name rule: ``copilot``, ``subscription`` or ``-plan`` in the name -> ``subscription``;
   ``router``, ``gateway``, ``proxy``, ``relay`` or a ``huggingface_`` prefix -> ``reseller``;
   anything else -> ``serving``.

Only first-party and serving offers are list prices; the default price of a model is its
first-party offer (see :meth:`satisfice.catalog.rows.Catalog.price_at`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from satisfice.errors import DataError

FIRST_PARTY = "first-party"
SERVING = "serving"
RESELLER = "reseller"
SUBSCRIPTION = "subscription"
PROVIDER_KINDS = (FIRST_PARTY, SERVING, RESELLER, SUBSCRIPTION)
"""Every provider kind, in the order they are preferred as a model's price."""
LIST_PRICE_KINDS = frozenset({FIRST_PARTY, SERVING})
"""Kinds whose offers are per-token list prices (compared by ``--provider any``)."""

_SUBSCRIPTION_NAME = re.compile(r"copilot|subscription|-plan$|_plan$")
_RESELLER_NAME = re.compile(r"router|gateway|proxy|relay|^huggingface[_-]")


@dataclass(frozen=True)
class Organization:
    """One organization: its display name, spellings, own-API providers and model-id pattern."""

    name: str
    aliases: frozenset[str]
    providers: frozenset[str]
    models: re.Pattern[str] | None


def _data(name: str) -> Path:
    return Path(str(resources.files("satisfice.catalog") / "data" / name))


def _rows(path: Path, columns: set[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", file=str(path)) from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not columns <= set(reader.fieldnames):
        raise DataError(f"needs the columns {','.join(sorted(columns))}", file=str(path), line=1)
    return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)]


def _split(cell: str) -> frozenset[str]:
    return frozenset(p.strip().lower() for p in cell.split("|") if p.strip())


def read_organizations(path: Path) -> list[Organization]:
    """The organizations table (``name,aliases,providers,models``); a bad row names its line."""
    out = []
    for line, row in _rows(path, {"name", "aliases", "providers", "models"}):
        if not row["name"]:
            raise DataError("an organization needs a name", file=str(path), line=line, field="name")
        try:
            pattern = re.compile(row["models"]) if row["models"] else None
        except re.error as exc:
            raise DataError(f"bad regular expression: {exc}", file=str(path), line=line, field="models") from None
        out.append(Organization(row["name"], _split(row["aliases"]) | {row["name"].lower()},
                                _split(row["providers"]), pattern))
    return out


def read_provider_kinds(path: Path) -> dict[str, str]:
    """``{provider id: kind}`` from the providers table; an unknown kind names its line."""
    out: dict[str, str] = {}
    for line, row in _rows(path, {"provider", "kind"}):
        if row["kind"] not in PROVIDER_KINDS or row["kind"] == FIRST_PARTY:
            raise DataError(f"kind must be serving, reseller or subscription, got {row['kind']!r}",
                            file=str(path), line=line, field="kind")
        out[row["provider"].lower()] = row["kind"]
    return out


class Providers:
    """The classification rule over one organizations table and one providers table."""

    def __init__(self, organizations: list[Organization], kinds: dict[str, str]) -> None:
        self.organizations = organizations
        self.kinds = kinds
        self._by_alias = {alias: org for org in organizations for alias in org.aliases}

    @classmethod
    def load(cls) -> Providers:
        """The shipped tables."""
        return cls(read_organizations(_data("organizations.csv")), read_provider_kinds(_data("providers.csv")))

    def organization(self, name: str | None) -> Organization | None:
        """The organization a source's spelling names (any case), or None when unknown."""
        return None if name is None else self._by_alias.get(name.strip().lower())

    def canonical_organization(self, name: str | None, model_id: str = "") -> str | None:
        """The canonical display name of ``name`` (``anthropic`` -> ``Anthropic``).

        An unknown spelling is kept as given; with no name, the organization whose model pattern
        matches ``model_id`` (None when none does).
        """
        if name is not None and name.strip():
            org = self.organization(name)
            return org.name if org is not None else name.strip()
        found = self.infer(model_id)
        return found.name if found is not None else None

    def infer(self, model_id: str) -> Organization | None:
        """The organization whose model-id pattern matches ``model_id`` (first in table order)."""
        for org in self.organizations:
            if org.models is not None and model_id and org.models.search(model_id):
                return org
        return None

    def kind(self, provider: str, organization: str | None, model_id: str = "") -> str:
        """The kind of ``provider``'s offer of a model by ``organization`` (inferred from ``model_id`` if None)."""
        slug = provider.strip().lower()
        org = self.organization(organization) if organization else None
        if org is None and not organization:
            org = self.infer(model_id)
        if org is not None and slug in org.providers:
            return FIRST_PARTY
        known = self.kinds.get(slug)
        if known is not None:
            return known
        if _SUBSCRIPTION_NAME.search(slug):
            return SUBSCRIPTION
        if _RESELLER_NAME.search(slug):
            return RESELLER
        return SERVING


@lru_cache(maxsize=1)
def shipped() -> Providers:
    """The classification with the shipped tables (read once)."""
    return Providers.load()


def provider_kind(provider: str, organization: str | None, model_id: str = "") -> str:
    """Shorthand for ``shipped().kind(...)``."""
    return shipped().kind(provider, organization, model_id)


def canonical_organization(name: str | None, model_id: str = "") -> str | None:
    """Shorthand for ``shipped().canonical_organization(...)``."""
    return shipped().canonical_organization(name, model_id)
