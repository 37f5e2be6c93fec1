"""Per-API gateway overhead (``gateway_overhead.py --apis``): chat, Responses, Messages and embeddings.

One fast fake upstream (``_api_upstream.py``) answers every API; one satisfice gateway (durable ledger, virtual
key) has a chat-only upstream (``chat-model``: Responses and Messages are translated) and the same upstream
declared as speaking every API (``native-model``: pass-through). Each target, and each upstream endpoint a
target ends at, is measured with wrk at a fixed rate, in ``rounds`` rounds: every round measures all of them once,
in an order rotated by one place per round, so each API is measured early and late alike and a drift of the
machine (warm-up, other processes) falls on every API. A target's overhead in a round is its p50/p99 minus that
of the upstream endpoint it ends at (the chat endpoint for translated calls, the API's own for pass-through) in
the same round; ``vs_chat`` is the paired difference with the chat target's overhead in that round. Reported:
the median over rounds, and the range (min, max) of the rounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _load import wrk_run
from _procs import CpuMeter, Proc, Procs, free_port
from _targets import SATISFICE_CLI, _env, _find_key

ALL = "[chat, completions, messages, responses, embeddings]"
CONFIG = """\
auth: true
upstreams:
  - {{name: chatonly, base_url: "{base}", timeout_s: 30, models: [chat-model],
     prices: {{chat-model: {{input_per_m: 0.1, output_per_m: 0.2}}}}}}
  - {{name: native, base_url: "{base}", timeout_s: 30, models: [native-model], apis: {all},
     prices: {{native-model: {{input_per_m: 0.1, output_per_m: 0.2}}}}}}
"""
HI = [{"role": "user", "content": "Say ok."}]
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": ("/chat/completions", {"messages": HI, "max_tokens": 5}),
    "responses": ("/responses", {"input": "Say ok.", "max_output_tokens": 5}),
    "messages": ("/messages", {"messages": HI, "max_tokens": 5}),
    "embeddings": ("/embeddings", {"input": "Say ok."}),
}
TARGETS = [("chat", "chat-model", "chat"), ("responses", "chat-model", "chat"),
           ("messages", "chat-model", "chat"), ("responses", "native-model", "responses"),
           ("messages", "native-model", "messages"), ("embeddings", "native-model", "embeddings")]
"""(API, model, upstream endpoint it ends at)."""


def _body(api: str, model: str) -> bytes:
    return json.dumps({"model": model, **BODIES[api][1]}, separators=(",", ":")).encode()


def translation_us(repeats: int = 7, number: int = 2000) -> dict[str, float]:
    """CPU cost in microseconds (best of ``repeats``) of translating one request and its whole answer, in process.

    What the translated paths add to the chat path's work, free of the network and of other processes' noise.
    """
    import timeit

    from satisfice.gateway.apis import translate_messages as tm
    from satisfice.gateway.apis import translate_responses as tr

    answer = {"id": "c", "created": 1, "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                                    "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 12, "completion_tokens": 1}}
    messages = {"model": "m", "max_tokens": 5, "system": "Be brief.", "messages": HI}
    responses = {"model": "m", "input": "Say ok.", "instructions": "Be brief.", "max_output_tokens": 5}
    cases = {"messages": lambda: tm.from_chat(answer, tm.to_chat(messages)["model"]),
             "responses": lambda: tr.from_chat(answer, responses) if tr.to_chat(responses) else None}
    return {name: round(min(timeit.repeat(fn, repeat=repeats, number=number)) / number * 1e6, 1)
            for name, fn in cases.items()}


def _name(api: str, ends_at: str) -> str:
    return "chat" if api == "chat" else f"{api}_{'translated' if ends_at == 'chat' else 'passthrough'}"


def rotated(items: list[Any], round_no: int) -> list[Any]:
    """``items`` starting at place ``round_no`` (mod their number), wrapping around."""
    k = round_no % len(items)
    return items[k:] + items[:k]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return round(ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2, 3)


def summarize(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The report from each round's measurements (``direct:<endpoint>`` and the targets): medians and ranges."""
    report: dict[str, Any] = {}
    per_round: list[dict[str, dict[str, float]]] = []
    for got in rounds:
        paired: dict[str, dict[str, float]] = {}
        for api, _, ends_at in TARGETS:
            via, direct = got[_name(api, ends_at)], got[f"direct:{ends_at}"]
            paired[_name(api, ends_at)] = {"overhead_p50_ms": via["p50_ms"] - direct["p50_ms"],
                                           "overhead_p99_ms": via["p99_ms"] - direct["p99_ms"],
                                           "direct_p50_ms": direct["p50_ms"], "direct_p99_ms": direct["p99_ms"]}
        for m in paired.values():
            m["vs_chat_p50_ms"] = m["overhead_p50_ms"] - paired["chat"]["overhead_p50_ms"]
        per_round.append(paired)
    for api, _, ends_at in TARGETS:
        name = _name(api, ends_at)
        out: dict[str, Any] = {}
        for field in ("p50_ms", "p99_ms", "rate", "foreign_cpu_pct", "gateway_cpu_ms_per_request"):
            values = [got[name][field] for got in rounds if got[name].get(field) is not None]
            out[field] = _median(values) if values else None
        for field in ("direct_p50_ms", "direct_p99_ms", "overhead_p50_ms", "overhead_p99_ms", "vs_chat_p50_ms"):
            values = [paired[name][field] for paired in per_round]
            out[field] = _median(values)
            if field in ("overhead_p50_ms", "vs_chat_p50_ms"):
                out[f"{field}_range"] = [round(min(values), 3), round(max(values), 3)]
                out[f"{field}_rounds"] = [round(v, 3) for v in values]
        cpu = [got[name]["gateway_cpu_ms_per_request"] - got["chat"]["gateway_cpu_ms_per_request"] for got in rounds
               if got[name].get("gateway_cpu_ms_per_request") is not None
               and got["chat"].get("gateway_cpu_ms_per_request") is not None]
        out["vs_chat_cpu_ms"] = _median(cpu) if cpu else None
        report[name] = out
    last = rounds[-1]["chat"]  # kept for older readers: the chat target in the last round alone
    report["chat_last"] = {**last, **{k: round(v, 3) for k, v in per_round[-1]["chat"].items()}}
    return report


def run_apis(workdir: Path, *, duration: float, rate: float, connections: int, sut_cpus: list[int] | None,
             load_cpus: list[int] | None, log: Any, rounds: int = 5, warmup: float = 2.0) -> dict[str, Any]:
    """Measure every target and upstream endpoint in ``rounds`` rotated rounds; the ``apis`` report (ms)."""
    here = Path(__file__).resolve().parent
    with Procs(workdir) as procs:
        port = free_port()
        upstream = procs.start("api_upstream", [sys.executable, str(here / "_api_upstream.py"), "--port",
                                                str(port)], cpus=load_cpus)
        upstream.wait_http(f"http://127.0.0.1:{port}/v1/models", timeout_s=20)
        base = f"http://127.0.0.1:{port}/v1"
        home = workdir / "apis-home"
        home.mkdir(exist_ok=True)
        env: dict[str, str | None] = {"SATISFICE_HOME": str(home), "SATISFICE_NO_BUNDLED": "1", "SATISFICE_DB": None}
        config = workdir / "apis.yaml"
        config.write_text(CONFIG.format(base=base, all=ALL), encoding="utf-8")
        made = subprocess.run([*SATISFICE_CLI, "gateway", "keys", "create", "--budget-usd", "1000000", "--json"],
                              capture_output=True, text=True, env=_env(env), timeout=120, check=False)
        key = _find_key(json.loads(made.stdout)) if made.returncode == 0 and made.stdout.strip() else None
        if key is None:
            raise RuntimeError(f"gateway keys create failed: {(made.stderr or made.stdout)[-500:]}")
        gw_port = free_port()
        gateway = procs.start("apis_gateway", [*SATISFICE_CLI, "gateway", "serve", "--config", str(config), "--port",
                                               str(gw_port)], env=env, cpus=sut_cpus)
        gateway.wait_http(f"http://127.0.0.1:{gw_port}/healthz", timeout_s=60)

        def measure(url: str, body: bytes, headers: dict[str, str], sut: Proc | None = None) -> dict[str, Any]:
            if warmup > 0:
                wrk_run(url, body, headers, duration_s=warmup, connections=connections, rate=rate, workdir=workdir,
                        cpus=load_cpus)
            with CpuMeter(procs, sut) as cpu:
                result = wrk_run(url, body, headers, duration_s=duration, connections=connections, rate=rate,
                                 workdir=workdir, cpus=load_cpus)
            if result.error_count:
                raise RuntimeError(f"{url}: {result.error_count} failed requests")
            out: dict[str, Any] = {"p50_ms": round(result.p50_ms or 0.0, 3), "p99_ms": round(result.p99_ms or 0.0, 3),
                                   "rate": round(result.rps, 1), "foreign_cpu_pct": cpu.result.get("foreign_pct")}
            if sut is not None and result.requests:
                out["gateway_cpu_ms_per_request"] = round(1000 * cpu.result["sut_cpu_s"] / result.requests, 3)
            return out

        auth = {"Authorization": f"Bearer {key}"}
        items: list[tuple[str, str, bytes, dict[str, str], Proc | None]] = []
        for ends_at in dict.fromkeys(t[2] for t in TARGETS):
            items.append((f"direct:{ends_at}", base + BODIES[ends_at][0], _body(ends_at, "bench-model"), {}, None))
        for api, model, ends_at in TARGETS:
            items.append((_name(api, ends_at), f"http://127.0.0.1:{gw_port}/v1{BODIES[api][0]}", _body(api, model),
                          auth, gateway))
        measured: list[dict[str, dict[str, Any]]] = []
        for round_no in range(rounds):
            got: dict[str, dict[str, Any]] = {}
            for name, url, body, headers, sut in rotated(items, round_no):
                log(f"apis: round {round_no + 1}/{rounds}: {name}")
                got[name] = measure(url, body, headers, sut)
            measured.append(got)
    return summarize(measured)


__all__ = ["TARGETS", "rotated", "run_apis", "summarize"]
