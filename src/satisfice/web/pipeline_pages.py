"""What ``/pipeline`` shows: the scheduled source fetches' last and next run, per-source outcome, changes, watches.

The figures come from the pipeline package's own status and changes functions (the documents of ``satisfice
pipeline status --json`` and ``pipeline changes --json``). Where the pipeline package or its tables are not
there, the page says so; it never shows made-up runs.
"""

from __future__ import annotations

import importlib
from typing import Any

from satisfice.store import Store
from satisfice.web.params import Params

NOT_SET_UP = "pipeline not set up: this store has no pipeline runs (see `satisfice pipeline --help`)."


def pipeline(store: Store, p: Params) -> dict[str, Any]:
    """The pipeline's status and recent changes, or an honest 'not set up'."""
    try:
        module = importlib.import_module("satisfice.pipeline")
    except ImportError:
        module = None
    status_fn = getattr(module, "status", None)
    changes_fn = getattr(module, "changes", None)
    if status_fn is None or changes_fn is None:
        return {"data": {"set_up": False, "message": NOT_SET_UP}, "charts": {}}
    status = status_fn(store)
    changes = changes_fn(store)
    return {"data": {"set_up": True, "status": status, "changes": changes}, "charts": {}}
