"""The gateway's YAML config: pydantic models, and loading with errors that name file, line and field.

Shape (every section but ``upstreams`` is optional)::

    auth: true                      # virtual keys required (default on)
    limits: {max_body_bytes: 1048576, default_max_tokens: 4096, max_attempts: 4, max_retry_wait_s: 1.0}
    circuit: {failures: 5, cooldown_s: 30}
    upstreams:
      - name: local
        base_url: http://127.0.0.1:8000/v1
        api_key_env: LOCAL_API_KEY  # the key is read from the environment, never from this file
        timeout_s: 30
        models: {small: qwen2.5-0.5b-instruct, big: null}   # model id -> provider's name (null: same)
        apis: [chat, completions, embeddings]   # spoken natively (default chat, completions); others translated
        prices: {small: {input_per_m: 0.1, output_per_m: 0.2}}   # else the catalog's price
    models:                         # pass-through: upstreams in fallback order, then other models
      small: {upstreams: [local, backup], fallbacks: [big]}
    prices: {big: {input_per_m: 3, output_per_m: 15}}   # by model, where an upstream sets none
    routes:
      task/sentiment:
        chain: [small, big]         # or  from_eval: sentiment
        verifiers: [non_empty, {regex: "^(positive|negative)$"}, {max_length: 20}]
        shadow: {share: 0.05, reference: big, threshold: 0.9}
    ledger: {durability: write, lease_fraction: 0.25, lease_ttl_s: 30, key_poll_s: 0.25}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from satisfice.core import Price
from satisfice.errors import ConfigError
from satisfice.gateway.money.settings import LedgerConfig, SpendLogConfig
from satisfice.gateway.routes.loop_config import DriftConfig, ExperimentConfig, FeedbackConfig
from satisfice.gateway.routes.policies import POLICIES
from satisfice.gateway.routes.verifier_registry import VERIFIERS, expand
from satisfice.registry import Registry
from satisfice.yamlfile import ConfigFileError, locate_errors, read_yaml

ApiName = Literal["chat", "completions", "messages", "responses", "embeddings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceConfig(_Strict):
    """USD per million tokens."""

    input_per_m: float = Field(ge=0)
    output_per_m: float = Field(ge=0)
    cached_input_per_m: float | None = Field(default=None, ge=0)

    def price(self) -> Price:
        """As a :class:`~satisfice.core.Price` (cached input at the input price unless set)."""
        return Price(self.input_per_m, self.output_per_m, self.cached_input_per_m)


class UpstreamConfig(_Strict):
    """An OpenAI-compatible endpoint and the models it serves."""

    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(min_length=1)
    api_key_env: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    models: dict[str, str | None] = Field(default_factory=dict)
    prices: dict[str, PriceConfig] = Field(default_factory=dict)
    price: PriceConfig | None = None
    apis: list[ApiName] = Field(default_factory=lambda: list[ApiName](("chat", "completions")))
    """The APIs this upstream speaks natively (requests in other APIs reach it translated to chat)."""

    @field_validator("models", mode="before")
    @classmethod
    def _list_of_models(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(v): None for v in value}
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    def provider_model(self, model: str) -> str:
        """The provider's own name for ``model``."""
        return self.models.get(model) or model

    def price_of(self, model: str) -> PriceConfig | None:
        """The price set in the config for ``model`` at this upstream, if any."""
        return self.prices.get(model) or self.price


class ModelConfig(_Strict):
    """A plain model id: the upstreams that serve it, in order, then other models to fall back to."""

    upstreams: list[str] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"upstreams": value}
        if isinstance(value, str):
            return {"upstreams": [value]}
        return value


class _Choice(_Strict):
    """A registered kind and its options, written ``name`` or ``{name: options}``; checked against the registry."""

    registry: ClassVar[Registry[Any]]
    kind: str
    options: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def _expand(cls, kind: str, arg: Any) -> dict[str, Any]:
        if cls.registry.find(kind) is None:
            raise ValueError(cls.registry.unknown(kind))
        return dict(arg) if isinstance(arg, dict) else {}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"kind": value, "options": cls._expand(value, None)}
        if not isinstance(value, dict) or "kind" in value or len(value) != 1:
            return value
        ((kind, arg),) = value.items()
        return {"kind": kind, "options": cls._expand(str(kind), arg)}

    @model_validator(mode="after")
    def _valid(self) -> _Choice:
        self.parsed()
        return self

    def parsed(self) -> Any:
        """The options as the entry's options model (ValueError naming the first problem)."""
        return self.registry.parse_options(self.kind, self.options)


class VerifierConfig(_Choice):
    """One check on an answer: a registered verifier kind and its validated options.

    YAML: ``non_empty``, ``{json: true}``, ``{json: {schema: {...}}}``, ``{regex: "..."}``,
    ``{max_length: 200}``, ``{scorer: {min_score: 1.0}}`` (the route's task scorer), ``{custom: "module:function"}``,
    or any kind a plugin registers.
    """

    registry: ClassVar[Registry[Any]] = VERIFIERS

    @classmethod
    def _expand(cls, kind: str, arg: Any) -> dict[str, Any]:
        return expand(kind, arg)


class PolicyConfig(_Choice):
    """How a route picks a plan per request: ``static`` (default), ``{by_length: {...}}`` or a plugin's policy."""

    registry: ClassVar[Registry[Any]] = POLICIES


class ShadowConfig(_Strict):
    """Send a share of a route's traffic to its reference model too, in the background, and score agreement."""

    share: float = Field(ge=0, le=1)
    reference: str | None = None
    threshold: float = Field(default=0.9, ge=0, le=1)
    compare: Literal["scorer", "exact", "normalized"] | None = None


class RouteConfig(_Strict):
    """A ``task/<name>`` route: an explicit chain or the latest eval decision, plus verifiers and shadowing."""

    chain: list[str] | None = None
    from_eval: str | None = None
    task_file: str | None = None
    verifiers: list[VerifierConfig] = Field(default_factory=list)
    policy: PolicyConfig | None = None
    shadow: ShadowConfig | None = None
    on_exhausted: Literal["error", "last"] = "error"
    feedback: FeedbackConfig | None = None
    log_content: bool = False
    experiment: ExperimentConfig | None = None
    drift: DriftConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _router_shorthand(cls, value: Any) -> Any:
        """``{policy: learned, router: DIR}`` is short for ``{policy: {learned: {router: DIR}}}``."""
        if not isinstance(value, dict) or "router" not in value:
            return value
        value = dict(value)
        router = value.pop("router")
        if value.get("policy", "learned") != "learned":
            raise ValueError("'router' goes with 'policy: learned'")
        value["policy"] = {"learned": {"router": router}}
        return value

    @model_validator(mode="after")
    def _one_policy(self) -> RouteConfig:
        own_chain = self.policy is not None and POLICIES.get(self.policy.kind).chain is not None
        if self.chain is not None and self.from_eval is not None:
            raise ValueError("a route needs exactly one of 'chain' or 'from_eval'")
        if self.chain is None and self.from_eval is None and not own_chain:
            raise ValueError("a route needs exactly one of 'chain' or 'from_eval'")
        if self.chain is not None and not self.chain:
            raise ValueError("'chain' must name at least one model")
        wants_scorer = any(VERIFIERS.get(v.kind).needs_scorer for v in self.verifiers) or (
            self.shadow is not None and self.shadow.compare == "scorer")
        if wants_scorer and not self.task_file:
            raise ValueError("the scorer verifier and shadow compare 'scorer' need 'task_file' (the task's YAML)")
        return self


class LimitsConfig(_Strict):
    """Request limits and retry bounds."""

    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    default_max_tokens: int = Field(default=4096, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    max_retry_wait_s: float = Field(default=1.0, ge=0)
    body_timeout_s: float = Field(default=10.0, gt=0)
    """A client must send its whole body within this time (else 408, connection closed)."""
    max_body_bytes_in_flight: int = Field(default=16 * 1024 * 1024, gt=0)
    """Request bodies being received, all connections together (else 503, connection closed)."""
    max_connections_per_upstream: int = Field(default=256, ge=1)
    """Open connections to one upstream origin; more concurrent calls wait for a free one."""
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    """A request head (request line and headers) larger than this gets 431 and the connection is closed."""
    head_timeout_s: float = Field(default=10.0, gt=0)
    """A connection whose request head is not complete this long after it opened (or after the previous
    response) is closed."""
    keep_alive_s: float = Field(default=5.0, gt=0)
    """An idle kept-alive connection is closed after this long."""
    max_open_connections: int = Field(default=4096, ge=1)
    """Client connections open at once (per process); beyond, a connection gets 503 and is closed. Lowered
    to the file limit minus ``fd_headroom``."""
    fd_headroom: int = Field(default=128, ge=16)
    """File descriptors kept free for the store, the journal and upstream connections."""


class CircuitConfig(_Strict):
    """Per upstream and model: ``failures`` consecutive failures skip that pair for ``cooldown_s`` seconds."""

    failures: int = Field(default=5, ge=1)
    cooldown_s: float = Field(default=30.0, ge=0)


class GatewayConfig(_Strict):
    """The whole gateway config."""

    auth: bool = True
    key_refresh_s: float = Field(default=5.0, gt=0)
    routes_refresh_s: float = Field(default=30.0, ge=0)
    """How often ``from_eval`` routes look for a newer eval decision (0: only at start-up)."""
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    circuit: CircuitConfig = Field(default_factory=CircuitConfig)
    spend_log: SpendLogConfig = Field(default_factory=SpendLogConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    shadow_max_in_flight: int = Field(default=8, ge=1)
    upstreams: list[UpstreamConfig] = Field(min_length=1)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    prices: dict[str, PriceConfig] = Field(default_factory=dict)
    routes: dict[str, RouteConfig] = Field(default_factory=dict)
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("routes", mode="after")
    @classmethod
    def _route_names(cls, routes: dict[str, RouteConfig]) -> dict[str, RouteConfig]:
        return {name if name.startswith("task/") else f"task/{name}": route for name, route in routes.items()}

    @model_validator(mode="after")
    def _references(self) -> GatewayConfig:
        names = [u.name for u in self.upstreams]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"upstream names must be unique: {', '.join(dupes)}")
        for model, cfg in self.models.items():
            for up in cfg.upstreams:
                if up not in names:
                    raise ValueError(f"models.{model}: unknown upstream {up!r}")
            for fb in cfg.fallbacks:
                if fb not in self.served_models():
                    raise ValueError(f"models.{model}: fallback {fb!r} is not served by any upstream")
        for route_name, route in self.routes.items():
            for model in route.chain or []:
                if model not in self.served_models():
                    raise ValueError(f"routes.{route_name}: model {model!r} is not served by any upstream")
            for model in route.experiment.challengers if route.experiment else []:
                if model not in self.served_models():
                    raise ValueError(f"routes.{route_name}.experiment: challenger {model!r} is not served by any "
                                     "upstream")
        return self

    def served_models(self) -> set[str]:
        """Every plain model id some upstream serves."""
        served = set(self.models)
        for upstream in self.upstreams:
            served.update(upstream.models)
        return served


def parse_config(text: str, *, file: str = "<config>", base_dir: Path | None = None) -> GatewayConfig:
    """Parse and validate a config document; ConfigError names the file, line and field of the first problem.

    Duplicate keys are errors (a second ``limits:`` never silently replaces the first).
    """
    data, root = read_yaml(text, file)
    if not isinstance(data, dict):
        raise ConfigFileError("the gateway config must be a mapping with at least 'upstreams'", file=file,
                              line=1 if root is None else root.start_mark.line + 1)
    if "base_dir" in data:
        raise ConfigFileError("unknown field 'base_dir'", file=file, loc=("base_dir",), root=root)
    data["base_dir"] = base_dir or Path(".")
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise locate_errors(exc, file, root, GatewayConfig) from None


def load_config(path: Path) -> GatewayConfig:
    """Read and validate a gateway config file (relative paths in it are relative to its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read gateway config {path}: {exc.strerror or exc}") from None
    return parse_config(text, file=str(path), base_dir=path.resolve().parent)


__all__ = [
    "CircuitConfig",
    "GatewayConfig",
    "LedgerConfig",
    "LimitsConfig",
    "ModelConfig",
    "PolicyConfig",
    "PriceConfig",
    "RouteConfig",
    "ShadowConfig",
    "UpstreamConfig",
    "VerifierConfig",
    "load_config",
    "parse_config",
]
