#!/bin/bash
# A dual-stack cluster on the Kubernetes store (against the API EMULATOR,
# tests/k8s_api_emulator.py): every Node has an IPv4 and an IPv6 block in spec.podCIDRs and
# addresses of both families in status.addresses; podwired is given both families' pools, as
# the DaemonSet's ConfigMap does, and no --endpoint: each node's endpoint comes from its own
# Node object (InternalIP by default, ExternalIP on n2 by option), not from the host.
#
#   n1 (InternalIP 192.168.242.1, fd42::1)        n2 (InternalIP 192.168.242.2, ExternalIP fd42::2)
#      pods 10.244.1.0/24, fd00:10:244:1::/64        pods 10.244.2.0/24, fd00:10:244:2::/64
#        \__________________ br0, emulator at 192.168.242.254 __________________/
#
# Checked: the endpoint annotations are the Nodes' addresses (n2's the IPv6 ExternalIP), each
# node has the other as a peer with both families' pod CIDRs in its allowed IPs, and pods
# reach each other over IPv4 and over IPv6 through the one tunnel.
T=kd NET=242 PORT=16642
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
k8s_emu_cluster
POOLS=(--cluster-cidr 10.244.0.0/16 --cluster-cidr6 fd00:10:244::/56 --tunnel-cidr6 fd99:42::/112)

node_dual() { # I FIRST-TYPE SECOND-TYPE: Node nI with both families' pod CIDRs and addresses
	api POST /emulator/nodes "{\"metadata\":{\"name\":\"n$1\"},
	  \"spec\":{\"podCIDR\":\"10.244.$1.0/24\",\"podCIDRs\":[\"10.244.$1.0/24\",\"fd00:10:244:$1::/64\"]},
	  \"status\":{\"conditions\":[],\"addresses\":[{\"type\":\"$2\",\"address\":\"192.168.$NET.$1\"},
	    {\"type\":\"$3\",\"address\":\"fd42::$1\"},{\"type\":\"Hostname\",\"address\":\"n$1\"}]}}" >/dev/null ||
		fail "cannot create Node n$1"
}

log "2 dual-stack Nodes; podwired without --endpoint, with both families' pools"
for i in 1 2; do
	node_ns $i
	ip -n "pn-$T-n$i" addr add "fd42::$i/64" dev eth0 nodad
done
node_dual 1 InternalIP InternalIP
node_dual 2 InternalIP ExternalIP
PN_ENDPOINT_HOST=none kube_start 1 "${POOLS[@]}"
PN_ENDPOINT_HOST=none kube_start 2 "${POOLS[@]}" --endpoint-from ExternalIP
for i in 1 2; do wait_until 20 has_peers $i 1 || { tail -5 "$W/n$i.log"; fail "n$i has $(peers_of $i) peers, want 1"; }; done
[ "$(ann n1 endpoint)" = "192.168.$NET.1:51820" ] || fail "n1's endpoint annotation is '$(ann n1 endpoint)', want its InternalIP"
[ "$(ann n2 endpoint)" = "[fd42::2]:51820" ] || fail "n2's endpoint annotation is '$(ann n2 endpoint)', want its ExternalIP"
echo "endpoints from the Nodes: n1 $(ann n1 endpoint) (InternalIP), n2 $(ann n2 endpoint) (ExternalIP)"
for i in 1 2; do
	[ "$(ann n$i pod-cidrs)" = "10.244.$i.0/24, fd00:10:244:$i::/64" ] || fail "n$i: pod-cidrs annotation '$(ann n$i pod-cidrs)'"
	[[ $(ann n$i tunnel-ips) == 10.99.*", fd99:42::"* ]] || fail "n$i: tunnel-ips annotation '$(ann n$i tunnel-ips)'"
done
ai=$(wg_ns 1 show "pn${T}w1" allowed-ips)
echo "n1's allowed IPs: $ai"
[[ $ai == *10.244.2.0/24* && $ai == *fd00:10:244:2::/64* ]] || fail "n1 does not route both of n2's pod CIDRs into the tunnel"
wg_ns 1 show "pn${T}w1" endpoints | grep -q "\[fd42::2\]:51820" || fail "n1 does not send to n2's IPv6 endpoint"

log "pods on both nodes, IPv4 and IPv6"
mkdir -p "$W/store"
for i in 1 2; do printf '# PodCIDRs = 10.244.%s.0/24, fd00:10:244:%s::/64\n' "$i" "$i" >"$W/store/n$i.conf"; pod_add $i 1; done
wait_until 20 pod_ping 1 1 "$(pod_ip 2 1)" || fail "IPv4: n1's pod cannot reach n2's pod"
wait_until 20 pod_ping 2 1 "$(pod_ip 1 1)" || fail "IPv4: n2's pod cannot reach n1's pod"
wait_until 20 pod_ping 1 1 "$(cat "$W/pod6-2-1")" || fail "IPv6: n1's pod cannot reach n2's pod $(cat "$W/pod6-2-1")"
wait_until 20 pod_ping 2 1 "$(cat "$W/pod6-1-1")" || fail "IPv6: n2's pod cannot reach n1's pod $(cat "$W/pod6-1-1")"
echo "pods: $(pod_ip 1 1) <-> $(pod_ip 2 1) and $(cat "$W/pod6-1-1") <-> $(cat "$W/pod6-2-1") through one tunnel"
log "ok"
