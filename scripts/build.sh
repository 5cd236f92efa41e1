#!/usr/bin/env bash
# Configure and build one build tree. Builds are serialised machine-wide with a lock: the build
# machines have two cores and one work tree, and two concurrent builds only slow each other down.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]     (default BUILD_DIR: build)
#   REPLICATOR_TARGETS="a b" scripts/build.sh ...          (build only these targets)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
jobs=${REPLICATOR_JOBS:-$(nproc)}
gen=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$dir/Makefile" ]; then gen=(-G Ninja); fi
exec 9>/tmp/actito-replicator-build.lock
flock 9
if [ ! -f "$dir/CMakeCache.txt" ] || [ $# -gt 0 ]; then
  cmake -S "$root" -B "$dir" "${gen[@]}" "$@"
fi
if [ -n "${REPLICATOR_TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  cmake --build "$dir" -j "$jobs" --target ${REPLICATOR_TARGETS}
else
  cmake --build "$dir" -j "$jobs"
fi
