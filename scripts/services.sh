#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster and Redis server for tests and benchmarks.
#   scripts/services.sh start [DIR]   -> prints BASTION_TEST_POSTGRES_URL / BASTION_TEST_REDIS_URL
#   scripts/services.sh stop  [DIR]
# Needs Debian's postgresql and redis-server packages (apt-get install -y postgresql redis-server).
set -euo pipefail
DIR="${2:-/tmp/bastion-services}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found; apt-get install -y postgresql" >&2; exit 2; }
  command -v redis-server >/dev/null || { echo "redis-server not found; apt-get install -y redis-server" >&2; exit 2; }
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -U postgres -A trust >/dev/null
  fi
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w \
    -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  echo "BASTION_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "BASTION_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  [ -f "$DIR/pg/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null || true
  [ -f "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
