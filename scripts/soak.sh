#!/usr/bin/env bash
# Soak: mixed chaos (SIGKILL, SIGSTOP up to 20 s, failpoint stalls, emulated
# partitions; with --netns also real partitions in network namespaces, as root) against real raftmeta-node processes for a duration, in rounds
# on fresh 3-member clusters, every history checked for linearizability
# (e2e/cluster/chaos/README.md). Prints each round's totals and the sum;
# exits non-zero on the first anomaly or recovery problem.
#   scripts/soak.sh --duration 30m [--round 120s] [--seed N] [--lenient] [--netns]
# (write rejections are judged too unless --lenient: see the chaos README)
# Environment: BUILD_DIR (default build/release, the tree scripts/test.sh builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR="${BUILD_DIR:-$ROOT/build/release}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  mkdir -p "$BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
fi
flock /tmp/raftmeta-build.lock ninja -C "$BUILD_DIR" raftmeta-chaos-soak raftmeta-node >/dev/null
exec "$BUILD_DIR/e2e/cluster/chaos/raftmeta-chaos-soak" "$@"
