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


@route_app.command("train")
def train(
    outcomes: Annotated[list[Path], typer.Argument(help="Wide outcomes CSV file(s) with a prompt column, the same "
                                                   "models in each ('<model>|model_response' enables cascades).")],
    bar: Annotated[str, typer.Option("--bar", help="Accuracy to hold: 0.9 or 90%.")],
    confidence: Annotated[str | None, typer.Option("--confidence", help="Confidence of the certificate, e.g. "
                                                   "0.95 (default 95%).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the router into.")] = Path("router"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fit/calibration split.")] = 0,
    fit_share: Annotated[float, typer.Option("--fit-share", min=0.2, max=0.8, help="Share of the items used to fit "
                                             "and choose; the rest certifies.")] = 0.6,
    json_out: Json = False,
) -> None:
    """Learn the cheapest policy whose accuracy >= BAR holds with CONFIDENCE; never dearer than `select`'s model."""
    from satisfice.cli.select import _confidence, parse_bar

    _routing_installed()
    from satisfice.routing import store
    from satisfice.routing.train import train as learn

    level, from_bar = parse_bar(bar)
    conf = _confidence(confidence, from_bar)
    if not 0.0 < level < 1.0:
        raise ConfigError(f"--bar must lie strictly between 0 and 1, got {bar!r}")
    data = _load(outcomes)
    trained = learn(data, level, conf, fit_share=fit_share, seed=seed)
    store.save(trained, out, sources=[str(p) for p in outcomes])
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
