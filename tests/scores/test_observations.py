"""Scores are observations: harness precedence, history kept, conflicts refused, the migration keeps old rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.harness import PRECEDENCE, pick, rank
from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.rows import Catalog, ModelRow, ScoreRow
from satisfice.catalog.sources.native import parse_native
from satisfice.errors import DataError
from satisfice.store import Store

M = ModelRow("m1", "M1", release_date=dt.date(2025, 1, 1))


def _obs(value: float, harness: str, day: str | None = None, effort: str = "") -> ScoreRow:
    return ScoreRow("m1", "gpqa-diamond", value, harness=harness, source=f"src {harness}", effort=effort,
                    date=dt.date.fromisoformat(day) if day else None)


def test_independent_runs_come_before_vendor_claims() -> None:
    assert rank("epoch") < rank("artificial-analysis") < rank("some-new-leaderboard") < rank("vendor") < rank("")
    assert PRECEDENCE[0] == "epoch" and PRECEDENCE[-1] == "vendor"
    observed = [_obs(91.0, "vendor"), _obs(84.0, "epoch", "2025-02-01"), _obs(86.0, "epoch", "2025-06-01")]
    assert pick(observed) == observed[2]  # epoch before vendor; the newer epoch run within epoch
    assert pick(observed, "vendor") == observed[0]
    assert pick(observed, "openrouter") is None


def test_catalog_uses_the_precedence_and_with_harness_restricts() -> None:
    cat = Catalog.build([M], scores=[_obs(91.0, "vendor"), _obs(84.0, "epoch", "2025-02-01")])
    assert cat.score("m1", "gpqa-diamond").value == 84.0  # type: ignore[union-attr]
    only = cat.with_harness("vendor")
    assert only.score("m1", "gpqa-diamond").value == 91.0  # type: ignore[union-attr]
    assert only.as_of(dt.date(2026, 1, 1)).score("m1", "gpqa-diamond").harness == "vendor"  # type: ignore[union-attr]
    assert len(cat.observations("m1", "gpqa-diamond")) == 2


def _batch(*scores: ScoreRow) -> ImportBatch:
    return ImportBatch("obs.csv", models=[M], scores=list(scores))


def test_a_newer_observation_never_erases_an_older_one(store: Store) -> None:
    apply_batch(store, _batch(_obs(84.0, "epoch", "2025-02-01")))
    result = apply_batch(store, _batch(_obs(86.0, "epoch", "2025-06-01", effort="high")))
    assert result.scores_added == 1
    again = apply_batch(store, _batch(_obs(86.0, "epoch", "2025-06-01", effort="high")))
    assert again.scores_added == 0
    cat = load_catalog(store)
    kept = sorted((o.value, o.date, o.effort) for o in cat.observations("m1", "gpqa-diamond"))
    assert kept == [(84.0, dt.date(2025, 2, 1), ""), (86.0, dt.date(2025, 6, 1), "high")]
    assert cat.score("m1", "gpqa-diamond").value == 86.0  # type: ignore[union-attr]


def test_a_different_value_for_the_same_run_is_refused_and_nothing_is_written(store: Store) -> None:
    apply_batch(store, _batch(_obs(84.0, "epoch", "2025-02-01")))
    with pytest.raises(DataError, match="conflicting score .* newer observation needs its own date"):
        apply_batch(store, _batch(_obs(70.0, "vendor"), _obs(85.0, "epoch", "2025-02-01")))
    assert [o.value for o in load_catalog(store).observations("m1", "gpqa-diamond")] == [84.0]


def test_native_columns_carry_effort_date_stderr_and_usage(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(
        "name,release_date,score:gpqa-diamond,harness:gpqa-diamond,effort:gpqa-diamond,score_date:gpqa-diamond,"
        "stderr:gpqa-diamond,input_tokens:gpqa-diamond,output_tokens:gpqa-diamond,items:gpqa-diamond,"
        "score_source:gpqa-diamond\n"
        "M1,2025-01-01,84,epoch,high,2025-06-01,2.5,300,9000,198,https://example.org/run\n"
        "M1,2025-01-01,91,vendor,,,,,,,https://example.org/card\n")
    scores = sorted(parse_native(path).scores, key=lambda s: s.harness)
    assert [(s.harness, s.effort, s.date, s.stderr, s.output_tokens, s.items) for s in scores] == [
        ("epoch", "high", dt.date(2025, 6, 1), 2.5, 9000.0, 198), ("vendor", "", None, None, None, None)]
    path.write_text("name,score:gpqa-diamond,items:gpqa-diamond\nM1,84,1.5\n")
    with pytest.raises(DataError, match=r"line 2.*items:gpqa-diamond|items:gpqa-diamond.*line 2"):
        parse_native(path)


def test_migration_keeps_scores_written_before_it(tmp_path: Path) -> None:
    """A store at 0001 with a score upgrades to 0007_scores: the row keeps its value, gains an empty effort."""
    from alembic import command
    from alembic.config import Config

    from satisfice.store import open_store
    from satisfice.store.db import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(url)
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "0001")
    with engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO sources (citation) VALUES ('old')"))
        conn.execute(sa.text("INSERT INTO benchmarks (slug, name, scale) VALUES ('mmlu', 'MMLU', 'percent')"))
        conn.execute(sa.text("INSERT INTO models (id, name, reasoning) VALUES ('m1', 'M1', 0)"))
        conn.execute(sa.text("INSERT INTO scores (model_id, benchmark, value, harness, source_id) "
                             "VALUES ('m1', 'mmlu', 70, '', 1)"))
        conn.commit()
    engine.dispose()
    store = open_store(url)
    try:
        kept = load_catalog(store).observations("m1", "mmlu")
        assert [(o.value, o.effort, o.date) for o in kept] == [(70.0, "", None)]
    finally:
        store.close()
