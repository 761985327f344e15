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
npm test
