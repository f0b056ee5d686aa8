#!/bin/bash
# Dual stack through podwired: with IPv6 pools configured, each node claims an IPv6
# tunnel address and an IPv6 pod block besides the IPv4 ones, one WireGuard tunnel carries
# both families, and pods reach each other over IPv4 and IPv6.
T=d NET=215
source "$(dirname "$0")/lib/common.bash"
cluster_init
# n2 runs a smaller MTU than n1: `podwirectl status` must flag it.
node_ns 1; daemon_start 1 --cluster-cidr6 fd44::/48 --tunnel-cidr6 fd99::/112
node_ns 2; daemon_start 2 --cluster-cidr6 fd44::/48 --tunnel-cidr6 fd99::/112 --mtu 1380
for i in 1 2; do wait_until 15 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do
	[ -n "$(pod_cidr6_of $i)" ] || { record_of $i; fail "n$i has no IPv6 pod CIDR"; }
	grep -Eq "^# TunnelIP = 10\.99\.0\.[0-9]+, fd99::[0-9a-f]+$" "$W/store/n$i.conf" || fail "n$i has no IPv6 tunnel IP"
done
record_of 1
wg_ns 1 show pndw1 allowed-ips
wg_ns 1 show pndw1 allowed-ips | grep -q "/128 .*fd44:[0-9a-f:]*/64" || fail "IPv6 allowed IPs missing"
ip -6 -n pn-$T-n1 route | grep -q "^$(pod_cidr6_of 2) dev pndw1" || fail "no IPv6 pod route on n1"
pod_add 1 1; pod_add 2 1
pod_ping 1 1 "$(pod_ip 2 1)" 2 || fail "IPv4 pod to pod"
v6=$(cat "$W/pod6-2-1")
wait_until 5 ns_ping "pn-$T-n1-p1" "$v6" 1 1 || fail "IPv6 pod to pod ($v6)"
tun6=$(sed -n 's/^# TunnelIP = .*, \(fd99::[0-9a-f]*\)$/\1/p' "$W/store/n2.conf")
ns_ping "pn-$T-n1" "$tun6" 1 2 || fail "node to node over the IPv6 tunnel address"
echo "IPv4 and IPv6 pods reach each other through one tunnel"
st=$(ip netns exec "pn-$T-n1" "$B/podwirectl" status -i pndw1 --store-dir "$W/store")
echo "$st"
echo "$st" | grep -q "^n2 .*up, MTU 1380!$" || fail "status does not flag n2's MTU"
echo "$st" | grep -q "^warning: 1 node(s) publish an MTU different from pndw1's 1420" || fail "no MTU warning"
echo "PASS"
