#!/bin/bash
# podwired masquerades its node's pods towards destinations outside the cluster's pod ranges
# (flannel's --ip-masq), over IPv4 and IPv6:
#
#              pn-mq-r: bridge br0  192.168.246.0/24, fd00:246::/64 (the underlay)
#        .1 /                 .2 |                         \ .200
#   pn-mq-n1 (podwired)     pn-mq-n2 (podwired)          pn-mq-out ("outside": no route to
#    pod p1 ----WireGuard---- pod p1, TCP server         any pod range), TCP server
#                             TCP server on the node
#
# - a pod on n1 reaches n2's own address (ping and TCP, both families): n2's answer goes back
#   over the underlay to n1's address, not into WireGuard, where n1 would drop it (n2's node
#   address is not one of n2's allowed IPs) — the bug this fixes;
# - a server outside sees n1's address as the source; pod to pod across nodes keeps the pod's
#   own address; the table is one of podwired's own, the same after a restart, removed by
#   --cleanup; with --masquerade off the outside cannot answer (so the checks above mean
#   something).
T=mq NET=246
source "$(dirname "$0")/lib/common.bash"
require_cmd nft python3
cluster_init
V6=fd00:$NET
for i in 1 2; do
	node_ns $i
	ip -n "pn-$T-n$i" addr add "$V6::$i/64" dev eth0 nodad
done
netns_add "pn-$T-out"
lan_join "pn-$T-r" br0 "pn-$T-out" eth0 "192.168.$NET.200/24"
ip -n "pn-$T-out" addr add "$V6::200/64" dev eth0 nodad
POOL6=(--cluster-cidr6 fd46::/48 --tunnel-cidr6 fd99:46::/112)
for i in 1 2; do daemon_start $i "${POOL6[@]}"; done
for i in 1 2; do wait_until 15 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
pod_add 1 1; pod_add 2 1
[ -f "$W/pod6-1-1" ] || fail "pods got no IPv6 address"

# A TCP server on port 7446 of NS that answers each connection with the address it sees.
tcp_server() {
	ip netns exec "$1" python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 7446)); s.listen(16)
while True:
    c, a = s.accept()
    h = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    c.sendall(h.encode() + b"\n"); c.close()' >>"$W/server-$1.log" 2>&1 &
	track_pid $!
	wait_until 15 listening "$1" || { cat "$W/server-$1.log"; fail "server in $1 did not start"; }
}
listening() { ip netns exec "$1" ss -Hltn | grep -q ':7446 '; }
# seen_by FROM_NS ADDR: the source address the server at ADDR saw for a connection from FROM_NS
seen_by() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7446), timeout=3)
print(s.recv(100).decode().strip())' "$2" 2>/dev/null
}
expect_seen() { # FROM_NS ADDR WANT WHAT
	local got
	got=$(seen_by "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: the server at $2 saw '${got:-no connection}', want $3"
	ok "$4: the server at $2 saw $got"
}
for ns in "pn-$T-n2" "pn-$T-out" "pn-$T-n2-p1"; do tcp_server "$ns"; done
pod=pn-$T-n1-p1
pod4=$(pod_ip 1 1) pod6=$(cat "$W/pod6-1-1")

log "pod on n1 -> n2's own address"
wait_until 5 ns_ping "$pod" "192.168.$NET.2" 1 1 || fail "pod cannot ping n2's node address 192.168.$NET.2"
ns_ping "$pod" "192.168.$NET.2" 3 1 || fail "pod's pings to n2's node address were lost"
ok "ping 192.168.$NET.2"
wait_until 5 ns_ping "$pod" "$V6::2" 1 1 || fail "pod cannot ping n2's node address $V6::2"
ok "ping $V6::2"
expect_seen "$pod" "192.168.$NET.2" "192.168.$NET.1" "TCP to n2's node address (v4)"
expect_seen "$pod" "$V6::2" "$V6::1" "TCP to n2's node address (v6)"

log "pod on n1 -> outside: the source is n1's address"
expect_seen "$pod" "192.168.$NET.200" "192.168.$NET.1" "egress (v4)"
expect_seen "$pod" "$V6::200" "$V6::1" "egress (v6)"

log "pod on n1 -> pod on n2: not masqueraded"
expect_seen "$pod" "$(pod_ip 2 1)" "$pod4" "pod to pod (v4)"
expect_seen "$pod" "$(cat "$W/pod6-2-1")" "$pod6" "pod to pod (v6)"

log "the table: podwired's own, one rule per pod CIDR, the same after a restart"
table() { ip netns exec "pn-$T-n1" nft list table inet podwired 2>/dev/null; }
table
[ "$(table | grep -c masquerade)" = 2 ] || fail "want 2 masquerade rules (v4, v6)"
table | grep -q "ip saddr $(pod_cidr_of 1) ip daddr != { 10.244.0.0/16, 224.0.0.0/4 } masquerade" ||
	fail "no IPv4 rule exempting the cluster pool"
table | grep -q "ip6 saddr $(pod_cidr6_of 1) ip6 daddr != { fd46::/48, fe80::/10, ff00::/8 } masquerade" ||
	fail "no IPv6 rule exempting the cluster pool"
before=$(table)
daemon_stop 1
lines=$(wc -l <"$W/n1.log")
daemon_start 1 "${POOL6[@]}"
applied_again() { tail -n +"$((lines + 1))" "$W/n1.log" | grep -q "masquerade: pods leave"; }
wait_until 10 applied_again || fail "restarted n1 did not apply its table"
[ "$(table)" = "$before" ] || { table; fail "the table changed across a restart"; }
[ "$(ip netns exec "pn-$T-n1" nft list tables | grep -c podwired)" = 1 ] || fail "more than one podwired table"
ok "same table after a restart"
expect_seen "$pod" "192.168.$NET.200" "192.168.$NET.1" "egress after the restart"

log "--cleanup removes the table; with --masquerade off the outside cannot answer a pod"
daemon_stop 1
ip netns exec "pn-$T-n1" "$B/podwired" --name n1 -i "pn${T}w1" "${STORE_ARGS[@]}" --state-dir "$W/n1" \
	--cleanup >>"$W/n1.log" 2>&1 || fail "--cleanup failed"
[ -z "$(table)" ] || fail "--cleanup left the table"
ok "--cleanup removed table inet podwired"
daemon_start 1 "${POOL6[@]}" --masquerade off
wait_until 15 has_peers 1 1 || fail "n1 did not come back"
pod_add 1 2
[ -z "$(table)" ] || fail "--masquerade off installed the table"
got=$(seen_by "pn-$T-n1-p2" "192.168.$NET.200")
[ -z "$got" ] || fail "the outside answered a pod without masquerade (saw '$got'): the checks above prove nothing"
ok "without masquerade the outside does not answer"
echo "daemon_masquerade: passed ($CHECKS checks)"
