"""`satisfice route train / eval`: learn a per-request routing policy with a certified bar, and score it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from satisfice.cli.common import Json, console, money, print_json
from satisfice.errors import ConfigError

route_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                        help="Per-request routing: the cheapest mix of models that holds the bar, certified.")


def register(root: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    root.add_typer(route_app, name="route")


def _routing_installed() -> None:
    try:
        import joblib  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        raise ConfigError("routing needs scikit-learn: pip install scikit-learn") from None


def _load(paths: list[Path]) -> Any:
    from satisfice.evals.outcomes import load_outcomes
    from satisfice.routing.data import from_tables

    return from_tables([load_outcomes(p) for p in paths])


def _from_store(ctx: typer.Context, route: str | None, since: str | None, scratch: Path) -> list[Path]:
    """The route's production outcomes (``outcomes export``) written to a CSV in ``scratch``, to train on."""
    from satisfice.cli.common import state
    from satisfice.cli.gateway import _since
    from satisfice.gateway.loop.export import export_rows, to_csv

    if route is None:
        raise ConfigError("--from-store needs --route ROUTE (the gateway route whose outcomes to learn from)")
    name = route if route.startswith("task/") else f"task/{route}"
    columns, rows = export_rows(state(ctx).store(bundled=False), name, _since(since))
    if not rows:
        raise ConfigError(f"no recorded outcomes for route {name!r} in the store (routes record prompts and "
                          "answers with `log_content: true`; feedback, verifiers and shadow checks score them)")
    path = scratch / "outcomes.csv"
    path.write_text(to_csv(columns, rows), encoding="utf-8")
    return [path]


@route_app.command("train")
def train(
    ctx: typer.Context,
    bar: Annotated[str, typer.Option("--bar", help="Accuracy to hold: 0.9 or 90%.")],
    outcomes: Annotated[list[Path] | None, typer.Argument(
        help="Wide outcomes CSV file(s) with a prompt column, the same models in each ('<model>|model_response' "
             "enables cascades); or --from-store.")] = None,
    confidence: Annotated[str | None, typer.Option("--confidence", help="Confidence of the certificate, e.g. "
                                                   "0.95 (default 95%).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the router into.")] = Path("router"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fit/calibration split.")] = 0,
    fit_share: Annotated[float, typer.Option("--fit-share", min=0.2, max=0.8, help="Share of the items used to fit "
                                             "and choose; the rest certifies.")] = 0.6,
    from_store: Annotated[bool, typer.Option("--from-store", help="Train on the production outcomes the gateway "
                                             "recorded for --route (what `outcomes export` writes).")] = False,
    route: Annotated[str | None, typer.Option("--route", help="With --from-store: the route (task/<name>).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="With --from-store: YYYY-MM-DD or a span like 7d.")]
    = None,
    json_out: Json = False,
) -> None:
    """Learn the cheapest policy whose accuracy >= BAR holds with CONFIDENCE; never dearer than `select`'s model.

    A gateway route with ``policy: learned`` reloads the router when its directory is rewritten (it checks the
    manifest's modification time), so retraining into the same --out updates every instance without a restart.
    """
    import tempfile

    from satisfice.cli.select import _confidence, parse_bar

    _routing_installed()
    from satisfice.routing import store
    from satisfice.routing.train import train as learn

    level, from_bar = parse_bar(bar)
    conf = _confidence(confidence, from_bar)
    if not 0.0 < level < 1.0:
        raise ConfigError(f"--bar must lie strictly between 0 and 1, got {bar!r}")
    if from_store == bool(outcomes):
        raise ConfigError("give outcome files or --from-store --route ROUTE (one of the two)")
    with tempfile.TemporaryDirectory() as scratch:
        paths = _from_store(ctx, route, since, Path(scratch)) if from_store else list(outcomes or [])
        data = _load(paths)
    trained = learn(data, level, conf, fit_share=fit_share, seed=seed)
    sources = [f"store: outcomes of {route}" + (f" since {since}" if since else "")] if from_store else \
        [str(p) for p in outcomes or []]
    store.save(trained, out, sources=sources)
    doc = {"policy": trained.policy.label(trained.models), "certified_accuracy_low": trained.certified_low,
           "expected_cost_per_request_usd": trained.expected_cost,
           "per_task_model": trained.models[trained.per_task.model], "out": str(out),
           "kept_per_task_model": trained.summary["kept_per_task_model"],
           "per_task_clears_bar": trained.per_task.clears_bar, "bar": level, "confidence": conf,
           "summary": trained.summary}
    if json_out:
        print_json(doc)
        return
    per_task = doc["per_task_model"]
    if trained.summary["kept_per_task_model"]:
        console.print(f"No routing policy beat the per-task model at accuracy >= {level:.1%} ({conf:.0%} "
                      f"confidence): keeping {per_task} ({money(trained.expected_cost)} per request).",
                      highlight=False)
    else:
        console.print(f"Policy: {doc['policy']}\nCertified accuracy >= {trained.certified_low:.1%} at "
                      f"{conf:.0%} confidence (bar {level:.1%}), {money(trained.expected_cost)} per request "
                      f"against {money(trained.summary['per_task_cost_on_calibration_usd'])} for {per_task}.",
                      highlight=False)
    if not trained.per_task.clears_bar:
        console.print(f"Note: no single model clears the bar with this confidence; {per_task} is the most "
                      "accurate.", highlight=False)
    console.print(f"Saved to {out}", highlight=False)


@route_app.command("eval")
def evaluate(
    router: Annotated[Path, typer.Argument(help="Directory written by `satisfice route train`.")],
    outcomes: Annotated[list[Path], typer.Argument(help="Outcomes CSV file(s) the router has not seen.")],
    json_out: Json = False,
) -> None:
    """Score a trained router on unseen outcomes beside the per-task, best single, random and oracle baselines."""
    _routing_installed()
    from satisfice.routing import store
    from satisfice.routing.evaluate import evaluate as score

    trained = store.load(router)
    doc = score(trained, _load(outcomes))
    if json_out:
        print_json(doc)
        return
    table = Table(title=f"{router}: {doc['policy']}", title_justify="left")
    for name in ("policy", "accuracy", "$ / request", "cost vs router"):
        table.add_column(name, justify="left" if name == "policy" else "right")
    rows = [("router", doc), (f"per-task ({doc['per_task']['model']})", doc["per_task"]),
            (f"best single ({doc['best_single']['model']})", doc["best_single"]), ("random", doc["random"]),
            ("oracle", doc["oracle"])]
    for label, row in rows:
        cost = row["cost_per_request_usd"]
        ratio = f"{cost / doc['cost_per_request_usd']:.2f}x" if doc["cost_per_request_usd"] > 0 else "-"
        table.add_row(label, f"{row['accuracy']:.3f}", money(cost), ratio)
    console.print(table)
    used = ", ".join(f"{m} {s:.0%}" for m, s in sorted(doc["models_used"].items(), key=lambda kv: -kv[1]))
    console.print(f"Models used: {used}\nAIQ {doc['aiq']:.3f} (single models {doc['aiq_single_models']:.3f}); "
                  f"routing {doc['routing_ms_p50']:.2f} ms p50; bar {doc['bar']:.1%} "
                  f"{'met' if doc['meets_bar'] else 'NOT met'} on these {doc['items']} items.", highlight=False)


__all__ = ["register", "route_app"]
