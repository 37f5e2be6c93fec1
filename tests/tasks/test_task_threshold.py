from __future__ import annotations

import pytest

from satisfice.errors import ConfigError
from satisfice.tasks.threshold import Threshold, parse_threshold


@pytest.mark.parametrize(
    ("text", "bar", "confidence"),
    [
        ("accuracy >= 0.9 at 95% confidence", 0.9, 0.95),
        ("accuracy >= 90% at 95% confidence", 0.9, 0.95),
        ("accuracy>=0.9", 0.9, 0.95),
        ("  Accuracy >= .85 at 0.99 confidence ", 0.85, 0.99),
        ("accuracy ≥ 0.7 with 90% confidence", 0.7, 0.9),
        ("accuracy >= 1", 1.0, 0.95),
        ("accuracy >= 0 at 80%", 0.0, 0.8),
    ],
)
def test_parse_threshold_forms(text: str, bar: float, confidence: float) -> None:
    t = parse_threshold(text)
    assert t.metric == "accuracy"
    assert t.bar == pytest.approx(bar)
    assert t.confidence == pytest.approx(confidence)
    assert t.non_inferior_to is None and t.margin is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("accuracy >= 90", "write 0.9 or '90%'"),
        ("f1 >= 0.3", "unknown metric 'f1'"),
        ("accuracy > 0.9", "must be '>='"),
        ("accuracy <= 0.9", "must be '>='"),
        ("accuracy", "expected '>='"),
        ("accuracy >= 0.9 at 100% confidence", "strictly between 0 and 1"),
        ("accuracy >= 0.9 at 0% confidence", "strictly between 0 and 1"),
        ("accuracy >= 150%", "within [0, 1]"),
        ("ninety percent please", "cannot read threshold"),
        ("", "empty"),
        ("accuracy >= 0.9 at 95% confidence extra words", "cannot read threshold"),
    ],
)
def test_parse_threshold_errors_say_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_threshold(text)
    assert needle in str(info.value)


def test_threshold_mapping_validation() -> None:
    t = Threshold(non_inferior_to="gpt", margin="3%")  # type: ignore[arg-type]
    assert t.margin == pytest.approx(0.03) and t.bar is None
    assert "no worse than gpt" in t.describe()
    with pytest.raises(ValueError, match="needs a margin"):
        Threshold(non_inferior_to="gpt")
    with pytest.raises(ValueError, match="only meaningful with non_inferior_to"):
        Threshold(bar=0.9, margin=0.1)
    with pytest.raises(ValueError, match="needs a bar"):
        Threshold()


def test_describe_round_trips() -> None:
    t = parse_threshold("accuracy >= 90% at 99% confidence")
    assert t.describe() == "accuracy >= 0.90 at 99% confidence"
    assert parse_threshold(t.describe()) == t
