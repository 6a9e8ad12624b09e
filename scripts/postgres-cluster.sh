#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for tests and benchmarks, installing PostgreSQL from
# Debian's packages if it is missing. Prints the database URL on its last line.
#
#   scripts/postgres-cluster.sh start [DIR] [PORT]   (default /tmp/hashcart-pg, 54329)
#   scripts/postgres-cluster.sh stop  [DIR]
#
# The cluster keeps PostgreSQL's durable defaults (fsync=on, synchronous_commit=on): figures
# measured on it are figures an issuer would get. It listens on 127.0.0.1 only, trusts local
# connections (it holds test data only), and runs as the `postgres` system user because
# PostgreSQL refuses to run as root.
set -euo pipefail
action=${1:-start}
dir=${2:-/tmp/hashcart-pg}
port=${3:-54329}

bin=""
for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin=$candidate; done
if [ -z "$bin" ]; then
  echo "postgres-cluster: installing PostgreSQL (Debian's postgresql package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin=$candidate; done
fi
[ -n "$bin" ] || { echo "postgres-cluster: no initdb found" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    if [ "$(id -u)" = 0 ]; then mkdir -p "$dir"; chown postgres:postgres "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'hashcart'" | grep -q 1 \
      || "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE hashcart"
    echo "postgres://postgres@127.0.0.1:$port/hashcart"
    ;;
  stop)
    as_postgres "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
