"""The model-graded scorer: a judge model reads a rubric about one answer and returns a grade; its cost is counted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from satisfice.core import Completion, CompletionRequest, Message, ModelClient, Price, Score, Usage
from satisfice.errors import BadResponse
from satisfice.tasks.sample import Sample
from satisfice.tasks.scorer_options import JudgeOptions
from satisfice.tasks.templates import render, template_variables

DEFAULT_RUBRIC = """\
You are grading an answer to a task.

The task's item:
{% for name, value in fields.items() %}{{ name }}: {{ value }}
{% endfor %}
{% if target is not none %}Reference answer: {{ target }}
{% endif %}
Submitted answer:
{{ answer }}

Criteria: {{ criteria }}

Explain your reasoning in a few sentences, then finish with one line that is exactly \
{% if grading == "letter" %}"GRADE: C" if the submission meets the criteria, "GRADE: P" if it partly meets them, \
or "GRADE: I" if it does not.{% else %}"GRADE: N" where N is a number from 0 (worst) to {{ scale }} (best).{% endif %}
"""
"""The rubric used when ``options.rubric`` is not given; it shows the reference answer when the item has one."""

_LETTER = re.compile(r"GRADE\s*[:=]\s*\**\s*\(?([CPI])\b", re.IGNORECASE)
_NUMBER = re.compile(r"GRADE\s*[:=]\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class JudgeScore(Score):
    """A Score from a judge, with the judge's token usage (priced by the caller when ``cost_usd`` is not set)."""

    usage: Usage = Usage()
    judge_model: str = ""
    grade: str = ""


def parse_grade(text: str, options: JudgeOptions) -> tuple[float, str]:
    """The score and grade a judge's reply gives (the last ``GRADE: ...`` line).

    Raises:
        BadResponse: (not retryable) When the reply holds no grade, or a number outside ``0..scale``.
    """
    if options.grading == "letter":
        letters = _LETTER.findall(text)
        if not letters and text.strip().upper() in ("C", "P", "I"):
            letters = [text.strip()]
        if not letters:
            raise BadResponse(f"judge reply has no 'GRADE: C/P/I': {text[-200:]!r}", retryable=False)
        grade = letters[-1].upper()
        value = {"C": 1.0, "P": options.partial, "I": 0.0}[grade]
        return value, grade
    numbers = _NUMBER.findall(text)
    if not numbers and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", text):
        numbers = [text.strip()]
    if not numbers:
        raise BadResponse(f"judge reply has no 'GRADE: N': {text[-200:]!r}", retryable=False)
    number = float(numbers[-1])
    if not 0.0 <= number <= options.scale:
        raise BadResponse(f"judge grade {number:g} is outside 0..{options.scale:g}", retryable=False)
    return number / options.scale, numbers[-1]


class JudgeScorer:
    """Asks a judge model to grade each answer with a rubric; the score carries the judge's cost and usage."""

    def __init__(self, options: JudgeOptions, client: ModelClient, *, price: Price | None = None) -> None:
        self.options = options
        self.client = client
        self.price = price
        self.rubric = options.rubric if options.rubric is not None else DEFAULT_RUBRIC
        self.system = options.system
        self.needs_reference = options.rubric is not None and "target" in template_variables(options.rubric)

    def request(self, sample: Sample, answer: str) -> CompletionRequest:
        """The judge's request for one answer."""
        context: dict[str, Any] = {
            **sample.fields,
            "fields": sample.fields,
            "target": sample.target,
            "answer": answer,
            "criteria": self.options.criteria,
            "grading": self.options.grading,
            "scale": f"{self.options.scale:g}",
        }
        where = sample.where or "task file"
        messages = []
        if self.system is not None:
            messages.append(Message("system", render(self.system, context, name="scorer.options.system",
                                                     where=where)))
        messages.append(Message("user", render(self.rubric, context, name="scorer.options.rubric", where=where)))
        return CompletionRequest(messages=tuple(messages), max_tokens=self.options.max_tokens,
                                 temperature=self.options.temperature)

    def cost(self, completion: Completion) -> float:
        """USD for one judge call: the client's own cost if it gives one, else priced, else 0."""
        if completion.cost_usd is not None:
            return completion.cost_usd
        return self.price.cost(completion.usage) if self.price is not None else 0.0

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        """Grade one completion.

        Raises:
            ProviderError: When the judge call fails or its reply holds no grade (never scored as a grade).
        """
        reply = await self.client.complete(self.request(sample, completion.text))
        value, grade = parse_grade(reply.text, self.options)
        reason = " ".join(reply.text.split())
        return JudgeScore(value, f"GRADE {grade}: {reason[:300]}", self.cost(reply), reply.usage,
                          self.options.model, grade)


__all__ = ["DEFAULT_RUBRIC", "JudgeScore", "JudgeScorer", "parse_grade"]
