#!/bin/bash
# Faults: a node restarts with the same key and gets the same pod CIDR and tunnel address.
# Three nodes on etcd with a short record lease. n2 "reboots": its daemon is killed, its
# WireGuard interface and pod are gone, and its record expires from etcd (the other nodes
# drop it). Meanwhile n4 joins and allocates. n2 comes back with the same key (kept in its
# state directory): the same pod CIDR and tunnel address as before, none taken by n4, every
# node has it again and its new pod (the same address as before) reaches every pod.
T=f13r NET=234
PORT=23834
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd curl
cluster_init
for i in 1 2 3; do node_ns $i; done
etcd_start $PORT
STORE_ARGS+=(--lease-ttl 5) # after etcd_start's own --lease-ttl: the last one counts

first_line() { grep -m1 "node n$1: public key" "$W/n$1.log"; } # I: its startup line
last_line() { grep "node n$1: public key" "$W/n$1.log" | tail -n 1; } # I
field() { sed -n "s/.* $2 \\([^ ,]*\\),.*/\\1/p"; } # <LINE NAME: "key", "tunnel", "CIDR"
etcd_has() { # KEY: the key exists in etcd
	ip netns exec "pn-$T-r" curl -sf -X POST -d "{\"key\":\"$(printf '%s' "$1" | base64)\"}" \
		"http://192.168.$NET.254:$PORT/v3/kv/range" | grep -q '"kvs"'
}
stub_cidr() { # I: pod_add reads the pod CIDR from $W/store/nI.conf: a stub from the daemon's log
	printf '# PodCIDRs = %s\n' "$(last_line "$1" | field - CIDR)" >"$W/store/n$1.conf"
}

log "3 nodes on etcd (record lease 5 s), a pod each"
for i in 1 2 3; do daemon_start $i; done
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
mkdir -p "$W/store"
for i in 1 2 3; do stub_cidr $i; pod_add $i 1; done
all_pods_reach || fail "pods cannot all reach each other"
before=$(first_line 2)
key=$(echo "$before" | field - key) tun=$(echo "$before" | field - tunnel) cidr=$(echo "$before" | field - CIDR)
echo "n2: key $key, tunnel $tun, pod CIDR $cidr"
[ -n "$key" ] && [ -n "$tun" ] && [ -n "$cidr" ] || fail "n2's startup line names no key, tunnel or pod CIDR"

log "n2 reboots: daemon killed, interface and pod gone, its record expires"
daemon_stop 2 KILL
ip -n "pn-$T-n2" link del "pn${T}w2"
ip netns del "pn-$T-n2-p1"; ip -n "pn-$T-n2" link del "pn${T}p21" 2>/dev/null
gone() { ! etcd_has nodes/n2; }
wait_until 30 gone || fail "n2's record did not expire"
for i in 1 3; do wait_until 15 has_peers $i 1 || fail "n$i still has n2 after its record expired"; done
ok "n2's record expired and n1, n3 dropped it; its claims stay"
etcd_has "alloc/${cidr/\//_}" || fail "n2's pod CIDR claim alloc/${cidr/\//_} is gone"

log "n4 joins while n2 is away"
node_ns 4; daemon_start 4
wait_until 15 has_peers 4 2 || fail "n4 has $(peers_of 4) peers, want 2"
l4=$(first_line 4)
echo "n4: tunnel $(echo "$l4" | field - tunnel), pod CIDR $(echo "$l4" | field - CIDR)"
[ "$(echo "$l4" | field - CIDR)" != "$cidr" ] && [ "$(echo "$l4" | field - tunnel)" != "$tun" ] ||
	fail "n4 got n2's pod CIDR or tunnel address"
ok "n4 got neither n2's pod CIDR nor its tunnel address"

log "n2 comes back with the same key"
daemon_start 2
wait_until 15 has_peers 2 3 || fail "n2 has $(peers_of 2) peers after its restart, want 3"
after=$(last_line 2)
[ "$after" != "$before" ] || [ "$(grep -c "node n2: public key" "$W/n2.log")" -eq 2 ] || fail "n2 did not start again"
echo "n2 again: key $(echo "$after" | field - key), tunnel $(echo "$after" | field - tunnel), pod CIDR $(echo "$after" | field - CIDR)"
[ "$(echo "$after" | field - key)" = "$key" ] || fail "n2 came back with another key"
[ "$(echo "$after" | field - tunnel)" = "$tun" ] || fail "n2 got another tunnel address"
[ "$(echo "$after" | field - CIDR)" = "$cidr" ] || fail "n2 got another pod CIDR"
ok "n2 has the same key, tunnel address $tun and pod CIDR $cidr"
for i in 1 3 4; do
	wait_until 15 has_peers $i 3 || fail "n$i has $(peers_of $i) peers, want 3"
	wg_ns $i show "pn${T}w$i" allowed-ips | grep -F "$key" | grep -qF "$cidr" ||
		fail "n$i's peer for n2 does not carry $cidr"
done
ok "every node has n2 again, with its pod CIDR"
stub_cidr 4; pod_add 4 1; pod_add 2 1
all_pods_reach || fail "pods cannot all reach each other after n2's restart"
ok "n2's new pod (same address as before) reaches every pod"
echo "PASS ($CHECKS checks)"
