#!/usr/bin/env bash
# Install the tools benchmarks/gateway_overhead.py needs: Debian's wrk and hey (load generators) and the LiteLLM
# proxy in its own venv at .bench-venv/litellm (never in the project's .venv). Idempotent: does nothing when all
# three are already there. Needs root (or sudo) for apt-get, and PyPI + Debian package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v hey >/dev/null 2>&1 || missing+=(hey)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup_bench: installing ${missing[*]} from Debian" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=.bench-venv/litellm
stamp=$venv/.litellm-installed
if [ ! -f "$stamp" ]; then
  echo "setup_bench: installing litellm[proxy] into $venv (about a minute, ~740 MB)" >&2
  [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q 'litellm[proxy]'
  touch "$stamp"
fi
echo "setup_bench: wrk $(command -v wrk), hey $(command -v hey), litellm $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"

# Peer gateways measured side by side: TensorZero (its PyPI wheel embeds the Rust gateway) and Portkey (npm, Node).
tz=.bench-venv/tensorzero
if [ ! -f "$tz/.tensorzero-installed" ]; then
  echo "setup_bench: installing tensorzero into $tz" >&2
  [ -x "$tz/bin/python" ] || "$PY" -m venv "$tz"
  "$tz/bin/python" -m pip install -q 'tensorzero'
  touch "$tz/.tensorzero-installed"
fi
pk=.bench-venv/portkey
if command -v npm >/dev/null 2>&1 && [ ! -f "$pk/node_modules/@portkey-ai/gateway/build/start-server.js" ]; then
  echo "setup_bench: installing @portkey-ai/gateway into $pk (npm)" >&2
  mkdir -p "$pk"
  (cd "$pk" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install -q --no-audit --no-fund @portkey-ai/gateway >/dev/null)
fi
echo "setup_bench: tensorzero $("$tz/bin/python" -c 'import importlib.metadata as m; print(m.version("tensorzero"))'), portkey $([ -f "$pk/node_modules/@portkey-ai/gateway/package.json" ] && node -p "require('./$pk/node_modules/@portkey-ai/gateway/package.json').version" || echo missing)"
