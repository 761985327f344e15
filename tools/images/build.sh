#!/usr/bin/env bash
# Builds the one-node cluster's images (pause, bind9, controller) into
# ~/.cache/bind9-controller/images/ (tools/images/build.ts says how), skipping those whose
# inputs did not change. Needs the node binaries (tools/control-plane/build.sh --node) and
# Debian's mmdebstrap, umoci and skopeo (scripts/setup.sh --node installs them).
#   tools/images/build.sh [pause|bind9|controller ...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${BIND9_CONTROLLER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bind9-controller}
mkdir -p "$cache/images"
# Two set-ups at once would write the same archives: the second waits for the first.
exec 9>"$cache/images/.lock"
if ! flock -n 9; then
  echo "[images] another build holds $cache/images/.lock: waiting for it" >&2
  flock 9
fi
export BIND9_NODE_BIN_DIR=${BIND9_NODE_BIN_DIR:-$(cat "$root/node_modules/.control-plane-bin" 2>/dev/null || echo "$cache/k8s-v1.37.2")}
exec "$root/node_modules/.bin/node" "$root/tools/images/build.ts" "$@"
