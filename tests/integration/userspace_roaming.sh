#!/bin/bash
# userspace_roaming.sh — a peer's endpoint follows its last authenticated packet (paper
# §2.1). podwire-wg in A stays put and knows no endpoint for B; B (podwire-wg) changes its
# underlay address in the middle of an iperf3 TCP stream, then switches to the IPv6
# underlay. Traffic keeps flowing and `wg show` on A shows B's new endpoint each time.
# Then B is replaced by wireguard-go and podwire-wg moves: wireguard-go follows it.
# (Debian's wireguard-go keeps a sticky source address and stops sending when it is
# deleted, so the moving side in the first part is podwire-wg.)
set -uo pipefail
. "$(dirname "$0")/pu_common.bash"
command -v wireguard-go >/dev/null || skip "wireguard-go not installed"

A=pu-ro-a B=pu-ro-b
pu_netns $A $B
# Deleting a primary address must keep the new secondary one (default: both go).
ip netns exec $A sysctl -qw net.ipv4.conf.pu-v0.promote_secondaries=1
ip netns exec $B sysctl -qw net.ipv4.conf.pu-v1.promote_secondaries=1
pu_key a
pu_key b

setup_b() { # impl
	pu_start "$1" $B puro1
	ip netns exec $B wg set puro1 private-key "$PU_TMP/b.key" listen-port 51841 \
		peer "$(cat "$PU_TMP/a.pub")" endpoint 10.77.0.1:51840 allowed-ips 10.80.0.1/32 || fail "configure $1"
	ip -n $B addr add 10.80.0.2/24 dev puro1
	ip -n $B link set puro1 up
}

pu_start podwire-wg $A puro0
ip netns exec $A wg set puro0 private-key "$PU_TMP/a.key" listen-port 51840 \
	peer "$(cat "$PU_TMP/b.pub")" allowed-ips 10.80.0.2/32 || fail "configure podwire-wg"
ip -n $A addr add 10.80.0.1/24 dev puro0
ip -n $A link set puro0 up
setup_b podwire-wg

endpoint_of() { ip netns exec "$1" wg show "$2" endpoints | awk '{print $2}'; }

pu_ping $B 10.80.0.1 || fail "initial ping"
[ "$(endpoint_of $A puro0)" = 10.77.0.2:51841 ] || fail "A did not learn B's endpoint: $(endpoint_of $A puro0)"

# iperf3 from B to A for 6 s; B moves at ~2 s and again (to IPv6) at ~4 s.
port=$((5200 + RANDOM % 500))
ip netns exec $A iperf3 -s -1 -p $port >/dev/null 2>&1 &
PU_PIDS+=($!)
sleep 0.3
ip netns exec $B iperf3 -c 10.80.0.1 -p $port -t 6 -i 1 -J >"$PU_TMP/iperf.json" 2>&1 &
client=$!
sleep 2
log "B moves 10.77.0.2 -> 10.77.0.3"
ip -n $B addr add 10.77.0.3/24 dev pu-v1
ip -n $B addr del 10.77.0.2/24 dev pu-v1
sleep 1.5
ep=$(endpoint_of $A puro0)
echo "A sees B at $ep"
[ "$ep" = 10.77.0.3:51841 ] || fail "endpoint did not follow B's new address: $ep"
log "B loses IPv4 and switches to the IPv6 underlay"
# (Were B's IPv4 address kept, A's replies to it would pull B's endpoint back to IPv4:
# roaming works both ways.)
ip -n $B addr del 10.77.0.3/24 dev pu-v1
ip netns exec $B wg set puro1 peer "$(cat "$PU_TMP/a.pub")" endpoint [fd77::1]:51840
sleep 1.5
ep=$(endpoint_of $A puro0)
echo "A sees B at $ep"
[ "$ep" = "[fd77::2]:51841" ] || fail "endpoint did not follow B to IPv6: $ep"
wait $client || { tail -5 "$PU_TMP/iperf.json"; fail "iperf3 failed across the moves"; }
python3 - "$PU_TMP/iperf.json" <<'PY' || fail "traffic stopped after a move"
import json, sys
d = json.load(open(sys.argv[1]))
iv = [i["sum"]["bits_per_second"] / 1e6 for i in d["intervals"]]
print("Mbit/s per second:", " ".join("%.0f" % x for x in iv))
# Every second of the stream carried data, in particular those after each move.
sys.exit(0 if len(iv) >= 6 and min(iv[:6]) > 0.5 else 1)
PY

log "B is now wireguard-go; podwire-wg moves and wireguard-go follows"
ip -n $B link del puro1 # podwire-wg exits when its interface is deleted
ip -n $B addr add 10.77.0.2/24 dev pu-v1
setup_b wireguard-go
ip netns exec $B wg set puro1 peer "$(cat "$PU_TMP/a.pub")" endpoint 10.77.0.1:51840
pu_ping $B 10.80.0.1 || fail "ping wireguard-go -> podwire-wg"
ip -n $A addr add 10.77.0.5/24 dev pu-v0
ip -n $A addr del 10.77.0.1/24 dev pu-v0
pu_ping $A 10.80.0.2 || fail "ping after podwire-wg moved"
[ "$(endpoint_of $B puro1)" = 10.77.0.5:51840 ] || fail "wireguard-go did not follow: $(endpoint_of $B puro1)"
echo "PASS: endpoints follow roaming peers, traffic continues"
