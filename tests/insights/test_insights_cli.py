"""`satisfice insights backfill / list / show` through the real command line, on a fresh install's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIST_KEYS = {"id", "date", "title", "findings"}
FINDING_KEYS = {"kind", "benchmark", "threshold", "models", "numbers", "sources"}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SATISFICE_HOME": str(home), "COLUMNS": "200"}
    env.pop("SATISFICE_DB", None)
    env.pop("SATISFICE_NO_BUNDLED", None)
    return subprocess.run([sys.executable, "-m", "satisfice", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home")
    done = cli(path, "insights", "backfill", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["findings_added"] == doc["findings_found"] > 0 and doc["insights"] == doc["dates"]
    return path


def test_backfill_twice_adds_nothing(home: Path) -> None:
    again = json.loads(cli(home, "insights", "backfill", "--json").stdout)
    assert again["findings_added"] == 0 and again["insights"] == 0 and again["findings_found"] > 0


def test_list_contract_and_the_seed_analysis_with_market_frontier_figures(home: Path) -> None:
    out = cli(home, "insights", "list", "--json")
    assert out.returncode == 0 and out.stderr == ""
    doc = json.loads(out.stdout)
    assert set(doc) == {"insights"} and doc["insights"]
    dates = [d["date"] for d in doc["insights"]]
    assert dates == sorted(dates, reverse=True)
    for d in doc["insights"]:
        assert LIST_KEYS <= set(d) and d["findings"]
        assert all(FINDING_KEYS <= set(f) and isinstance(f["numbers"], dict) for f in d["findings"])
    front = json.loads(cli(home, "market", "frontier", "--benchmark", "gpqa-diamond", "--threshold", "70",
                           "--json").stdout)
    findings = [f for d in doc["insights"] for f in d["findings"] if f["benchmark"] == "gpqa-diamond"
                and f["threshold"] == 70.0]
    r1 = next(f for f in findings if f["kind"] == "open_cleared")
    assert [m["model"] for m in r1["models"]] == [front["first_closed"]["model"], front["first_open"]["model"]] == [
        "o1", "deepseek-r1"]
    assert r1["numbers"]["lag_days"] == front["lag_days"] == 46
    assert r1["numbers"]["price_ratio"] == front["price_ratio"]
    assert r1["numbers"]["open_price"] == front["first_open"]["blended_price"]
    v32 = next(f for f in findings if f["kind"] == "frontier_price" and f["models"][-1]["model"] == "deepseek-v3.2")
    prices = {m["model"]: m["blended_price"] for m in front["frontier"]}
    assert v32["numbers"]["new_price"] == prices["deepseek-v3.2"] and v32["numbers"]["old_price"] == prices[
        "deepseek-r1"]
    shown = cli(home, "insights", "list").stdout
    assert "DeepSeek-R1" in shown and "2025-01-20" in shown


def test_since_filters_and_show_prints_one(home: Path) -> None:
    recent = json.loads(cli(home, "insights", "list", "--since", "2025-12-01", "--json").stdout)["insights"]
    assert recent and all(d["date"] >= "2025-12-01" for d in recent)
    one = json.loads(cli(home, "insights", "show", str(recent[-1]["id"]), "--json").stdout)
    assert one["date"] == "2025-12-01" and one["tldr"] and one["cards"] and one["models"] and one["sources"]
    assert any(f["models"][-1]["model"] == "deepseek-v3.2" for f in one["findings"])
    text = cli(home, "insights", "show", str(recent[-1]["id"]))
    assert text.returncode == 0 and "TL;DR:" in text.stdout and "DeepSeek-V3.2" in text.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("insights", "show", "99999"), "no insight with id 99999"),
    (("insights", "list", "--since", "yesterday"), "--since 'yesterday': expected a date"),
])
def test_bad_input_is_one_clear_line(home: Path, args: tuple[str, ...], message: str) -> None:
    out = cli(home, *args)
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr and out.stdout == ""
