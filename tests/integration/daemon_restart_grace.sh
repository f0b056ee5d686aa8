#!/bin/bash
# daemon_restart_grace: "SIGTERM leaves the interface and routes in place (pods keep talking
# while the daemon restarts)" holds on etcd for a restart longer than the record's lease
# (issue 29, item 4). Two nodes on etcd with a 10 s lease; a pod on each.
#   1. n2's podwired gets SIGTERM and stays down for 2.5 leases: its record stays in etcd
#      (--restart-grace, default 600 s), n1 keeps n2's peer and route, and n1's pod keeps
#      reaching n2's pod; n2's log says how long its record stays;
#   2. n2 comes back: n1 removes nothing, the pods still talk;
#   3. with --restart-grace 2 the record goes 2 s after the SIGTERM, and n1's log line names the
#      node it removed: "1 removed (n2)".
# On the code before issue 29 the record expired with its lease: n1 dropped n2's peer and route
# at most 10 s after n2 stopped (1 fails), and its log said "1 removed" without a name (3 fails).
T=rg NET=227
PORT=22727
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd curl
cluster_init
for i in 1 2; do node_ns $i; done
etcd_start $PORT
STORE_ARGS+=(--lease-ttl 10) # after etcd_start's --lease-ttl: the last one counts

last_line() { grep "node n$1: public key" "$W/n$1.log" | tail -n 1; } # I: its latest startup line
field() { sed -n "s/.* $2 \\([^ ,]*\\),.*/\\1/p"; } # <LINE NAME: "tunnel", "CIDR"
etcd_has() { # KEY: the key exists in etcd
	ip netns exec "pn-$T-r" curl -sf -X POST -d "{\"key\":\"$(printf '%s' "$1" | base64)\"}" \
		"http://192.168.$NET.254:$PORT/v3/kv/range" | grep -q '"kvs"'
}
stub_cidr() { # I: pod_add reads the pod CIDR from $W/store/nI.conf: a stub from the daemon's log
	printf '# PodCIDRs = %s\n' "$(last_line "$1" | field - CIDR)" >"$W/store/n$1.conf"
}
routes_to() { ip -n "pn-$T-n$1" route | grep -q "^$2 "; } # I CIDR
started() { [ "$(grep -c "node n$1: public key" "$W/n$1.log")" -eq "$2" ]; } # I N: started N times

for i in 1 2; do daemon_start $i --resync 1; done
for i in 1 2; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do stub_cidr $i; pod_add $i 1; done
cidr2=$(last_line 2 | field - CIDR)
wait_until 10 pod_ping 1 1 "$(pod_ip 2 1)" || fail "n1's pod cannot reach n2's pod $(pod_ip 2 1)"
ok "n1 and n2 on etcd (lease 10 s): pods talk"

log "n2's podwired stopped (SIGTERM) for 2.5 leases"
daemon_stop 2
grep -q "signal 15: exiting, pn${T}w2 and its routes stay up; the record of node n2 stays in the store 600 s (--restart-grace)" \
	"$W/n2.log" || fail "n2's log does not say its record stays: $(tail -n 1 "$W/n2.log")"
ok "n2: '$(grep -o 'signal 15: .*' "$W/n2.log" | tail -n 1)'"
t0=$SECONDS
down=0
while [ $((SECONDS - t0)) -lt 25 ]; do
	etcd_has nodes/n2 || fail "n2's record left etcd $((SECONDS - t0)) s after SIGTERM"
	has_peers 1 1 || fail "n1 dropped n2's peer $((SECONDS - t0)) s after n2's SIGTERM"
	routes_to 1 "$cidr2" || fail "n1 dropped its route to n2's $cidr2 $((SECONDS - t0)) s after n2's SIGTERM"
	pod_ping 1 1 "$(pod_ip 2 1)" || down=$((down + 1))
	sleep 1
done
[ "$down" -le 1 ] || fail "n1's pod lost n2's pod in $down of the checks while n2's podwired was down"
grep -q "removed (n2)" "$W/n1.log" && fail "n1 removed n2 while its podwired was down: $(grep 'removed (n2)' "$W/n1.log")"
ok "25 s (2.5 leases) later: n2's record is in etcd, n1 keeps its peer and the route to $cidr2, the pods talk"

log "n2's podwired back"
daemon_start 2 --resync 1
wait_until 20 started 2 2 || fail "n2 did not start again"
sleep 3
has_peers 1 1 && has_peers 2 1 || fail "peers after n2's restart: n1 $(peers_of 1), n2 $(peers_of 2)"
grep -q "[1-9][0-9]* removed" "$W/n1.log" && fail "n1 removed a peer: $(grep ' removed' "$W/n1.log")"
wait_until 10 pod_ping 1 1 "$(pod_ip 2 1)" || fail "the pods do not talk after n2's restart"
ok "n2 restarted: n1 removed nothing, the pods talk"

log "--restart-grace 2: the record goes soon after SIGTERM, and the log names the node"
daemon_stop 2
daemon_start 2 --resync 1 --restart-grace 2
wait_until 20 started 2 3 || fail "n2 did not start a third time"
sleep 2
daemon_stop 2
grep -q "stays in the store 2 s (--restart-grace)" "$W/n2.log" || fail "n2's log: $(tail -n 1 "$W/n2.log")"
gone() { ! etcd_has nodes/n2; }
wait_until 15 gone || fail "n2's record did not go after its 2 s grace"
wait_until 10 has_peers 1 0 || fail "n1 still has n2 after its record went"
wait_until 5 grep -q "pn${T}w1: peers: 0 added, 1 removed (n2), " "$W/n1.log" ||
	fail "n1's log does not name the node it removed: $(grep ' removed' "$W/n1.log" | tail -n 1)"
ok "n1 logs '$(grep -o 'peers: 0 added, 1 removed (n2), [^;]*' "$W/n1.log" | tail -n 1)'"
echo "daemon_restart_grace: $CHECKS checks passed"
