#!/bin/bash
# userspace_roaming.sh — a peer's endpoint follows its last authenticated packet (paper
# §2.1). podwire-wg in A stays put and knows no endpoint for B; B (podwire-wg) changes its
# underlay address in the middle of an iperf3 TCP stream, then switches to the IPv6
# underlay. Traffic keeps flowing and `wg show` on A shows B's new endpoint each time.
# Then B is replaced by wireguard-go and podwire-wg moves: wireguard-go follows it.
# (Debian's wireguard-go keeps a sticky source address and stops sending when it is
# deleted, so the moving side in the first part is podwire-wg.)
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_cmd wireguard-go

two_wg_hosts pu-ro-a pu-ro-b
# Deleting a primary address must keep the new secondary one (default: both go).
ip netns exec $NA sysctl -qw net.ipv4.conf.pu-v0.promote_secondaries=1
ip netns exec $NB sysctl -qw net.ipv4.conf.pu-v1.promote_secondaries=1

setup_b() { # impl
	wg_start "$1" $NB puro1
	ip netns exec $NB wg set puro1 private-key "$W/b.key" listen-port 51841 \
		peer "$(cat "$W/a.pub")" endpoint 10.77.0.1:51840 allowed-ips 10.80.0.1/32 || fail "configure $1"
	ip -n $NB addr add 10.80.0.2/24 dev puro1
	ip -n $NB link set puro1 up
}

wg_start podwire-wg $NA puro0
ip netns exec $NA wg set puro0 private-key "$W/a.key" listen-port 51840 \
	peer "$(cat "$W/b.pub")" allowed-ips 10.80.0.2/32 || fail "configure podwire-wg"
ip -n $NA addr add 10.80.0.1/24 dev puro0
ip -n $NA link set puro0 up
setup_b podwire-wg

endpoint_of() { ip netns exec "$1" wg show "$2" endpoints | awk '{print $2}'; }

ns_ping $NB 10.80.0.1 2 || fail "initial ping"
[ "$(endpoint_of $NA puro0)" = 10.77.0.2:51841 ] || fail "A did not learn B's endpoint: $(endpoint_of $NA puro0)"

# iperf3 from B to A for 6 s; B moves at ~2 s and again (to IPv6) at ~4 s.
port=$((5200 + RANDOM % 500))
ip netns exec $NA iperf3 -s -1 -p $port >/dev/null 2>&1 &
track_pid $!
sleep 0.3
ip netns exec $NB iperf3 -c 10.80.0.1 -p $port -t 6 -i 1 -J >"$W/iperf.json" 2>&1 &
client=$!
sleep 2
log "B moves 10.77.0.2 -> 10.77.0.3"
ip -n $NB addr add 10.77.0.3/24 dev pu-v1
ip -n $NB addr del 10.77.0.2/24 dev pu-v1
sleep 1.5
ep=$(endpoint_of $NA puro0)
echo "A sees B at $ep"
[ "$ep" = 10.77.0.3:51841 ] || fail "endpoint did not follow B's new address: $ep"
log "B loses IPv4 and switches to the IPv6 underlay"
# (Were B's IPv4 address kept, A's replies to it would pull B's endpoint back to IPv4:
# roaming works both ways.)
ip -n $NB addr del 10.77.0.3/24 dev pu-v1
ip netns exec $NB wg set puro1 peer "$(cat "$W/a.pub")" endpoint [fd77::1]:51840
sleep 1.5
ep=$(endpoint_of $NA puro0)
echo "A sees B at $ep"
[ "$ep" = "[fd77::2]:51841" ] || fail "endpoint did not follow B to IPv6: $ep"
wait $client || { tail -5 "$W/iperf.json"; fail "iperf3 failed across the moves"; }
python3 - "$W/iperf.json" <<'PY' || fail "traffic stopped after a move"
import json, sys
d = json.load(open(sys.argv[1]))
iv = [i["sum"]["bits_per_second"] / 1e6 for i in d["intervals"]]
print("Mbit/s per second:", " ".join("%.0f" % x for x in iv))
# Every second of the stream carried data, in particular those after each move.
sys.exit(0 if len(iv) >= 6 and min(iv[:6]) > 0.5 else 1)
PY

log "B is now wireguard-go; podwire-wg moves and wireguard-go follows"
ip -n $NB link del puro1 # podwire-wg exits when its interface is deleted
ip -n $NB addr add 10.77.0.2/24 dev pu-v1
setup_b wireguard-go
ip netns exec $NB wg set puro1 peer "$(cat "$W/a.pub")" endpoint 10.77.0.1:51840
ns_ping $NB 10.80.0.1 2 || fail "ping wireguard-go -> podwire-wg"
ip -n $NA addr add 10.77.0.5/24 dev pu-v0
ip -n $NA addr del 10.77.0.1/24 dev pu-v0
ns_ping $NA 10.80.0.2 2 || fail "ping after podwire-wg moved"
[ "$(endpoint_of $NB puro1)" = 10.77.0.5:51840 ] || fail "wireguard-go did not follow: $(endpoint_of $NB puro1)"
echo "PASS: endpoints follow roaming peers, traffic continues"
