"""Write small task files (and their datasets) for the CLI and resume tests."""

from __future__ import annotations

import json
from pathlib import Path

from satisfice.clients.scripted_server import Received, Step


def write_task(folder: Path, base_url: str, *, n: int = 24, concurrency: int = 2, models: tuple[str, ...] = ("cheap",),
               extra: str = "") -> Path:
    """A sentiment-like task: item i is 'positive' when i is even; the server answers from the prompt."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"r{i}", "text": f"item {i} was fine", "label": "positive" if i % 2 == 0 else "negative"}
            for i in range(n)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cands = "".join(f"""  - id: {m}
    base_url: {base_url}
    provider_model: {m}
    input_per_m: {1.0 * (k + 1)}
    output_per_m: {2.0 * (k + 1)}
    max_concurrency: {concurrency}
""" for k, m in enumerate(models))
    task = folder / "task.yaml"
    task.write_text(f"""name: resume-test
dataset:
  path: data.jsonl
  fields: {{text: text, target: label, id: id}}
prompt:
  user: "Review: {{{{ text }}}}"
  max_tokens: 5
scorer:
  type: exact
threshold: accuracy >= 0.5 at 95% confidence
workload:
  requests_per_day: 1000
candidates:
{cands}{extra}""", encoding="utf-8")
    return task


def item_of(received: Received) -> int:
    """Item number in a received chat request ("Review: item 7 was fine")."""
    return int(received.body["messages"][-1]["content"].split()[2])


def sentiment_script(delay_s: float = 0.0, wrong_every: int = 6) -> object:
    """Answers right except every ``wrong_every``-th item; model "dear" is always right."""

    def script(received: Received) -> Step:
        i = item_of(received)
        right = "positive" if i % 2 == 0 else "negative"
        wrong = "negative" if right == "positive" else "positive"
        text = right if received.body.get("model") == "dear" or i % wrong_every else wrong
        return Step.answer(text, delay_s=delay_s)

    return script
