"""Honest eval tables: savings only for passing models, no recommendation marker without a recommendation,
``eval show`` says what the stored run spent, and a warning when every few-shot example has the same answer.

Runs ``satisfice eval`` end to end against a scripted OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.clients.scripted_server import ScriptedServerThread
from satisfice.clients.scripted_wire import Received, Step
from satisfice.tasks.datasets import Sample, fewshot_warnings


def label(i: int) -> str:
    return "animal" if i < 4 or i % 2 == 0 else "plant"  # the four few-shot examples are all "animal"


def script(received: Received) -> Step:
    """'parrot' always says "animal"; 'good' and 'best' are always right."""
    i = int(received.body["messages"][-1]["content"].split()[1])
    return Step.answer("animal" if received.body.get("model") == "parrot" else label(i))


def write_task(folder: Path, base_url: str, *, bar: float, n: int = 64) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"r{i}", "text": f"item {i}", "label": label(i)} for i in range(n)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cands = "".join(f"""  - id: {m}
    base_url: {base_url}
    provider_model: {m}
    input_per_m: {p}
    output_per_m: {p}
""" for m, p in (("parrot", 0.1), ("good", 1.0), ("best", 10.0)))
    task = folder / "task.yaml"
    task.write_text(f"""name: honest
dataset:
  path: data.jsonl
  fields: {{text: text, target: label, id: id}}
  fewshot: {{count: 4, from: split}}
prompt:
  user: "{{{{ text }}}}"
  max_tokens: 3
scorer:
  type: exact
threshold: accuracy >= {bar} at 95% confidence
workload:
  requests_per_day: 1000
candidates:
{cands}""", encoding="utf-8")
    return task


@pytest.fixture
def server() -> object:
    with ScriptedServerThread(script) as s:
        yield s


def run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_savings_marker_and_show(tmp_path: Path, server: ScriptedServerThread, monkeypatch: pytest.MonkeyPatch,
                                 ) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    monkeypatch.setenv("COLUMNS", "220")
    db = f"sqlite:///{tmp_path / 'e.db'}"
    task = write_task(tmp_path / "t", server.base_url, bar=0.8)
    doc = json.loads(CliRunner().invoke(app, ["--db", db, "eval", str(task), "--json"]).stdout)
    by = {m["model"]: m for m in doc["models"]}
    assert by["parrot"]["decision"] == "fail" and by["good"]["decision"] == by["best"]["decision"] == "pass"
    assert doc["recommended"] == "good" and doc["baseline"] == "best"
    assert by["parrot"]["savings_per_year"] is None and by["parrot"]["savings_fraction"] is None  # fails: no savings
    assert by["good"]["savings_per_year"] > 0
    assert by["good"]["pass_bound"] >= 0.8
    assert any("few-shot examples" in n for n in doc["notes"])

    table = run("--db", db, "eval", "show", "latest")
    parrot_row = next(line for line in table.splitlines() if line.startswith("│ parrot"))
    assert "/yr" not in parrot_row and "%)" not in parrot_row
    assert "* recommended" in table and "good*" in table
    assert "Spent now" not in table and f"Stored run {doc['run_id']}: it spent" in table

    fresh = run("--db", db, "eval", str(task))
    assert "Spent now $0; 0 new calls, 180 cached" in fresh
    assert "warning:" in fresh and "'animal'" in fresh


def test_no_marker_when_nothing_is_recommended(tmp_path: Path, server: ScriptedServerThread,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    monkeypatch.setenv("COLUMNS", "220")
    task = write_task(tmp_path / "t", server.base_url, bar=0.99, n=24)  # 20 items cannot show 99%
    out = run("--db", f"sqlite:///{tmp_path / 'e.db'}", "eval", str(task))
    assert "recommended" not in out and "*" not in out.replace("**", "")
    assert "No candidate clears 99%" in out
    assert "saves" in out and "/yr" not in out  # the column is there, no model claims savings


def test_fewshot_warning_only_when_every_answer_is_the_same() -> None:
    def s(answer: object, i: int = 0) -> Sample:
        return Sample(id=str(i), fields={}, target=answer, where=f"data.jsonl, line {i + 1}")

    [warning] = fewshot_warnings([s("animal", i) for i in range(4)])
    assert "all 4 few-shot examples (data.jsonl)" in warning and "'animal'" in warning
    assert fewshot_warnings([s("Animal"), s(" animal")]) != []  # compared as the scorer would normalise
    assert fewshot_warnings([s("animal"), s("plant")]) == []
    assert fewshot_warnings([s("animal")]) == []  # one example cannot vary
    assert fewshot_warnings([]) == []
