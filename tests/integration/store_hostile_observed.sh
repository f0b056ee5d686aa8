#!/bin/bash
# store_hostile_observed.sh — "# Observed" endpoints in another node's record do not redirect
# working sessions. n3 turns hostile and publishes that it observes n2 at n3:40000 and n1 at
# n3:40001. n1 and n2 have working sessions with each other; over several reconciles
# (longer than the hint interval) neither moves its peer's endpoint, no packet goes to the
# chosen addresses, and the pods keep talking. (That an observed endpoint still helps a peer
# without a session through NAT is daemon_nat.sh.)
T=h13a3 NET=235
source "$(dirname "$0")/lib/common.bash"
require_cmd tcpdump curl
cluster_init

ep_of() { wg_ns "$1" show "pn${T}w$1" endpoints | awk -v k="$2" '$1 == k {print $2}'; } # I KEY
reconciles() { # I: podwired's reconcile count on node I
	ip netns exec "pn-$T-n$1" curl -sf http://127.0.0.1:9586/metrics | awk '$1 == "podwire_reconcile_total" {print $2}'
}
reconciled() { [ "$(reconciles "$1")" -ge "$2" ]; } # I COUNT

log "3 nodes, a pod on each, sessions up"
for i in 1 2 3; do node_ns "$i"; daemon_start "$i"; done
for i in 1 2 3; do wait_until 15 has_peers "$i" 2 || fail "n$i has $(peers_of "$i") peers, want 2"; done
for i in 1 2 3; do pod_add "$i" 1; done
all_pods_reach || fail "pods before the attack"
k1=$(wg_ns 1 show "pn${T}w1" public-key) k2=$(wg_ns 2 show "pn${T}w2" public-key)
[ "$(ep_of 1 "$k2")" = "192.168.$NET.2:51820" ] && [ "$(ep_of 2 "$k1")" = "192.168.$NET.1:51820" ] ||
	fail "n1 and n2 do not use each other's endpoints"
ok "n1 <-> n2 session on 192.168.$NET.1/.2:51820"

log "n3 turns hostile: its record says n2 is at n3:40000 and n1 at n3:40001"
ip netns exec "pn-$T-n3" tcpdump -Z root -i eth0 -n -U --immediate-mode -w "$W/sink.pcap" \
	'udp and (dst port 40000 or dst port 40001)' >"$W/tcpdump.log" 2>&1 &
TCPDUMP=$!; track_pid $TCPDUMP
wait_until 5 grep -q listening "$W/tcpdump.log" || fail "tcpdump did not start"
daemon_stop 3
r1=$(reconciles 1) r2=$(reconciles 2)
sed -i "s|^PublicKey = |# Observed = $k2 192.168.$NET.3:40000\n# Observed = $k1 192.168.$NET.3:40001\n&|" \
	"$W/store/n3.conf"
grep -c "^# Observed = " "$W/store/n3.conf" | grep -qx 2 || fail "the hostile observations are not in n3's record"
# The old rule applied an observation at the very next reconcile; the hint interval is 10 s:
# wait for 4 reconciles on each (resync 5 s), then look.
wait_until 40 reconciled 1 $((r1 + 4)) || fail "n1 did not reconcile"
wait_until 40 reconciled 2 $((r2 + 4)) || fail "n2 did not reconcile"
echo "reconciles since the hostile write: n1 $(($(reconciles 1) - r1)), n2 $(($(reconciles 2) - r2))"
[ "$(ep_of 1 "$k2")" = "192.168.$NET.2:51820" ] || fail "n1 moved n2's endpoint to $(ep_of 1 "$k2")"
[ "$(ep_of 2 "$k1")" = "192.168.$NET.1:51820" ] || fail "n2 moved n1's endpoint to $(ep_of 2 "$k1")"
ok "n1 and n2 keep the endpoints their handshakes came from"
pod_ping 1 1 "$(pod_ip 2 1)" 3 || fail "n1's pod cannot reach n2's pod"
pod_ping 2 1 "$(pod_ip 1 1)" 3 || fail "n2's pod cannot reach n1's pod"
sleep 1; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
sunk=$(tcpdump -n -r "$W/sink.pcap" 2>/dev/null | wc -l)
echo "packets to the chosen addresses: $sunk"
[ "$sunk" -eq 0 ] || fail "$sunk packets went to the hostile endpoints"
ok "pods n1 <-> n2 reach each other, nothing was sent to n3:40000/40001"
echo "PASS ($CHECKS checks)"
