from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from satisfice.core import Completion, CompletionRequest, Price, Usage
from satisfice.errors import BadResponse, ConfigError, ProviderError
from satisfice.tasks.datasets import Sample
from satisfice.tasks.judge import JudgeScore
from satisfice.tasks.scorers import build_scorer
from satisfice.tasks.spec import ScorerSpec


class FakeJudge:
    """Answers with fixed texts and records the requests."""

    def __init__(self, *replies: str, cost: float | None = None) -> None:
        self.replies = list(replies)
        self.requests: list[CompletionRequest] = []
        self.cost = cost

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        return Completion(self.replies.pop(0), Usage(1000, 100), "judge", cost_usd=self.cost)


def judge_scorer(client: FakeJudge, price: Price | None = None, **options: Any) -> Any:
    spec = ScorerSpec(type="judge", options={"model": "openai/gpt-4o-mini", **options})
    return build_scorer(spec, base_dir=Path.cwd(), judge=client, judge_price=price)


SAMPLE = Sample("7", {"question": "Capital of France?"}, "Paris")


@pytest.mark.parametrize(
    ("reply", "value", "grade"),
    [
        ("The answer names Paris.\nGRADE: C", 1.0, "C"),
        ("Wrong city.\nGRADE: I", 0.0, "I"),
        ("Half right. GRADE: P", 0.5, "P"),
        ("First GRADE: I then on reflection **GRADE: C**", 1.0, "C"),
        ("grade: c", 1.0, "C"),
        ("C", 1.0, "C"),
    ],
)
async def test_letter_grades(reply: str, value: float, grade: str) -> None:
    client = FakeJudge(reply)
    score = await judge_scorer(client, Price(0.15, 0.6))(SAMPLE, Completion("Paris"))
    assert isinstance(score, JudgeScore)
    assert score.value == value and score.grade == grade
    assert score.usage == Usage(1000, 100)
    assert score.cost_usd == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)
    assert score.judge_model == "openai/gpt-4o-mini"


async def test_default_rubric_shows_item_reference_and_answer() -> None:
    client = FakeJudge("GRADE: C")
    scorer = judge_scorer(client, criteria="Names the right city.")
    assert not scorer.needs_reference
    await scorer(SAMPLE, Completion("It is Paris"))
    prompt = client.requests[0].messages[-1].content
    for part in ("question: Capital of France?", "Reference answer: Paris", "It is Paris", "Names the right city.",
                 '"GRADE: C"'):
        assert part in prompt
    await judge_scorer(FakeJudge("GRADE: C"))(Sample("8", {"q": "x"}, None), Completion("y"))


async def test_number_grading_custom_rubric_and_client_cost() -> None:
    client = FakeJudge("Good. GRADE: 8", "GRADE: 11", cost=0.002)
    scorer = judge_scorer(client, rubric="Q: {{ question }}\nRef: {{ target }}\nA: {{ answer }}\nGRADE: 0-10",
                          grading="number", system="Be strict.", max_tokens=50)
    assert scorer.needs_reference
    score = await scorer(SAMPLE, Completion("Paris"))
    assert score.value == pytest.approx(0.8)
    assert score.cost_usd == 0.002  # the client's own cost wins (e.g. a local judge priced by time)
    request = client.requests[0]
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.messages[1].content.startswith("Q: Capital of France?\nRef: Paris\nA: Paris")
    assert request.max_tokens == 50 and request.temperature == 0.0
    with pytest.raises(BadResponse, match="outside 0..10"):
        await scorer(SAMPLE, Completion("Paris"))


async def test_unparseable_grade_is_a_provider_error_not_a_score() -> None:
    scorer = judge_scorer(FakeJudge("I think it's fine"))
    with pytest.raises(ProviderError) as info:
        await scorer(SAMPLE, Completion("Paris"))
    assert not info.value.retryable


async def test_unpriced_judge_costs_zero_but_reports_usage() -> None:
    score = await judge_scorer(FakeJudge("GRADE: I"))(SAMPLE, Completion("Lyon"))
    assert score.cost_usd == 0.0 and score.usage.input_tokens == 1000


def test_judge_options_validation() -> None:
    with pytest.raises(ConfigError, match="needs a client"):
        build_scorer(ScorerSpec(type="judge", options={"model": "m"}), base_dir=Path.cwd())
    with pytest.raises(ConfigError, match="model"):
        build_scorer(ScorerSpec(type="judge", options={}), base_dir=Path.cwd(), judge=FakeJudge())
    with pytest.raises(ConfigError, match="underscore attributes"):
        build_scorer(ScorerSpec(type="judge", options={"model": "m", "rubric": "{{ answer.__class__ }}"}),
                     base_dir=Path.cwd(), judge=FakeJudge())
    with pytest.raises(ConfigError, match="both input_per_m and output_per_m"):
        build_scorer(ScorerSpec(type="judge", options={"model": "m", "input_per_m": 1}), base_dir=Path.cwd(),
                     judge=FakeJudge())
    opts = ScorerSpec(type="judge", options={"model": "x/y", "base_url": "http://h/v1", "input_per_m": 1,
                                             "output_per_m": 2}).parsed_options()
    assert opts.ref().base_url == "http://h/v1" and opts.price() == Price(1, 2)
