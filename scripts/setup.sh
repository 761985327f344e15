#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, reusing what is already there:
# Debian's BIND9 packages (named, rndc, nsupdate, dig), Knot DNS and PowerDNS (the other
# servers the record layer is tested against), the npm dependencies (which bring
# Node.js 24 through the `node` package), and the real control plane built from Go modules.
# Idempotent; safe to run before every test or demo run.
#
#   scripts/setup.sh           what the unit and integration tests and the demo need
#   scripts/setup.sh --node    also the one-node cluster (scripts/cluster.sh): containerd,
#                              runc, CNI plugins, iptables, the image tools, kubelet & co.,
#                              CoreDNS, helm, and the images (tools/images/)
set -euo pipefail
want_node=""
[ "${1:-}" = --node ] && want_node=1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------
missing=()
command -v named >/dev/null || [ -x /usr/sbin/named ] || missing+=(bind9)
command -v rndc >/dev/null || [ -x /usr/sbin/rndc ] || missing+=(bind9-utils)
command -v dig >/dev/null || missing+=(bind9-dnsutils)
command -v openssl >/dev/null || missing+=(openssl)
command -v flock >/dev/null || missing+=(util-linux) # tools/control-plane/build.sh's lock
if [ -n "$want_node" ]; then
  for pair in containerd:containerd runc:runc ctr:containerd iptables:iptables nft:nftables \
    conntrack:conntrack mmdebstrap:mmdebstrap umoci:umoci skopeo:skopeo nsenter:util-linux; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system named on port 53; ours run on loopback high ports
# and never need it. Leave it alone if it runs.

# --- Knot DNS and PowerDNS: the other servers the record layer is tested against --------
# Records-only instances (issue #17): test/harness/knot.ts and powerdns.ts run them on
# loopback high ports. Installing them would start system services on port 53, so while
# apt runs, a policy-rc.d (exit 101: "action forbidden") keeps them stopped.
records_missing=()
for pkg in knot pdns-server pdns-backend-lmdb; do
  dpkg -s "$pkg" >/dev/null 2>&1 || records_missing+=("$pkg")
done
if [ ${#records_missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${records_missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${records_missing[@]}" >/dev/null || { [ -z "$policy" ] || $SUDO rm -f "$policy"; exit 1; }
  [ -z "$policy" ] || $SUDO rm -f "$policy"
fi

# --- npm dependencies (Node.js 24 comes with them) -------------------------------------
stamp=node_modules/.package-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# --- control plane: kube-apiserver + etcd (+ kubectl when missing), cached -------------
if [ "${SKIP_CONTROL_PLANE:-}" != "1" ]; then
  bindir=$(tools/control-plane/build.sh ${want_node:+--node} | tail -n 1)
  "$bindir/kube-apiserver" --version >/dev/null && "$bindir/etcd" --version >/dev/null
  echo "$bindir" >node_modules/.control-plane-bin
  say "control plane: $("$bindir/kube-apiserver" --version), etcd $("$bindir/etcd" --version | sed -n 's/^etcd Version: //p') in $bindir"
fi
# --- the one-node cluster's images (pause, bind9, controller), cached -------------------
if [ -n "$want_node" ]; then
  BIND9_NODE_BIN_DIR="${bindir:-}" tools/images/build.sh
fi
say "ready: node $(node_modules/.bin/node --version), $(/usr/sbin/named -v 2>/dev/null || named -v)"
say "       $(/usr/sbin/knotd --version), $(dpkg-query -W -f 'PowerDNS ${Version}' pdns-server)"
