"""The CLI as a new user meets it: every mistake is one line, checked before any work; piped tables are whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from satisfice.cli import app, main


def run(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """``satisfice ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["satisfice", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(("args", "expected"), [
    (["market", "frontier", "-b", "gpqa-diamond", "--threshold", "-3"], "--threshold: must be between 0 and 100"),
    (["market", "frontier", "-b", "gpqa-diamond", "--threshold", "500"], "must be between 0 and 100 (a score in "),
    (["market", "frontier", "-b", "arena-elo", "--threshold", "99999"], "between 0 and 4000 (an Elo rating)"),
    (["market", "gap", "-b", "gpqa-diamond", "--under", "-2"], "--under: must be between 0 and 100 (score points)"),
    (["catalog", "list", "--max-price", "-1"], "--max-price: must be >= 0 (USD per 1M tokens), got -1"),
    (["catalog", "list", "--min-score", "-5"], "--min-score: must be >= 0, got -5"),
    (["market", "cost", "--tokens-per-day", "1e99", "o1"], "must be between 1 and 1e+15 tokens per day, got 1e99"),
    (["market", "pareto", "-b", "mmlu", "--input-share", "2"], "--input-share: must be between 0 and 1, got 2"),
    (["market", "frontier", "-b", "gpqa-diamond", "-t", "70", "--chart", "frontier.txt"],
     "'frontier.txt' must end in .png, .svg, .pdf"),
    (["market", "frontier", "-b", "gpqa-diamond", "-t", "70", "--chart", "/proc/x.png"],
     "cannot write '/proc/x.png': folder '/proc' is not writable"),
    (["market", "cost", "--tokens-per-day", "1M", "o1", "--chart", "/proc/bill.png"], "folder '/proc' is not"),
    (["eval", "task.yaml", "--html", "/proc/x/r.html"], "cannot write '/proc/x/r.html': folder '/proc/x' does not "
                                                        "exist (create it first)"),
    (["--db", "sqlite:////nonexistent-folder/s.db", "catalog", "list"], "--db: folder '/nonexistent-folder' of the "
                                                                       "database"),
    (["--db", "sqlite:////proc/s.db", "catalog", "list"], "cannot create the database '/proc/s.db'"),
    (["gateway", "keys", "create", "--budget-usd", "-1"], "--budget-usd: must be >= 0"),
    (["market", "frontier", "--bogus"], "No such option: --bogus"),
    (["eval", "show"], "Missing argument 'RUN'"),
])
def test_user_mistakes_are_one_line_before_any_work(args: list[str], expected: str, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    code, out, err = run(args, capsys, monkeypatch)
    assert code == 2 and out == ""
    assert expected in one_line_error(err)
    assert not (tmp_path / "home").exists()  # refused before the store was even opened


def test_eval_html_to_an_unwritable_place_calls_no_model(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "evals"))
    try:
        from eval_taskfiles import sentiment_script, write_task
    finally:
        sys.path.pop(0)
    from satisfice.clients.scripted_server import ScriptedServerThread

    with ScriptedServerThread(sentiment_script()) as server:
        task = write_task(tmp_path / "t", server.base_url, n=4)
        code, _, err = run(["eval", str(task), "--html", "/proc/nope/report.html"], capsys, monkeypatch)
        assert code == 2 and "--html" in one_line_error(err)
        assert server.requests == []  # nothing was paid for


def test_output_paths_in_missing_folders_are_refused_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No folder is created silently: a chart, a report or a database in a missing folder is a one-line error."""
    monkeypatch.setenv("SATISFICE_HOME", str(tmp_path / "home"))
    missing = tmp_path / "new" / "dir"
    for args in (["market", "cost", "--tokens-per-day", "1M", "o1", "--chart", str(missing / "bill.png")],
                 ["eval", "task.yaml", "--html", str(missing / "r.html")],
                 ["--db", f"sqlite:///{missing / 's.db'}", "catalog", "list"]):
        code, out, err = run(args, capsys, monkeypatch)
        assert code == 2 and out == "" and "does not exist (create it first)" in one_line_error(err), args
    assert not (tmp_path / "new").exists() and not (tmp_path / "home").exists()
    chart = tmp_path / "bill.png"
    code, out, err = run(["market", "cost", "--tokens-per-day", "100M", "o1", "deepseek-r1", "--chart", str(chart)],
                         capsys, monkeypatch)
    assert code == 0, err
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "chart written to" in out
    code, out, err = run(["market", "cost", "--tokens-per-day", "1M", "o1", "--json", "--chart",
                          str(tmp_path / "b.svg")], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["models"][0]["model"] == "o1" and "<svg" in (tmp_path / "b.svg").read_text()


def test_piped_tables_show_whole_ids_and_small_money(tmp_path: Path) -> None:
    env = {"SATISFICE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "SATISFICE_NO_BUNDLED": "1"}
    cli = [sys.executable, "-m", "satisfice"]
    made = subprocess.run([*cli, "gateway", "keys", "create", "--budget-usd", "0.002", "--name",
                           "a-rather-long-team-name-for-the-key", "--json"], capture_output=True, text=True,
                          env=env, check=True)
    key_id = json.loads(made.stdout)["id"]
    listed = subprocess.run([*cli, "gateway", "keys", "list"], capture_output=True, text=True, env=env, check=True)
    assert key_id in listed.stdout and "…" not in listed.stdout
    assert "$0.002/month" in listed.stdout and "a-rather-long-team-name-for-the-key" in listed.stdout
    revoked = subprocess.run([*cli, "gateway", "keys", "revoke", key_id], capture_output=True, text=True, env=env)
    assert revoked.returncode == 0, revoked.stderr


def test_terminal_tables_fold_long_cells_instead_of_cutting_them() -> None:
    from rich.table import Table

    from satisfice.cli.common import _Console

    for cell in ("key_d5d8c0ffee1234567890abcdef", "$1,234,567.89/month"):
        narrow = _Console(width=14, force_terminal=True, record=True)
        table = Table("column")
        table.add_row(cell)
        narrow.print(table)
        text = narrow.export_text()
        assert "…" not in text and cell in "".join(ch for ch in text if ch not in "│┃ \n")


def test_every_json_option_is_the_shared_one() -> None:
    import typer

    command = typer.main.get_command(app)
    helps: dict[str, str] = {}

    def walk(cmd: object, path: str) -> None:
        for param in getattr(cmd, "params", []):
            if "--json" in getattr(param, "opts", []):
                helps[path] = param.help
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(command, "satisfice")
    assert len(helps) >= 12, helps
    assert set(helps.values()) == {"Print one JSON document on stdout and nothing else."}


def test_show_commands_are_subcommands(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["eval", "--help"], capsys, monkeypatch)
    assert code == 0 and "run" in out and "show" in out
    code, out, _ = run(["eval", "show", "--help"], capsys, monkeypatch)
    assert code == 0 and "--json" in out and "--html" in out
    code, out, _ = run(["catalog", "--help"], capsys, monkeypatch)
    assert code == 0 and "show" in out


def test_help_loads_no_heavy_module(tmp_path: Path) -> None:
    code = ("import sys; sys.argv = ['satisfice', '--help']\n"
            "from satisfice.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = ('sqlalchemy', 'numpy', 'scipy', 'pydantic', 'matplotlib', 'aiohttp', 'yaml', 'jinja2',"
            " 'starlette', 'rich.markdown')\n"
            "print('HEAVY', [m for m in heavy if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"SATISFICE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert "HEAVY []" in out.stdout
