#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh Debian 12 machine:
#   installs what is missing; builds the core-logic unit tests under AddressSanitizer +
#   UndefinedBehaviorSanitizer and runs them; builds everything with -Werror and runs every ctest
#   label (unit, pg, e2e) against a throwaway PostgreSQL that ctest starts itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/bootstrap.sh

echo "== unit tests of the core logic under ASan + UBSan"
asan_targets=(${REPLICATOR_ASAN_TARGETS:-model_test engine_test config_test predicate_test})
REPLICATOR_TARGETS="${asan_targets[*]}" scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DREPLICATOR_WERROR=ON "-DREPLICATOR_SANITIZE=address;undefined"
for t in "${asan_targets[@]}"; do
  bin=$(find build-asan/tests -type f -name "$t" -perm -u+x | head -n 1)
  [ -n "$bin" ] || { echo "ASan binary $t not found" >&2; exit 1; }
  echo "-- $bin"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin" --gtest_brief=1
done

echo "== build (RelWithDebInfo, -Werror)"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPLICATOR_WERROR=ON

echo "== tests"
(cd build && ctest --output-on-failure --timeout 900 -j "${REPLICATOR_TEST_JOBS:-2}")
