"""One exception tree for everything satisfice raises on purpose.

::

    SatisficeError                 user-facing; the CLI prints its message, never a traceback
    ├── ConfigError                bad settings, task file or gateway config
    ├── DataError                  bad input data (import file, dataset, outcomes table)
    ├── NotFoundError              an id that is not in the store
    └── ProviderError              a model call failed (carries retryable and status)
        ├── RateLimited            429; may carry retry_after seconds
        ├── Timeout                no answer in time
        ├── BadResponse            malformed or truncated body
        └── UpstreamUnavailable    connection refused or reset, 5xx
"""

from __future__ import annotations


class SatisficeError(Exception):
    """Base of every error satisfice raises deliberately."""


class ConfigError(SatisficeError):
    """Settings, task files or gateway configs that cannot be used."""


class DataError(SatisficeError):
    """Input data that cannot be used; the message names file, line/row and field."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        parts = []
        if file is not None:
            parts.append(str(file))
        if line is not None:
            parts.append(f"line {line}")
        if field is not None:
            parts.append(f"field {field!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.file = file
        self.line = line
        self.field = field


class NotFoundError(SatisficeError):
    """A model, benchmark, task or key that the store does not hold."""


class ProviderError(SatisficeError):
    """A model call failed; ``retryable`` says whether trying again may help."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.status = status
        if retryable is not None:
            self.retryable = retryable


class RateLimited(ProviderError):
    """HTTP 429; ``retry_after`` is the server's requested wait in seconds, if given."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Timeout(ProviderError):
    """The provider did not answer in time."""

    retryable = True


class BadResponse(ProviderError):
    """The provider answered with something that is not a valid completion."""

    retryable = True


class UpstreamUnavailable(ProviderError):
    """Connection refused or reset, or a 5xx answer."""

    retryable = True


def error_kind(exc: BaseException) -> str:
    """A failure's short kind for reports, metrics and logs.

    The snake_case class name of a satisfice error (``rate_limited``, ``timeout``, ``bad_response``,
    ``upstream_unavailable``, ``provider_error``, ...); ``error`` for anything else.
    """
    if not isinstance(exc, SatisficeError):
        return "error"
    return "".join("_" + c.lower() if c.isupper() else c for c in type(exc).__name__).lstrip("_")


__all__ = [
    "BadResponse",
    "ConfigError",
    "DataError",
    "NotFoundError",
    "ProviderError",
    "RateLimited",
    "SatisficeError",
    "Timeout",
    "UpstreamUnavailable",
    "error_kind",
]
