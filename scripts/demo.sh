#!/usr/bin/env bash
# The one-command local demo: installs what is missing (scripts/setup.sh), then starts a
# real kube-apiserver + etcd and a real named on loopback, runs the controller with the
# RBAC of deploy/, applies examples/, waits until everything is Ready and shows
# `kubectl get dns -A` and `dig` for each record. Ctrl-C stops and cleans up.
#
#   scripts/demo.sh            interactive
#   scripts/demo.sh --once     non-interactive (or DEMO_ONCE=1): exit 0 only when every
#                              example is Ready and dig answers each record as declared
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
exec node_modules/.bin/node scripts/demo.ts "$@"
