"""``module:function`` references in config files, imported relative to the file that names them.

One rule for task files (custom scorers) and gateway configs (custom verifiers): a module file next to the
config file wins over the Python path (it is imported under a private name, so two folders may each have
their own ``checks.py``); otherwise the module is imported from the Python path.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satisfice.errors import ConfigError

_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def is_ref(text: str) -> bool:
    """True when ``text`` looks like ``module:function`` (dotted module allowed)."""
    return _REF.match(text) is not None


def _import_beside(module_name: str, base_dir: Path) -> Any:
    local = base_dir / (module_name.replace(".", "/") + ".py")
    if "." in module_name or not local.is_file():
        return None
    private = f"_satisfice_ref_{hashlib.sha1(str(local.resolve()).encode()).hexdigest()[:12]}"
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
    return module


def load_function(ref: str, *, base_dir: Path | None, what: str) -> Callable[..., Any]:
    """Import ``module:function`` named by a config file in ``base_dir`` (its folder is searched first).

    Args:
        ref: ``module:function``.
        base_dir: The folder of the file that names ``ref`` (None: the Python path only).
        what: What the function is, for messages (``custom scorer``, ``custom verifier``).

    Raises:
        ConfigError: A malformed reference, a module that cannot be imported or raises while importing, or a
            missing function.
    """
    if not is_ref(ref):
        raise ConfigError(f"{what} {ref!r} must look like 'module:function' (e.g. 'my_checks:check')")
    module_name, func_name = ref.split(":", 1)
    base = str(base_dir) if base_dir is not None else None
    added = base is not None and base not in sys.path
    if added:
        sys.path.insert(0, str(base))
    try:
        module = _import_beside(module_name, base_dir) if base_dir is not None else None
        if module is None:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        place = f"{base} or the Python path" if base is not None else "the Python path"
        raise ConfigError(f"{what} {ref!r}: cannot import {module_name!r} from {place}: {exc}") from None
    except Exception as exc:  # the user's module raised while importing: a config problem, named as such
        raise ConfigError(f"{what} {ref!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if added and base in sys.path:
            sys.path.remove(str(base))
    function = getattr(module, func_name, None)
    if not callable(function):
        raise ConfigError(f"{what} {ref!r}: {module_name!r} has no function {func_name!r}")
    return function  # type: ignore[no-any-return]


__all__ = ["is_ref", "load_function"]
