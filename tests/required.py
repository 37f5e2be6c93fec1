"""Pytest plugin: in CI a skipped browser, local-model or client-SDK test fails, naming what is missing.

Loaded by ``tests/conftest.py``. CI sets ``CI=true`` (or ``SATISFICE_REQUIRE_ALL=1``); a skip whose reason starts
with "opt-in" (tests a user asks for) stays a skip.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Tests that need an installed browser, local model or client SDK (openai-agents, langchain-openai, litellm: in the
# dev extras): in CI their skips become failures, so a missing install (Chromium, xllamacpp, a GGUF package, a
# client SDK) can never pass silently. Opt-in tests (reason "opt-in: ...") stay skipped.
REQUIRED_MARKERS = ("browser", "local_model")
REQUIRED_WORDS = ("chromium", "xllamacpp", "local model", "gguf", "client sdk")


def _require_all() -> bool:
    flag = os.environ.get("SATISFICE_REQUIRE_ALL", os.environ.get("CI", ""))
    return flag.strip().lower() in {"1", "true", "yes"}


def required_skip(marker_names: set[str], reason: str) -> bool:
    """Whether a skip with this reason, of a test with these markers, must fail in CI."""
    if reason.lower().startswith("opt-in"):
        return False
    text = reason.lower()
    return bool(marker_names & set(REQUIRED_MARKERS)) or any(w in text for w in REQUIRED_WORDS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI, turn the skip of a browser or local-model test into a failure naming what is missing."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and _require_all()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    if required_skip({m.name for m in item.iter_markers()}, reason):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid}: required in CI but skipped ({reason}). Run `bash scripts/setup.sh` as "
                           "root so it installs Debian's chromium and the local-model packages, or unset CI / "
                           "SATISFICE_REQUIRE_ALL to allow the skip.")
