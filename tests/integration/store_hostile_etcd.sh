#!/bin/bash
# store_hostile_etcd.sh — on etcd the earliest claim wins even for a daemon that was not
# running when the attack came: etcd's create_revision, which no writer can set, orders
# claims a daemon first sees together. n1 and n2 form a mesh; a hostile writer then claims
# the lower half of n2's pod CIDR and publishes a record with it (and a name that sorts
# first). n1, running, refuses it; n3, started afterwards, and n1 restarted, refuse it too
# and still route n2's block to n2.
T=h13a4 NET=236
PORT=23796
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd curl python3
cluster_init
for i in 1 2 3; do node_ns "$i"; done
etcd_start $PORT
ETCD=http://192.168.$NET.254:$PORT

etcd_put() { # KEY VALUE
	ip netns exec "pn-$T-r" curl -sf -X POST -d "{\"key\":\"$(printf '%s' "$1" | base64 -w0)\",\"value\":\"$(printf '%s' "$2" | base64 -w0)\"}" \
		"$ETCD/v3/kv/put" >/dev/null
}
etcd_get() { # KEY: the value
	ip netns exec "pn-$T-r" curl -sf -X POST -d "{\"key\":\"$(printf '%s' "$1" | base64 -w0)\"}" "$ETCD/v3/kv/range" |
		python3 -c 'import sys,json,base64
for kv in json.load(sys.stdin).get("kvs",[]): print(base64.b64decode(kv["value"]).decode())'
}
allowed_of() { wg_ns "$1" show "pn${T}w$1" allowed-ips | awk -v k="$2" '$1 == k {$1 = ""; print}' | xargs; }
allowed_is() { [ "$(allowed_of "$1" "$2")" = "$3" ]; } # I KEY PREFIXES
logged() { # I KEY REASON: logged by node I's current daemon (its log from line FROM_I on)
	local from; from=$(eval "echo \${FROM_$1:-1}")
	wait_until 20 log_has "$from" "$W/n$1.log" "store record $2 skipped: $3"
}
log_has() { tail -n "+$1" "$2" | grep -qF "$3"; } # FROM FILE TEXT

log "n1 and n2 on etcd"
for i in 1 2; do daemon_start "$i"; done
for i in 1 2; do wait_until 15 has_peers "$i" 1 || fail "n$i has $(peers_of "$i") peers, want 1"; done
cidr2=$(etcd_get nodes/n2 | sed -n 's/^# PodCIDRs = //p')
base2=${cidr2%/*}
k2=$(wg_ns 2 show "pn${T}w2" public-key)
[ "$(etcd_get "alloc/${base2}_24")" = n2 ] || fail "n2's claim of $cidr2 is not in etcd"
allowed2=$(allowed_of 1 "$k2")
ok "n2 owns $cidr2; n1 routes $allowed2 to it"

log "a hostile writer claims ${base2}/25 and publishes a record with it"
etcd_put alloc/10.99.0.220_32 aa-evil || fail "etcd put"
etcd_put "alloc/${base2}_25" aa-evil || fail "etcd put"
etcd_put nodes/aa-evil "$(printf '[Peer]\n# Name = aa-evil\n# TunnelIP = 10.99.0.220\n# PodCIDRs = %s/25\n# Heartbeat = %s\nPublicKey = %s\nEndpoint = 192.168.%s.9:51820\nAllowedIPs = 10.99.0.220/32, %s/25\n' \
	"$base2" "$(date +%s)" "$(wg genkey | wg pubkey)" "$NET" "$base2")" || fail "etcd put"
logged 1 "alloc/${base2}_25" "it overlaps alloc/${base2}_24 of node n2, claimed earlier" ||
	fail "n1 (running) did not refuse the claim"
ok "n1, running, refuses the later claim"

log "n3 starts now and n1 restarts: both see every claim at once"
daemon_start 3
daemon_stop 1
FROM_1=$(($(wc -l <"$W/n1.log") + 1))
daemon_start 1
for i in 1 3; do
	logged "$i" "alloc/${base2}_25" "it overlaps alloc/${base2}_24 of node n2, claimed earlier" ||
		fail "n$i did not order the claims by create_revision"
	logged "$i" nodes/aa-evil "pod CIDR $base2/25: its claim alloc/${base2}_25 is refused" || fail "n$i did not refuse aa-evil"
done
wait_until 15 has_peers 3 2 || fail "n3 has $(peers_of 3) peers, want n1 and n2"
for i in 1 3; do
	wait_until 10 allowed_is "$i" "$k2" "$allowed2" || fail "n$i gives n2 '$(allowed_of "$i" "$k2")'"
	ip -n "pn-$T-n$i" route show dev "pn${T}w$i" | grep -q "^$base2/25 " && fail "n$i routes $base2/25"
done
grep -h "skipped" "$W/n3.log" | sed 's/^/  n3: /'
ok "n3 (new) and n1 (restarted) route $cidr2 to n2 and refuse aa-evil"
echo "PASS ($CHECKS checks)"
