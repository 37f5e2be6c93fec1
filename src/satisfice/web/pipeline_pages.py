"""What ``/pipeline`` shows: the scheduled source fetches' last and next run, per-source outcome, changes, watches.

The figures are the pipeline package's own documents (``satisfice pipeline status --json``, ``pipeline changes
--json`` and the watch list). Where the pipeline has never run in this store and has no schedule, the page says
so; it never shows made-up runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import DBAPIError

from satisfice import pipeline as pipe
from satisfice.store import Store
from satisfice.web.params import Params

NOT_SET_UP = ("pipeline not set up: this store has no pipeline run and no schedule "
              "(`satisfice pipeline run` fetches the sources once; `satisfice pipeline schedule` keeps them fresh).")
WINDOWS = ("1", "7", "30", "90")
SHOWN = 50
CHANGE_KINDS = {"new_models": "new_model", "price_cuts": "price_cut", "price_raises": "price_raise",
                "new_offers": "new_offer", "scheduled": "scheduled", "gone": "gone", "watches": "watch"}
"""The lists of the changes document and the key of each in its ``counts``."""


def pipeline(store: Store, p: Params) -> dict[str, Any]:
    """The pipeline's status, recent changes and watches, or an honest 'not set up'."""
    days = p.choice("days", WINDOWS, "30")
    try:
        status = pipe.status(store)
    except DBAPIError:  # the pipeline's tables are not in this database
        return {"data": {"set_up": False, "message": NOT_SET_UP}, "charts": {}}
    watches = pipe.list_watches(store)
    if not status.get("runs") and not status.get("schedule"):
        return {"data": {"set_up": False, "message": NOT_SET_UP, "watches": watches}, "charts": {}}
    changes = pipe.changes(store, dt.timedelta(days=int(days)), limit=SHOWN)
    counts = changes.get("counts", {})
    figure = {"data": [{"type": "bar", "x": list(counts), "y": list(counts.values()),
                        "marker": {"color": "#1f5fbf"}}],
              "layout": {"title": {"text": f"Changes in the last {days} day(s), by kind"}, "template": "plotly_white",
                         "height": 320, "margin": {"l": 50, "r": 20, "t": 50, "b": 60}}}
    return {"data": {"set_up": True, "days": days, "status": status, "changes": changes, "watches": watches,
                     "kinds": [{"key": k, "label": k.replace("_", " "), "count": counts.get(c, 0)}
                               for k, c in CHANGE_KINDS.items() if changes.get(k)]},
            "charts": {"changes": figure} if counts else {}}
