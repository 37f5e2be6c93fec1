"""The options each built-in scorer accepts, as strict pydantic models (shared by the task loader and the scorers)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from satisfice.core import ModelRef, Price
from satisfice.schemas import check_schema
from satisfice.tasks.templates import template_variables


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(BaseModel):
    """Where a model is served and, optionally, its price (shared by candidates and judges)."""

    provider: str | None = None
    """The client that reaches the model (``openai_compat``, ``local`` or a plugin's); default from the id."""
    base_url: str | None = None
    api_key_env: str | None = None
    provider_model: str | None = None
    input_per_m: float | None = Field(default=None, ge=0)
    output_per_m: float | None = Field(default=None, ge=0)

    @property
    def model_id(self) -> str:
        """The model this endpoint serves (defined by each subclass)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _both_prices(self) -> Endpoint:
        if (self.input_per_m is None) != (self.output_per_m is None):
            raise ValueError(f"{self.model_id!r}: give both input_per_m and output_per_m, or neither")
        return self

    def ref(self) -> ModelRef:
        """The model and its endpoint as a ModelRef (the provider as given, else the default for the id)."""
        return ModelRef(self.model_id, self.provider or "", self.base_url, self.api_key_env, self.provider_model)

    def price(self) -> Price | None:
        """The task file's price override, or None to use the catalog's price."""
        if self.input_per_m is None or self.output_per_m is None:
            return None
        return Price(self.input_per_m, self.output_per_m)


class NoOptions(_Options):
    """A scorer without options."""


class ExactOptions(_Options):
    """``exact``: the answer equals the target (after stripping surrounding whitespace unless ``strip: false``)."""

    case_sensitive: bool = True
    strip: bool = True


class IncludesOptions(_Options):
    """``includes``: the target occurs in the answer (as whole words, normalized, unless switched off)."""

    normalize: bool = True
    whole_words: bool = True


class Tolerance(_Options):
    """Numeric tolerance: ``|answer - target| <= max(abs_tol, rel_tol * |target|)``."""

    abs_tol: float = Field(default=1e-6, ge=0)
    rel_tol: float = Field(default=0.0, ge=0)


class NumericOptions(Tolerance):
    """``numeric``: the last (or first) number in the answer equals the target within a tolerance."""

    which: Literal["first", "last"] = "last"


class RegexOptions(Tolerance):
    """``regex``: extract a group from the answer with ``pattern`` and compare it to the target."""

    pattern: str
    group: int | str | None = None
    flags: str = ""
    which: Literal["first", "last"] = "first"
    compare: Literal["exact", "normalized", "numeric"] = "normalized"
    match_only: bool = False
    """Score 1 when the pattern matches at all (needs no target)."""

    @field_validator("flags")
    @classmethod
    def _flags(cls, value: str) -> str:
        bad = sorted(set(value.lower()) - set("imsx"))
        if bad:
            raise ValueError(f"unknown regex flag(s) {''.join(bad)!r} (known: i, m, s, x)")
        return value.lower()

    @model_validator(mode="after")
    def _compiles(self) -> RegexOptions:
        try:
            compiled = self.compiled()
        except re.error as exc:
            raise ValueError(f"pattern {self.pattern!r} is not a valid regular expression: {exc}") from None
        if isinstance(self.group, int) and self.group > compiled.groups:
            raise ValueError(f"group {self.group} does not exist; the pattern has {compiled.groups} group(s)")
        if isinstance(self.group, str) and self.group not in compiled.groupindex:
            raise ValueError(f"group {self.group!r} is not a named group of the pattern")
        return self

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern with its flags."""
        flags = 0
        for letter, flag in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE)):
            if letter in self.flags:
                flags |= flag
        return re.compile(self.pattern, flags)


class ChoiceOptions(_Options):
    """``choice``: a multiple-choice letter (``choices``, default A-D) extracted from the answer."""

    choices: str = "ABCD"

    @field_validator("choices")
    @classmethod
    def _letters(cls, value: str) -> str:
        letters = value.replace(",", "").replace(" ", "").upper()
        if len(letters) < 2 or not letters.isalpha() or len(set(letters)) != len(letters):
            raise ValueError(f"choices must be two or more distinct letters, e.g. 'ABCD', got {value!r}")
        return letters


class JsonOptions(_Options):
    """``json``: the answer is valid JSON, optionally matches a schema, optionally equals the target."""

    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    fields: list[str] | None = None
    """Compare only these fields of the answer's object with the target's."""
    equal: bool = False
    """Compare the whole answer value with the target."""
    normalize: bool = False
    """Compare strings case-, whitespace- and punctuation-insensitively."""
    partial_credit: bool = False
    """Score the share of ``fields`` that match instead of all-or-nothing."""

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_schema(value) if value is not None else None

    @model_validator(mode="after")
    def _one_comparison(self) -> JsonOptions:
        if self.fields is not None and self.equal:
            raise ValueError("use either fields (compare some fields) or equal: true (compare everything), not both")
        if self.fields is not None and not self.fields:
            raise ValueError("fields must name at least one field")
        if self.partial_credit and self.fields is None:
            raise ValueError("partial_credit needs fields")
        return self


class JudgeOptions(_Options, Endpoint):
    """``judge``: a model grades the answer with a rubric (a Jinja2 template); its cost is counted."""

    model: str = Field(min_length=1)
    rubric: str | None = None
    """Template with the sample's fields, ``target``, ``answer`` (the graded completion) and ``criteria``."""
    criteria: str = "The submission is correct and answers the question."
    system: str | None = None
    grading: Literal["letter", "number"] = "letter"
    """``letter``: ``GRADE: C`` (correct), ``P`` (partial), ``I`` (incorrect); ``number``: ``GRADE: 7``."""
    scale: float = Field(default=10.0, gt=0)
    """Highest grade when ``grading: number``; the score is grade / scale."""
    partial: float = Field(default=0.5, ge=0, le=1)
    max_tokens: int = Field(default=512, ge=1)
    temperature: float = Field(default=0.0, ge=0)

    @field_validator("rubric", "system")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            template_variables(value)  # raises ValueError on syntax errors and sandbox escapes
        return value

    @property
    def model_id(self) -> str:
        """The judge's model id."""
        return self.model


__all__ = [
    "ChoiceOptions",
    "ExactOptions",
    "IncludesOptions",
    "JsonOptions",
    "JudgeOptions",
    "NoOptions",
    "NumericOptions",
    "RegexOptions",
    "Tolerance",
]
