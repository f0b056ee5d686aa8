#!/bin/bash
# userspace_readonly.sh — podwire-wg runs from a read-only root filesystem (as in the VM
# tests): in a private mount namespace with / remounted read-only and a tmpfs on
# /var/run/wireguard, podwire-wg daemonizes, serves wg set / wg show, and exits removing
# its socket when its interface is deleted.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root; require_tun; require_built podwire-wg
require_cmd wg unshare
umask 077

make_key a
netns_add pu-rdo
track_wg pu-rdo purdo0
unshare -m bash -s "$B/podwire-wg" "$W/a.key" >"$W/out" 2>&1 <<'INNER'
set -u
bin=$1 key=$2
mount --make-rprivate / || exit 2
mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard || exit 2
mount -o remount,bind,ro / || exit 2
touch /pu-rdo-probe 2>/dev/null && { echo "root is still writable"; exit 1; }
ip netns exec pu-rdo "$bin" purdo0 || { echo "podwire-wg failed to start"; exit 1; }
[ -S /var/run/wireguard/purdo0.sock ] || { echo "no socket"; exit 1; }
ip netns exec pu-rdo wg set purdo0 private-key "$key" listen-port 51860 || { echo "wg set failed"; exit 1; }
[ "$(ip netns exec pu-rdo wg show purdo0 listen-port)" = 51860 ] || { echo "wg show wrong"; exit 1; }
ip -n pu-rdo link del purdo0
for _ in $(seq 50); do [ -S /var/run/wireguard/purdo0.sock ] || break; sleep 0.1; done
[ -S /var/run/wireguard/purdo0.sock ] && { echo "socket left behind"; exit 1; }
echo "ok"
INNER
rc=$?
cat "$W/out"
[ $rc = 2 ] && skip "cannot set up a read-only mount namespace here"
[ $rc = 0 ] || fail "podwire-wg on a read-only root"
echo "PASS: podwire-wg runs from a read-only filesystem"
