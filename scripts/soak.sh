#!/usr/bin/env bash
# Soak: mixed chaos (SIGKILL, SIGSTOP up to 20 s, failpoint stalls, emulated
# partitions) against real raftmeta-node processes for a duration, in rounds
# on fresh 3-member clusters, every history checked for linearizability
# (e2e/cluster/chaos/README.md). Prints each round's totals and the sum;
# exits non-zero on the first anomaly or recovery problem.
#   scripts/soak.sh --duration 30m [--round 120s] [--seed N] [--strict]
# (--strict also judges write rejections: see the README on the open bug)
# Environment: BUILD_DIR (default /work/build when configured, else build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ -z "${BUILD_DIR:-}" ]; then
  if [ -f /work/build/build.ninja ]; then BUILD_DIR=/work/build; else BUILD_DIR="$ROOT/build"; fi
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
flock /tmp/raftmeta-build.lock ninja -C "$BUILD_DIR" raftmeta-chaos-soak raftmeta-node >/dev/null
exec "$BUILD_DIR/e2e/cluster/chaos/raftmeta-chaos-soak" "$@"
