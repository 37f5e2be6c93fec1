"""Provider kinds, organizations, model kinds, identity joins and the default-price rule."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from satisfice.catalog.bundled import bundled_path
from satisfice.catalog.identity import normalise
from satisfice.catalog.kinds import kind_from_litellm, kind_from_modalities, kind_from_name
from satisfice.catalog.providers import (
    Providers,
    canonical_organization,
    provider_kind,
    read_organizations,
    read_provider_kinds,
)
from satisfice.catalog.rows import Catalog, ModelRow, OfferRow, settle_start
from satisfice.errors import DataError

D = dt.date(2026, 11, 1)


@pytest.mark.parametrize(("provider", "organization", "model", "kind"), [
    ("anthropic", "Anthropic", "claude-opus-5", "first-party"),
    ("anthropic", None, "claude-opus-5", "first-party"),  # organization inferred from the model id
    ("google", "Anthropic", "claude-opus-5", "serving"),  # Vertex sells Claude at its own list price
    ("google", "google", "gemini-3-pro", "first-party"),
    ("x-ai", None, "grok-4.20", "first-party"),  # another spelling of xAI's own API
    ("xai", "x-ai", "grok-4.20", "first-party"),
    ("quicksilverpro", "Anthropic", "claude-opus-5", "reseller"),
    ("openrouter", "Anthropic", "claude-opus-5", "reseller"),
    ("github-copilot", "Anthropic", "claude-opus-5", "subscription"),
    ("huggingface_novita", None, "glm-5.2", "reseller"),
    ("acme-router", None, "glm-5.2", "reseller"),  # the name rule for unknown providers
    ("acme-coding-plan", None, "glm-5.2", "subscription"),
    ("acme-cloud", None, "glm-5.2", "serving"),
    ("zhipuai", None, "glm-5.2", "first-party"),
])
def test_provider_kind(provider: str, organization: str | None, model: str, kind: str) -> None:
    assert provider_kind(provider, organization, model) == kind


def test_canonical_organizations() -> None:
    assert canonical_organization("anthropic") == canonical_organization("Anthropic") == "Anthropic"
    assert canonical_organization("meta-llama") == "Meta" and canonical_organization("x-ai") == "xAI"
    assert canonical_organization("moonshotai") == "Moonshot AI"
    assert canonical_organization("thedrummer") == "thedrummer"  # unknown: kept as given
    assert canonical_organization(None, "kimi-k2.7-code") == "Moonshot AI"
    assert canonical_organization(None, "my-model") is None


def test_bad_tables_name_file_line_and_field(tmp_path: Path) -> None:
    kinds = tmp_path / "providers.csv"
    kinds.write_text("provider,kind\nacme,serving\nbeta,cheap\n")
    with pytest.raises(DataError) as err:
        read_provider_kinds(kinds)
    assert (err.value.line, err.value.field) == (3, "kind")
    orgs = tmp_path / "organizations.csv"
    orgs.write_text("name,aliases,providers,models\nAcme,acme,acme,^(acme\n")
    with pytest.raises(DataError) as err:
        read_organizations(orgs)
    assert (err.value.line, err.value.field) == (2, "models")
    orgs.write_text("name,aliases\nAcme,acme\n")
    with pytest.raises(DataError, match="columns"):
        read_organizations(orgs)
    table = Providers(read_organizations(Path(str(bundled_path().parent / "organizations.csv"))), {})
    assert table.kind("openrouter", None, "x") == "reseller"  # the name rule without the providers table


@pytest.mark.parametrize(("raw", "canonical"), [
    ("GLM 5.2", "glm-5.2"), ("GLM-5.2", "glm-5.2"), ("glm-5p2", "glm-5.2"), ("databricks-glm-5.2", "glm-5.2"),
    ("zai-org/GLM-5.2-FP8", "glm-5.2"),
    ("Qwen3.7 Plus", "qwen3.7-plus"), ("qwen3p7-plus", "qwen3.7-plus"), ("qwen/qwen3.7-plus", "qwen3.7-plus"),
    ("Kimi K2.7 Code", "kimi-k2.7-code"), ("kimi-k2p7-code", "kimi-k2.7-code"),
    ("databricks-kimi-k2.7-code", "kimi-k2.7-code"), ("moonshotai/kimi-k2.7-code", "kimi-k2.7-code"),
    ("databricks-meta-llama-3.3-70b-instruct", "llama-3.3-70b-instruct"),
    ("llama-v3p1-8b-instruct", "llama-3.1-8b-instruct"), ("llama3.1-8b-instruct", "llama-3.1-8b-instruct"),
    ("llama3-8b-instruct", "llama-3-8b-instruct"),  # a size, not version 3.8
    ("qwen3-8b", "qwen3-8b"), ("qwen-3.8-27b", "qwen3.8-27b"),
    ("nvidia-nemotron-3-super-120b-a12b-nvfp4", "nemotron-3-super-120b-a12b"),
    ("deepseek-v4-flash-latest", "deepseek-v4-flash"),
    ("mistral-large-2512", "mistral-large-2512"), ("minimax-m2.5", "minimax-m2.5"),  # not a prefix + model
])
def test_identity_joins_punctuation_case_and_prefixes(raw: str, canonical: str) -> None:
    assert normalise(raw) == canonical


def test_every_bundled_id_is_its_own_canonical_id() -> None:
    with bundled_path().open(encoding="utf-8") as fh:
        ids = {row["id"] for row in csv.DictReader(fh)}
    assert ids and all(normalise(i) == i for i in ids), [i for i in ids if normalise(i) != i]


def test_model_kinds() -> None:
    assert kind_from_litellm("embedding") == "embedding" and kind_from_litellm("responses") == "chat"
    assert kind_from_litellm("audio_speech") == "audio" and kind_from_litellm(None) is None
    assert kind_from_modalities(["text", "image"]) == "chat" and kind_from_modalities(["image"]) == "image"
    assert kind_from_modalities([]) is None
    for model, kind in (("text-embedding-3-small", "embedding"), ("rerank-v3.5", "rerank"),
                        ("omni-moderation-latest", "moderation"), ("gpt-4o-mini-tts", "audio"),
                        ("whisper-1", "audio"), ("gpt-image-1", "image"), ("veo-3", "video"),
                        ("claude-opus-5", "chat"), ("llama-guard-4-12b", "moderation")):
        assert kind_from_name(model) == kind, model
    cat = Catalog.build([ModelRow("a", "A"), ModelRow("text-embedding-3-small", "E"),
                         ModelRow("b", "B", kind="image")])
    assert set(cat.of_kind("chat").models) == {"a"} and set(cat.of_kind(None).models) == set(cat.models)
    assert set(cat.of_kind("image").models) == {"b"}


def _offer(provider: str, inp: float, out: float, day: dt.date = dt.date(2026, 1, 1)) -> OfferRow:
    return OfferRow("claude-opus-5", provider, day, input_per_m=inp, output_per_m=out)


def test_default_price_is_first_party_and_any_compares_list_prices() -> None:
    model = ModelRow("claude-opus-5", "Claude Opus 5", organization="anthropic")
    cat = Catalog.build([model], [_offer("anthropic", 5, 25), _offer("quicksilverpro", 1.25, 6.25),
                                  _offer("github-copilot", 0.1, 0.1), _offer("google", 4, 24)])
    default = cat.price_at("claude-opus-5", D)
    assert default is not None and (default.provider, default.provider_kind) == ("anthropic", "first-party")
    cheapest = cat.price_at("claude-opus-5", D, provider="any")
    assert cheapest is not None and cheapest.provider == "google"  # serving, not the reseller nor the bundle
    named = cat.price_at("claude-opus-5", D, provider="quicksilverpro")
    assert named is not None and named.provider_kind == "reseller"
    launch = cat.launch_price("claude-opus-5")
    assert launch is not None and launch.provider == "anthropic"
    # no first-party offer: the cheapest serving one; only resellers: no default price
    hosts = Catalog.build([model], [_offer("google", 4, 24), _offer("aws", 5, 25), _offer("openrouter", 1, 1)])
    assert hosts.price_at("claude-opus-5", D).provider == "google"  # type: ignore[union-attr]
    resold = Catalog.build([model], [_offer("openrouter", 1, 1)])
    assert resold.price_at("claude-opus-5", D) is None and resold.price_at("claude-opus-5", D, provider="any") is None
    assert resold.launch_price("claude-opus-5") is None


def test_a_price_without_a_start_starts_at_release() -> None:
    offer = OfferRow("m", "p", dt.date(2026, 8, 31), input_per_m=2, output_per_m=10, starts_unknown=True)
    assert settle_start(offer, dt.date(2026, 5, 1)).effective_date == dt.date(2026, 5, 1)
    assert settle_start(offer, None).effective_date == dt.date(2026, 8, 31)
    assert settle_start(offer, dt.date(2026, 9, 5)).effective_date == dt.date(2026, 8, 31)
    dated = OfferRow("m", "p", dt.date(2026, 9, 1), input_per_m=3, output_per_m=15)
    assert settle_start(dated, dt.date(2026, 5, 1)) is dated


def test_provider_option_on_the_commands() -> None:
    from typer.testing import CliRunner

    from satisfice.cli import app

    runner = CliRunner()
    typo = runner.invoke(app, ["market", "cost", "claude-opus-5", "--tokens-per-day", "1M", "--provider", "antropic"])
    assert typo.exit_code != 0 and "anthropic" in typo.output  # a typo names the close provider, never $0
    gemma = runner.invoke(app, ["catalog", "list", "--json", "--provider", "openrouter"])
    rows = {r["id"]: r for r in json.loads(gemma.output)["models"]}
    assert rows["gemma-4-31b-it"]["price"]["provider_kind"] == "reseller"
    default = {r["id"]: r for r in json.loads(runner.invoke(app, ["catalog", "list", "--json"]).output)["models"]}
    assert default["gemma-4-31b-it"]["price"]["provider_kind"] == "serving"  # DeepInfra's list price, not a reseller
    assert default["claude-opus-5"]["price"]["provider"] == "anthropic"
    doc = json.loads(runner.invoke(app, ["market", "cost", "claude-opus-5", "--tokens-per-day", "100M", "--provider",
                                         "any", "--json"]).output)
    assert doc["models"][0]["provider_kind"] in ("first-party", "serving")
