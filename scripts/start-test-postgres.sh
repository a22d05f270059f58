#!/usr/bin/env bash
# Start (or reuse) a PostgreSQL server on 127.0.0.1:55432 for the test suite; print its URL.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
DATA=${ARTLINEAGE_PGDATA:-/tmp/artlineage-pg}
PORT=55432
URL="postgresql://artlineage:artlineage@127.0.0.1:${PORT}/artlineage_test"
run() { if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if ! run "$PGBIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DATA"; [ "$(id -u)" = "0" ] && chown postgres "$DATA"
    run "$PGBIN/initdb -D $DATA -A trust -U postgres" >/dev/null
  fi
  run "$PGBIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l $DATA/log -w start" >/dev/null
fi
run "$PGBIN/psql -h 127.0.0.1 -p $PORT -U postgres -tAc \"SELECT 1 FROM pg_roles WHERE rolname='artlineage'\"" | grep -q 1 \
  || run "$PGBIN/psql -h 127.0.0.1 -p $PORT -U postgres -c \"CREATE ROLE artlineage LOGIN PASSWORD 'artlineage' SUPERUSER\"" >/dev/null
run "$PGBIN/psql -h 127.0.0.1 -p $PORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='artlineage_test'\"" | grep -q 1 \
  || run "$PGBIN/createdb -h 127.0.0.1 -p $PORT -U postgres -O artlineage artlineage_test" >/dev/null
echo "$URL"
