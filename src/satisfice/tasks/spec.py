"""The task file: strict pydantic models for its YAML, and ``load_task`` with errors naming file, line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from satisfice.errors import ConfigError
from satisfice.tasks.scorer_options import Endpoint
from satisfice.tasks.scorer_registry import check_kind, parse_options
from satisfice.tasks.taskfile import TaskFileError
from satisfice.tasks.templates import template_variables
from satisfice.tasks.threshold import Threshold, parse_threshold
from satisfice.yamlfile import display_path, locate_errors, read_yaml

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""File extensions and the dataset format inferred from them."""

RESERVED_FIELDS = frozenset({"target", "id"})
"""Keys of ``dataset.fields`` with a special meaning: the answer field and the item id field."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _infer_format(path: str) -> Literal["jsonl", "csv", "parquet"]:
    suffix = Path(path).suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise ValueError(
            f"cannot infer the format of {path!r} from its extension {suffix or '(none)'!r}; "
            "set format: jsonl, csv or parquet"
        )
    return kind  # type: ignore[return-value]


class FewshotSpec(_Strict):
    """Few-shot examples: the first ``count`` items of the dataset (``from: split``) or of another file."""

    count: int = Field(ge=1, le=64)
    from_: str = Field(default="split", alias="from", min_length=1)
    """``split`` (first items of the dataset, excluded from evaluation) or a file path relative to the task file."""

    @property
    def is_split(self) -> bool:
        """True when the examples are the dataset's first items."""
        return self.from_ == "split"


class DatasetSpec(_Strict):
    """Where the items come from and how their fields are named."""

    path: str = Field(min_length=1)
    format: Literal["jsonl", "csv", "parquet"] | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    """Template variable -> dataset column; ``target`` names the answer column, ``id`` the item id column."""
    limit: int | None = Field(default=None, ge=1)
    seed: int | None = None
    fewshot: FewshotSpec | None = None

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, column in value.items():
            if not _IDENT.match(name):
                raise ValueError(f"{name!r} is not usable as a template variable (letters, digits, _)")
            if name == "fewshot":
                raise ValueError("'fewshot' is reserved for the list of few-shot examples")
            if not isinstance(column, str) or not column:
                raise ValueError(f"fields.{name} must name a dataset column")
        return value

    @model_validator(mode="after")
    def _format(self) -> DatasetSpec:
        if self.format is None:
            self.format = FORMATS.get(Path(self.path).suffix.lower())  # type: ignore[assignment]
        return self  # an unknown extension is reported by check_task, at the line of dataset.path

    @property
    def kind(self) -> Literal["jsonl", "csv", "parquet"]:
        """The dataset format (given or inferred)."""
        return self.format or _infer_format(self.path)

    @property
    def target_column(self) -> str:
        """The column holding the answer (``target`` unless mapped)."""
        return self.fields.get("target", "target")

    @property
    def id_column(self) -> str | None:
        """The column holding item ids, if mapped."""
        return self.fields.get("id")

    @property
    def input_fields(self) -> dict[str, str]:
        """Template variable -> column for the prompt's inputs (empty: every column but target and id)."""
        return {k: v for k, v in self.fields.items() if k not in RESERVED_FIELDS}


def _stop_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PromptSpec(_Strict):
    """Chat (``system`` + ``user``) or plain ``completion`` Jinja2 templates, and the generation settings."""

    system: str | None = None
    user: str | None = None
    completion: str | None = None
    answer: str | None = None
    """How a few-shot example's answer is written; default: its target (JSON for objects and lists)."""
    max_tokens: int = Field(default=256, ge=1, le=65536)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    stop: Annotated[list[str] | None, BeforeValidator(_stop_list)] = None

    @field_validator("system", "user", "completion", "answer")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            template_variables(value)  # raises ValueError on syntax errors and sandbox escapes
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> PromptSpec:
        if (self.user is None) == (self.completion is None):
            raise ValueError("give either user (a chat prompt, with optional system) or completion (a plain prompt)")
        if self.system is not None and self.completion is not None:
            raise ValueError("system goes with user (chat prompts); a completion prompt has no system message")
        return self

    @property
    def is_chat(self) -> bool:
        """True for chat prompts."""
        return self.user is not None


class ScorerSpec(_Strict):
    """Which scorer grades an answer: a built-in name or ``module:function``, with its options."""

    type: str
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _kind(cls, value: str) -> str:
        return check_kind(value)

    def parsed_options(self) -> Any:
        """The options validated against the scorer's option model (a dict for custom scorers)."""
        return parse_options(self.type, self.options)


class WorkloadSpec(_Strict):
    """Expected production traffic, for cost projections; token counts default to those measured in the run."""

    requests_per_day: float = Field(gt=0)
    input_tokens_per_request: float | None = Field(default=None, ge=0)
    output_tokens_per_request: float | None = Field(default=None, ge=0)


def _candidate(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class CandidateSpec(_Strict, Endpoint):
    """A model to evaluate and the endpoint that serves it (``local/...`` models run in-process)."""

    id: str = Field(min_length=1)
    max_concurrency: int = Field(default=4, ge=1, le=1024)
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value is not None else None

    @property
    def model_id(self) -> str:
        """The candidate's model id."""
        return self.id


def _threshold(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"bar": value}  # `threshold: 0.9` means accuracy >= 0.9 at 95% confidence
    if isinstance(value, str):
        try:
            return parse_threshold(value)
        except ConfigError as exc:  # -> ValueError so that pydantic reports it with its location
            raise ValueError(str(exc)) from None
    return value


class TaskSpec(_Strict):
    """One task: dataset, prompt, scorer, pass bar, workload and candidate models."""

    name: str
    description: str = ""
    dataset: DatasetSpec
    prompt: PromptSpec
    scorer: ScorerSpec
    threshold: Annotated[Threshold | None, BeforeValidator(_threshold)] = None
    workload: WorkloadSpec | None = None
    candidates: list[Annotated[CandidateSpec, BeforeValidator(_candidate)]] = Field(default_factory=list)
    reference: str | None = None
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    """Folder of the task file (absolute); dataset paths are relative to it. Not read from YAML."""
    source: Path | None = Field(default=None, exclude=True)
    """The task file, for messages. Not read from YAML."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"task name {value!r} must be 1-100 letters, digits, '_', '.', '-' (no spaces)")
        return value

    def dataset_path(self) -> Path:
        """Absolute path of the dataset file."""
        return self.base_dir / self.dataset.path

    def fewshot_path(self) -> Path | None:
        """Absolute path of the few-shot file, or None when there is none or examples come from the split."""
        fewshot = self.dataset.fewshot
        if fewshot is None or fewshot.is_split:
            return None
        return self.base_dir / fewshot.from_

    def candidate(self, model_id: str) -> CandidateSpec | None:
        """The candidate with this id, if listed."""
        return next((c for c in self.candidates if c.id == model_id), None)

    def where(self) -> str:
        """The task file as shown in messages."""
        return display_path(self.source) if self.source is not None else f"task {self.name!r}"


def check_task(spec: TaskSpec) -> None:
    """Cross-field checks that the models alone cannot make (files exist, templates use known fields, ...).

    Raises:
        TaskFileError: Naming the task file and the field (the line is added by :func:`load_task`).
    """
    for loc, message in _problems(spec):
        raise TaskFileError(message, file=spec.where(), loc=loc)


def _problems(spec: TaskSpec) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    data = spec.dataset_path()
    if spec.dataset.format is None:
        try:
            _infer_format(spec.dataset.path)
        except ValueError as exc:
            problems.append((("dataset", "path"), str(exc)))
    if not data.is_file():
        problems.append((("dataset", "path"), f"dataset file not found: {display_path(data)}"))
    fewshot_file = spec.fewshot_path()
    if fewshot_file is not None and not fewshot_file.is_file():
        problems.append((("dataset", "fewshot", "from"), f"few-shot file not found: {display_path(fewshot_file)}"))
    try:
        spec.scorer.parsed_options()
    except ValidationError as exc:
        for err in exc.errors():
            loc = ("scorer", "options", *err["loc"])
            problems.append((loc, str(err["msg"]).removeprefix("Value error, ")))
    inputs = set(spec.dataset.input_fields)
    prompt = spec.prompt
    for key in ("system", "user", "completion", "answer"):
        source = getattr(prompt, key)
        if source is None:
            continue
        used = template_variables(source)
        allowed = inputs | {"fewshot"} if key != "answer" else inputs | {"target"}
        if "target" in used and key != "answer":
            problems.append(
                (("prompt", key), "the prompt may not show the answer ('target'); few-shot answers come from "
                                  "the fewshot variable or prompt.answer")
            )
        elif inputs and not used <= allowed:
            unknown = ", ".join(sorted(used - allowed))
            problems.append(
                (("prompt", key), f"template uses {unknown}, not mapped in dataset.fields "
                                  f"(mapped: {', '.join(sorted(inputs))})")
            )
    if prompt.completion is not None and spec.dataset.fewshot is not None:
        if "fewshot" not in template_variables(prompt.completion):
            problems.append(
                (("prompt", "completion"), "dataset.fewshot is set but the completion template never uses "
                                           "the 'fewshot' variable (e.g. {% for ex in fewshot %}...{% endfor %})")
            )
    ids = [c.id for c in spec.candidates]
    for index, model_id in enumerate(ids):
        if model_id in ids[:index]:
            problems.append((("candidates", index, "id"), f"candidate {model_id!r} is listed twice"))
    threshold = spec.threshold
    if threshold is not None and threshold.non_inferior_to is not None and spec.candidates:
        if threshold.non_inferior_to not in ids:
            problems.append(
                (("threshold", "non_inferior_to"), f"{threshold.non_inferior_to!r} is not a candidate; the paired "
                                                   f"test needs its answers (candidates: {', '.join(ids)})")
            )
    return problems


def parse_task(text: str, *, source: Path) -> TaskSpec:
    """Parse task YAML ``text`` read from ``source`` (whose folder becomes ``base_dir``).

    Raises:
        TaskFileError: For YAML syntax errors, unknown or missing fields, bad values and failed cross-checks,
            naming the file, the line where it can be found and the field path.
    """
    where = display_path(source)
    document, root = read_yaml(text, where)
    if not isinstance(document, dict):
        raise TaskFileError("a task file must be a YAML mapping (name:, dataset:, prompt:, scorer:, ...)",
                            file=where, line=1 if root is None else root.start_mark.line + 1)
    for key in ("base_dir", "source"):
        if key in document:
            raise TaskFileError(f"unknown field {key!r}", file=where, loc=(key,), root=root)
    base_dir = source.resolve().parent
    try:
        spec = TaskSpec.model_validate({**document, "base_dir": base_dir, "source": source})
    except ValidationError as exc:
        raise locate_errors(exc, where, root, TaskSpec) from None
    problems = _problems(spec)
    if problems:
        raise TaskFileError.from_problems(problems, file=where, root=root)
    return spec


def load_task(path: Path | str) -> TaskSpec:
    """Read and validate a task file.

    Args:
        path: The YAML task file.

    Returns:
        The task, with ``base_dir`` set to the file's folder.

    Raises:
        ConfigError: A :class:`TaskFileError` naming the file, the line where possible and the field path,
            e.g. ``task.yaml, line 12, field 'scorer.type': unknown scorer 'exakt' (known: exact, ...)``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TaskFileError("task file not found", file=display_path(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskFileError(f"cannot read task file: {exc}", file=display_path(path)) from None
    return parse_task(text, source=path)


__all__ = [
    "FORMATS",
    "CandidateSpec",
    "DatasetSpec",
    "FewshotSpec",
    "PromptSpec",
    "ScorerSpec",
    "TaskFileError",
    "TaskSpec",
    "Threshold",
    "WorkloadSpec",
    "check_task",
    "load_task",
    "parse_task",
]
