"""The ``satisfice`` command: one Typer app, one module per command group."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from satisfice.cli.common import State, err_console, fit_consoles
from satisfice.errors import SatisficeError
from satisfice.masking import mask

app = typer.Typer(
    name="satisfice",
    rich_markup_mode=None,
    help="Find, prove and serve the cheapest LLM that is good enough for your task.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", envvar="SATISFICE_DB",
                                           help="Database URL (default: SQLite under SATISFICE_HOME).")] = None,
) -> None:
    fit_consoles()
    ctx.obj = State(db)


def _register() -> None:
    from satisfice.cli import (
        catalog,
        evals,
        gateway,
        insights,
        market,
        outcomes,
        pipeline,
        plugins,
        route,
        select,
        selfhost,
        serve,
        web,
    )

    for group in (catalog, market, evals, select, route, gateway, outcomes, pipeline, insights, plugins, selfhost,
                  serve, web):
        group.register(app)
    from satisfice.cli import market_scores  # noqa: F401  (adds run-cost and saturation to the market group)


_register()


def main() -> None:
    """Entry point: user mistakes print one clear line and exit 1, never a traceback."""
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as its return value
        if isinstance(code, int) and code:
            sys.exit(code)
    except SatisficeError as exc:
        err_console.print(f"[bold red]error:[/] {mask(str(exc))}", highlight=False, soft_wrap=True)
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
        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(exc, "format_message"):
            err_console.print(f"[bold red]error:[/] {_usage_line(exc)}", highlight=False, soft_wrap=True)
            code = getattr(exc, "exit_code", None)
            sys.exit(code if isinstance(code, int) else 2)
        if isinstance(exc, OSError) and exc.filename is not None:  # e.g. a file that cannot be read or written
            err_console.print(f"[bold red]error:[/] {exc.filename}: {exc.strerror or exc}", highlight=False,
                              soft_wrap=True)
            sys.exit(1)
        raise


def _usage_line(exc: Any) -> str:
    """A click usage error as one line: the command, then what is wrong (``--help`` shows the usage)."""
    message = " ".join(str(exc.format_message()).split())
    path = getattr(getattr(exc, "ctx", None), "command_path", None)
    command = f"{path}: " if path else ""
    return f"{command}{message} (see --help)" if command else message
