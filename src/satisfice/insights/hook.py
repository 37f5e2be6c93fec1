"""The pipeline's insight hook: snapshot the catalog before a run, record what its analyses found changed after.

:func:`pipeline_hook` gives a hook for :func:`satisfice.pipeline.run` (``hooks={"insights": pipeline_hook()}``):
called before the sources are fetched it keeps the catalog as it was; called with the run's report it compares
the analyses before and after (on the run's date), adds a finding for each watch that fired, and writes them as
the run's insight. A run that changed nothing finds nothing and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from satisfice.catalog.repository import load_catalog
from satisfice.insights.records import record
from satisfice.market.findings import (
    Finding,
    FindingRules,
    bars_for,
    compare,
    market_state,
    scored_part,
    watch_finding,
)
from satisfice.pipeline.watches import list_watches
from satisfice.store import Store

Finish = Callable[[dict[str, Any]], dict[str, Any]]


def _day(report: dict[str, Any]) -> dt.date:
    """The run's date, or today when later (observation times never go back, so prices may be dated today)."""
    today = dt.datetime.now(dt.UTC).date()
    stamp = str(report.get("finished_at") or report.get("started_at") or "")
    try:
        return max(dt.datetime.fromisoformat(stamp.rstrip("Z")).date(), today)
    except ValueError:
        return today


def pipeline_hook(rules: FindingRules | None = None) -> Callable[[Store], Finish]:
    """A pipeline run hook recording the run's findings as an insight (see the module docstring)."""
    chosen = rules or FindingRules()

    def start(store: Store) -> Finish:
        before = scored_part(load_catalog(store))

        def finish(report: dict[str, Any]) -> dict[str, Any]:
            applied = any(src.get("outcome") == "ok" for src in report.get("sources", []))
            if not applied and not report.get("watches"):
                return {"insight": None, "findings": 0}
            day = _day(report)
            after = scored_part(load_catalog(store))
            bars = bars_for(after, chosen)
            found: list[Finding] = compare(market_state(before.as_of(day), bars, chosen),
                                           market_state(after.as_of(day), bars, chosen), day, chosen)
            watches = {w["id"]: w for w in list_watches(store)}
            for fired in report.get("watches", []):
                if fired["watch"] in watches:
                    found.append(watch_finding(day, after, watches[fired["watch"]], fired["models"], chosen))
            insight = record(store, found, key=f"run:{report.get('run')}", day=day, trigger="pipeline",
                             run_id=report.get("run"))
            return {"insight": insight, "findings": len(found)}

        return finish

    return start
