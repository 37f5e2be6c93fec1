"""Scorers: grade one completion against one item, returning a core.Score in [0, 1] (built-ins, custom, judge)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satisfice.core import Completion, ModelClient, Price, Score
from satisfice.errors import ConfigError, DataError
from satisfice.pyref import is_ref
from satisfice.schemas import schema_error
from satisfice.tasks import matching
from satisfice.tasks.custom import CustomScorer, as_score
from satisfice.tasks.sample import Sample
from satisfice.tasks.scorer_options import (
    ChoiceOptions,
    ExactOptions,
    IncludesOptions,
    JsonOptions,
    JudgeOptions,
    NumericOptions,
    RegexOptions,
)
from satisfice.tasks.scorer_registry import SCORERS, ScorerContext, ScorerEntry
from satisfice.tasks.scoring import Scorer

if TYPE_CHECKING:
    from satisfice.tasks.spec import ScorerSpec


def _targets(sample: Sample, kind: str) -> list[Any]:
    """The acceptable answers: the target, or each element when the target is a list."""
    if sample.target is None:
        where = sample.where or f"item {sample.id!r}"
        raise DataError(f"item {sample.id!r} has no answer (target) for scorer {kind!r} to compare with", file=where)
    return list(sample.target) if isinstance(sample.target, list) else [sample.target]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class _Builtin:
    """A synchronous text scorer exposed through the async Scorer protocol."""

    kind = ""
    needs_reference = True

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        return self.score(sample, completion.text)

    def score(self, sample: Sample, text: str) -> Score:
        """Score an answer's text (the synchronous core of every built-in scorer)."""
        return self._score(sample, text)

    def _score(self, sample: Sample, text: str) -> Score:
        raise NotImplementedError

    def _best(self, sample: Sample, text: str, match: Callable[[str, Any], bool]) -> Score:
        targets = _targets(sample, self.kind)
        for target in targets:
            if match(text, target):
                return Score(1.0, f"matches {_text(target)!r}")
        shown = _text(targets[0]) if len(targets) == 1 else " | ".join(map(_text, targets))
        return Score(0.0, f"expected {shown!r}")


class ExactScorer(_Builtin):
    """The answer equals the target (surrounding whitespace ignored unless ``strip: false``)."""

    kind = "exact"

    def __init__(self, options: ExactOptions) -> None:
        self.options = options

    def _prep(self, text: str) -> str:
        text = text.strip() if self.options.strip else text
        return text if self.options.case_sensitive else text.casefold()

    def _score(self, sample: Sample, text: str) -> Score:
        return self._best(sample, text, lambda a, t: self._prep(a) == self._prep(_text(t)))


class NormalizedScorer(_Builtin):
    """The answer equals the target ignoring case, whitespace and punctuation."""

    kind = "normalized"

    def _score(self, sample: Sample, text: str) -> Score:
        return self._best(sample, text, lambda a, t: matching.normalize(a) == matching.normalize(_text(t)))


class IncludesScorer(_Builtin):
    """The target occurs in the answer (normalised, as whole words, by default)."""

    kind = "includes"

    def __init__(self, options: IncludesOptions) -> None:
        self.options = options

    def _match(self, text: str, target: Any) -> bool:
        needle = _text(target)
        if self.options.normalize:
            text, needle = matching.normalize(text), matching.normalize(needle)
        if not needle:
            return False
        if not self.options.whole_words:
            return needle in text
        return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text) is not None

    def _score(self, sample: Sample, text: str) -> Score:
        return self._best(sample, text, self._match)


class RegexScorer(_Builtin):
    """Extract a group with a regular expression, then compare it with the target (or just require a match)."""

    kind = "regex"

    def __init__(self, options: RegexOptions) -> None:
        self.options = options
        self.pattern = options.compiled()
        self.needs_reference = not options.match_only

    def _extract(self, text: str) -> str | None:
        matches = list(self.pattern.finditer(text))
        if not matches:
            return None
        match = matches[0] if self.options.which == "first" else matches[-1]
        group = self.options.group
        if group is None:
            group = 1 if self.pattern.groups else 0
        value = match.group(group)
        return value if value is not None else None

    def _same(self, extracted: str, target: Any, sample: Sample) -> bool:
        compare = self.options.compare
        if compare == "exact":
            return extracted.strip() == _text(target).strip()
        if compare == "normalized":
            return matching.normalize(extracted) == matching.normalize(_text(target))
        numbers = matching.extract_numbers(extracted)
        try:
            wanted = matching.as_number(target)
        except ValueError as exc:
            raise DataError(str(exc), file=sample.where or None, field="target") from None
        return bool(numbers) and matching.close(numbers[-1], wanted, self.options.abs_tol, self.options.rel_tol)

    def _score(self, sample: Sample, text: str) -> Score:
        extracted = self._extract(text)
        if extracted is None:
            return Score(0.0, f"no match for /{self.pattern.pattern}/")
        if self.options.match_only:
            return Score(1.0, f"matched {extracted!r}")
        result = self._best(sample, extracted, lambda e, t: self._same(e, t, sample))
        return Score(result.value, f"extracted {extracted!r}; {result.explanation}")


class ChoiceScorer(_Builtin):
    """A multiple-choice letter extracted robustly from the answer equals the correct letter."""

    kind = "choice"

    def __init__(self, options: ChoiceOptions) -> None:
        self.letters = options.choices

    def _score(self, sample: Sample, text: str) -> Score:
        targets = _targets(sample, self.kind)
        try:
            wanted = {matching.choice_target(t, self.letters) for t in targets}
        except ValueError as exc:
            raise DataError(str(exc), file=sample.where or None, field="target") from None
        got = matching.extract_choice(text, self.letters)
        if got is None:
            return Score(0.0, f"no choice letter found; expected {'/'.join(sorted(wanted))}")
        return Score(float(got in wanted), f"answered {got}, expected {'/'.join(sorted(wanted))}")


class NumericScorer(_Builtin):
    """The last (or first) number in the answer equals the target within ``abs_tol`` / ``rel_tol``."""

    kind = "numeric"

    def __init__(self, options: NumericOptions) -> None:
        self.options = options

    def _score(self, sample: Sample, text: str) -> Score:
        numbers = matching.extract_numbers(text)
        try:
            targets = [matching.as_number(t) for t in _targets(sample, self.kind)]
        except ValueError as exc:
            raise DataError(str(exc), file=sample.where or None, field="target") from None
        if not numbers:
            return Score(0.0, f"no number in the answer; expected {targets[0]:g}")
        got = numbers[-1] if self.options.which == "last" else numbers[0]
        ok = any(matching.close(got, t, self.options.abs_tol, self.options.rel_tol) for t in targets)
        return Score(float(ok), f"answered {got:g}, expected {targets[0]:g}")


class JsonScorer(_Builtin):
    """The answer holds valid JSON, optionally matching a schema, optionally equal to the target (or some fields)."""

    kind = "json"

    def __init__(self, options: JsonOptions) -> None:
        self.options = options
        self.needs_reference = options.fields is not None or options.equal

    def _target(self, sample: Sample) -> Any:
        target = sample.target
        if isinstance(target, str):
            try:
                return matching.extract_json(target)
            except ValueError:
                raise DataError(f"target {target!r} is not JSON", file=sample.where or None,
                                field="target") from None
        return target

    def _score(self, sample: Sample, text: str) -> Score:
        try:
            value = matching.extract_json(text)
        except ValueError as exc:
            return Score(0.0, str(exc))
        if self.options.schema_ is not None:
            problem = schema_error(value, self.options.schema_)
            if problem is not None:
                return Score(0.0, f"schema: {problem}")
        if not self.needs_reference:
            return Score(1.0, "valid JSON")
        _targets(sample, self.kind)
        target = self._target(sample)
        normalized = self.options.normalize
        if self.options.equal:
            same = matching.json_equal(value, target, normalized=normalized)
            return Score(float(same), "equal to the target" if same else "differs from the target")
        fields = self.options.fields or []
        if not isinstance(target, dict):
            raise DataError("target must be a JSON object to compare fields", file=sample.where or None,
                            field="target")
        missing = [f for f in fields if f not in target]
        if missing:
            raise DataError(f"target has no field {missing[0]!r}", file=sample.where or None, field="target")
        if not isinstance(value, dict):
            return Score(0.0, "answer is not a JSON object")
        wrong = [f for f in fields if f not in value or not matching.json_equal(value[f], target[f],
                                                                                normalized=normalized)]
        if self.options.partial_credit:
            share = (len(fields) - len(wrong)) / len(fields)
            return Score(share, f"{len(fields) - len(wrong)}/{len(fields)} fields match")
        return Score(float(not wrong), f"wrong: {', '.join(wrong)}" if wrong else "all fields match")


class F1Scorer(_Builtin):
    """Token-level F1 between answer and target (SQuAD normalisation); the best over a list of targets."""

    kind = "f1"

    def _score(self, sample: Sample, text: str) -> Score:
        targets = _targets(sample, self.kind)
        best = max(matching.token_f1(text, _text(t)) for t in targets)
        return Score(best, f"token F1 {best:.3f}")


def build_scorer(spec: ScorerSpec, *, base_dir: Path, judge: ModelClient | None = None,
                 judge_price: Price | None = None) -> Scorer:
    """The scorer a task's ``scorer:`` section describes (a registered type, or ``module:function``).

    Args:
        spec: Scorer type and options.
        base_dir: The task file's folder (custom scorer modules are imported from it first).
        judge: The client that answers for the judge model (``type: judge`` only).
        judge_price: The judge's price, used when its completions carry no ``cost_usd``.

    Raises:
        ConfigError: An unknown type, bad options, an unimportable custom scorer, or a judge scorer without a
            judge client.
    """
    entry = SCORERS.find(spec.type)
    if entry is None:
        if not is_ref(spec.type):
            raise ConfigError(SCORERS.unknown(spec.type))
        return CustomScorer(spec.type, dict(spec.options), base_dir)
    try:
        options = SCORERS.parse_options(spec.type, spec.options)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return entry.factory(options, ScorerContext(base_dir, judge, judge_price))


def _judge(options: JudgeOptions, ctx: ScorerContext) -> Scorer:
    from satisfice.tasks.judge import JudgeScorer

    if ctx.judge is None:
        raise ConfigError(f"scorer 'judge' needs a client for the judge model {options.model!r}")
    return JudgeScorer(options, ctx.judge, price=ctx.judge_price if ctx.judge_price is not None else options.price())


def _json_binary(o: JsonOptions) -> bool:
    return not o.partial_credit


def _json_needs_reference(o: JsonOptions) -> bool:
    return o.fields is not None or o.equal


def _regex_needs_reference(o: RegexOptions) -> bool:
    return not o.match_only


for _entry in (
    ScorerEntry("exact", lambda o, c: ExactScorer(o), ExactOptions, "answer == target", binary=True),
    ScorerEntry("normalized", lambda o, c: NormalizedScorer(), help="equal ignoring case, spacing, punctuation",
                binary=True),
    ScorerEntry("includes", lambda o, c: IncludesScorer(o), IncludesOptions, "target occurs in the answer",
                binary=True),
    ScorerEntry("regex", lambda o, c: RegexScorer(o), RegexOptions, "the extracted group matches the target",
                binary=True, needs_reference=_regex_needs_reference),
    ScorerEntry("choice", lambda o, c: ChoiceScorer(o), ChoiceOptions, "the multiple-choice letter is right",
                binary=True),
    ScorerEntry("numeric", lambda o, c: NumericScorer(o), NumericOptions, "the number equals the target",
                binary=True),
    ScorerEntry("json", lambda o, c: JsonScorer(o), JsonOptions, "valid JSON, optionally a schema and fields",
                binary=_json_binary, needs_reference=_json_needs_reference),
    ScorerEntry("f1", lambda o, c: F1Scorer(), help="token F1 as in SQuAD (fractional)"),
    ScorerEntry("judge", _judge, JudgeOptions, "a judge model grades with a rubric", needs_reference=None),
):
    SCORERS.add(_entry)


__all__ = [
    "ChoiceScorer",
    "CustomScorer",
    "ExactScorer",
    "F1Scorer",
    "IncludesScorer",
    "JsonScorer",
    "NormalizedScorer",
    "NumericScorer",
    "RegexScorer",
    "Scorer",
    "as_score",
    "build_scorer",
]
