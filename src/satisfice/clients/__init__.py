"""Model clients: adapters from ``CompletionRequest`` to a provider, and :func:`make_client` to pick one.

``openai_compat`` speaks HTTP to any OpenAI-compatible endpoint (over the shared ``http`` transport),
``local`` runs the PyPI-shipped GGUF models in-process, ``scripted`` is a scripted client for tests (the test
servers ``scripted_server`` and ``scripted_wire`` live in the source tree only, not in the wheel).
Importing this package loads no model and opens no connection.
"""

from __future__ import annotations

from satisfice.clients.http import HttpTransport, RawResponse, StreamResponse, error_for_status
from satisfice.core import ModelClient, ModelRef
from satisfice.errors import ConfigError


def make_client(ref: ModelRef, *, transport: HttpTransport | None = None, timeout_s: float = 60.0,
                max_connections: int | None = None) -> ModelClient:
    """The client that serves ``ref``, built by the provider ``ref.provider`` names.

    ``local`` runs in-process (:class:`~satisfice.clients.local.LocalModelClient`; priced per token at its
    self-hosted calibration, like any model); ``openai_compat`` is an
    OpenAI-compatible endpoint and needs ``ref.base_url``; other providers come from entry points.
    ``max_connections`` is how many requests the caller keeps in flight to this model: a client that opens its
    own transport allows that many connections (never the transport's default cap of 100 instead).

    Raises:
        ConfigError: an unknown provider or local model, or a remote model without ``base_url``.
    """
    from satisfice.clients.providers import ClientOptions, provider

    entry = provider(ref)
    if entry.needs_endpoint and not ref.base_url:
        raise ConfigError(f"model {ref.id!r} has no base_url: give the endpoint that serves it "
                          "(or use a local/... model)")
    return entry.factory(ref, ClientOptions(transport, timeout_s, max_connections))


__all__ = ["HttpTransport", "RawResponse", "StreamResponse", "error_for_status", "make_client"]
