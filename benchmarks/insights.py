"""How long insights take: the replayed history of the bundled catalog (and of the catalog grown by the four real
pipeline snapshots), and one pipeline run with and without the insight hook (which reads the catalog twice and
compares the analyses of every bar).

Run: ``python benchmarks/insights.py [--repeat N]``; prints one JSON document (seconds, medians of N runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

from satisfice.catalog.bundled import ensure_bundled
from satisfice.catalog.repository import load_catalog
from satisfice.insights import backfill, history, pipeline_hook
from satisfice.market.findings import FindingRules
from satisfice.pipeline import run
from satisfice.store import open_store

SNAPSHOTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "pipeline"
LITELLM = SNAPSHOTS / "litellm_prices_subset.json"
REAL = {"models-dev": SNAPSHOTS / "modelsdev_api.json",
        "genai-prices": SNAPSHOTS / "genai_prices-0.2.3-py3-none-any.whl",
        "litellm": LITELLM, "openrouter": SNAPSHOTS / "openrouter_models.json"}


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _pipeline(folder: Path, name: str, hooked: bool) -> float:
    store = open_store(f"sqlite:///{folder / name}.db")
    ensure_bundled(store)
    hooks = {"insights": pipeline_hook()} if hooked else None
    try:
        return _timed(lambda: run(store, {"litellm": str(LITELLM)}, hooks=hooks))
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, object] = {"repeat": args.repeat}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = open_store(f"sqlite:///{folder / 'history.db'}")
        ensure_bundled(store)
        catalog = load_catalog(store)
        replay = [_timed(lambda: history(catalog, FindingRules(), dt.date.today())) for _ in range(args.repeat)]
        replayed = history(catalog, FindingRules(), dt.date.today())
        out["catalog"] = {"models": len(catalog.models), "offers": len(catalog.offers), "scores": len(catalog.scores)}
        out["history"] = {"dates_with_findings": len(replayed), "findings": sum(len(f) for _, f in replayed),
                          "median_s": statistics.median(replay)}
        out["backfill_write_s"] = _timed(lambda: backfill(store))
        run(store, {k: str(v) for k, v in REAL.items()})
        grown = load_catalog(store)
        times = [_timed(lambda: history(grown, FindingRules(), dt.date.today())) for _ in range(args.repeat)]
        replayed = history(grown, FindingRules(), dt.date.today())
        out["history_after_four_real_snapshots"] = {
            "models": len(grown.models), "offers": len(grown.offers), "dates_with_findings": len(replayed),
            "findings": sum(len(f) for _, f in replayed), "median_s": statistics.median(times)}
        store.close()
        plain = [_pipeline(folder, f"plain{i}", False) for i in range(args.repeat)]
        hooked = [_pipeline(folder, f"hooked{i}", True) for i in range(args.repeat)]
        out["pipeline_run_litellm_subset"] = {"without_hook_median_s": statistics.median(plain),
                                              "with_hook_median_s": statistics.median(hooked)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
