#!/usr/bin/env bash
# Set everything up, then lint, type-check, check import directions and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check --no-cache src tests benchmarks examples
echo "== mypy"; mypy
echo "== import-linter"; lint-imports
echo "== mkdocs build --strict"; NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
echo "== pytest"
set +e
pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest ran no tests: failing" >&2; exit 1; fi
[ "$rc" -eq 0 ] || exit "$rc"
if [ "${SATISFICE_SKIP_PG:-0}" != 1 ]; then
  echo "== pytest -m db on a real PostgreSQL server"
  set +e
  bash scripts/with_postgres.sh pytest -q -p no:cacheprovider -m db
  rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then echo "no database tests ran on PostgreSQL: failing" >&2; exit 1; fi
fi
exit "$rc"
