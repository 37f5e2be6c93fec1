"""Eval tables: the migration matches the models; decisions for the gateway; the content key."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from satisfice.core import CompletionRequest, Message, ModelRef
from satisfice.evals.cache import request_key
from satisfice.evals.decisions import latest_decision, save_decision
from satisfice.store import Store, schema_all

EVAL_TABLES = {"eval_runs", "eval_responses", "eval_errors", "eval_scores", "eval_decisions"}


def test_migration_creates_exactly_the_eval_tables(store: Store) -> None:
    assert EVAL_TABLES <= set(store.table_names())
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema_all.metadata)
    # any difference between the migrated database and the eval table models (other parts' tables aside)
    assert [str(d)[:120] for d in diff if "eval_" in str(d)] == []


def test_latest_decision_is_the_newest(store: Store) -> None:
    assert latest_decision(store, "sentiment") is None
    a = ModelRef("cheap", base_url="http://127.0.0.1:1/v1", api_key_env="CHEAP_KEY", provider_model="c-1")
    b = ModelRef("dear", base_url="http://127.0.0.1:2/v1")
    save_decision(store, task="sentiment", passing=["dear"], reference=None, candidates={"dear": b},
                  recommended="dear", run_id=None)
    save_decision(store, task="sentiment", passing=["cheap", "dear"], reference="dear",
                  candidates={"cheap": a, "dear": b}, recommended="cheap", run_id=None, threshold="accuracy >= 0.9")
    save_decision(store, task="other", passing=[], reference=None, candidates={}, recommended=None, run_id=None)
    d = latest_decision(store, "sentiment")
    assert d is not None
    assert d.passing == ["cheap", "dear"] and d.reference == "dear" and d.recommended == "cheap"
    assert d.candidates["cheap"]["api_key_env"] == "CHEAP_KEY" and d.ref("cheap") == a
    assert latest_decision(store, "other").passing == []  # type: ignore[union-attr]


def test_request_key_covers_model_identity_and_every_parameter() -> None:
    req = CompletionRequest(messages=(Message("user", "hi"),), max_tokens=5)
    ref = ModelRef("m", base_url="http://h/v1", api_key_env="K1")
    base = request_key(ref, req)
    assert request_key(ModelRef("m", base_url="http://h/v1/", api_key_env="K2"), req) == base  # key var is not identity
    variants = [
        request_key(ModelRef("m", base_url="http://other/v1"), req),
        request_key(ModelRef("m", base_url="http://h/v1", provider_model="m-2024"), req),
        request_key(ref, CompletionRequest(messages=(Message("user", "hi"),), max_tokens=6)),
        request_key(ref, CompletionRequest(messages=(Message("user", "hi"),), max_tokens=5, temperature=0.7)),
        request_key(ref, CompletionRequest(messages=(Message("system", "hi"),), max_tokens=5)),
        request_key(ref, CompletionRequest(messages=(Message("user", "hi"),), max_tokens=5, stop=["\n"])),
        request_key(ref, CompletionRequest(messages=(Message("user", "hi"),), max_tokens=5, extra={"seed": 1})),
        request_key(ref, CompletionRequest(prompt="hi", max_tokens=5)),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_request_key_is_unchanged_by_the_spliced_encoding() -> None:
    """Stored answers stay found: the key hashes the same text as one canonical encode of the whole dict."""
    import hashlib

    from satisfice.evals.cache import KEY_VERSION, canonical_json, model_identity, request_payload

    refs = [ModelRef("openai/gpt-4o"), ModelRef("x/ü", base_url="http://h/v1/", provider_model='m"q')]
    requests = [
        CompletionRequest(messages=(Message("user", 'héllo \u2028 "q" ✓'),), max_tokens=5, temperature=0.7,
                          stop=("a", "\n"), extra={"z": 1, "a": {"y": [1.5e-9, None, True]}}),
        CompletionRequest(prompt="plain", temperature=1e-7),
        CompletionRequest(messages=(Message("system", "s"), Message("user", "u"))),
    ]
    for ref in refs:
        for req in requests:
            whole = canonical_json({"v": KEY_VERSION, "model": model_identity(ref), "request": request_payload(req)})
            assert request_key(ref, req) == hashlib.sha256(whole.encode("utf-8")).hexdigest()
