"""The catalog that ships inside the package, loaded into a fresh store on first use."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from satisfice.store import Store
from satisfice.store.schema import Meta

BUNDLED_KEY = "bundled_catalog_sha256"


def bundled_path() -> Path:
    """Path of the bundled catalog CSV inside the installed package."""
    return Path(str(resources.files("satisfice.catalog") / "data" / "catalog.csv"))


def ensure_bundled(store: Store) -> bool:
    """Load the bundled catalog unless this exact version is already in the store; True if loaded now."""
    from satisfice.catalog.repository import apply_batch
    from satisfice.catalog.sources.native import parse_native

    path = bundled_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.session() as s:
        meta = s.get(Meta, BUNDLED_KEY)
        if meta is not None and meta.value == digest:
            return False
    apply_batch(store, parse_native(path))
    with store.transaction() as s:
        row = s.get(Meta, BUNDLED_KEY)
        if row is None:
            s.add(Meta(key=BUNDLED_KEY, value=digest))
        else:
            row.value = digest
    return True

