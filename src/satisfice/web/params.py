"""Query parameters of the dashboard's pickers and filters, checked: a bad value is one clear line (HTTP 400)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from satisfice.core import DEFAULT_INPUT_SHARE
from satisfice.errors import ConfigError
from satisfice.market.common import check_input_share
from satisfice.market.cost import parse_tokens

DEFAULT_TOKENS_PER_DAY = 100e6
MAX_TEXT = 200


class BadParameter(ConfigError):
    """A query parameter that cannot be used (the page answers 400 with this message)."""


class Params:
    """Typed access to a request's query string."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self.query = query

    def text(self, name: str) -> str | None:
        """A trimmed string, or None when absent or empty."""
        value = self.query.get(name, "").strip()
        if len(value) > MAX_TEXT:
            raise BadParameter(f"parameter {name!r} is longer than {MAX_TEXT} characters")
        return value or None

    def number(self, name: str) -> float | None:
        """A finite number, or None when absent."""
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise BadParameter(f"parameter {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise BadParameter(f"parameter {name!r} must be a finite number, got {value!r}")
        return number

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer within [low, high]."""
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise BadParameter(f"parameter {name!r} must be a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise BadParameter(f"parameter {name!r} must lie within [{low}, {high}], got {number}")
        return number

    def date(self, name: str) -> dt.date | None:
        """An ISO date (YYYY-MM-DD), or None when absent."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise BadParameter(f"parameter {name!r} must be a date (YYYY-MM-DD), got {value!r}") from None

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        """One of ``choices``."""
        value = self.text(name) or default
        if value not in choices:
            raise BadParameter(f"parameter {name!r} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def input_share(self) -> float:
        """``input_share`` in [0, 1] (default 0.75 = 3:1 input:output)."""
        value = self.number("input_share")
        if value is None:
            return DEFAULT_INPUT_SHARE
        try:
            return check_input_share(value)
        except ConfigError as exc:
            raise BadParameter(f"parameter 'input_share': {exc}") from None

    def tokens_per_day(self) -> float:
        """``tokens_per_day`` as 100M, 2.5B, 750k or a plain number (default 100M)."""
        value = self.text("tokens_per_day")
        if value is None:
            return DEFAULT_TOKENS_PER_DAY
        try:
            return parse_tokens(value)
        except ValueError as exc:
            raise BadParameter(f"parameter 'tokens_per_day': {exc}") from None
