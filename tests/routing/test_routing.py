"""Routing: training on real recorded outcomes, certification, the CLI contract, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.errors import DataError
from satisfice.evals.outcomes import load_outcomes
from satisfice.routing import store
from satisfice.routing.certify import accuracy_lower_bound, fixed_sequence
from satisfice.routing.data import RoutingData, from_tables, normalise_answer
from satisfice.routing.evaluate import evaluate, hull_area
from satisfice.routing.policies import Agreement, Single
from satisfice.routing.serve import decide
from satisfice.routing.train import train

SLICE = Path(__file__).resolve().parents[1] / "data" / "routing" / "arc_challenge_slice.csv"
runner = CliRunner()


def split_slice(tmp_path: Path, cut: int = 140) -> tuple[Path, Path]:
    lines = SLICE.read_text(encoding="utf-8").splitlines(keepends=True)
    import csv
    import io

    rows = list(csv.reader(io.StringIO("".join(lines))))
    paths = []
    for name, part in (("train.csv", rows[1:cut + 1]), ("test.csv", rows[cut + 1:])):
        buffer = io.StringIO()
        csv.writer(buffer).writerows([rows[0], *part])
        path = tmp_path / name
        path.write_text(buffer.getvalue(), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def test_normalise_answer() -> None:
    assert normalise_answer("['C\\n']") == "c"
    assert normalise_answer("C) dry palms") == "c"
    assert normalise_answer("['A)']") == "a"
    assert normalise_answer("  The  Answer ") == "the answer"
    assert normalise_answer("['I do']") == "i do"


def test_routing_data_from_real_outcomes() -> None:
    data = from_tables([load_outcomes(SLICE)])
    assert data.models[0] == "mistralai/mistral-7b-chat" and data.models[-1] == "gpt-4-1106-preview"
    assert np.all(np.diff(data.mean_cost()) > 0)  # cheapest first
    assert data.n + data.dropped == 200 and data.dropped > 0  # four items lack a score for some model
    assert set(data.answers) == set(data.models)


def test_train_json_contract_and_eval_on_unseen_items(tmp_path: Path) -> None:
    train_csv, test_csv = split_slice(tmp_path)
    out = tmp_path / "router"
    result = runner.invoke(app, ["route", "train", str(train_csv), "--bar", "0.8", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"policy", "certified_accuracy_low", "expected_cost_per_request_usd", "per_task_model", "out"} <= set(doc)
    assert doc["out"] == str(out) and (out / "manifest.json").is_file() and (out / "router.joblib").is_file()
    assert doc["certified_accuracy_low"] >= 0.8 or not doc["per_task_clears_bar"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["per_task_model"] == doc["per_task_model"]
    result = runner.invoke(app, ["route", "eval", str(out), str(test_csv), "--json"])
    assert result.exit_code == 0, result.output
    ev = json.loads(result.stdout)
    for key in ("policy", "accuracy", "cost_per_request_usd", "models_used", "per_task", "best_single", "oracle",
                "aiq", "routing_ms_p50", "cost_at_95pct_best_single_usd", "share_of_oracle"):
        assert key in ev
    assert set(ev["per_task"]) == {"model", "accuracy", "cost_per_request_usd"}
    assert sum(ev["models_used"].values()) == pytest.approx(1.0)
    assert ev["oracle"]["accuracy"] >= ev["best_single"]["accuracy"]
    assert ev["oracle"]["cost_per_request_usd"] <= ev["best_single"]["cost_per_request_usd"]
    assert 0.0 < ev["aiq"] <= 1.0 and ev["aiq"] >= ev["aiq_single_models"] - 1e-12


def test_route_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,m,m|total_cost\nhello,2,0.1\n", encoding="utf-8")
    result = runner.invoke(app, ["route", "train", str(bad), "--bar", "0.8", "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and not (tmp_path / "r").exists()
    result = runner.invoke(app, ["route", "eval", str(tmp_path / "nothing"), str(SLICE), "--json"])
    assert result.exit_code != 0


def test_train_never_dearer_than_the_per_task_model() -> None:
    data = from_tables([load_outcomes(SLICE)])
    for bar in (0.7, 0.8, 0.9):
        trained = train(data, bar, 0.95)
        per_task_cost = trained.summary["per_task_cost_on_calibration_usd"]
        assert trained.expected_cost <= per_task_cost
        if isinstance(trained.policy, Single) and trained.policy.model == trained.per_task.model:
            assert trained.summary["kept_per_task_model"]
        else:
            assert trained.certified_low >= bar


def test_fixed_sequence_stops_at_first_failure() -> None:
    ones = np.ones(200)
    low = np.r_[np.ones(150), np.zeros(50)]
    certs = fixed_sequence([ones, low, ones], 0.9, 0.95)
    assert [c.certified for c in certs] == [True, False]  # the third is never tested
    assert accuracy_lower_bound(ones, 0.95) == pytest.approx(0.05 ** (1 / 200))


def test_a_policy_truly_below_the_bar_is_refused_often_enough() -> None:
    rng = np.random.default_rng(7)
    bar, true = 0.9, 0.89
    wrongly = sum(fixed_sequence([(rng.random(400) < true).astype(float)], bar, 0.95)[0].certified
                  for _ in range(400))
    assert wrongly / 400 <= 0.05


def synthetic(n: int, seed: int) -> RoutingData:
    """A cheap model right 85% of the time, a strong one 97%, uninformative prompts, answers that agree by chance."""
    rng = np.random.default_rng(seed)
    cheap, other, strong = rng.random(n) < 0.85, rng.random(n) < 0.85, rng.random(n) < 0.97
    correct = np.column_stack([cheap, other, strong]).astype(float)
    cost = np.tile([1e-4, 2e-4, 5e-3], (n, 1))
    truth = rng.integers(0, 4, n)

    def answers(right: np.ndarray) -> list[str]:
        wrong = (truth + rng.integers(1, 4, n)) % 4
        return ["abcd"[t if r else w] for t, r, w in zip(truth, right, wrong, strict=True)]

    words = np.array(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
    prompts = [" ".join(rng.choice(words, 8)) for _ in range(n)]
    return RoutingData(prompts, ["cheap", "other", "strong"], correct, cost,
                       {"cheap": answers(cheap), "other": answers(other), "strong": answers(strong)})


def test_router_truly_below_the_bar_is_not_returned() -> None:
    # Bar 0.95: the cheap models (0.85) and anything that routes much traffic to them are truly below it.
    data = synthetic(600, 1)
    trained = train(data, 0.95, 0.95, seed=3)
    fresh = synthetic(20_000, 2)
    from satisfice.routing.train import view_of

    truth = trained.policy.simulate(view_of(fresh, trained.probs(fresh.prompts))).accuracy
    assert truth >= 0.95 - 0.005
    assert trained.policy != Single(0) and trained.policy != Single(1)


def test_agreement_cascade_charges_every_call() -> None:
    data = synthetic(300, 4)
    from satisfice.routing.train import view_of

    out = Agreement((0, 1), 2).simulate(view_of(data))
    agree = np.array(data.answers["cheap"]) == np.array(data.answers["other"])
    assert out.cost == pytest.approx(np.where(agree, 3e-4, 3e-4 + 5e-3))
    assert np.all(out.served[agree] == 0) and np.all(out.served[~agree] == 2)


def test_save_load_round_trip_and_tamper(tmp_path: Path) -> None:
    data = from_tables([load_outcomes(SLICE)])
    trained = train(data, 0.8, 0.95)
    store.save(trained, tmp_path / "r", sources=[str(SLICE)])
    again = store.load(tmp_path / "r")
    assert again.policy == trained.policy and again.models == trained.models
    prompt = data.prompts[0]
    assert decide(again, prompt) == decide(trained, prompt)
    blob = tmp_path / "r" / "router.joblib"
    blob.write_bytes(blob.read_bytes()[:-10])
    with pytest.raises(DataError, match="does not match its manifest"):
        store.load(tmp_path / "r")


def test_hull_area() -> None:
    assert hull_area([(0.0, 0.5), (1.0, 1.0)], 0.0, 1.0) == pytest.approx(0.75, abs=1e-3)
    # a dominated point below the chord does not raise the hull
    assert hull_area([(0.0, 0.5), (0.5, 0.6), (1.0, 1.0)], 0.0, 1.0) == pytest.approx(0.75, abs=1e-3)
    assert hull_area([(0.5, 1.0)], 0.0, 1.0) == pytest.approx(0.5, abs=1e-3)


def test_eval_of_a_router_on_other_models_is_an_error(tmp_path: Path) -> None:
    data = from_tables([load_outcomes(SLICE)])
    trained = train(data, 0.8, 0.95)
    other = RoutingData(data.prompts, ["x"], data.correct[:, :1], data.cost[:, :1], {})
    with pytest.raises(DataError, match="not in the outcomes"):
        evaluate(trained, other)


def test_one_prompt_fast_path_matches_scikit_learn() -> None:
    import pickle

    from satisfice.routing.routers import Tfidf

    data = from_tables([load_outcomes(SLICE)])
    feat = Tfidf()
    feat.fit_transform(data.prompts[:150])
    for prompt in [*data.prompts[150:160], "", "zzz qqq", "<script>alert(1)</script>" * 5000]:
        expected = feat.vectorizer.transform([prompt[:20_000]]).toarray()
        assert np.allclose(feat.transform([prompt]).toarray(), expected, atol=1e-6)
    assert "_serving" not in pickle.loads(pickle.dumps(feat)).__dict__  # the cache is never pickled


def test_outcomes_without_answers_train_predictive_routers_only(tmp_path: Path) -> None:
    copy = Path(__file__).resolve().parents[1] / "data" / "shared" / "routerbench" / "mbpp_train_outcomes.csv"
    out = tmp_path / "r"
    result = runner.invoke(app, ["route", "train", str(copy), "--bar", "0.55", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    trained = store.load(out)
    assert trained.candidates and all(c.kind in ("single", "predictive") for c in trained.candidates)
    # no '|model_response' columns: no cascade is a candidate, and evaluation needs none
    result = runner.invoke(app, ["route", "eval", str(out), str(copy), "--json"])
    assert result.exit_code == 0, result.output
    assert 0.0 < json.loads(result.stdout)["aiq"] <= 1.0


def test_prompts_are_unwrapped_like_the_gateway_sees_them() -> None:
    from satisfice.routing.data import normalise_prompt

    assert normalise_prompt("['Which?\\nA) x\\nB) y']") == "Which?\nA) x\nB) y"
    assert normalise_prompt("[not a list") == "[not a list"
    data = from_tables([load_outcomes(SLICE)])
    assert not any(p.startswith("['") for p in data.prompts) and "\n" in data.prompts[0]
