"""Custom Python scorers: import ``module:function`` (from the task's folder first) and check what it returns."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satisfice.core import Completion, Score
from satisfice.errors import ConfigError
from satisfice.tasks.datasets import Sample


def _load_function(ref: str, base_dir: Path) -> Callable[..., Any]:
    """Import ``module:function``; a module file in ``base_dir`` wins over the Python path."""
    module_name, func_name = ref.split(":", 1)
    base = str(base_dir)
    local = base_dir / (module_name.replace(".", "/") + ".py")
    added = base not in sys.path
    if added:
        sys.path.insert(0, base)
    try:
        if "." not in module_name and local.is_file():
            private = f"_satisfice_scorer_{hashlib.sha1(str(local.resolve()).encode()).hexdigest()[:12]}"
            module = sys.modules.get(private)
            if module is None:
                spec = importlib.util.spec_from_file_location(private, local)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[private] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[private]
                    raise
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"custom scorer {ref!r}: cannot import {module_name!r} from {base} or the Python "
                          f"path: {exc}") from None
    except Exception as exc:  # the user's module raised while importing: report it as a config problem
        raise ConfigError(f"custom scorer {ref!r}: importing {module_name!r} failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    finally:
        if added and base in sys.path:
            sys.path.remove(base)
    function = getattr(module, func_name, None)
    if not callable(function):
        raise ConfigError(f"custom scorer {ref!r}: {module_name!r} has no function {func_name!r}")
    return function  # type: ignore[no-any-return]


def as_score(value: Any, *, where: str) -> Score:
    """A custom scorer's result as a Score: bool -> 0/1, number in [0, 1], or a Score.

    Raises:
        ValueError: For values outside [0, 1], NaN, or other types.
    """
    if isinstance(value, Score):
        score = value
    elif isinstance(value, bool):
        score = Score(float(value))
    elif isinstance(value, int | float):
        score = Score(float(value))
    else:
        raise ValueError(f"{where} returned {type(value).__name__}; return a float, a bool or a Score")
    if math.isnan(score.value) or not 0.0 <= score.value <= 1.0:
        raise ValueError(f"{where} returned {score.value!r}; scores must lie in [0, 1]")
    return score


class CustomScorer:
    """A user function ``(sample, completion) -> float | bool | Score`` (sync or async); options as keywords."""

    def __init__(self, ref: str, options: dict[str, Any], base_dir: Path) -> None:
        self.ref = ref
        self.function = _load_function(ref, base_dir)
        self.options = options
        self.needs_reference = bool(getattr(self.function, "needs_reference", True))

    async def __call__(self, sample: Sample, completion: Completion) -> Score:
        """Call the user's function and check its result."""
        result = self.function(sample, completion, **self.options)
        if inspect.isawaitable(result):
            result = await result
        return as_score(result, where=f"custom scorer {self.ref!r}")


__all__ = ["CustomScorer", "as_score"]
