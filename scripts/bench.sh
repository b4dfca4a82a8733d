#!/usr/bin/env bash
# Runs raftmeta and etcd side by side (docs/performance.md): builds
# raftmeta-bench and raftmeta-node, then raftmeta-bench starts a 3-member
# cluster of each on 127.0.0.1 in a temporary directory (etcd from
# /usr/bin/etcd, package etcd-server), runs every measurement, stops both and
# writes bench/results/<UTC date>.md and .json (and PNG plots with gnuplot).
# The run holds the build lock (/tmp/raftmeta-build.lock) so that builds on
# the same machine do not skew it. Extra arguments go to raftmeta-bench
# (try --help), e.g. a quick run:
#   scripts/bench.sh --rounds 1 --round-ms 1000 --failover-reps 2 --stall-reps 1
# Environment: BUILD_DIR (default build/release, or /work/build when that is
# configured), ETCD (default /usr/bin/etcd).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ -z "${BUILD_DIR:-}" ]; then
  if [ -f "$ROOT/build/release/build.ninja" ]; then BUILD_DIR="$ROOT/build/release"
  elif [ -f /work/build/build.ninja ]; then BUILD_DIR=/work/build
  else BUILD_DIR="$ROOT/build/release"; fi
fi
ETCD=${ETCD:-/usr/bin/etcd}
LOCK=/tmp/raftmeta-build.lock

if [ ! -x "$ETCD" ]; then
  echo "bench.sh: $ETCD is missing: apt-get install etcd-server (scripts/setup.sh installs it)" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
flock "$LOCK" ninja -C "$BUILD_DIR" raftmeta-bench raftmeta-node >/dev/null
BENCH="$BUILD_DIR/bench/raftmeta-bench"
if [ ! -x "$BENCH" ]; then
  echo "bench.sh: $BENCH was not built (is golang-etcd-server-dev installed? see bench/CMakeLists.txt)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/raftmeta-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ROOT/bench/results"
STAMP=$(date -u +%Y-%m-%d-%H%M)
OUT="$ROOT/bench/results/$STAMP"
echo "bench.sh: clusters in $WORK; results in $OUT.md and $OUT.json (progress below)"
# Both clusters run under the lock, so nothing else builds meanwhile.
flock "$LOCK" "$BENCH" --etcd-binary "$ETCD" --work-dir "$WORK" \
  --out-json "$OUT.json" --out-md "$OUT.md" "$@"
{
  echo
  echo "Command: \`scripts/bench.sh $*\` (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
} >>"$OUT.md"
if command -v gnuplot >/dev/null; then
  gnuplot -e "stem='$OUT'" "$ROOT/bench/plots.gp"
  echo "bench.sh: plots in $OUT-throughput.png and $OUT-latency.png"
else
  echo "bench.sh: gnuplot is missing (apt-get install gnuplot-nox): no plots" >&2
fi
cat "$OUT.md"
