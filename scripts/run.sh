#!/usr/bin/env bash
# The main job at this stage: builds raftmeta-node and raftmetactl, starts a
# local 3-member raftmeta cluster on 127.0.0.1 and shows how to talk to it.
#   scripts/run.sh            start (or restart from its data) in the foreground; Ctrl-C stops it
#   scripts/run.sh --detach   start and return; `scripts/run.sh stop` stops it
#   scripts/run.sh stop       stop a detached cluster (SIGTERM, then wait)
#   scripts/run.sh reset      stop and delete the local cluster's data
# Data and logs live in .cluster/ (git-ignored). A later issue turns this into
# the Kubernetes demo (operator + Helm chart).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/.cluster"
BUILD="${RAFTMETA_BUILD_DIR:-$ROOT/build/release}"  # override to reuse another build tree
MEMBERS=(1 2 3)
peer_port()   { echo $((7400 + ($1 - 1) * 10)); }
client_port() { echo $((7401 + ($1 - 1) * 10)); }
http_port()   { echo $((7402 + ($1 - 1) * 10)); }

stop_cluster() {
  local pids=()
  for m in "${MEMBERS[@]}"; do
    [ -f "$STATE/member-$m.pid" ] || continue
    local pid; pid=$(cat "$STATE/member-$m.pid")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; pids+=("$pid"); fi
    rm -f "$STATE/member-$m.pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "member (pid $pid) did not stop in 15 s: SIGKILL"; kill -KILL "$pid"; }
  done
  [ ${#pids[@]} -gt 0 ] && echo "stopped ${#pids[@]} member(s); data kept in $STATE (scripts/run.sh reset deletes it)"
  return 0
}

case "${1:-}" in
  stop) stop_cluster; exit 0 ;;
  reset) stop_cluster; rm -rf "$STATE"; echo "deleted $STATE"; exit 0 ;;
  ""|--detach) ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
DETACH=0; [ "${1:-}" = --detach ] && DETACH=1

"$ROOT/scripts/setup.sh"
echo "building raftmeta-node and raftmetactl (first time: a few minutes)..."
cmake -S "$ROOT" -B "$BUILD" -G Ninja >"$BUILD.cmake.log" 2>&1 || { cat "$BUILD.cmake.log"; exit 1; }
ninja -C "$BUILD" raftmeta-node raftmetactl | grep -v '^\[' || true
NODE="$BUILD/sidecar/node/server/raftmeta-node"
CTL="$BUILD/sidecar/ctl/raftmetactl"

mkdir -p "$STATE"
stop_cluster >/dev/null
[ -f "$STATE/cluster-id" ] || echo "local-$(date +%s)-$RANDOM" >"$STATE/cluster-id"
CLUSTER_ID=$(cat "$STATE/cluster-id")
INITIAL=""
for m in "${MEMBERS[@]}"; do INITIAL+="${INITIAL:+,}$m=127.0.0.1:$(peer_port "$m")"; done
ENDPOINTS=""
for m in "${MEMBERS[@]}"; do ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$(client_port "$m")"; done

for m in "${MEMBERS[@]}"; do
  dir="$STATE/member-$m"
  args=(--id "$m" --data-dir "$dir" --cluster-id "$CLUSTER_ID"
        --listen-peer "127.0.0.1:$(peer_port "$m")" --advertise-peer "127.0.0.1:$(peer_port "$m")"
        --listen-client "127.0.0.1:$(client_port "$m")" --listen-http "127.0.0.1:$(http_port "$m")")
  # Only a first start bootstraps; afterwards each member restarts from its data.
  if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then args+=(--initial-members "$INITIAL"); fi
  setsid "$NODE" "${args[@]}" >>"$STATE/member-$m.log" 2>&1 </dev/null &
  echo $! >"$STATE/member-$m.pid"
done

echo -n "waiting for a leader"
leader=""
for _ in $(seq 1 100); do
  if out=$("$CTL" --endpoints "$ENDPOINTS" -o json status 2>/dev/null) &&
     leader=$(echo "$out" | grep -o '"leader"[^,}]*' | head -1 | grep -o '[0-9]\+') && [ "${leader:-0}" != 0 ]; then
    break
  fi
  leader=""; echo -n "."; sleep 0.2
done
echo
if [ -z "$leader" ]; then
  echo "no leader after 20 s; the members' logs:" >&2
  tail -n 20 "$STATE"/member-*.log >&2
  stop_cluster; exit 1
fi

cat <<MSG
raftmeta: a 3-member cluster '$CLUSTER_ID' is running on 127.0.0.1 (leader: member $leader).
  member 1: peers 127.0.0.1:7400  clients 127.0.0.1:7401  health http://127.0.0.1:7402/status
  member 2: peers 127.0.0.1:7410  clients 127.0.0.1:7411  health http://127.0.0.1:7412/status
  member 3: peers 127.0.0.1:7420  clients 127.0.0.1:7421  health http://127.0.0.1:7422/status
  data and logs: $STATE

Talk to it:
  alias raftmetactl="$CTL --endpoints $ENDPOINTS"
  raftmetactl status
  for b in 1 2 3; do raftmetactl broker register --id \$b --host 127.0.0.1 --port 909\$b; done
  raftmetactl topic create orders --partitions 6 --replication-factor 3
  raftmetactl topic list --consistency lease
  raftmetactl topic get orders --consistency stale
  raftmetactl member list
(brokers that send no heartbeat are fenced after their session timeout, 18 s by default:
 raftmetactl broker list shows it, and partition leadership moves away from them)
  curl -s http://127.0.0.1:7402/livez; curl -s http://127.0.0.1:7402/metrics | head
Kill a member (kill -9 \$(cat $STATE/member-$leader.pid)) and watch another take over;
run scripts/run.sh again to restart it from its data.
MSG

if [ $DETACH = 1 ]; then
  echo "detached; stop with: scripts/run.sh stop"
  exit 0
fi
trap 'echo; stop_cluster; exit 0' INT TERM
echo "running in the foreground; Ctrl-C stops the cluster (its data is kept)."
tail -n 0 -q -f "$STATE"/member-*.log &
TAIL=$!
trap 'kill $TAIL 2>/dev/null; echo; stop_cluster; exit 0' INT TERM
wait $TAIL
