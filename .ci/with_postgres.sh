#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb in a temp dir, the server on a free
# loopback port (no unix socket outside the temp dir), DATABASE_URL exported for the command, and
# the cluster stopped and deleted afterwards whatever the command's outcome. As root, the cluster
# runs as the `postgres` user (PostgreSQL refuses to run as root).
# Usage: .ci/with_postgres.sh COMMAND...    (Debian's postgresql package: `make system-deps`)
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
test -x "$BIN/initdb" || { echo "with_postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }
DIR=$(mktemp -d /tmp/grpo-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
stop() {
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT
as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 2; }
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 2; }
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres grpo
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/grpo"
echo "with_postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
