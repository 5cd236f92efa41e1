#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a throwaway PostgreSQL and the Actito
# simulator with generated data, runs the daemon for a few cycles while the simulator keeps
# changing data, then shows the replicated tables, the watermarks, a few rows and the metrics,
# and stops everything it started.
#   DEMO_PROFILES=20000 DEMO_RECORDS=5000 DEMO_SECONDS=25 scripts/demo.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=${DEMO_SECONDS:-25}
# The simulator's and the daemon's command lines and the job file, shared with
# deploy/docker-compose.yml: demo_sim_args, demo_daemon_args, demo_config.
# shellcheck source=scripts/demo-commands.sh
source "$root/scripts/demo-commands.sh"

bash scripts/bootstrap.sh
REPLICATOR_TARGETS="actito-replicator actito-sim" scripts/build.sh build -DREPLICATOR_WERROR=ON
bin=build/daemon/actito-replicator
sim=build/tests/actito_sim/actito-sim

work=$(mktemp -d /tmp/actito-demo.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  bash "$root/scripts/pg-temp.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port near $1" >&2; exit 1
}

echo "== PostgreSQL (throwaway cluster in $work/pg)"
bash scripts/pg-temp.sh start "$work/pg" >/dev/null
PG_DSN=$(cat "$work/pg/dsn")
export PG_DSN
psql_() { psql "$PG_DSN" -X -v ON_ERROR_STOP=1 "$@"; }

echo "== actito-sim: $demo_profiles profiles, $demo_records custom records, mutating every 2 s"
sim_port=$(free_port 18089)
"$sim" --port "$sim_port" "${demo_sim_args[@]}" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/sim.log" && break; sleep 0.1; done
head -n 1 "$work/sim.log"

admin_port=$(free_port 19464)
# The job file ($demo_config) reads these.
export ACTITO_API_KEY=sim-api-key
export REPLICATOR_LISTEN=127.0.0.1:$admin_port
export ACTITO_BASE_URL=http://127.0.0.1:$sim_port

echo "== actito-replicator check"
"$bin" check -c "$demo_config"

echo "== actito-replicator run (for $seconds s, a cycle every 5 s)"
"$bin" "${demo_daemon_args[@]}" 2>"$work/daemon.log" &
daemon=$!
pids+=($daemon)
sleep "$seconds"
curl -fsS "http://127.0.0.1:$admin_port/metrics" >"$work/metrics.txt"
curl -fsS "http://127.0.0.1:$admin_port/status" >"$work/status.json"
kill -TERM "$daemon"
wait "$daemon" || true
grep -E "cycle done|failed|stopped" "$work/daemon.log" | tail -n 12

echo
echo "== replicated tables (schema actito) vs. the simulator"
echo "   (the simulator kept mutating after the last cycle: the counts differ by its latest"
echo "    changes, never by a lost row; rows deleted in Actito are kept with _deleted_at set)"
for t in Customers Orders; do
  tbl=$(echo "$t" | sed -E 's/([a-z0-9])([A-Z])/\1_\2/g' | tr 'A-Z' 'a-z')
  n=$(psql_ -tAc "select count(*) from actito.\"$tbl\" where _deleted_at is null")
  d=$(psql_ -tAc "select count(*) from actito.\"$tbl\" where _deleted_at is not null")
  s=$(curl -fsS "http://127.0.0.1:$sim_port/_sim/tables/$t/count" | sed -E 's/.*"count":([0-9]+).*/\1/' || echo "?")
  printf '  %-12s live rows in PostgreSQL: %-7s marked deleted: %-5s rows in the simulator now: %s\n' \
    "$tbl" "$n" "$d" "$s"
done
for t in email_campaigns; do
  printf '  %-24s rows in PostgreSQL: %s\n' "$t" "$(psql_ -tAc "select count(*) from actito.\"$t\"")"
done

echo
echo "== watermarks (actito-replicator state)"
"$bin" state -c "$demo_config" --log-format text

echo
echo "== a few rows of actito.customers"
psql_ -c 'select id, email_address, first_name, updated_at, _synced_at from actito.customers order by updated_at desc limit 5'

echo
echo "== metrics that matter (/metrics)"
grep -E '^actito_replicator_(rows_total|cycles_total|watermark_timestamp_seconds|lag_seconds|api_requests_total|up)' \
  "$work/metrics.txt" | head -n 20
echo
echo "Demo finished; everything it started is stopped and $work is removed."
