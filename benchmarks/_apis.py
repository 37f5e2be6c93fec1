"""Per-API gateway overhead (``gateway_overhead.py --apis``): chat, Responses, Messages and embeddings.

One fast fake upstream (``_api_upstream.py``) answers every API; one satisfice gateway (durable ledger, virtual
key) has a chat-only upstream (``chat-model``: Responses and Messages are translated) and the same upstream
declared as speaking every API (``native-model``: pass-through). Each target is measured with wrk at a fixed
rate; its overhead is its p50/p99 minus that of the upstream endpoint it ends at (the chat endpoint for
translated calls, the API's own endpoint for pass-through), measured the same way just before.
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
           ("messages", "native-model", "messages"), ("embeddings", "native-model", "embeddings"),
           ("chat", "chat-model", "chat")]
"""(API, model, upstream endpoint it ends at); chat is measured first and again last, to show the drift."""


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


def run_apis(workdir: Path, *, duration: float, rate: float, connections: int, sut_cpus: list[int] | None,
             load_cpus: list[int] | None, log: Any) -> dict[str, Any]:
    """Measure every target; the ``apis`` report (p50/p99 and overheads in ms)."""
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
            wrk_run(url, body, headers, duration_s=2, connections=connections, rate=rate, workdir=workdir,
                    cpus=load_cpus)  # warm-up
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

        direct: dict[str, dict[str, float]] = {}
        report: dict[str, Any] = {}
        auth = {"Authorization": f"Bearer {key}"}
        for api, model, ends_at in TARGETS:
            if ends_at not in direct:
                log(f"apis: direct {ends_at}")
                direct[ends_at] = measure(base + BODIES[ends_at][0], _body(ends_at, "bench-model"), {})
            name = f"{api}_{'translated' if ends_at == 'chat' else 'passthrough'}"
            if api == "chat":
                name = "chat_last" if "chat" in report else "chat"
            log(f"apis: {name} via the gateway")
            via = measure(f"http://127.0.0.1:{gw_port}/v1{BODIES[api][0]}", _body(api, model), auth, gateway)
            report[name] = {**via, "direct_p50_ms": direct[ends_at]["p50_ms"], "direct_p99_ms":
                            direct[ends_at]["p99_ms"], "overhead_p50_ms": round(via["p50_ms"] -
                                                                               direct[ends_at]["p50_ms"], 3),
                            "overhead_p99_ms": round(via["p99_ms"] - direct[ends_at]["p99_ms"], 3)}
    chat = report["chat"]["overhead_p50_ms"]
    chat_cpu = report["chat"].get("gateway_cpu_ms_per_request")
    for m in report.values():
        m["vs_chat_p50_ms"] = round(m["overhead_p50_ms"] - chat, 3)
        if chat_cpu is not None and m.get("gateway_cpu_ms_per_request") is not None:
            m["vs_chat_cpu_ms"] = round(m["gateway_cpu_ms_per_request"] - chat_cpu, 3)
    return report


__all__ = ["run_apis"]
