#!/usr/bin/env bash
# Starts a private PostgreSQL server for the test suite and prints the variable the tests read:
#   REVIEWBOT_TEST_POSTGRES_URL=postgresql+psycopg://reviewbot@127.0.0.1:54329/postgres
# Its own cluster (not the system one) on its own port, trust auth on loopback only, so the
# suite never touches a real database. Idempotent: a running cluster is reused.
# Needs Debian's postgresql package (scripts/install.sh --test installs it).
set -euo pipefail

PGDIR=${REVIEWBOT_PG_DIR:-/var/tmp/reviewbot-pg}
PORT=${REVIEWBOT_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $bin ]]; then
  echo "postgres: no PostgreSQL server found; run scripts/install.sh --test" >&2
  exit 1
fi

# PostgreSQL refuses to run as root: run it as the `postgres` user then.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [[ ! -s $PGDIR/data/PG_VERSION ]]; then
  mkdir -p "$PGDIR"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$PGDIR"
  as_owner "$bin/initdb" -D "$PGDIR/data" -U reviewbot --auth=trust -E UTF8 --no-locale >/dev/null
fi
if ! as_owner "$bin/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDIR -c max_connections=300 -c fsync=off" \
    >/dev/null
fi
echo "REVIEWBOT_TEST_POSTGRES_URL=postgresql+psycopg://reviewbot@127.0.0.1:$PORT/postgres"
