#!/bin/bash
# An IPv6-only cluster on the Kubernetes store (against the API EMULATOR,
# tests/k8s_api_emulator.py, itself reached over IPv6): the underlay has no IPv4 at all,
# every Node has only an IPv6 block in spec.podCIDRs and an IPv6 InternalIP, and podwired gets
# no --endpoint: its endpoint is its Node's InternalIP.
#
#   n1 (fd43::1, pods fd00:10:244:1::/64) -- br0 (emulator at [fd43::254]) -- n2 (fd43::2, pods fd00:10:244:2::/64)
#
# Checked: each node publishes [InternalIP]:51820, the two mesh, and pods ping each other
# over IPv6 (the IPv4 tunnel addresses stay inside the tunnel; no pod has IPv4).
T=k6 NET=243 PORT=16643
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
API=fd43::254
k8s_emu_cluster
POOLS=(--cluster-cidr6 fd00:10:244::/56 --tunnel-cidr6 fd99:43::/112)

pod6_add() { # I: pod 1 on node I, fd00:10:244:I::b, gateway fe80::1 on the node side
	local i=$1 ns=pn-$T-n$1-p1 ip=fd00:10:244:$1::b
	netns_add "$ns"
	veth_pair "pn-$T-n$i" "pn${T}p${i}1" "$ns" eth0
	ip -n "$ns" link set eth0 up
	ip -n "pn-$T-n$i" link set "pn${T}p${i}1" up
	ip -n "$ns" addr add "$ip/128" dev eth0 nodad
	ip -n "pn-$T-n$i" addr add fe80::1/64 dev "pn${T}p${i}1" nodad
	ip -n "$ns" -6 route add default via fe80::1 dev eth0
	ip -n "pn-$T-n$i" -6 route add "$ip/128" dev "pn${T}p${i}1"
	ip netns exec "pn-$T-n$i" sysctl -qw net.ipv6.conf.all.forwarding=1
}

log "2 IPv6-only nodes and Nodes; podwired without --endpoint"
for i in 1 2; do
	node_ns $i
	ip -n "pn-$T-n$i" -4 addr flush dev eth0 # no IPv4 on the underlay
	ip -n "pn-$T-n$i" addr add "fd43::$i/64" dev eth0 nodad
	api POST /emulator/nodes "{\"metadata\":{\"name\":\"n$i\"},
	  \"spec\":{\"podCIDR\":\"fd00:10:244:$i::/64\",\"podCIDRs\":[\"fd00:10:244:$i::/64\"]},
	  \"status\":{\"conditions\":[],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd43::$i\"},
	    {\"type\":\"Hostname\",\"address\":\"n$i\"}]}}" >/dev/null || fail "cannot create Node n$i"
done
[ -z "$(ip -n "pn-$T-n1" -4 addr show scope global)" ] || fail "n1 still has an IPv4 address"
for i in 1 2; do PN_ENDPOINT_HOST=none kube_start $i "${POOLS[@]}"; done
for i in 1 2; do wait_until 20 has_peers $i 1 || { tail -5 "$W/n$i.log"; fail "n$i has $(peers_of $i) peers, want 1"; }; done
for i in 1 2; do
	[ "$(ann n$i endpoint)" = "[fd43::$i]:51820" ] || fail "n$i's endpoint annotation is '$(ann n$i endpoint)', want [fd43::$i]:51820"
	[ "$(ann n$i pod-cidrs)" = "fd00:10:244:$i::/64" ] || fail "n$i: pod-cidrs annotation '$(ann n$i pod-cidrs)'"
done
echo "endpoints: n1 $(ann n1 endpoint), n2 $(ann n2 endpoint); pod CIDRs $(ann n1 pod-cidrs), $(ann n2 pod-cidrs)"
wg_ns 1 show "pn${T}w1" endpoints | grep -q "\[fd43::2\]:51820" || fail "n1 does not send to n2's IPv6 endpoint"

log "pods ping each other over IPv6"
for i in 1 2; do pod6_add $i; done
wait_until 20 ns_ping "pn-$T-n1-p1" fd00:10:244:2::b 1 1 || fail "n1's pod cannot reach n2's pod"
wait_until 20 ns_ping "pn-$T-n2-p1" fd00:10:244:1::b 1 1 || fail "n2's pod cannot reach n1's pod"
ns_ping "pn-$T-n1-p1" fd00:10:244:2::b 5 || fail "n1's pod lost pings to n2's pod"
echo "pods fd00:10:244:1::b <-> fd00:10:244:2::b over an IPv6-only underlay"
log "ok"
