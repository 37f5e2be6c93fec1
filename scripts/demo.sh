#!/usr/bin/env bash
# Set up what the demo needs (the virtual env; no browser), then run the main job: cost at fixed performance on
# the bundled catalog. The store is the CLI's own: SATISFICE_HOME if set, else ~/.satisfice (printed below).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "store: ${SATISFICE_DB:-${SATISFICE_HOME:-$HOME/.satisfice}} (the CLI's default; set SATISFICE_HOME to use another)"
mkdir -p out
satisfice market frontier --benchmark gpqa-diamond --threshold 70 --chart out/frontier-gpqa70.png
