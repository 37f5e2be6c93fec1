"""Config of a route's production loop: feedback labels, content logging and a guarded experiment.

YAML, inside a route::

    feedback: {labels: {good: 1, bad: 0}}   # labels a client may send instead of a number
    log_content: true                       # keep masked prompts and answers (for `satisfice outcomes export`)
    experiment:
      challengers: [small, tiny]            # cheaper models to try in place of the route's first model
      bar: 0.9                              # accuracy a challenger must clear
      confidence: 0.95                      # chance that a promotion is right (over all challengers together)
      max_share: 0.1                        # most of the route's requests sent to challengers
      evidence: [feedback, verifier, shadow]
    drift: {bar: 0.9, window: 500}          # alarm when recent accuracy is surely below the bar
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EvidenceKind = Literal["feedback", "verifier", "shadow"]
EVIDENCE_PRIORITY: dict[str, int] = {"feedback": 3, "shadow": 2, "verifier": 1}
"""Which outcome stands for a request when several kinds arrived: a person's feedback, then the reference's
agreement, then the verifiers' verdict."""


def _all_evidence() -> list[EvidenceKind]:
    return ["feedback", "verifier", "shadow"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedbackConfig(_Strict):
    """How feedback on a route's answers is read: labels a client may send, mapped to scores in [0, 1]."""

    labels: dict[str, float] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _scores(cls, labels: dict[str, float]) -> dict[str, float]:
        for name, value in labels.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"label {name!r} maps to {value}; scores are in [0, 1]")
        return labels


class ExperimentConfig(_Strict):
    """A guarded experiment: cheaper challengers get a bounded share of traffic until a sequential test decides."""

    challengers: list[str] = Field(min_length=1, max_length=20)
    bar: float = Field(gt=0, lt=1)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    max_share: float = Field(default=0.1, gt=0, le=1)
    evidence: list[EvidenceKind] = Field(default_factory=_all_evidence, min_length=1)
    horizon: int = Field(default=2000, ge=10, le=1_000_000)
    """Scored requests after which a challenger still undecided is stopped (also tunes the test's bets)."""
    check_s: float = Field(default=5.0, gt=0)
    """How often each instance re-tests the evidence and reads decisions from the store."""


class DriftConfig(_Strict):
    """Watch a route's recent accuracy: alarm when its anytime-valid upper bound falls below ``bar``."""

    bar: float = Field(gt=0, lt=1)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    window: int = Field(default=500, ge=10, le=100_000)
    """The most recent scored requests the bound is computed on."""
    evidence: list[EvidenceKind] = Field(default_factory=_all_evidence, min_length=1)
    check_s: float = Field(default=30.0, gt=0)


__all__ = ["EVIDENCE_PRIORITY", "DriftConfig", "EvidenceKind", "ExperimentConfig", "FeedbackConfig"]
