"""Model clients: adapters from ``CompletionRequest`` to a provider, and :func:`make_client` to pick one.

``openai_compat`` speaks HTTP to any OpenAI-compatible endpoint (over the shared ``http`` transport),
``local`` runs the PyPI-shipped GGUF models in-process, ``scripted`` / ``scripted_server`` are test tools.
Importing this package loads no model and opens no connection.
"""

from __future__ import annotations

from satisfice.clients.http import HttpTransport, RawResponse, StreamResponse, error_for_status
from satisfice.core import ModelClient, ModelRef
from satisfice.errors import ConfigError

LOCAL_PREFIX = "local/"


def make_client(ref: ModelRef, *, transport: HttpTransport | None = None,
                machine_usd_per_hour: float | None = None, timeout_s: float = 60.0) -> ModelClient:
    """The client that serves ``ref``.

    ``local/...`` ids run in-process (:class:`~satisfice.clients.local.LocalModelClient`, priced at
    ``machine_usd_per_hour``, default from ``SATISFICE_MACHINE_USD_PER_HOUR``); anything else is an
    OpenAI-compatible endpoint and needs ``ref.base_url``.

    Raises:
        ConfigError: an unknown local model, or a remote model without ``base_url``.
    """
    if ref.id.startswith(LOCAL_PREFIX) and not ref.base_url:
        from satisfice.clients.local import LocalModelClient

        return LocalModelClient(ref, machine_usd_per_hour=machine_usd_per_hour)
    if not ref.base_url:
        raise ConfigError(f"model {ref.id!r} has no base_url: give the endpoint that serves it "
                          "(or use a local/... model)")
    from satisfice.clients.openai_compat import OpenAICompatClient

    return OpenAICompatClient(ref, transport=transport, timeout_s=timeout_s)


__all__ = ["HttpTransport", "RawResponse", "StreamResponse", "error_for_status", "make_client"]
