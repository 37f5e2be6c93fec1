"""The ``satisfice`` command: one Typer app, one module per command group."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from satisfice.cli.common import State, err_console
from satisfice.errors import SatisficeError

app = typer.Typer(
    name="satisfice",
    help="Find, prove and serve the cheapest LLM that is good enough for your task.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: SQLite under SATISFICE_HOME).",
                                           envvar="SATISFICE_DB")] = None,
) -> None:
    ctx.obj = State(db)


def _register() -> None:
    from satisfice.cli import catalog, evals, gateway, market, select, web

    for group in (catalog, market, evals, select, gateway, web):
        group.register(app)


_register()


def main() -> None:
    """Entry point: user mistakes print one clear line and exit 1, never a traceback."""
    try:
        app(standalone_mode=False)
    except SatisficeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        # recent typer (0.29 here) raises its own vendored click exceptions (typer.TyperException), not click's
        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
