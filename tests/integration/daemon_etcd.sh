#!/bin/bash
# podwired with the etcd store: a 3-node mesh (every pod reaches every pod, the underlay
# carries only WireGuard UDP besides the etcd client traffic), then etcd stopped for 60 s:
# every existing pod pair keeps pinging, each daemon logs the outage once, and a node that
# joins meanwhile converges everywhere once etcd is back.
T=e NET=212
PORT=23795
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd
require_cmd tcpdump
OUTAGE=${PN_ETCD_OUTAGE:-60}
cluster_init
for i in 1 2 3; do node_ns $i; done
etcd_start $PORT

log "3 nodes on etcd, 2 pods each"
for i in 1 2 3; do daemon_start $i; done
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
etcd_cidr() { # I: node I's pod CIDR, read from etcd through podwirectl-free curl
	ip netns exec "pn-$T-r" curl -sf -X POST -d "{\"key\":\"$(printf 'nodes/n%s' "$1" | base64)\"}" \
		"http://192.168.$NET.254:$PORT/v3/kv/range" | python3 -c 'import sys,json,base64
for kv in json.load(sys.stdin).get("kvs",[]):
    for l in base64.b64decode(kv["value"]).decode().splitlines():
        if l.startswith("# PodCIDRs = "): print(l.split(" = ")[1].split(",")[0])'
}
# pod_add reads the file store; with etcd, hand it the CIDR through a stub record file.
for i in 1 2 3; do mkdir -p "$W/store"; printf '# PodCIDRs = %s\n' "$(etcd_cidr $i)" >"$W/store/n$i.conf"; done
for i in 1 2 3; do pod_add $i 1; pod_add $i 2; done

ip netns exec "pn-$T-r" tcpdump -Z root -i any -n -U --immediate-mode -w "$W/underlay.pcap" ip >"$W/tcpdump.log" 2>&1 &
TCPDUMP=$!; track_pid $TCPDUMP
wait_until 5 grep -q listening "$W/tcpdump.log" || fail "tcpdump did not start"
all_pods_reach || fail "pods cannot all reach each other"
sleep 1; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
wg_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'udp port 51820' 2>/dev/null | wc -l)
clear_pkts=$(tcpdump -n -r "$W/underlay.pcap" "not (udp port 51820) and not (tcp port $PORT) and not igmp" 2>/dev/null | wc -l)
echo "underlay: $wg_pkts WireGuard UDP packets, $clear_pkts other packets (besides etcd's TCP)"
[ "$wg_pkts" -gt 30 ] || fail "too few WireGuard packets on the underlay"
pod_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'net 10.244.0.0/16 or net 10.99.0.0/16' 2>/dev/null | wc -l)
[ "$clear_pkts" -eq 0 ] && [ "$pod_pkts" -eq 0 ] || fail "packets in clear on the underlay"

log "etcd down for $OUTAGE s: pods keep pinging, n4 joins meanwhile"
etcd_stop
node_ns 4; daemon_start 4
end=$((SECONDS + OUTAGE)) rounds=0
while [ $SECONDS -lt $end ]; do
	for a in 1 2 3; do for c in 1 2 3; do
		[ $a = $c ] && continue
		pod_ping $a 1 "$(pod_ip $c 2)" 2 || fail "n$a-p1 lost n$c-p2 during the etcd outage"
	done; done
	rounds=$((rounds + 1))
	sleep 4
done
echo "$rounds rounds of pings during the outage, none lost"
for i in 1 2 3; do has_peers $i 2 || fail "n$i changed peers during the outage"; done
log "etcd back: n4 converges"
etcd_run $PORT
t0=$SECONDS
for i in 1 2 3 4; do wait_until 40 has_peers $i 3 || fail "n$i has $(peers_of $i) peers after etcd came back"; done
echo "converged $((SECONDS - t0)) s after etcd restarted"
printf '# PodCIDRs = %s\n' "$(etcd_cidr 4)" >"$W/store/n4.conf"
pod_add 4 1; pod_add 4 2
all_pods_reach || fail "pods cannot reach n4's pods"
for i in 1 2 3; do
	down=$(grep -c "store etcd unreachable" "$W/n$i.log"); up=$(grep -c "store etcd reachable again" "$W/n$i.log")
	echo "n$i: logged unreachable $down time(s), reachable again $up time(s)"
	[ "$down" -eq 1 ] && [ "$up" -eq 1 ] || fail "n$i did not log the outage exactly once"
done
m=$(ip netns exec "pn-$T-n1" curl -sf http://127.0.0.1:9586/metrics) || fail "no metrics"
echo "$m" | grep -q '^podwire_store_errors_total [1-9]' || fail "store errors not counted"
echo "PASS"
