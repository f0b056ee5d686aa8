#!/bin/bash
# Faults: etcd restarts and every daemon's watch resumes. Three nodes on etcd whose periodic
# resync is an hour, so that only the watch can bring them a change. etcd is stopped and
# started again (same data); each daemon's watch stream is back on the new etcd (its watcher
# gauge), and then two changes written after the restart reach every node without any
# daemon restarting: n4 joins (its peer, reached through the tunnel) and leaves (--cleanup).
T=f13e NET=233
PORT=23833
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd curl
cluster_init
for i in 1 2 3; do node_ns $i; done
etcd_start $PORT
ETCD_URL=http://192.168.$NET.254:$PORT

watchers() { # etcd's count of open watchers
	ip netns exec "pn-$T-r" curl -sf "$ETCD_URL/metrics" | awk '$1 == "etcd_debugging_mvcc_watcher_total" {print $2}'
}
watchers_are() { [ "$(watchers)" = "$1" ]; }
tunnel_of() { sed -n 's/.*node n'$1': .* tunnel \([0-9.]*\),.*/\1/p' "$W/n$1.log" | head -n 1; } # I

log "3 nodes on etcd, resync every hour: changes come through the watch only"
for i in 1 2 3; do daemon_start $i --resync 3600; done
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
wait_until 15 watchers_are 3 || fail "etcd has $(watchers) watchers, want one per daemon (3)"
ok "3 nodes meshed, etcd serves 3 watchers"

log "etcd restarts"
etcd_stop
etcd_run $PORT
wait_until 15 ip netns exec "pn-$T-r" curl -sf -X POST -d '{}' "$ETCD_URL/v3/maintenance/status" ||
	fail "etcd did not start again"
t0=$SECONDS
wait_until 30 watchers_are 3 || fail "$(watchers) daemons watch the restarted etcd, want 3"
ok "every daemon's watch is back on the restarted etcd after $((SECONDS - t0)) s"

log "a change after the restart: n4 joins, every node gets it through its watch"
node_ns 4; daemon_start 4 --resync 3600
t0=$SECONDS
for i in 1 2 3; do wait_until 20 has_peers $i 3 || fail "n$i did not get n4 ($(peers_of $i) peers)"; done
wait_until 20 has_peers 4 3 || fail "n4 has $(peers_of 4) peers"
ok "n4 reached every node $((SECONDS - t0)) s after it started"
t4=$(tunnel_of 4)
for i in 1 2 3; do
	wait_until 10 ns_ping "pn-$T-n$i" "$t4" 1 1 || fail "n$i cannot reach n4's tunnel address $t4"
done
ok "every node reaches n4's tunnel address $t4 through the tunnel"

log "another change: n4 leaves, every node drops it"
daemon_stop 4
ip netns exec "pn-$T-n4" "$B/podwired" --name n4 -i "pn${T}w4" "${STORE_ARGS[@]}" --cleanup >>"$W/n4.log" 2>&1 ||
	fail "n4's cleanup failed"
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i still has n4 ($(peers_of $i) peers)"; done
ok "n4's departure reached every node"

for i in 1 2 3; do
	kill -0 "$(daemon_pid $i)" 2>/dev/null || fail "n$i's daemon is gone"
	[ "$(grep -c "node n$i: public key" "$W/n$i.log")" -eq 1 ] || fail "n$i's daemon started more than once"
done
ok "no daemon restarted"
echo "PASS ($CHECKS checks)"
