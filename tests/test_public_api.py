from __future__ import annotations

import subprocess
import sys

import satisfice


def test_every_name_in_all_resolves() -> None:
    for name in satisfice.__all__:
        assert getattr(satisfice, name) is not None, name


def test_lazy_names_are_listed_in_all() -> None:
    assert set(satisfice._LAZY) <= set(satisfice.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        satisfice.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_cheap_and_side_effect_free(tmp_path) -> None:
    code = (
        "import sys, satisfice; "
        "heavy = [m for m in ('sqlalchemy', 'scipy', 'aiohttp', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    env = {"SATISFICE_HOME": str(tmp_path / "home"), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == ""
    assert not (tmp_path / "home").exists()


def test_the_package_never_imports_test_only_dependencies() -> None:
    """httpx is a test dependency (dev extra): nothing under src/ may import it."""
    import re
    from pathlib import Path

    src = Path(satisfice.__file__).parent
    pattern = re.compile(r"^\s*(import httpx|from httpx\b)", re.MULTILINE)
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
