#!/usr/bin/env bash
# A throwaway PostgreSQL server (Debian's postgresql package) on 127.0.0.1 only, in a temporary folder;
# several `hwprof search` workers share one study in it (bench/search_postgres.py); the server is then
# stopped and its folder removed. Needs root (to install the package and run the server as `postgres`)
# and the driver: pip install 'hwprof[postgres]' (psycopg 3).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
    apt-get update && apt-get install -y postgresql
fi
PG_BIN=$(pg_bin)
"$PYTHON" -c "import psycopg" 2>/dev/null || "$PYTHON" -c "import psycopg2" 2>/dev/null || {
    echo "no PostgreSQL driver for Python: pip install 'hwprof[postgres]'" >&2; exit 1; }

WORK=$(mktemp -d /tmp/hwprof-postgres.XXXXXX)
chown postgres "$WORK"
PORT=${PORT:-$("$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
as_postgres() { runuser -u postgres -- "$@"; }
stop() {
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap stop EXIT

echo bench-only > "$WORK/password" && chown postgres "$WORK/password" && chmod 600 "$WORK/password"
as_postgres "$PG_BIN/initdb" -D "$WORK/data" -U hwprof -A scram-sha-256 --pwfile="$WORK/password" >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$WORK"
PGPASSWORD=bench-only as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U hwprof hwprof
export PG_VERSION=$("$PG_BIN/postgres" --version)
echo "server: $PG_VERSION on 127.0.0.1:$PORT"
"$PYTHON" bench/search_postgres.py --url "postgresql://hwprof:bench-only@127.0.0.1:$PORT/hwprof" "$@"
