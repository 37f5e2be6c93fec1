"""A newcomer adds a scorer, verifier, importer, routing policy or provider by writing one file.

Each test writes that one file into a temporary folder, registers it through a Python entry point (a
dist-info with entry_points.txt, exactly what ``pip install`` of a plugin package leaves), and uses it
through the normal path: a task file, a gateway config, ``satisfice catalog import``, ``satisfice.evaluate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satisfice.core import Completion, Price
from satisfice.errors import ConfigError
from satisfice.gateway.routes.config import parse_config
from satisfice.gateway.routes.router import build_router
from satisfice.gateway.routes.verifiers import run_verifiers
from satisfice.tasks.datasets import Sample
from satisfice.tasks.scorers import build_scorer
from satisfice.tasks.spec import load_task

Install = Callable[[str, str, str, str], None]

SCORER = '''
from pydantic import BaseModel, ConfigDict
from satisfice.core import Score
from satisfice.tasks.scorer_registry import SCORERS


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    words: int = 1


class FirstWords:
    needs_reference = True

    def __init__(self, words):
        self.words = words

    async def __call__(self, sample, completion):
        got = completion.text.split()[: self.words]
        want = str(sample.target).split()[: self.words]
        return Score(float(got == want), f"first {self.words} word(s)")


@SCORERS.register("first_words", options=Options, binary=True, help="the first N words equal the target's")
def make(options, context):
    return FirstWords(options.words)
'''


def _task(folder: Path, scorer: str) -> Path:
    (folder / "data.jsonl").write_text(json.dumps({"id": "a", "q": "x", "label": "Paris is big"}) + "\n")
    task = folder / "task.yaml"
    task.write_text(f"name: t\ndataset: {{path: data.jsonl, fields: {{q: q, target: label}}}}\n"
                    f"prompt: {{user: '{{{{ q }}}}'}}\nscorer: {scorer}\n", encoding="utf-8")
    return task


async def test_a_scorer_in_one_file(tmp_path: Path, install_plugin: Install) -> None:
    with pytest.raises(ConfigError, match="unknown scorer 'first_words'"):
        load_task(_task(tmp_path, "{type: first_words}"))
    install_plugin("satisfice.scorers", "first_words", "first_words_scorer", SCORER)
    spec = load_task(_task(tmp_path, "{type: first_words, options: {words: 2}}"))
    scorer = build_scorer(spec.scorer, base_dir=tmp_path)
    sample = Sample(id="a", fields={"q": "x"}, target="Paris is big")
    assert (await scorer(sample, Completion("Paris is small"))).value == 1.0
    assert (await scorer(sample, Completion("Lyon is big"))).value == 0.0
    with pytest.raises(ConfigError, match=r"line 4, field 'scorer.options.wordz': Extra inputs"):
        load_task(_task(tmp_path, "{type: first_words, options: {wordz: 2}}"))
    with pytest.raises(ConfigError, match="known: exact, .*first_words"):
        load_task(_task(tmp_path, "{type: nope}"))


VERIFIER = '''
from dataclasses import dataclass
from pydantic import BaseModel
from satisfice.gateway.routes.verifier_registry import VERIFIERS


class Options(BaseModel):
    allowed: int = 0


@dataclass(frozen=True)
class FewDigits:
    allowed: int
    name: str = "few_digits"

    async def check(self, text, payload):
        digits = sum(c.isdigit() for c in text)
        return None if digits <= self.allowed else f"{digits} digits (at most {self.allowed})"


@VERIFIERS.register("few_digits", options=Options, shorthand="allowed")
def make(options, context):
    return FewDigits(options.allowed)
'''

GATEWAY = """
upstreams:
  - {name: up, base_url: "http://127.0.0.1:9/v1", models: [small, big]}
prices: {small: {input_per_m: 1, output_per_m: 1}, big: {input_per_m: 5, output_per_m: 5}}
routes:
  task/t:
    chain: [small, big]
"""


async def test_a_verifier_in_one_file(install_plugin: Install) -> None:
    config = GATEWAY + "    verifiers: [non_empty, {few_digits: 2}]\n"
    with pytest.raises(ConfigError, match=r"line 8, field 'routes.task/t.verifiers\[1\]': unknown verifier 'few_di"):
        parse_config(config, file="gw.yaml")
    install_plugin("satisfice.verifiers", "few_digits", "few_digits_verifier", VERIFIER)
    router = build_router(parse_config(config, file="gw.yaml"), prices=lambda m: None, decisions=lambda t: None)
    plan = router.choose({"model": "task/t", "messages": []})
    assert plan is not None and [v.name for v in plan.verifiers] == ["non_empty", "few_digits"]
    assert await run_verifiers(plan.verifiers, "call 12", {}) is None
    assert await run_verifiers(plan.verifiers, "call 1234", {}) == "few_digits: 4 digits (at most 2)"
    with pytest.raises(ConfigError, match="verifier 'few_digits': allowed: Input should be a valid integer"):
        parse_config(GATEWAY + "    verifiers: [{few_digits: many}]\n", file="gw.yaml")


POLICY = '''
from pydantic import BaseModel
from satisfice.gateway.routes.policies import POLICIES


class Options(BaseModel):
    vip: list[str]
    chain: list[str]


class ByUser:
    def __init__(self, vip, vip_plan, base):
        self.vip, self.vip_plan, self.base = set(vip), vip_plan, base

    def choose(self, payload):
        return self.vip_plan if payload.get("user") in self.vip else self.base


@POLICIES.register("by_user", options=Options)
def make(options, ctx):
    return ByUser(options.vip, ctx.plan(options.chain), ctx.base)
'''


def test_a_routing_policy_in_one_file(install_plugin: Install) -> None:
    config = GATEWAY + "    policy: {by_user: {vip: [ceo], chain: [big]}}\n"
    with pytest.raises(ConfigError, match="unknown routing policy 'by_user' \\(known: static, by_length"):
        parse_config(config, file="gw.yaml")
    install_plugin("satisfice.policies", "by_user", "by_user_policy", POLICY)
    router = build_router(parse_config(config, file="gw.yaml"), prices=lambda m: None, decisions=lambda t: None)
    vip = router.choose({"model": "task/t", "user": "ceo", "messages": []})
    other = router.choose({"model": "task/t", "user": "intern", "messages": []})
    assert vip is not None and [t.model for t in vip.targets] == ["big"]
    assert other is not None and [t.model for t in other.targets] == ["small", "big"]
    assert router.choose({"model": "small"}) is router.plan("small")
    with pytest.raises(ConfigError, match="model 'huge' is not served"):
        build_router(parse_config(GATEWAY + "    policy: {by_user: {vip: [a], chain: [huge]}}\n", file="gw.yaml"),
                     prices=lambda m: None, decisions=lambda t: None)


def test_the_built_in_by_length_policy() -> None:
    config = GATEWAY + "    policy: {by_length: {max_chars: 10, long: [big]}}\n"
    router = build_router(parse_config(config, file="gw.yaml"), prices=lambda m: Price(1, 1), decisions=lambda t: None)
    short = router.choose({"model": "task/t", "messages": [{"role": "user", "content": "hi"}]})
    long = router.choose({"model": "task/t", "prompt": "x" * 11})
    assert short is not None and [t.model for t in short.targets] == ["small", "big"]
    assert long is not None and [t.model for t in long.targets] == ["big"]


IMPORTER = '''
import datetime as dt
from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources.registry import SOURCES


def sniff(peek):
    return peek.path.suffix == ".tsv"


@SOURCES.register("tsv-prices", sniff=sniff, dated_by_import=True, help="model<TAB>input<TAB>output")
def parse(path, as_of, ids):
    batch = ImportBatch(source_file=str(path))
    for line in path.read_text().splitlines()[1:]:
        model, inp, out = line.split("\\t")
        batch.models.append(ModelRow(id=model, name=model))
        batch.offers.append(OfferRow(model, "tsv", as_of, float(inp), float(out), source="tsv file"))
    return batch
'''


def test_an_importer_in_one_file(tmp_path: Path, install_plugin: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    from satisfice.cli import app

    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    prices = tmp_path / "prices.tsv"
    prices.write_text("model\tinput\toutput\nacme-1\t1.5\t3\n", encoding="utf-8")
    runner = CliRunner()
    before = runner.invoke(app, ["catalog", "import", str(prices), "--format", "tsv-prices"])
    assert isinstance(before.exception, ConfigError) and "unknown import format 'tsv-prices'" in str(before.exception)
    install_plugin("satisfice.sources", "tsv-prices", "tsv_importer", IMPORTER)
    done = runner.invoke(app, ["catalog", "import", str(prices), "--as-of", "2025-01-02", "--json"])  # detected
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["format"] == "tsv-prices" and doc["added"] == {"models": 1, "offers": 1, "scores": 0}
    listed = json.loads(runner.invoke(app, ["plugins", "--json"]).stdout)
    mine = [e for e in listed["entries"] if e["name"] == "tsv-prices"]
    assert mine == [{"kind": "source", "name": "tsv-prices", "group": "satisfice.sources",
                     "origin": "entry point tsv-prices = tsv_importer", "help": "model<TAB>input<TAB>output"}]
    assert {e["kind"] for e in listed["entries"] if e["origin"] == "built-in"} == {
        "scorer", "verifier", "source", "provider", "routing policy"}
    shown = json.loads(runner.invoke(app, ["catalog", "show", "acme-1", "--json"]).stdout)
    assert shown["prices"][0]["input_per_m"] == 1.5 and shown["prices"][0]["effective_date"] == "2025-01-02"


PROVIDER = '''
from satisfice.core import Completion, Usage
from satisfice.clients.providers import PROVIDERS


class Echo:
    def __init__(self, ref):
        self.ref = ref

    async def complete(self, request):
        text = request.messages[-1].content if request.messages else request.prompt
        return Completion(text=text.split(":")[-1].strip(), usage=Usage(10, 1), model=self.ref.id, cost_usd=0.0)


@PROVIDERS.register("echo", needs_endpoint=False)
def make(ref, options):
    return Echo(ref)
'''


def test_a_provider_in_one_file(tmp_path: Path, install_plugin: Install, db_url: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    import satisfice

    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    rows = [{"id": str(i), "q": f"say: {w}", "label": w} for i, w in enumerate(["yes", "no", "yes"])]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = tmp_path / "task.yaml"
    task.write_text("name: echo\ndataset: {path: data.jsonl, fields: {q: q, target: label, id: id}}\n"
                    "prompt: {user: '{{ q }}'}\nscorer: {type: exact}\nthreshold: accuracy >= 0.1\n"
                    "candidates: [{id: parrot, provider: echo}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown provider 'echo' \\(known: openai_compat, local"):
        satisfice.evaluate(task, store=db_url)
    install_plugin("satisfice.providers", "echo", "echo_provider", PROVIDER)
    result = satisfice.evaluate(task, store=db_url)
    assert result.recommended == "parrot" and result.models[0].accuracy == 1.0


async def test_module_function_references_resolve_beside_the_file_that_names_them(tmp_path: Path) -> None:
    """Custom verifiers, like custom scorers, are imported from the config file's folder first."""
    from satisfice.gateway.routes.config import load_config

    (tmp_path / "house_checks.py").write_text("def short(text, payload):\n    return len(text) < 5 or 'too long'\n")
    config = tmp_path / "gw.yaml"
    config.write_text(GATEWAY + "    verifiers: [{custom: 'house_checks:short'}]\n", encoding="utf-8")
    router = build_router(load_config(config), prices=lambda m: None, decisions=lambda t: None)
    plan = router.choose({"model": "task/t"})
    assert plan is not None
    assert await run_verifiers(plan.verifiers, "ok", {}) is None
    assert await run_verifiers(plan.verifiers, "far too long", {}) == "house_checks:short: too long"
    (tmp_path / "gw.yaml").write_text(GATEWAY + "    verifiers: [{custom: 'house_checks:nope'}]\n")
    with pytest.raises(ConfigError, match="custom verifier 'house_checks:nope': 'house_checks' has no function"):
        build_router(load_config(config), prices=lambda m: None, decisions=lambda t: None)


def test_the_plugin_table_shows_texts_as_written() -> None:
    """A help text with brackets ("[[benchmarks]]", a plugin's "[red]") is shown, not read as Rich markup."""
    from satisfice.cli import app
    from satisfice.tasks.scorer_registry import SCORERS

    @SCORERS.register("bracketed_test_scorer", help="[bold red]not styled[/] and [[kept]]")
    def make(options: object, context: object) -> object:
        raise NotImplementedError

    try:
        done = CliRunner().invoke(app, ["plugins"], env={"COLUMNS": "400"})
    finally:
        SCORERS.remove("bracketed_test_scorer")
    assert done.exit_code == 0, done.output
    assert "[bold red]not styled[/] and [[kept]]" in done.stdout
    assert "[[benchmarks]] score observations" in done.stdout
