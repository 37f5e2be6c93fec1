"""What the CLI prints for tiny and large amounts: never scientific notation, thousands separators on counts."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from satisfice.cli import app
from satisfice.store import open_store
from satisfice.store.schema_gateway import GatewaySpend

SCIENTIFIC = re.compile(r"\d[eE][-+]?\d")


def test_gateway_report_shows_a_fraction_of_a_cent(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from web.seed import seed_gateway
    finally:
        sys.path.pop(0)
    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db)
    try:
        seed_gateway(store, 3, days=1, hostile=False)
        with store.transaction() as s:  # a quarter of a micro-dollar per request, as a small local model bills
            s.execute(update(GatewaySpend).values(cost_usd=2.5e-07, reference_cost_usd=7.81e-05))
    finally:
        store.close()
    res = CliRunner().invoke(app, ["--db", db, "gateway", "report"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "$0.00000025" in res.stdout and "$0.0000781" in res.stdout, res.stdout
    assert not SCIENTIFIC.search(res.output), res.output


def test_market_tables_read_plainly(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    for args in (["market", "cost", "--tokens-per-day", "100M", "o1", "deepseek-r1", "gpt-4o-mini"],
                 ["market", "frontier", "-b", "gpqa-diamond", "-t", "70"], ["market", "trends", "-b", "all"],
                 ["catalog", "list", "--max-price", "0.2"]):
        res = CliRunner().invoke(app, ["--db", db, *args], env={"COLUMNS": "200"})
        assert res.exit_code == 0, (args, res.output)
        assert not SCIENTIFIC.search(res.stdout), (args, res.stdout)
        assert "$" in res.stdout or args[0] == "market" and args[1] == "trends", (args, res.stdout)
