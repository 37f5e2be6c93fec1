import datetime as dt

from market_builders import M, build

from satisfice.market import epoch_trends
from satisfice.market.trends import REASONING_MODEL_NAMES


def he(id, date, score, price, name=None, **kw):
    """A model with one HumanEval score and one Epoch-style blended price."""
    return M(id, date, None, {"humaneval": score}, [(date, price)], name=name, **kw)


def test_thresholds_are_top_scorers_per_date_and_band_walk():
    cat = build([
        he("a", "2023-01-01", 50, 40.0),
        he("b", "2023-03-01", 60, 20.0),
        he("c", "2023-06-01", 55, 5.0),
        he("d", "2023-09-01", 70, 4.0),
        he("e", "2024-01-01", 52, 1.0),
        he("f", "2024-06-01", 65, 0.5),
    ])
    r = epoch_trends(cat, "humaneval")
    assert [(t.threshold_model, t.threshold) for t in r.trends] == [("a", 50)]
    assert [p.model for p in r.trends[0].points] == ["a", "b", "c", "d", "e", "f"]
    # threshold 60 keeps b (20), d (4), f (0.5); threshold 70 keeps d only: both too few to fit
    assert [(t.threshold_model, t.n) for t in r.skipped] == [("b", 3), ("d", 1)]
    assert [p.model for p in r.skipped[0].points] == ["b", "d", "f"]


def test_top_is_taken_once_per_date():
    # on one date a 23 and a 15 arrive: only the 23 was ever top (Epoch's MATH 5 / GPT-4-0613 case)
    cat = build([M("x", "2023-06-13", None, {"math-level-5": 15}, [("2023-06-13", 3.0)], name="A low"),
                 M("y", "2023-06-13", None, {"math-level-5": 23}, [("2023-06-13", 30.0)], name="B high")])
    r = epoch_trends(cat, "math-level-5")
    assert [t.threshold for t in r.trends + r.skipped] == [23]


def test_equal_later_score_does_not_become_a_threshold():
    cat = build([he("a", "2023-01-01", 60, 9.0), he("b", "2023-02-01", 60, 1.0)])
    r = epoch_trends(cat, "humaneval")
    assert [t.threshold_model for t in r.skipped] == ["a"]


def test_same_date_kept_entries_drop_the_dearer():
    cat = build([
        he("s", "2023-01-01", 80, 50.0),
        he("a", "2023-05-01", 80, 10.0, name="A dear"),  # walked first on its date, kept, then dropped
        he("b", "2023-05-01", 80, 5.0, name="B cheap"),
        he("c", "2023-09-01", 80, 2.0),
        he("d", "2024-01-01", 80, 1.0),
    ])
    (t,) = epoch_trends(cat, "humaneval").trends
    assert [p.model for p in t.points] == ["s", "b", "c", "d"]
    assert t.n == 4 and t.fit is not None


def test_band_upper_bound_is_exclusive_for_percent_and_open_for_elo():
    pct = build([he("t", "2023-01-01", 60, 50.0), he("p", "2023-02-01", 100, 1.0),
                 he("q", "2023-03-01", 61, 9.0)])
    r = epoch_trends(pct, "humaneval")
    t60 = next(t for t in r.trends + r.skipped if t.threshold == 60)
    assert [p.model for p in t60.points] == ["t", "q"]  # a score of 100 is outside [60, 100)
    elo = build([M(k, day, None, {"arena-elo": s}, [(day, p)]) for k, day, s, p in [
        ("e1", "2023-01-01", 1100, 30.0), ("e2", "2023-04-01", 1400, 10.0), ("e3", "2023-08-01", 1150, 3.0),
        ("e4", "2024-01-01", 1120, 1.0)]])
    t = next(t for t in epoch_trends(elo, "arena-elo").trends if t.threshold == 1100)
    assert t.n == 4 and t.upper_bound == float("inf")
    assert t.to_json()["band"] == [1100, float("inf")]


def test_low_mqa_thresholds_are_skipped_only_on_mmlu_and_gpqa():
    def cat(bench):
        return build([M(k, day, None, {bench: s}, [(day, p)]) for k, day, s, p in [
            ("m1", "2023-01-01", 25, 30.0), ("m2", "2023-04-01", 25.5, 10.0), ("m3", "2023-08-01", 26, 3.0),
            ("m4", "2024-01-01", 27, 1.0)]])
    assert epoch_trends(cat("mmlu"), "mmlu").trends == ()
    assert epoch_trends(cat("gpqa-diamond"), "gpqa-diamond").trends == ()
    (t,) = epoch_trends(cat("humaneval"), "humaneval").trends
    assert t.threshold == 25 and t.n == 4


def test_reasoning_models_are_excluded_by_flag_and_by_name():
    base = [he("a", "2023-01-01", 60, 40.0), he("b", "2023-06-01", 61, 10.0), he("c", "2024-01-01", 62, 2.0),
            he("d", "2024-06-01", 63, 1.0)]
    flagged = he("think", "2023-03-01", 99, 0.01, reasoning=True)
    named = he("x1", "2023-03-02", 98, 0.02, name="DeepSeek-R1")
    r = epoch_trends(build(base + [flagged, named]), "humaneval")
    assert "deepseek-r1" in REASONING_MODEL_NAMES
    assert sorted(r.excluded_models) == ["DeepSeek-R1", "think"]
    assert all(p.model not in ("think", "x1") for t in r.trends + r.skipped for p in t.points)
    assert [t.threshold for t in r.trends] == [60]


def test_price_change_is_a_second_entry():
    cat = build([M("g", "2021-11-20", None, {"mmlu": 43.9}, [("2021-11-20", 60.0), ("2022-09-01", 20.0)]),
                 he("z", "2020-01-01", 1, 1.0),
                 M("h", "2023-03-06", None, {"mmlu": 68}, [("2023-03-06", 2.0)]),
                 M("i", "2023-07-18", None, {"mmlu": 45}, [("2023-07-18", 0.56)])])
    (t,) = epoch_trends(cat, "mmlu").trends
    assert [(p.model, str(p.date)) for p in t.points] == [("g", "2021-11-20"), ("g", "2022-09-01"),
                                                          ("h", "2023-03-06"), ("i", "2023-07-18")]


def test_all_runs_every_benchmark_with_scores_and_json_shape():
    cat = build([M("a", "2023-01-01", None, {"mmlu": 50, "humaneval": 40}, [("2023-01-01", 1.0)])])
    r = epoch_trends(cat, "all")
    assert r.benchmarks == ("mmlu", "humaneval")
    j = r.to_json()
    assert set(j) >= {"trends", "skipped", "input_share", "blend", "method"}
    assert {s["benchmark"] for s in j["skipped"]} == {"mmlu", "humaneval"}
    assert set(j["skipped"][0]) >= {"benchmark", "threshold_model", "threshold", "n", "start_date", "end_date",
                                    "factor_per_year", "ci90", "r2"}


def test_no_threshold_with_enough_points_gives_empty_trends():
    r = epoch_trends(build([he("a", "2023-01-01", 60, 1.0)]), "humaneval")
    assert r.trends == () and len(r.skipped) == 1 and r.skipped[0].fit is None


def test_as_of_uses_only_price_points_dated_by_then():
    models = [he("a", "2023-01-01", 50, 40.0), he("b", "2023-03-01", 60, 20.0), he("c", "2023-06-01", 55, 5.0),
              he("d", "2023-09-01", 70, 4.0), he("e", "2024-01-01", 52, 1.0), he("f", "2024-06-01", 65, 0.5)]
    early = epoch_trends(build(models), "humaneval", as_of=dt.date(2023, 12, 31))
    # a..d only: threshold 50 has 4 points (fitted), and the result equals the method on the older catalog
    same = epoch_trends(build(models[:4]), "humaneval")
    assert [(t.threshold_model, t.n) for t in early.trends] == [("a", 4)]
    assert early.trends[0].fit == same.trends[0].fit
    assert early.to_json()["as_of"] == "2023-12-31"
    assert epoch_trends(build(models), "humaneval", as_of=dt.date(2023, 8, 1)).trends == ()
