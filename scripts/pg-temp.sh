#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local runs (never the system cluster).
#
#   scripts/pg-temp.sh start DIR [PORT]   initdb into DIR/data if needed, start it on 127.0.0.1:PORT
#                                         (a free port when PORT is omitted), create the database
#                                         `replicator`, write the DSN to DIR/dsn
#   scripts/pg-temp.sh dsn DIR            print the DSN of a started cluster
#   scripts/pg-temp.sh stop DIR           stop the cluster (idempotent; the data stays for reuse)
#   scripts/pg-temp.sh destroy DIR        stop it and delete DIR
#
# Works as a normal user and as root (initdb refuses root: the cluster then belongs to the
# `postgres` user and is run through runuser). Listens on 127.0.0.1 only, no Unix socket, trust
# authentication (loopback only; a test cluster), fsync and everything else at their defaults.
# PG_BINDIR overrides where initdb/pg_ctl are looked up.
set -euo pipefail

die() {
  echo "pg-temp: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR | dsn DIR | destroy DIR" >&2
  exit 2
}

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    echo "$PG_BINDIR"
    return
  fi
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && best=$d  # the glob sorts versions; 10+ all have two digits
  done
  if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then best=$(dirname "$(command -v initdb)"); fi
  [ -n "$best" ] || die "no PostgreSQL server binaries found (install the 'postgresql' package or set PG_BINDIR)"
  echo "$best"
}

# Runs a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() {
  # A successful TCP connect means something listens there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_port() {
  echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# The data directory: DIR/data, or (as root, when `postgres` cannot reach DIR) a directory under
# /tmp whose path is remembered in DIR/datadir.
data_dir_of() {
  local dir=$1
  if [ -f "$dir/datadir" ]; then cat "$dir/datadir"; else echo "$dir/data"; fi
}

is_running() {
  local data=$1
  [ -f "$data/postmaster.pid" ] || return 1
  as_owner "$BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1
}

psql_admin() {
  local port=$1
  shift
  "$BINDIR/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

init_cluster() {
  local dir=$1 data
  data="$dir/data"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (package postgresql creates it)"
    if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
      # A parent of DIR is closed to postgres (e.g. /root): keep the cluster under /tmp.
      data=$(mktemp -d /tmp/replicator-pg.XXXXXX)
      echo "$data" >"$dir/datadir"
    fi
    mkdir -p "$data"
    chown postgres: "$data"
    chmod 700 "$data"
  fi
  echo "pg-temp: initdb $data"
  as_owner "$BINDIR/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  }
  {
    echo "# pg-temp.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = ''"
    echo "max_connections = 100"
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
  } | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

start() {
  local dir port_arg=${2:-} data log port attempt
  dir=$(abs_dir "$1")
  data=$(data_dir_of "$dir")
  [ -f "$data/PG_VERSION" ] || init_cluster "$dir"
  data=$(data_dir_of "$dir")
  log="$data/server.log"

  if is_running "$data"; then
    port=$(cat "$dir/port")
    echo "pg-temp: already running on 127.0.0.1:$port"
  else
    rm -f "$dir/dsn"
    for attempt in $(seq 1 20); do
      if [ -n "$port_arg" ]; then
        port=$port_arg
      else
        port=$(random_port)
        port_in_use "$port" && continue
      fi
      if as_owner "$BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start >/dev/null; then
        break
      fi
      if [ -n "$port_arg" ] || ! grep -q "could not bind" "$log" 2>/dev/null; then
        tail -n 20 "$log" >&2 || true
        die "could not start PostgreSQL in $data (log: $log)"
      fi
      echo "pg-temp: port $port taken, trying another (attempt $attempt)" >&2
      port=""
    done
    [ -n "$port" ] || die "no free port found"
    echo "$port" >"$dir/port"
    echo "pg-temp: started on 127.0.0.1:$port (data $data)"
  fi

  if [ -z "$(psql_admin "$port" -Atc "select 1 from pg_database where datname = 'replicator'")" ]; then
    psql_admin "$port" -c "create database replicator"
  fi
  echo "host=127.0.0.1 port=$port dbname=replicator user=postgres" >"$dir/dsn.tmp"
  mv "$dir/dsn.tmp" "$dir/dsn"
  cat "$dir/dsn"
}

stop() {
  local dir=$1 data
  [ -d "$dir" ] || {
    echo "pg-temp: $dir does not exist, nothing to stop"
    return 0
  }
  dir=$(cd "$dir" && pwd)
  data=$(data_dir_of "$dir")
  rm -f "$dir/dsn"
  if is_running "$data"; then
    as_owner "$BINDIR/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    echo "pg-temp: stopped $data"
  else
    echo "pg-temp: not running"
  fi
}

destroy() {
  local dir=$1 data
  stop "$dir"
  [ -d "$dir" ] || return 0
  data=$(data_dir_of "$dir")
  [ "$data" = "$dir/data" ] || rm -rf "$data"
  rm -rf "$dir"
  echo "pg-temp: removed $dir"
}

[ $# -ge 2 ] || usage
BINDIR=$(find_bindir)
cmd=$1
shift
case "$cmd" in
  start) [ $# -le 2 ] || usage; start "$@" ;;
  stop) [ $# -eq 1 ] || usage; stop "$1" ;;
  destroy) [ $# -eq 1 ] || usage; destroy "$1" ;;
  dsn)
    [ $# -eq 1 ] || usage
    [ -f "$1/dsn" ] || die "no cluster started in $1 (run: $0 start $1)"
    cat "$1/dsn"
    ;;
  *) usage ;;
esac
