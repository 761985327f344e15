#!/usr/bin/env bash
# The whole test suite, set-up included: type-check, lint, unit tests, and integration
# tests against a real named and a real kube-apiserver + etcd.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH"
npm run -s typecheck
npm run -s lint
npm run -s crds -- --check

# One control plane shared by every test file through $BIND9_TEST_KUBECONFIG (a file run
# alone starts its own). Stopped on exit, whether the tests pass or not.
if [ "${SKIP_CONTROL_PLANE:-}" != "1" ] && [ -z "${BIND9_TEST_KUBECONFIG:-}" ]; then
  cluster_dir=$(mktemp -d)
  node test/harness/cluster-main.ts --kubeconfig-out "$cluster_dir/kubeconfig" \
    >"$cluster_dir/out" 2>"$cluster_dir/log" &
  cluster_pid=$!
  stop_cluster() {
    { kill -TERM "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null; } || true
    rm -rf "$cluster_dir"
  }
  trap stop_cluster EXIT
  # Without these, a signal would end the script without running the EXIT trap.
  trap 'exit 130' INT
  trap 'exit 143' TERM
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
