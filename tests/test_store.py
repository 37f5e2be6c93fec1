from __future__ import annotations

import datetime as dt

import pytest

from satisfice.catalog.batch import ImportBatch, slugify
from satisfice.catalog.repository import apply_batch, load_catalog
from satisfice.catalog.rows import ModelRow, OfferRow, ScoreRow
from satisfice.errors import ConfigError, DataError
from satisfice.store import Store, open_store


def test_fresh_store_is_migrated(store: Store) -> None:
    assert {"models", "offers", "scores", "sources", "benchmarks"} <= set(store.table_names())


def _revisions(store: Store) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def test_migrate_twice_is_noop(db_url: str) -> None:
    """A fresh store is at every migration head; opening it again changes neither revisions nor data."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from satisfice.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    first = open_store(db_url)
    assert _revisions(first) == heads and heads
    apply_batch(first, _batch())
    tables = first.table_names()
    first.close()
    second = open_store(db_url)
    assert _revisions(second) == heads and second.table_names() == tables
    assert "m1" in load_catalog(second).models  # data written before the second open survives it
    second.close()


def test_slugify() -> None:
    assert slugify("GPT-4o (2024-05-13)") == "gpt-4o-2024-05-13"
    assert slugify("  Llama 3.1 405B ") == "llama-3.1-405b"


def _batch(price: float = 1.0) -> ImportBatch:
    return ImportBatch(
        "x.csv",
        models=[ModelRow("m1", "M1", open_weights=True, release_date=dt.date(2024, 1, 1))],
        offers=[
            OfferRow("m1", "p", dt.date(2024, 1, 1), 1.0, 2.0, source="s1"),
            OfferRow("m1", "p", dt.date(2024, 6, 1), price, 2.0, source="s1"),
            OfferRow("m1", "p", dt.date(2024, 9, 1), price, 2.0, source="s1"),
        ],
        scores=[ScoreRow("m1", "mmlu", 70.0, source="s2")],
    )


def test_import_is_idempotent_and_keeps_history(store: Store) -> None:
    first = apply_batch(store, _batch(0.5))
    assert (first.models_added, first.offers_added, first.scores_added) == (1, 2, 1)
    again = apply_batch(store, _batch(0.5))
    assert (again.models_added, again.offers_added, again.scores_added) == (0, 0, 0)
    cat = load_catalog(store)
    assert [o.input_per_m for o in cat.offers_of("m1")] == [1.0, 0.5]
    assert cat.price_at("m1", dt.date(2024, 5, 31)).input_per_m == 1.0  # type: ignore[union-attr]
    assert cat.price_at("m1", dt.date(2024, 6, 1)).input_per_m == 0.5  # type: ignore[union-attr]
    assert cat.price_at("m1", dt.date(2023, 12, 31)) is None
    assert cat.score("m1", "mmlu").source == "s2"  # type: ignore[union-attr]


def test_conflicting_import_changes_nothing(store: Store) -> None:
    apply_batch(store, _batch(0.5))
    bad = _batch(0.5)
    bad.models.append(ModelRow("m2", "M2"))
    bad.scores.append(ScoreRow("m1", "mmlu", 71.0, source="s2"))
    with pytest.raises(DataError, match="x.csv"):
        apply_batch(store, bad)
    assert "m2" not in load_catalog(store).models


def test_store_uses_requested_backend(store: Store) -> None:
    import os

    expected = "postgresql" if os.environ.get("SATISFICE_TEST_PG_URL") else "sqlite"
    assert store.dialect == expected


@pytest.mark.parametrize("url, shown", [
    ("foo://bar", "Can't load plugin"),
    ("postgresql+psycopg://someone:hunter2pw@127.0.0.1:1/x", "127.0.0.1"),
])
def test_unusable_database_url_is_a_clear_error(url: str, shown: str) -> None:
    with pytest.raises(ConfigError) as raised:
        open_store(url)
    message = str(raised.value)
    assert message.startswith("cannot open database ") and shown in message
    assert "hunter2pw" not in message and "\n" not in message
