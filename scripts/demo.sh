#!/usr/bin/env bash
# Set everything up, then run the main job: cost at fixed performance on the bundled catalog.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export SATISFICE_HOME="${SATISFICE_HOME:-$PWD/.satisfice}"
mkdir -p out
satisfice market frontier --benchmark gpqa-diamond --threshold 70 --chart out/frontier-gpqa70.png
