#!/usr/bin/env bash
# Starts (or stops) the local PostgreSQL 15 cluster used by the store tests, and makes sure the
# `clavis` test role exists. Prints the URL to use on `start`.
#   scripts/postgres.sh start   -> echoes postgres://clavis:clavis@127.0.0.1:5432/postgres
#   scripts/postgres.sh stop
set -euo pipefail
cmd=${1:-start}
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi; }
case "$cmd" in
  start)
    if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then
      pg_createcluster 15 main >/dev/null
    fi
    if ! pg_lsclusters -h | grep -q '^15 *main .* online'; then
      # To stderr: pg_ctlcluster prints notes such as "Removed stale pid file." on stdout, and
      # the caller captures this script's stdout as the URL.
      pg_ctlcluster 15 main start >&2
    fi
    for _ in $(seq 1 30); do as_pg psql -qAtc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
    as_pg psql -qAtc "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clavis') THEN
          CREATE ROLE clavis LOGIN PASSWORD 'clavis' CREATEDB;
        END IF; END \$\$;" >/dev/null
    # Drop databases left by earlier test runs.
    for db in $(as_pg psql -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'clavis_t_%'"); do
      as_pg psql -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null
    done
    echo "postgres://clavis:clavis@127.0.0.1:5432/postgres"
    ;;
  stop)
    pg_ctlcluster 15 main stop 2>/dev/null || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
