"""Recorded outcomes as routing data: prompts, a correctness and a cost matrix, and normalised answers.

Built from one or more wide outcomes tables (the same models in each). Items with a missing score for any model
are dropped (and counted): a router is judged on items where every model's outcome is known. A missing cost
is filled with that model's mean cost. Models are ordered cheapest first (mean cost per item).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satisfice.errors import DataError
from satisfice.evals.outcomes import OutcomesTable

RESPONSE_SUFFIX = "|model_response"
PROMPT_COLUMNS = ("prompt", "question", "input")
_SPACE = re.compile(r"\s+")
_CHOICE = re.compile(r"^\(?([A-Za-z])[\).:]?(?:\s|$)")


def _unwrap(raw: str) -> list[str] | None:
    """The strings of a Python list literal (RouterBench's cells), else None."""
    if not (raw.startswith("[") and raw.endswith("]")):
        return None
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def normalise_prompt(text: str) -> str:
    """The prompt as a user sends it: RouterBench's ``['...']`` cells unwrapped (escaped newlines become real).

    Training on the unwrapped text keeps the features the same as at serving time, where the gateway sees the
    plain message text.
    """
    unwrapped = _unwrap(text.strip())
    return "\n".join(unwrapped) if unwrapped is not None else text


def normalise_answer(text: str) -> str:
    """A comparable form of an answer: RouterBench's ``['...']`` list unwrapped, a leading choice letter kept.

    ``"['C']"`` (with or without a trailing newline) and ``"C) dry palms"`` both become ``"c"``; other
    answers are lower-cased with whitespace collapsed, so two models agree when they say the same thing.
    """
    raw = text.strip()
    unwrapped = _unwrap(raw)
    raw = (unwrapped[0] if unwrapped is not None else raw).strip()
    choice = _CHOICE.match(raw)
    if choice is not None and (len(raw) <= 3 or raw[1:2] in (")", ".", ":")):
        return choice.group(1).lower()
    return _SPACE.sub(" ", raw).strip().lower()


@dataclass
class RoutingData:
    """Items × models: what each model scored and cost on each item, with the prompt and each answer.

    Attributes:
        prompts: One prompt per item.
        models: Model names, cheapest first.
        correct: ``(n_items, n_models)`` scores in [0, 1].
        cost: ``(n_items, n_models)`` USD per item.
        answers: Model -> normalised answer per item (only models with a ``|model_response`` column).
        dropped: Items left out because some model's score was missing.
    """

    prompts: list[str]
    models: list[str]
    correct: np.ndarray
    cost: np.ndarray
    answers: dict[str, list[str]]
    dropped: int = 0

    @property
    def n(self) -> int:
        """Number of items."""
        return len(self.prompts)

    def subset(self, idx: np.ndarray) -> RoutingData:
        """The items at ``idx`` (same models)."""
        return RoutingData([self.prompts[i] for i in idx], self.models, self.correct[idx], self.cost[idx],
                           {m: [a[i] for i in idx] for m, a in self.answers.items()}, 0)

    def column(self, model: str) -> int:
        """Index of a model (DataError naming the known ones)."""
        try:
            return self.models.index(model)
        except ValueError:
            raise DataError(f"model {model!r} is not in the outcomes (models: {', '.join(self.models)})") from None

    def mean_cost(self) -> np.ndarray:
        """Mean USD per item of each model."""
        return np.asarray(self.cost.mean(axis=0), dtype=float)

    def accuracy(self) -> np.ndarray:
        """Mean score of each model."""
        return np.asarray(self.correct.mean(axis=0), dtype=float)


def _prompts(table: OutcomesTable) -> list[str]:
    for column in PROMPT_COLUMNS:
        if column in table.extra:
            return table.extra[column]
    raise DataError(f"no prompt column: routing needs one of {', '.join(PROMPT_COLUMNS)} to compute features",
                    file=table.source, line=1)


def from_tables(tables: Sequence[OutcomesTable], models: Sequence[str] | None = None) -> RoutingData:
    """Routing data from outcomes tables that share their models.

    Args:
        tables: Loaded outcomes (each needs a prompt column and a cost column per model).
        models: Keep only these models, in any order (default: every model of the first table).

    Raises:
        DataError: Tables with different models, a model without costs, no usable item.
    """
    if not tables:
        raise DataError("no outcomes given")
    names = list(models) if models is not None else list(tables[0].models)
    prompts: list[str] = []
    rows: list[np.ndarray] = []
    costs: list[np.ndarray] = []
    answers: dict[str, list[str]] = {m: [] for m in names}
    dropped = 0
    for table in tables:
        absent = [m for m in names if m not in table.scores]
        if absent:
            raise DataError(f"model(s) {', '.join(absent)} missing here (every file needs the same models)",
                            file=table.source, line=1)
        cost_cols = []
        for m in names:
            col = table.costs[m]
            if col is None:
                raise DataError(f"model {m!r} has no '{m}|total_cost' column: routing needs costs",
                                file=table.source, line=1)
            seen = col[np.isfinite(col)]
            cost_cols.append(np.where(np.isfinite(col), col, seen.mean() if seen.size else 0.0))
        score = np.column_stack([table.scores[m] for m in names])
        keep = np.all(np.isfinite(score), axis=1)
        dropped += int((~keep).sum())
        texts = _prompts(table)
        prompts.extend(normalise_prompt(t) for t, k in zip(texts, keep, strict=True) if k)
        rows.append(score[keep])
        costs.append(np.column_stack(cost_cols)[keep])
        for m in names:
            column = table.extra.get(m + RESPONSE_SUFFIX)
            if column is None:
                answers.pop(m, None)
            elif m in answers:
                answers[m].extend(normalise_answer(a) for a, k in zip(column, keep, strict=True) if k)
    if not prompts:
        raise DataError("no item has an outcome for every model", file=tables[0].source)
    correct, cost = np.vstack(rows), np.vstack(costs)
    order = np.argsort(cost.mean(axis=0), kind="stable")
    ordered = [names[i] for i in order]
    return RoutingData(prompts, ordered, correct[:, order], cost[:, order],
                       {m: answers[m] for m in ordered if m in answers}, dropped)


__all__ = ["RESPONSE_SUFFIX", "RoutingData", "from_tables", "normalise_answer", "normalise_prompt"]
