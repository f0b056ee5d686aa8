#!/bin/bash
# userspace_interop.sh — podwire-wg <-> wireguard-go (Debian's) on the wire, configured by
# stock wg over each one's UAPI socket. Four sessions cover: handshake initiated by either
# side, with and without a preshared key, IPv4 and IPv6 underlay; each carries IPv4 and
# IPv6 inner traffic (ping both ways) and a 10 s iperf3 TCP run in each direction
# (PU_IPERF_SECONDS overrides, e.g. 2 for a quick local run).
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_cmd wireguard-go

two_wg_hosts pu-io-a pu-io-b
wg genpsk >"$W/psk"
MIN_MBIT=${PU_MIN_MBIT:-5}

# iperf_mbit SERVER_NS CLIENT_NS ADDR SECONDS: TCP throughput in Mbit/s on stdout.
iperf_mbit() {
	local sns=$1 cns=$2 addr=$3 secs=$4 port=$((5200 + RANDOM % 500)) spid out
	ip netns exec "$sns" iperf3 -s -1 -p $port >"$W/iperf-s.log" 2>&1 &
	spid=$!
	track_pid $spid
	sleep 0.3
	out=$(ip netns exec "$cns" timeout $((secs + 20)) iperf3 -c "$addr" -p $port -t "$secs" -J 2>&1) || {
		echo "$out" | tail -5 >&2
		kill $spid 2>/dev/null
		return 1
	}
	wait $spid 2>/dev/null
	echo "$out" | python3 -c 'import json,sys; print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

run_case() { # underlay(4|6) psk(yes|no) initiator(podwire|wggo) iperf-seconds
	local under=$1 psk=$2 init=$3 secs=$4 epa epb pskarg=() rate hs_a hs_b
	log "underlay IPv$under, psk=$psk, initiator=$init, iperf ${secs}s"
	wg_start podwire-wg $NA puio0
	wg_start wireguard-go $NB puio1
	if [ "$under" = 4 ]; then epa=10.77.0.1:51820 epb=10.77.0.2:51821; else epa=[fd77::1]:51820 epb=[fd77::2]:51821; fi
	[ "$psk" = yes ] && pskarg=(preshared-key "$W/psk")
	ip netns exec $NA wg set puio0 private-key "$W/a.key" listen-port 51820 \
		peer "$(cat "$W/b.pub")" "${pskarg[@]}" endpoint $epb allowed-ips 10.78.0.2/32,fd78::2/128 ||
		fail "wg set on podwire-wg"
	ip netns exec $NB wg set puio1 private-key "$W/b.key" listen-port 51821 \
		peer "$(cat "$W/a.pub")" "${pskarg[@]}" endpoint $epa allowed-ips 10.78.0.1/32,fd78::1/128 ||
		fail "wg set on wireguard-go"
	ip -n $NA addr add 10.78.0.1/24 dev puio0
	ip -n $NA addr add fd78::1/64 dev puio0 nodad
	ip -n $NB addr add 10.78.0.2/24 dev puio1
	ip -n $NB addr add fd78::2/64 dev puio1 nodad
	ip -n $NA link set puio0 up
	ip -n $NB link set puio1 up

	if [ "$init" = podwire ]; then
		ns_ping $NA 10.78.0.2 2 || fail "ping podwire-wg -> wireguard-go (v4 inner)"
	else
		ns_ping $NB 10.78.0.1 2 || fail "ping wireguard-go -> podwire-wg (v4 inner)"
	fi
	ns_ping $NA fd78::2 2 || fail "ping podwire-wg -> wireguard-go (v6 inner)"
	ns_ping $NB fd78::1 2 || fail "ping wireguard-go -> podwire-wg (v6 inner)"
	ns_ping $NB 10.78.0.1 2 || fail "ping wireguard-go -> podwire-wg (v4 inner)"

	hs_a=$(ip netns exec $NA wg show puio0 latest-handshakes | awk '{print $2}')
	hs_b=$(ip netns exec $NB wg show puio1 latest-handshakes | awk '{print $2}')
	[ "${hs_a:-0}" -gt 0 ] && [ "${hs_b:-0}" -gt 0 ] || fail "no handshake recorded ($hs_a / $hs_b)"
	# Each side learned the other's endpoint from authenticated packets.
	[ "$(ip netns exec $NB wg show puio1 endpoints | awk '{print $2}')" = "$epa" ] || fail "wireguard-go sees wrong endpoint"
	[ "$(ip netns exec $NA wg show puio0 endpoints | awk '{print $2}')" = "$epb" ] || fail "podwire-wg sees wrong endpoint"

	# Byte counters agree across implementations: each side's tx is the other's rx
	# (checked before iperf3, whose bursts a receiver may drop at its socket).
	local tx_a rx_b
	tx_a=$(ip netns exec $NA wg show puio0 transfer | awk '{print $3}')
	rx_b=$(ip netns exec $NB wg show puio1 transfer | awk '{print $2}')
	python3 -c "import sys; a,b=$tx_a,$rx_b; sys.exit(0 if a>0 and abs(a-b) <= 96 else 1)" ||
		fail "podwire-wg tx_bytes $tx_a vs wireguard-go rx_bytes $rx_b"

	rate=$(iperf_mbit $NB $NA 10.78.0.2 "$secs") || fail "iperf3 podwire-wg -> wireguard-go"
	echo "iperf3 TCP podwire-wg -> wireguard-go (IPv$under underlay, psk=$psk): $rate Mbit/s"
	[ "$rate" -ge "$MIN_MBIT" ] || fail "throughput $rate < $MIN_MBIT Mbit/s"
	rate=$(iperf_mbit $NA $NB fd78::1 "$secs") || fail "iperf3 wireguard-go -> podwire-wg"
	echo "iperf3 TCP wireguard-go -> podwire-wg over v6 inner (IPv$under underlay, psk=$psk): $rate Mbit/s"
	[ "$rate" -ge "$MIN_MBIT" ] || fail "throughput $rate < $MIN_MBIT Mbit/s"

	stop_pids
	ip netns exec $NA ip link del puio0 2>/dev/null
	ip netns exec $NB ip link del puio1 2>/dev/null
	return 0
}

secs=${PU_IPERF_SECONDS:-10}
run_case 4 no podwire "$secs"
run_case 6 yes wggo "$secs"
run_case 4 yes podwire "$secs"
run_case 6 no wggo "$secs"
echo "PASS: podwire-wg interoperates with wireguard-go in all four sessions"
