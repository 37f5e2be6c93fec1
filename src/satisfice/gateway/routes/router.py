"""Route policies: what a request's ``model`` resolves to — an ordered plan of models, each with its upstreams.

* A plain model id passes through: its upstreams in order, then its configured fallback models.
* ``task/<name>`` is a route: an explicit ``chain`` of models, or ``from_eval: <task>``, which reads the
  latest decision stored by ``satisfice eval`` (passing models cheapest first, then the reference). A model of
  that decision that no upstream in the config serves is reached at the endpoint the eval used. A route's
  ``policy`` (see :mod:`satisfice.gateway.routes.policies`) may pick another plan per request.

Plans are built once at start (prices resolved, verifiers compiled), so :meth:`Router.choose` is a dict
lookup plus, for routes with a policy, the policy's look at the request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from satisfice.core import Price, default_provider
from satisfice.errors import ConfigError
from satisfice.gateway.routes.config import GatewayConfig, RouteConfig, UpstreamConfig
from satisfice.gateway.routes.plan import Plan, ShadowPlan, Target, make_plan
from satisfice.gateway.routes.policies import POLICIES, Policy, PolicyContext
from satisfice.gateway.routes.verifiers import build_verifier, task_scorer
from satisfice.gateway.wire.upstream import Breaker, Upstream
from satisfice.store import Store

PriceLookup = Callable[[str], Price | None]
DecisionLookup = Callable[[str], Any]


class Router:
    """Every plan by the ``model`` name that selects it, the routes' policies, and the upstreams they use."""

    def __init__(self, plans: dict[str, Plan], upstreams: list[Upstream],
                 policies: dict[str, Policy] | None = None) -> None:
        self.plans = plans
        self.upstreams = upstreams
        self.policies = policies or {}

    def plan(self, model: str) -> Plan | None:
        """The base plan for ``model``, or None when it is neither a route nor a served model."""
        return self.plans.get(model)

    def choose(self, payload: dict[str, Any]) -> Plan | None:
        """The plan for one request: its route's policy decides, else the plan its ``model`` names."""
        model = payload.get("model")
        policy = self.policies.get(model) if self.policies and isinstance(model, str) else None
        if policy is not None:
            return policy.choose(payload)
        return self.plans.get(model) if isinstance(model, str) else None

    def secrets(self) -> tuple[str, ...]:
        """Provider keys currently in the environment (to mask them anywhere they might show)."""
        return tuple(s for u in self.upstreams for s in u.secrets())


def catalog_prices(store: Store) -> Callable[[str], Price | None]:
    """Price lookup from the store's catalog (loaded once, on first need)."""
    cache: dict[str, Any] = {}

    def lookup(model: str) -> Price | None:
        from satisfice.catalog.repository import load_catalog
        from satisfice.evals.pricing import price_for

        if "catalog" not in cache:
            cache["catalog"] = load_catalog(store)
        return price_for(model, catalog=cache["catalog"]).price

    return lookup


class _Builder:
    def __init__(self, cfg: GatewayConfig, prices: PriceLookup, decisions: DecisionLookup,
                 observe: Callable[[str, str], None] | None = None) -> None:
        self.cfg = cfg
        self.observe = observe
        self.price_lookup = prices
        self.decisions = decisions
        self.up_cfg: dict[str, UpstreamConfig] = {u.name: u for u in cfg.upstreams}
        self.upstreams: dict[str, Upstream] = {u.name: self._upstream(u.name, u.base_url, u.api_key_env,
                                                                      u.timeout_s, dict(u.models))
                                               for u in cfg.upstreams}
        self.extra_prices: dict[str, Price] = {}
        self.extra_serving: dict[str, list[str]] = {}
        self.targets: dict[str, Target] = {}
        self.policies: dict[str, Policy] = {}

    def _upstream(self, name: str, base_url: str, key_env: str | None, timeout_s: float,
                  models: dict[str, str | None]) -> Upstream:
        declared = self.up_cfg.get(name)
        return Upstream(name, base_url, key_env, timeout_s, models,
                        Breaker(self.cfg.circuit.failures, self.cfg.circuit.cooldown_s),
                        frozenset(declared.apis if declared is not None else ("chat", "completions")))

    def _serving(self, model: str) -> list[str]:
        listed = self.cfg.models.get(model)
        if listed is not None and listed.upstreams:
            return list(listed.upstreams)
        return [u.name for u in self.cfg.upstreams if model in u.models] or self.extra_serving.get(model, [])

    def _price(self, model: str, upstream: str, where: str) -> Price:
        cfg = self.up_cfg.get(upstream)
        set_here = cfg.price_of(model) if cfg is not None else None
        if set_here is not None:
            return set_here.price()
        default = self.cfg.prices.get(model)
        if default is not None:
            return default.price()
        price = self.extra_prices.get(model) or self.price_lookup(model)
        if price is None:
            from satisfice.evals.pricing import price_hint

            raise ConfigError(f"{where}: no price for model {model!r} (at upstream {upstream!r}): set "
                              f"prices.{model} (or the upstream's prices) in the gateway config, or "
                              f"{price_hint(model)}")
        return price

    def target(self, model: str, where: str) -> Target:
        if model in self.targets:
            return self.targets[model]
        names = self._serving(model)
        if not names:
            raise ConfigError(f"{where}: model {model!r} is not served by any upstream")
        ups = tuple(self.upstreams[n] for n in names)
        target = Target(model, ups, tuple(self._price(model, n, where) for n in names))
        self.targets[model] = target
        return target

    def _from_eval(self, name: str, route: RouteConfig, spec: Any) -> tuple[list[str], str | None]:
        task = route.from_eval
        assert task is not None
        decision = self.decisions(task)
        if decision is None:
            raise ConfigError(f"routes.{name}: no stored eval decision for task {task!r}; run `satisfice eval` "
                              "first (or give an explicit chain)")
        chain = list(decision.passing)
        if decision.reference and decision.reference not in chain:
            chain.append(decision.reference)
        if not chain:
            raise ConfigError(f"routes.{name}: the decision for task {task!r} has no passing model and no reference")
        for model in chain:
            if self._serving(model):
                continue
            cand = decision.candidates.get(model) or {}
            if not cand.get("base_url"):
                hint = (f": serve it with `satisfice serve {model} --port PORT` and list it in an upstream's models "
                        "(as examples/gateway/local.yaml does)" if default_provider(model) == "local" else "")
                raise ConfigError(f"routes.{name}: model {model!r} of the eval decision has no upstream in the "
                                  f"config and no base_url in the decision{hint}")
            up_name = f"eval:{model}"
            self.upstreams[up_name] = self._upstream(up_name, str(cand["base_url"]).rstrip("/"),
                                                     cand.get("api_key_env"), 60.0,
                                                     {model: cand.get("provider_model")})
            override = spec.candidate(model).price() if spec is not None and spec.candidate(model) else None
            if override is not None:
                self.extra_prices[model] = override
            self.extra_serving[model] = [up_name]
        return chain, decision.reference

    def route(self, name: str, route: RouteConfig) -> Plan:
        where = f"routes.{name}"
        spec, scorer = None, None
        if route.task_file:
            path = Path(route.task_file)
            spec, scorer = task_scorer(path if path.is_absolute() else self.cfg.base_dir / path)
        reference: str | None
        entry = POLICIES.get(route.policy.kind) if route.policy is not None else None
        if route.chain is not None:
            chain, reference = list(route.chain), route.chain[-1]
        elif route.from_eval is None and entry is not None and entry.chain is not None:
            chain = entry.chain(route.policy.parsed() if route.policy else None, self.cfg.base_dir)
            reference = chain[-1]
        else:
            chain, reference = self._from_eval(name, route, spec)
        if route.shadow is not None and route.shadow.reference:
            reference = route.shadow.reference
        verifiers = tuple(build_verifier(v, route=name, scorer=scorer, base_dir=self.cfg.base_dir)
                          for v in route.verifiers)
        ref_target = self.target(reference, f"{where}.shadow") if reference else None
        shadow = None
        if route.shadow is not None and route.shadow.share > 0:
            if ref_target is None:
                raise ConfigError(f"{where}.shadow: no reference model to shadow against")
            compare = route.shadow.compare or ("scorer" if scorer is not None else "normalized")
            shadow = ShadowPlan(route.shadow.share, ref_target, route.shadow.threshold, compare,
                                scorer if compare == "scorer" else None)

        def plan_of(models: Sequence[str]) -> Plan:
            return make_plan(name, True, [self.target(m, where) for m in models], verifiers,
                             on_exhausted=route.on_exhausted, reference=ref_target, shadow=shadow)

        base = plan_of(chain)
        if route.policy is not None and entry is not None and route.policy.kind != "static":
            counter = self.observe
            observe = (lambda branch: counter(name, branch)) if counter is not None else None
            self.policies[name] = entry.factory(route.policy.parsed(), PolicyContext(
                name, base, plan_of, self.cfg.base_dir, observe))
        return base


def build_router(cfg: GatewayConfig, *, prices: PriceLookup, decisions: DecisionLookup,
                 observe: Callable[[str, str], None] | None = None) -> Router:
    """Resolve every route and served model into a plan; ConfigError names the route or model at fault.

    ``observe(route, branch)``, when given, counts which branch of a route's policy served each request.
    """
    b = _Builder(cfg, prices, decisions, observe)
    plans: dict[str, Plan] = {}
    for model in sorted(cfg.served_models()):
        targets = [b.target(model, f"models.{model}")]
        fallbacks = cfg.models[model].fallbacks if model in cfg.models else []
        targets += [b.target(f, f"models.{model}.fallbacks") for f in fallbacks if f != model]
        plans[model] = make_plan(model, False, targets)
    for name, route in cfg.routes.items():
        plans[name] = b.route(name, route)
    return Router(plans, list(b.upstreams.values()), b.policies)


__all__ = ["Router", "build_router", "catalog_prices"]
