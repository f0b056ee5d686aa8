#!/bin/bash
# Device creation falls back to the userspace datapath by itself when the kernel has no
# WireGuard (this host): `podwirectl up` creates the interface with podwire-wg (found next
# to podwirectl), says so in one log line, and the device works through the UAPI socket;
# WG_QUICK_USERSPACE_IMPLEMENTATION picks another implementation (wireguard-go); `down`
# removes the interface and the userspace process goes with it. With the kernel module
# loaded (as in the VM suite) the same command must pick the kernel instead.
set -euo pipefail
umask 077
. "$(dirname "$0")/lib/common.bash"
ctl=$B/podwirectl
require_root
require_built podwirectl

id=$$
ns=pd-fb-$id
ifaces=()
N() { ip netns exec $ns "$@"; }

netns_add $ns
kernel=0
if N ip link add pdfbprobe$id type wireguard 2>/dev/null; then
	N ip link del pdfbprobe$id
	kernel=1
fi

# podwirectl up IFACE with IMPL ("" = the default); expects DATAPATH (kernel|podwire-wg|wireguard-go).
check_up() {
	local ifc=$1 impl=$2 want=$3 conf="$W/$1.conf" sock=/var/run/wireguard/$1.sock
	ifaces+=("$ifc")
	track_wg $ns "$ifc"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = 10.77.%s.1/24\n' \
		"$("$ctl" genkey)" $((40000 + ${#ifaces[@]})) ${#ifaces[@]} >"$conf"
	if [ -n "$impl" ]; then
		N env WG_QUICK_USERSPACE_IMPLEMENTATION="$impl" "$ctl" up "$conf" >"$W/up.log" 2>&1 ||
			{ cat "$W/up.log"; fail "up $ifc with $impl"; }
	else
		N env -u WG_QUICK_USERSPACE_IMPLEMENTATION "$ctl" up "$conf" >"$W/up.log" 2>&1 ||
			{ cat "$W/up.log"; fail "up $ifc"; }
	fi
	cat "$W/up.log"
	if [ "$want" = kernel ]; then
		grep -q "$ifc: using kernel WireGuard datapath" "$W/up.log" || fail "$ifc: no log line naming the kernel datapath"
		N ip -d link show "$ifc" | grep -qw wireguard || fail "$ifc is not a kernel wireguard link"
		[ ! -e "$sock" ] || fail "$ifc: kernel device but a UAPI socket exists"
	else
		grep -q "$ifc: kernel has no WireGuard, using userspace datapath .*$want" "$W/up.log" ||
			fail "$ifc: no log line naming the userspace datapath $want"
		N ip -d link show "$ifc" | grep -qw tun || fail "$ifc is not a TUN device"
		[ -S "$sock" ] || fail "$ifc: no UAPI socket"
	fi
	# The device answers through the device API and matches what wg sees.
	[ "$(N "$ctl" show "$ifc" listen-port)" = $((40000 + ${#ifaces[@]})) ] || fail "$ifc: listen port not set"
	[ "$(N "$ctl" show "$ifc" dump)" = "$(N wg show "$ifc" dump)" ] || fail "$ifc: podwirectl and wg disagree"
	N ip -4 addr show dev "$ifc" | grep -q "10.77.${#ifaces[@]}.1/24" || fail "$ifc: address missing"
	# A second up of the same interface is refused and leaves it alone.
	if N "$ctl" up "$conf" >"$W/up2.log" 2>&1; then fail "$ifc: second up succeeded"; fi
	N "$ctl" down "$conf" >"$W/down.log" 2>&1 || { cat "$W/down.log"; fail "down $ifc"; }
	N ip link show "$ifc" >/dev/null 2>&1 && fail "$ifc still exists after down"
	wait_until 5 test ! -e "$sock" || fail "$ifc: UAPI socket left after down"
	echo "ok: $ifc via $want"
}

if [ $kernel = 1 ]; then
	check_up pdfbk$id "" kernel
else
	require_built podwire-wg
	check_up pdfbp$id "" podwire-wg
	if command -v wireguard-go >/dev/null; then
		check_up pdfbg$id wireguard-go wireguard-go
	fi
	# A missing implementation is a clear error and leaves nothing behind.
	conf=$W/pdfbx$id.conf
	printf '[Interface]\nPrivateKey = %s\n' "$("$ctl" genkey)" >"$conf"
	ifaces+=(pdfbx$id)
	track_wg $ns pdfbx$id
	if N env WG_QUICK_USERSPACE_IMPLEMENTATION=/nonexistent/wg-impl "$ctl" up "$conf" >"$W/x.log" 2>&1; then
		fail "up with a missing userspace implementation succeeded"
	fi
	grep -q "nonexistent/wg-impl" "$W/x.log" || { cat "$W/x.log"; fail "error does not name the implementation"; }
	N ip link show pdfbx$id >/dev/null 2>&1 && fail "a failed up left pdfbx$id behind"
fi
echo "ok: device creation picks the datapath by itself"
