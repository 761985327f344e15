#!/usr/bin/env bash
# The one-node Kubernetes cluster (test/node/): a real kubelet, containerd and CoreDNS
# beside the control plane, everything inside the network namespace `bind9-node`.
#
#   scripts/cluster.sh up          bring it up (or reuse it); installs what is missing first
#   scripts/cluster.sh down        stop it; removes its namespace, host routes and mounts
#   scripts/cluster.sh status      is it running, and what did a stopped one leave?
#   scripts/cluster.sh kubectl ... kubectl inside the namespace (the only place it can reach)
#   scripts/cluster.sh exec CMD    any client (dig, curl, a shell) inside the namespace
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-status}
if [ "$(id -u)" -ne 0 ]; then
  echo "[cluster] needs root (network namespaces, routes, mounts, containerd)" >&2
  exit 1
fi
# BIND9_SKIP_SETUP=1: the caller ran scripts/setup.sh --node already (scripts/test.sh).
if [ "$cmd" = up ] && [ "${BIND9_SKIP_SETUP:-}" != 1 ]; then
  "$root/scripts/setup.sh" --node
fi
state=${BIND9_NODE_STATE:-/run/bind9-node}
mkdir -p "$(dirname "$state")"
# up and down change machine-wide state: one at a time. Clients need no lock.
case "$cmd" in
  up | down)
    exec 9>"$state.lock"
    if ! flock -n 9; then
      echo "[cluster] another up/down holds $state.lock: waiting for it" >&2
      flock 9
    fi
    ;;
esac
# Not exec: the daemons that `up` starts must not inherit the lock's descriptor (9>&-), or
# they would hold it for as long as they run; this shell holds it until node returns.
status=0
"$root/node_modules/.bin/node" "$root/test/node/cluster-main.ts" "$@" 9>&- || status=$?
exit "$status"
