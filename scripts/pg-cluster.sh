#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `source scripts/pg-cluster.sh start` creates it
# under a temporary directory, starts it on 127.0.0.1 (port $DRGDIP_PG_PORT, default 54329) and
# exports DRGDIP_TEST_PG_URL; `scripts/pg-cluster.sh stop` (same DRGDIP_PG_PORT) stops it and
# removes the directory.
# Installs Debian's `postgresql` when no server is found (CI runs as root; the server itself
# runs as the unprivileged user `postgres`, which the package creates).
set -euo pipefail
PORT="${DRGDIP_PG_PORT:-54329}"
STATE=/tmp/drgdip-pg-cluster.$PORT.dir   # one per port: builders side by side keep apart

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bindir dir
  if ! bindir="$(find_bindir)"; then
    echo "== installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
    bindir="$(find_bindir)"
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  fi
  dir="$(mktemp -d /tmp/drgdip-pg.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -U drgdip --auth=trust -E UTF8 --no-locale >/dev/null
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$dir -c max_connections=200 -c fsync=off" start >/dev/null
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$PORT" -U drgdip drgdip
  echo "$bindir $dir" > "$STATE"
  export DRGDIP_TEST_PG_URL="postgres://drgdip@127.0.0.1:$PORT/drgdip"
  echo "== PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($dir)"
}

stop() {
  [ -f "$STATE" ] || return 0
  local bindir dir
  read -r bindir dir < "$STATE"
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir" "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: source scripts/pg-cluster.sh start | scripts/pg-cluster.sh stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
