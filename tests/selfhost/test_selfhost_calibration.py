"""A bench saved as a dated self-hosted offer, priced by evals and the market, and compared with APIs (CLI too)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from selfhost_testkit import steady_result
from typer.testing import CliRunner

from satisfice.catalog.repository import load_catalog
from satisfice.cli import app
from satisfice.clients.scripted_server import ScriptedServerThread
from satisfice.clients.scripted_wire import Step
from satisfice.core import Completion, Usage
from satisfice.errors import ConfigError, NotFoundError, SatisficeError
from satisfice.evals.pricing import completion_cost, price_for
from satisfice.selfhost.calibration import find_calibration, save_calibration
from satisfice.store import Store, open_store


def test_saved_calibration_prices_a_local_model_per_token(store: Store) -> None:
    result = steady_result(usd_per_hour=0.5)
    best = result.best
    assert best is not None and best.prices.usd_per_m_output is not None
    saved = save_calibration(store, result, name="box", model_id="local/smollm2-135m")
    assert saved["provider"] == "self-hosted:box" and saved["concurrency"] == 1
    catalog = load_catalog(store)
    info = price_for("local/smollm2-135m", catalog=catalog)
    assert info.known and info.source == "catalog" and info.provider == "self-hosted:box"
    assert info.price is not None and info.price.output_per_m == pytest.approx(best.prices.usd_per_m_output)
    # Per token, never by wall time: the same usage costs the same however long the call took.
    usage = Usage(input_tokens=1000, output_tokens=10)
    slow, fast = Completion("x", usage, latency_s=9.0), Completion("x", usage, latency_s=0.01)
    assert completion_cost(info, slow) == completion_cost(info, fast) == pytest.approx(
        (1000 * info.price.input_per_m + 10 * info.price.output_per_m) / 1e6)
    # The record names the bench: machine, machine price, level, measured throughput.
    cal = find_calibration(catalog, "local/smollm2-135m")
    assert cal.machine == "test machine" and cal.usd_per_hour == 0.5 and cal.figures["concurrency"] == 1
    assert cal.figures["output_tokens_per_s"] == pytest.approx(50.0)
    assert "satisfice selfhost bench" in cal.offer.source


def test_uncalibrated_local_model_names_the_command(store: Store) -> None:
    info = price_for("local/gemma3-270m", catalog=load_catalog(store))
    assert not info.known and info.source == "uncalibrated"
    assert "satisfice selfhost bench local/gemma3-270m --save" in info.describe()
    with pytest.raises(NotFoundError, match="satisfice selfhost bench local/gemma3-270m --save"):
        find_calibration(load_catalog(store), "local/gemma3-270m")


def test_same_day_calibration_is_replaced_only_when_asked(store: Store) -> None:
    save_calibration(store, steady_result(usd_per_hour=0.5), name="box", model_id="local/smollm2-135m")
    dearer = steady_result(usd_per_hour=1.0)
    with pytest.raises(ConfigError, match="--replace"):
        save_calibration(store, dearer, name="box", model_id="local/smollm2-135m")
    before = load_catalog(store).offers_of("local/smollm2-135m")
    assert len(before) == 1  # the refused save wrote nothing
    save_calibration(store, dearer, name="box", model_id="local/smollm2-135m", replace=True)
    (offer,) = load_catalog(store).offers_of("local/smollm2-135m")
    assert offer.output_per_m == pytest.approx(2 * (before[0].output_per_m or 0.0))
    save_calibration(store, dearer, name="other", model_id="local/smollm2-135m")  # another name: another provider
    assert {o.provider for o in load_catalog(store).offers_of("local/smollm2-135m")} == {
        "self-hosted:box", "self-hosted:other"}
    with pytest.raises(ConfigError, match="--name"):
        save_calibration(store, dearer, name="Bad Name!", model_id="local/smollm2-135m")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    save_calibration(store, steady_result(usd_per_hour=0.25), name="box", model_id="local/smollm2-135m",
                     today=tomorrow)  # a later date is a new observation, the history stays
    assert len(load_catalog(store).offers_of("local/smollm2-135m")) == 3


def _cli(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and stderr followed by the message of a user error (``main`` prints it the same way)."""
    result = CliRunner().invoke(app, list(args))
    error = result.exception
    if error is not None and not isinstance(error, SystemExit | SatisficeError):
        raise error
    message = str(error) if isinstance(error, SatisficeError) else ""
    return result.exit_code, result.stdout, result.stderr + message


def test_cli_bench_save_market_cost_and_compare(tmp_path: Path) -> None:
    step = Step.answer("one two three four", prompt_tokens=32, delay_s=0.01, chunk_delay_s=0.002)
    with ScriptedServerThread(lambda _: step, models=("acme/served-model",)) as server:
        chart = tmp_path / "bench.png"
        code, out, err = _cli("selfhost", "bench", "acme/served-model", "--base-url", server.base_url,
                              "--concurrency", "1,2", "--requests", "4", "--prompt-tokens", "32", "--output-tokens",
                              "4", "--usd-per-hour", "1.5", "--save", "--name", "box", "--json", "--chart", str(chart),
                              "--machine", "1x test GPU")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["usd_per_hour"] == 1.5 and [lv["concurrency"] for lv in doc["levels"]] == [1, 2]
        for lv in doc["levels"]:
            assert lv["requests"] == 4 and lv["errors"] == 0 and lv["output_tokens_per_s"] > 0
            assert lv["usd_per_m_output"] > 0 and lv["usd_per_m_input"] >= 0
        assert doc["best"]["concurrency"] in (1, 2) and doc["saved"]["model_id"] == "served-model"
        assert chart.stat().st_size > 1000
        sent = len(server.requests)
        code, out, err = _cli("selfhost", "bench", "acme/served-model", "--base-url", server.base_url,
                              "--concurrency", "1", "--requests", "2", "--save", "--name", "box", "--json")
        assert code == 1 and "--replace" in err  # the same day's calibration is not overwritten silently
        assert len(server.requests) == sent  # ... and that is known before a single request is sent

    code, out, err = _cli("market", "cost", "--tokens-per-day", "10M", "served-model", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["models"]
    assert row["provider"] == "self-hosted:box" and row["annual_usd"] > 0

    api = tmp_path / "api.csv"
    api.write_text("id,name,provider,effective_date,input_per_m,output_per_m,price_source\n"
                   "served-model,Served Model,cloudco,2025-01-01,0.5,1.5,test price\n")
    assert _cli("catalog", "import", str(api))[0] == 0
    code, out, err = _cli("selfhost", "compare", "served-model", "--tokens-per-day", "10M", "--json",
                          "--benchmark", "mmlu", "--threshold", "80")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["calibration"]["provider"] == "self-hosted:box" and doc["calibration"]["machine"] == "1x test GPU"
    assert doc["self_hosted"]["machines"] >= 1 and doc["self_hosted"]["annual_usd"] == pytest.approx(
        doc["self_hosted"]["machines"] * 1.5 * 8760)
    (offer,) = doc["api_offers"]
    assert offer["provider"] == "cloudco" and offer["blended_per_m"] == pytest.approx(0.75)
    assert doc["bar"]["model"] is not None and doc["bar"]["score"] >= 80  # from the bundled catalog
    code, out, err = _cli("selfhost", "compare", "served-model", "--tokens-per-day", "10M")
    assert code == 0 and "cloudco" in out and "machine" in out


def test_cli_rejects_bad_input_before_sending_anything(tmp_path: Path) -> None:
    with ScriptedServerThread(["x"], models=("m",)) as server:
        cases = [
            (["--chart", str(tmp_path / "c.gif")], "must end in"),
            (["--concurrency", "0"], "--concurrency"),
            (["--save", "--name", "No Spaces"], "--name"),
            (["--requests", "2", "--duration", "1"], "not both"),
            (["--usd-per-hour", "0"], "--usd-per-hour"),
        ]
        for extra, message in cases:
            code, _, err = _cli("selfhost", "bench", "m", "--base-url", server.base_url, *extra)
            assert code != 0 and message in err, (extra, err)
        assert server.requests == []
    code, _, err = _cli("selfhost", "bench", "gpt-x")
    assert code == 1 and "--base-url" in err
    code, _, err = _cli("selfhost", "compare", "local/gemma3-270m", "--tokens-per-day", "1M")
    assert code == 1 and "satisfice selfhost bench local/gemma3-270m --save" in err
    code, _, err = _cli("selfhost", "compare", "local/gemma3-270m", "--tokens-per-day", "lots")
    assert code != 0 and "token count" in err


def test_fresh_stores_with_the_same_calibration_price_alike(tmp_path: Path) -> None:
    result = steady_result()
    prices = []
    for i in range(2):
        s = open_store(f"sqlite:///{tmp_path / f's{i}.db'}")
        try:
            save_calibration(s, result, name="box", model_id="local/smollm2-135m")
            prices.append(price_for("local/smollm2-135m", catalog=load_catalog(s)).price)
        finally:
            s.close()
    assert prices[0] == prices[1] and prices[0] is not None
