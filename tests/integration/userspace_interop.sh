#!/bin/bash
# userspace_interop.sh — podwire-wg <-> wireguard-go (Debian's) on the wire, configured by
# stock wg over each one's UAPI socket. Four sessions cover: handshake initiated by either
# side, with and without a preshared key, IPv4 and IPv6 underlay; each carries IPv4 and
# IPv6 inner traffic (ping both ways) and a 10 s iperf3 TCP run in each direction
# (PU_IPERF_SECONDS overrides, e.g. 2 for a quick local run).
set -uo pipefail
. "$(dirname "$0")/pu_common.bash"
command -v wireguard-go >/dev/null || skip "wireguard-go not installed"

A=pu-io-a B=pu-io-b
pu_netns $A $B
pu_key a
pu_key b
wg genpsk >"$PU_TMP/psk"
MIN_MBIT=${PU_MIN_MBIT:-5}

run_case() { # underlay(4|6) psk(yes|no) initiator(podwire|wggo) iperf-seconds
	local under=$1 psk=$2 init=$3 secs=$4 epa epb pskarg=() rate hs_a hs_b
	log "underlay IPv$under, psk=$psk, initiator=$init, iperf ${secs}s"
	pu_start podwire-wg $A puio0
	pu_start wireguard-go $B puio1
	if [ "$under" = 4 ]; then epa=10.77.0.1:51820 epb=10.77.0.2:51821; else epa=[fd77::1]:51820 epb=[fd77::2]:51821; fi
	[ "$psk" = yes ] && pskarg=(preshared-key "$PU_TMP/psk")
	ip netns exec $A wg set puio0 private-key "$PU_TMP/a.key" listen-port 51820 \
		peer "$(cat "$PU_TMP/b.pub")" "${pskarg[@]}" endpoint $epb allowed-ips 10.78.0.2/32,fd78::2/128 ||
		fail "wg set on podwire-wg"
	ip netns exec $B wg set puio1 private-key "$PU_TMP/b.key" listen-port 51821 \
		peer "$(cat "$PU_TMP/a.pub")" "${pskarg[@]}" endpoint $epa allowed-ips 10.78.0.1/32,fd78::1/128 ||
		fail "wg set on wireguard-go"
	ip -n $A addr add 10.78.0.1/24 dev puio0
	ip -n $A addr add fd78::1/64 dev puio0 nodad
	ip -n $B addr add 10.78.0.2/24 dev puio1
	ip -n $B addr add fd78::2/64 dev puio1 nodad
	ip -n $A link set puio0 up
	ip -n $B link set puio1 up

	if [ "$init" = podwire ]; then
		pu_ping $A 10.78.0.2 || fail "ping podwire-wg -> wireguard-go (v4 inner)"
	else
		pu_ping $B 10.78.0.1 || fail "ping wireguard-go -> podwire-wg (v4 inner)"
	fi
	pu_ping $A fd78::2 || fail "ping podwire-wg -> wireguard-go (v6 inner)"
	pu_ping $B fd78::1 || fail "ping wireguard-go -> podwire-wg (v6 inner)"
	pu_ping $B 10.78.0.1 || fail "ping wireguard-go -> podwire-wg (v4 inner)"

	hs_a=$(ip netns exec $A wg show puio0 latest-handshakes | awk '{print $2}')
	hs_b=$(ip netns exec $B wg show puio1 latest-handshakes | awk '{print $2}')
	[ "${hs_a:-0}" -gt 0 ] && [ "${hs_b:-0}" -gt 0 ] || fail "no handshake recorded ($hs_a / $hs_b)"
	# Each side learned the other's endpoint from authenticated packets.
	[ "$(ip netns exec $B wg show puio1 endpoints | awk '{print $2}')" = "$epa" ] || fail "wireguard-go sees wrong endpoint"
	[ "$(ip netns exec $A wg show puio0 endpoints | awk '{print $2}')" = "$epb" ] || fail "podwire-wg sees wrong endpoint"

	# Byte counters agree across implementations: each side's tx is the other's rx
	# (checked before iperf3, whose bursts a receiver may drop at its socket).
	local tx_a rx_b
	tx_a=$(ip netns exec $A wg show puio0 transfer | awk '{print $3}')
	rx_b=$(ip netns exec $B wg show puio1 transfer | awk '{print $2}')
	python3 -c "import sys; a,b=$tx_a,$rx_b; sys.exit(0 if a>0 and abs(a-b) <= 96 else 1)" ||
		fail "podwire-wg tx_bytes $tx_a vs wireguard-go rx_bytes $rx_b"

	rate=$(pu_iperf $B $A 10.78.0.2 "$secs") || fail "iperf3 podwire-wg -> wireguard-go"
	echo "iperf3 TCP podwire-wg -> wireguard-go (IPv$under underlay, psk=$psk): $rate Mbit/s"
	[ "$rate" -ge "$MIN_MBIT" ] || fail "throughput $rate < $MIN_MBIT Mbit/s"
	rate=$(pu_iperf $A $B fd78::1 "$secs") || fail "iperf3 wireguard-go -> podwire-wg"
	echo "iperf3 TCP wireguard-go -> podwire-wg over v6 inner (IPv$under underlay, psk=$psk): $rate Mbit/s"
	[ "$rate" -ge "$MIN_MBIT" ] || fail "throughput $rate < $MIN_MBIT Mbit/s"

	pu_stop_all
	ip netns exec $A ip link del puio0 2>/dev/null
	ip netns exec $B ip link del puio1 2>/dev/null
	return 0
}

secs=${PU_IPERF_SECONDS:-10}
run_case 4 no podwire "$secs"
run_case 6 yes wggo "$secs"
run_case 4 yes podwire "$secs"
run_case 6 no wggo "$secs"
echo "PASS: podwire-wg interoperates with wireguard-go in all four sessions"
