#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on 127.0.0.1 and SATISFICE_TEST_PG_URL pointing at it.
# Installs Debian's postgresql when missing (root), runs the server as the 'postgres' user, removes it afterwards.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PGBIN" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
fi
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL server not available; cannot run the PostgreSQL tests" >&2
  exit 1
fi
RUNAS=()
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); fi
DIR=$(mktemp -d /tmp/satisfice-pg.XXXXXX)
chmod 777 "$DIR"
PORT=${PGPORT_TEST:-$((20000 + RANDOM % 20000))}
cleanup() { "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
"${RUNAS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" \
  -l "$DIR/log" -w start >/dev/null
export SATISFICE_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
"$@"
