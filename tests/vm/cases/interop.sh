#!/bin/bash
# Kernel WireGuard <-> a userspace datapath (podwire-wg; PODWIRE_INTEROP_IMPL overrides),
# on the wire: two namespaces joined by a veth, one end the kernel module and the other the
# userspace process, both configured through podwirectl. The handshake is started once from
# each side (the peers are re-added in between so no session survives), then ping and a
# short iperf3 run in both directions.
set -euo pipefail
umask 077
here=$(cd "$(dirname "$0")" && pwd)
build=${PODWIRE_BUILD:-$here/../../../build}
ctl=$build/podwirectl
impl=${PODWIRE_INTEROP_IMPL:-$build/podwire-wg}
secs=${PODWIRE_IPERF_SECONDS:-2}
id=$$
nsk=pd-ik-$id nsu=pd-iu-$id ik=pdik$id iu=pdiu$id
tmp=$(mktemp -d /tmp/pd-interop.XXXXXX)
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ip -n $nsu link del $iu 2>/dev/null
	ip netns del $nsk 2>/dev/null
	ip netns del $nsu 2>/dev/null
	rm -f /var/run/wireguard/$iu.sock
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
K() { ip netns exec $nsk "$@"; }
U() { ip netns exec $nsu "$@"; }
[ -x "$impl" ] || command -v "$impl" >/dev/null || fail "no userspace datapath $impl"

ip netns add $nsk
ip netns add $nsu
K ip link set lo up
U ip link set lo up
K ip link add pdvk$id type veth peer name pdvu$id netns $nsu
K ip addr add 192.168.91.1/24 dev pdvk$id
U ip addr add 192.168.91.2/24 dev pdvu$id
K ip link set pdvk$id up
U ip link set pdvu$id up

K ip link add $ik type wireguard
U "$impl" $iu >/dev/null 2>&1 || fail "cannot start $impl"
for _ in $(seq 50); do [ -S /var/run/wireguard/$iu.sock ] && break; sleep 0.1; done
[ "$(K "$ctl" show $ik dump >/dev/null && echo ok)" = ok ] || fail "kernel device not readable"
"$ctl" genkey >"$tmp/kk"
"$ctl" genkey >"$tmp/ku"
pk=$("$ctl" pubkey <"$tmp/kk")
pu=$("$ctl" pubkey <"$tmp/ku")
K "$ctl" set $ik private-key "$tmp/kk" listen-port 51820
U "$ctl" set $iu private-key "$tmp/ku" listen-port 51821
K ip addr add 10.91.0.1/24 dev $ik
U ip addr add 10.91.0.2/24 dev $iu
K ip addr add fd91::1/64 dev $ik
U ip addr add fd91::2/64 dev $iu
K ip link set $ik up
U ip link set $iu up

add_peers() {
	K "$ctl" set $ik peer "$pu" endpoint 192.168.91.2:51821 allowed-ips 10.91.0.2/32,fd91::2/128
	U "$ctl" set $iu peer "$pk" endpoint 192.168.91.1:51820 allowed-ips 10.91.0.1/32,fd91::1/128
}
handshake_of() { # NS-runner IFACE PEERKEY
	"$1" "$ctl" show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}

# Round 1: the kernel initiates.
add_peers
[ "$(handshake_of U $iu "$pk")" = 0 ] || fail "handshake before any traffic"
K busybox ping -c 3 -W 2 10.91.0.2 >/dev/null || fail "kernel -> $impl: no ping"
[ "$(handshake_of K $ik "$pu")" -gt 0 ] || fail "kernel side saw no handshake"
[ "$(handshake_of U $iu "$pk")" -gt 0 ] || fail "$impl side saw no handshake"
echo "ok: handshake initiated by the kernel, ping kernel -> $(basename "$impl")"

# Round 2: fresh peers on both sides (sessions gone), the userspace side initiates.
K "$ctl" set $ik peer "$pu" remove
U "$ctl" set $iu peer "$pk" remove
add_peers
[ "$(handshake_of K $ik "$pu")" = 0 ] || fail "kernel kept a session after re-adding"
U busybox ping -c 3 -W 2 10.91.0.1 >/dev/null || fail "$impl -> kernel: no ping"
[ "$(handshake_of K $ik "$pu")" -gt 0 ] || fail "kernel side saw no handshake (round 2)"
U busybox ping -c 2 -W 2 fd91::1 >/dev/null || fail "$impl -> kernel: no IPv6 ping"
K busybox ping -c 2 -W 2 fd91::2 >/dev/null || fail "kernel -> $impl: no IPv6 ping"
echo "ok: handshake initiated by $(basename "$impl"), ping both ways (IPv4 and IPv6)"

# Throughput both ways, short.
iperf() { # CLIENT-RUNNER SERVER-RUNNER SERVER-IP LABEL
	local out
	"$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do "$2" ss -ltn | grep -q "$3:5201" && break; sleep 0.2; done
	out=$("$1" iperf3 -c "$3" -t "$secs" -J) || { echo "$out" | tail -5; fail "$4: iperf3 failed"; }
	echo "$out" | python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}
k2u=$(iperf K U 10.91.0.2 "kernel -> $impl")
u2k=$(iperf U K 10.91.0.1 "$impl -> kernel")
echo "ok: iperf3 ${secs}s kernel -> $(basename "$impl"): $k2u Mbit/s, $(basename "$impl") -> kernel: $u2k Mbit/s"
awk -v a="$k2u" -v b="$u2k" 'BEGIN { exit !(a > 0 && b > 0) }' || fail "no throughput"
rx=$(U "$ctl" show $iu transfer | awk -v k="$pk" '$1 == k { print $2 }')
[ "${rx:-0}" -gt 1000000 ] || fail "$impl transfer counters did not move ($rx)"
# The session is live: a keepalive between the two reads moves the counters, so one exact
# match out of three tries passes.
same_dump() { [ "$(K "$ctl" show $ik dump)" = "$(K wg show $ik dump)" ]; }
same_dump || same_dump || same_dump || fail "kernel dump differs from wg after traffic"
