"""One source registry: a source written in one file is detected by ``catalog import`` and run by the pipeline.

The one-file source is a module in a temporary folder, registered by a ``satisfice.sources`` entry point (a
dist-info with entry_points.txt, what ``pip install`` of a plugin package leaves), then used through the
normal paths: ``satisfice catalog import FILE`` (detected by its sniffer) and ``satisfice pipeline run``
(fetched from its declared default location, then from a location given).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from satisfice.catalog.sources import detect_format, parse_file
from satisfice.catalog.sources.registry import BUILTIN_MODULES, SOURCES, Source, SourceRegistry, package_modules
from satisfice.errors import ConfigError
from satisfice.pipeline import parse_selection, run
from satisfice.store import Store

PIPELINE = Path(__file__).resolve().parents[1] / "data" / "pipeline"

MODULE = '''
"""Tab-separated prices: model, provider, input and output USD per million tokens (a test-only source)."""

import datetime as dt

from satisfice.catalog.batch import ImportBatch
from satisfice.catalog.rows import ModelRow, OfferRow
from satisfice.catalog.sources.registry import Source
from satisfice.errors import DataError


def _sniff(peek):
    return peek.header[:1] == ["model\\tprovider\\tinput\\toutput"]


def parse(path, *, as_of, ids):
    batch = ImportBatch(source_file=str(path))
    for number, line in enumerate(path.read_text().splitlines()[1:], start=2):
        cells = line.split("\\t")
        if len(cells) != 4:
            raise DataError("expected 4 tab-separated cells", file=str(path), line=number)
        raw, provider, inp, out = cells
        model = ids(raw) if ids is not None else raw
        batch.models.append(ModelRow(id=model, name=raw))
        batch.offers.append(OfferRow(model, provider, as_of, float(inp), float(out), source=f"tsv {path.name}"))
    return batch


SOURCE = Source("tsv-prices", parse, yields=("prices",), sniff=_sniff, default=DEFAULT, dated_by_import=True,
                help="model, provider, input, output per line (tab-separated)")
'''


@pytest.fixture
def tsv_source(tmp_path: Path) -> Iterator[Path]:
    """Install the one-file source (its default location: a file in ``tmp_path``); yield that file."""
    default = tmp_path / "default.tsv"
    default.write_text("model\tprovider\tinput\toutput\nacme-1\tacme\t1.5\t3\n", encoding="utf-8")
    site = tmp_path / "site"
    (site / "tsv_source_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "tsv_source.py").write_text(textwrap.dedent(MODULE).replace("DEFAULT", repr(str(default))),
                                        encoding="utf-8")
    info = site / "tsv_source_plugin-0.1.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tsv-source-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[satisfice.sources]\ntsv-prices = tsv_source\n", encoding="utf-8")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    SOURCES.reset_plugins()
    try:
        yield default
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()
        SOURCES.remove("tsv-prices")
        SOURCES.reset_plugins()
        sys.modules.pop("tsv_source", None)


def test_a_source_in_one_file_serves_import_and_pipeline(tsv_source: Path, tmp_path: Path, store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from satisfice.cli import app

    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SATISFICE_NO_BUNDLED", "1")
    runner = CliRunner()
    done = runner.invoke(app, ["catalog", "import", str(tsv_source), "--as-of", "2026-01-02", "--json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["format"] == "tsv-prices" and doc["added"] == {"models": 1, "offers": 1, "scores": 0}
    listed = json.loads(runner.invoke(app, ["plugins", "--json"]).stdout)
    assert [e["origin"] for e in listed["entries"] if e["name"] == "tsv-prices"] == [
        "entry point tsv-prices = tsv_source"]

    chosen = parse_selection(["tsv-prices"])  # its declared default location
    assert chosen == {"tsv-prices": str(tsv_source)}
    first = run(store, chosen, now=lambda: dt.datetime(2026, 3, 1, 9))
    (one,) = first["sources"]
    assert first["ok"] and one["outcome"] == "ok" and one["new_offers"] == 1 and one["new_model_ids"] == ["acme-1"]
    assert run(store, chosen, now=lambda: dt.datetime(2026, 3, 2, 9))["sources"][0]["outcome"] == "same"
    cheaper = tmp_path / "cheaper.tsv"
    cheaper.write_text("model\tprovider\tinput\toutput\nacme-1\tacme\t1.0\t3\n", encoding="utf-8")
    moved = run(store, {"tsv-prices": str(cheaper)}, now=lambda: dt.datetime(2026, 3, 3, 9))
    assert moved["sources"][0]["changed_prices"] == 1
    broken = tmp_path / "broken.tsv"
    broken.write_text("model\tprovider\tinput\toutput\nacme-1\tacme\n", encoding="utf-8")
    failed = run(store, {"tsv-prices": str(broken)}, now=lambda: dt.datetime(2026, 3, 4, 9))
    assert not failed["ok"] and "line 2" in failed["sources"][0]["error"] and str(broken) in failed["sources"][0][
        "error"]


def test_a_new_module_in_the_package_is_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One file in the sources package is enough: found after the listed modules, by name; _private ones skipped."""
    package = tmp_path / "acme_sources"
    package.mkdir()
    (package / "__init__.py").write_text("")
    declare = ("from satisfice.catalog.sources.native import parse_native\n"
               "from satisfice.catalog.sources.registry import Source\n"
               "def parse(path, *, as_of, ids):\n    return parse_native(path)\n")
    (package / "listed.py").write_text(declare + "SOURCE = Source('listed', parse)\n")
    (package / "zeta.py").write_text(declare + "SOURCE = Source('zeta', parse)\n")
    (package / "beta.py").write_text(declare + "ONE = Source('beta-1', parse)\nTWO = Source('beta-2', parse)\n")
    (package / "_helper.py").write_text("raise RuntimeError('never imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = SourceRegistry("source", "satisfice.no-such-group", Source, builtins=("acme_sources.listed",),
                              package="acme_sources")
    try:
        assert registry.names() == ("listed", "beta-1", "beta-2", "zeta")
    finally:
        for name in [m for m in sys.modules if m.startswith("acme_sources")]:
            sys.modules.pop(name)
    # the built-in package: every module declaring a source is found, the listed ones in their order
    found = [m for m in package_modules("satisfice.catalog.sources")
             if any(isinstance(v, Source) for v in vars(importlib.import_module(m)).values())]
    assert sorted(found) == sorted(BUILTIN_MODULES)
    assert [s.name for s in SOURCES][:3] == ["models-dev", "genai-prices", "satisfice"]


def test_one_registry_for_import_and_pipeline() -> None:
    # the pipeline runs the sources that declare a default location, in the order it always has
    assert list(parse_selection([])) == ["models-dev", "genai-prices", "litellm", "openrouter", "models-dev-scores",
                                         "epoch-benchmarks"]
    # every pipeline source is now also a catalog import format, detected by its sniffer
    assert detect_format(PIPELINE / "modelsdev_api.json") == "models-dev"
    assert detect_format(PIPELINE / "modelsdev_models.json") == "models-dev-scores"
    assert detect_format(PIPELINE / "genai_prices_data.json") == "genai-prices"
    assert detect_format(PIPELINE / "genai_prices-0.2.3-py3-none-any.whl") == "genai-prices"
    batch = parse_file(PIPELINE / "modelsdev_api.json", as_of=dt.date(2026, 1, 2))
    assert batch.offers and {o.effective_date for o in batch.offers} == {dt.date(2026, 1, 2)}
    # one source, two names: the pipeline's epoch-benchmarks is the import format epoch-hub
    assert SOURCES.get("epoch-hub") is SOURCES.get("epoch-benchmarks")
    assert parse_selection(["epoch-hub=x.zip"]) == {"epoch-benchmarks": "x.zip"}
    yields = {s.name: s.yields for s in SOURCES}
    assert yields["models-dev-scores"] == ("scores",) and yields["litellm"] == ("prices",)


def test_registry_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match=r"unknown pipeline source 'nope' \(known: models-dev, genai-prices, .*"
                                          r"epoch-benchmarks \(epoch-hub\)"):
        parse_selection(["nope"])
    with pytest.raises(ConfigError, match="'recorded' has no default location; give --source recorded=FILE"):
        parse_selection(["recorded"])
    with pytest.raises(ConfigError, match="yields must name prices and/or scores, got \\['offers'\\]"):
        Source("x", parse_file, yields=("offers",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="source 'litellm' is registered twice"):
        SOURCES.add(Source("litellm", SOURCES.get("litellm").parse))
