#!/usr/bin/env bash
# The one-command local demo: installs what is missing (scripts/setup.sh), then starts a
# real kube-apiserver + etcd and a real named on loopback, runs the controller with the
# RBAC of deploy/, applies examples/, waits until everything is Ready and shows
# `kubectl get dns -A` and `dig` for each record. Ctrl-C stops and cleans up.
#
#   scripts/demo.sh            interactive
#   scripts/demo.sh --once     non-interactive (or DEMO_ONCE=1): exit 0 only when every
#                              example is Ready and dig answers each record as declared
#   scripts/demo.sh --node     in the one-node cluster (scripts/cluster.sh): deploy/ and
#                              deploy/bind9/ as real pods, dig against the BIND9 Service;
#                              a cluster this demo started is stopped when it ends
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node_mode=""
for arg in "$@"; do [ "$arg" = --node ] && node_mode=1; done
if [ -z "$node_mode" ]; then
  scripts/setup.sh
  exec node_modules/.bin/node scripts/demo.ts "$@"
fi
was_up=""
scripts/cluster.sh status >/dev/null 2>&1 && was_up=1
scripts/cluster.sh up >/dev/null
# Ctrl-C reaches the demo too; this shell waits for it, then takes down what it started.
trap ':' INT TERM
status=0
node_modules/.bin/node scripts/demo.ts "$@" || status=$?
if [ -z "$was_up" ]; then scripts/cluster.sh down || true; fi
exit "$status"
