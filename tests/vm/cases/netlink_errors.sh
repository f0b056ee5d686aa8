#!/bin/bash
# Kernel errors come back with the operation and the kernel's reason, and a refused set
# changes nothing: a listen port another device holds, a link that is not WireGuard, a
# device that does not exist.
set -euo pipefail
umask 077
here=$(cd "$(dirname "$0")" && pwd)
build=${PODWIRE_BUILD:-$here/../../../build}
ctl=$build/podwirectl
ns=pd-nle-$$
tmp=$(mktemp -d /tmp/pd-nle.XXXXXX)
cleanup() { set +e; ip netns del $ns 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
N() { ip netns exec $ns "$@"; }
ip netns add $ns
N ip link add pdnle1 type wireguard
N ip link add pdnle2 type wireguard
N ip link add pdnlv type veth peer name pdnlw
"$ctl" genkey >"$tmp/k"
N "$ctl" set pdnle1 listen-port 51900 private-key "$tmp/k"
N "$ctl" set pdnle1 peer "$("$ctl" genkey | "$ctl" pubkey)" allowed-ips 10.0.0.0/8
N ip link set pdnle1 up
N ip link set pdnle2 up
N "$ctl" set pdnle2 listen-port 51901
before=$(N wg show pdnle2 dump)
# The kernel sets the fwmark before it fails to bind the port: the rollback must undo it.
if N "$ctl" set pdnle2 fwmark 0x99 private-key "$tmp/k" listen-port 51900 peer "$("$ctl" genkey | "$ctl" pubkey)" 2>"$tmp/err"; then
	fail "taking a used port succeeded"
fi
cat "$tmp/err"
grep -q "WG_CMD_SET_DEVICE" "$tmp/err" || fail "error does not name the netlink operation"
grep -q "Address already in use" "$tmp/err" || fail "error does not carry the kernel's reason"
grep -q "the device was restored" "$tmp/err" || fail "error does not say the device was restored"
[ "$(N wg show pdnle2 dump)" = "$before" ] || fail "refused set changed the device"
if N "$ctl" set pdnlv listen-port 1 2>"$tmp/err"; then fail "set on a veth succeeded"; fi
cat "$tmp/err"
grep -q "Unable to modify interface" "$tmp/err" || fail "no message for a non-WireGuard link"
if N "$ctl" show pdnlv 2>"$tmp/err"; then fail "show of a veth succeeded"; fi
cat "$tmp/err"
if N "$ctl" show pdnlnone 2>"$tmp/err"; then fail "show of a missing device succeeded"; fi
grep -q "Unable to access interface: No such device" "$tmp/err" || { cat "$tmp/err"; fail "missing device message"; }
echo "ok: netlink errors name the operation and the kernel's reason"
