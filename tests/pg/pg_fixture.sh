#!/usr/bin/env bash
# ctest fixture for the `pg` label: starts/stops the throwaway cluster of scripts/pg-temp.sh,
# unless REPLICATOR_TEST_PG_DSN points the tests at a database of your own.
#   pg_fixture.sh start|stop DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${REPLICATOR_TEST_PG_DSN:-}" ]; then
  echo "pg fixture: REPLICATOR_TEST_PG_DSN is set; not managing a throwaway cluster"
  exit 0
fi
exec "$root/scripts/pg-temp.sh" "$1" "$2"
