#!/usr/bin/env bash
# Builds everything and runs every test CI runs:
#   1. set-up (Debian packages, helm/kubectl)         scripts/setup.sh
#   2. the optimized build and all its tests          build/release
#   3. our libraries and their tests under ASan+UBSan build/asan
#   4. the threaded tests of our own code under TSan  build/tsan
# Prints how long each stage took and ends with a summary. Exit code 0 only
# when every stage passed.
#   scripts/test.sh [--only release|asan|tsan] [-- extra ctest args]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ONLY=""
CTEST_EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --) shift; CTEST_EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

JOBS=${RAFTMETA_JOBS:-$(nproc)}
SUMMARY=()
FAILED=0
TOTAL_START=$(date +%s)

stage() {  # stage <name> <command...>
  local name="$1"; shift
  local start=$(date +%s)
  echo
  echo "==== $name ===="
  "$@"
  local rc=$?
  local secs=$(( $(date +%s) - start ))
  local status=ok
  [ $rc -ne 0 ] && { status="FAILED"; FAILED=1; }
  SUMMARY+=("$(printf '%-28s %3dm%02ds  %s' "$name" $((secs/60)) $((secs%60)) "$status")")
  return $rc
}

configure_and_build() {  # <dir> <sanitize>
  local dir="$1" san="$2"
  cmake -S "$ROOT" -B "$dir" -G Ninja -DRAFTMETA_CI=ON -DRAFTMETA_SANITIZE="$san" >"$dir.cmake.log" 2>&1 ||
    { cat "$dir.cmake.log"; return 1; }
  ninja -C "$dir" -j "$JOBS"
}

run_ctest() {  # <dir>
  (cd "$1" && ctest --output-on-failure --timeout 1500 "${CTEST_EXTRA[@]}" 2>&1 | tee ctest.log;
   exit "${PIPESTATUS[0]}")
}

mkdir -p build
stage "set-up" "$ROOT/scripts/setup.sh" || { echo "set-up failed"; exit 1; }

for variant in release asan tsan; do
  [ -n "$ONLY" ] && [ "$ONLY" != "$variant" ] && continue
  san=""; [ $variant = asan ] && san=address; [ $variant = tsan ] && san=thread
  dir="$ROOT/build/$variant"
  mkdir -p "$dir"; rm -f "$dir/ctest.log"
  if stage "$variant: build" configure_and_build "$dir" "$san"; then
    count=$(cd "$dir" && ctest -N "${CTEST_EXTRA[@]}" | sed -n 's/^Total Tests: //p')
    stage "$variant: test ($count tests)" run_ctest "$dir"
  fi
done

echo
echo "==== summary ===="
for line in "${SUMMARY[@]}"; do echo "$line"; done
passed=0; failed=0
for variant in release asan tsan; do
  log="$ROOT/build/$variant/ctest.log"
  [ -f "$log" ] || continue
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  [ -n "$line" ] || continue
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  n=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
  passed=$((passed + n - f)); failed=$((failed + f))
done
total=$(( $(date +%s) - TOTAL_START ))
printf 'total time: %dm%02ds\n' $((total/60)) $((total%60))
echo "tests: $passed passed, $failed failed"
exit $FAILED
