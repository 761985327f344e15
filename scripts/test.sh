#!/usr/bin/env bash
# The whole test suite, set-up included: type-check, lint, unit tests, integration tests
# against a real named and a real kube-apiserver + etcd, and the node tier (test/node/):
# deploy/ and the Helm chart as real pods in a one-node cluster (scripts/cluster.sh).
# SKIP_NODE_CLUSTER=1 leaves the node tier out (it needs root and builds more).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node_tier=1
[ "${SKIP_NODE_CLUSTER:-}" = 1 ] && node_tier=""
scripts/setup.sh ${node_tier:+--node}
export PATH="$root/node_modules/.bin:$PATH"
npm run -s typecheck
npm run -s lint
npm run -s crds -- --check

# What runs in the background is stopped on exit, whether the tests pass or not.
stop_cluster() { :; }
stop_node() { :; }
trap 'stop_cluster; stop_node' EXIT
# Without these, a signal would end the script without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM

# One control plane shared by every test file through $BIND9_TEST_KUBECONFIG (a file run
# alone starts its own).
if [ "${SKIP_CONTROL_PLANE:-}" != "1" ] && [ -z "${BIND9_TEST_KUBECONFIG:-}" ]; then
  cluster_dir=$(mktemp -d)
  node test/harness/cluster-main.ts --kubeconfig-out "$cluster_dir/kubeconfig" \
    >"$cluster_dir/out" 2>"$cluster_dir/log" &
  cluster_pid=$!
  stop_cluster() {
    { kill -TERM "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null; } || true
    rm -rf "$cluster_dir"
  }
  for _ in $(seq 240); do
    [ -s "$cluster_dir/out" ] && break
    kill -0 "$cluster_pid" 2>/dev/null || break
    sleep 1
  done
  if [ ! -s "$cluster_dir/out" ]; then
    echo "[test] the control plane did not start:" >&2
    cat "$cluster_dir/log" >&2
    exit 1
  fi
  cat "$cluster_dir/log" >&2
  BIND9_TEST_KUBECONFIG=$(head -n 1 "$cluster_dir/out")
  export BIND9_TEST_KUBECONFIG
fi
npm test
# The node tier has its own control plane: free the 2 cores of this one first.
stop_cluster
stop_cluster() { :; }

# The node tier, on the one-node cluster (up: ~15 s cached; set-up was done above). It is
# stopped at the end when this run started it; one that was already running is left running.
if [ -n "$node_tier" ]; then
  export BIND9_SKIP_SETUP=1
  if ! scripts/cluster.sh status >/dev/null 2>&1; then
    stop_node() { scripts/cluster.sh down || true; }
  fi
  start=$SECONDS
  scripts/cluster.sh up >/dev/null
  echo "[test] one-node cluster up in $((SECONDS - start)) s" >&2
  npm run -s test:node
  echo "[test] node tier done in $((SECONDS - start)) s" >&2
fi
