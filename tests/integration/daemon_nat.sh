#!/bin/bash
# NAT-to-NAT through the store: n1 is public; n2 and n3 each sit behind their own NAT
# router (nft masquerade) and only know their private addresses. n1 sees where their packets
# come from and publishes those observed endpoints in its record; n2 and n3 read them from
# the store, punch through both NATs and talk directly (not through n1).
T=x NET=213
source "$(dirname "$0")/lib/common.bash"
require_cmd nft
cluster_init

nat_site() { # I: router pn-$T-nat$I (public .I) with node I behind it on 172.16.I.0/24
	local i=$1 r=pn-$T-nat$1 n=pn-$T-n$1
	netns_add "$r" "$n"
	lan_join "pn-$T-r" br0 "$r" "pn${T}o$i" "192.168.$NET.$i/24"
	veth_pair "$r" "pn${T}l$i" "$n" eth0
	ip -n "$r" addr add "172.16.$i.1/24" dev "pn${T}l$i"
	ip -n "$r" link set "pn${T}l$i" up
	ip -n "$n" addr add "172.16.$i.10/24" dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" route add default via "172.16.$i.1"
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$r" nft -f - <<EOF
table ip pnnat {
	chain pn_post { type nat hook postrouting priority srcnat; oifname "pn${T}o$i" masquerade; }
	# Unsolicited packets to the router are dropped before conntrack confirms an entry for
	# them, so they cannot take the port-preserving mapping a node behind it needs (a real
	# NAT gateway's firewall does the same).
	chain pn_in { type filter hook input priority filter; policy drop; ct state established,related accept; }
	chain pn_fwd { type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "pn${T}l$i" accept
	}
}
EOF
	NODES+=("$i")
}

log "n1 public, n2 and n3 behind separate NATs"
node_ns 1
nat_site 2; nat_site 3
daemon_start 1
daemon_start 2 --endpoint 172.16.2.10:51820 --persistent-keepalive 2
daemon_start 3 --endpoint 172.16.3.10:51820 --persistent-keepalive 2
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers"; done
for i in 1 2 3; do pod_add $i 1; done
# The NAT-ed nodes' private addresses are unreachable from outside: prove the setup.
ns_ping "pn-$T-n1" 172.16.2.10 1 1 >/dev/null && fail "n2's private address is reachable"

k2=$(wg_ns 2 show pnxw2 public-key); k3=$(wg_ns 3 show pnxw3 public-key)
ep_of() { wg_ns "$1" show "pnxw$1" endpoints | awk -v k="$2" '$1 == k {print $2}'; }
hs_of() { wg_ns "$1" show "pnxw$1" latest-handshakes | awk -v k="$2" '$1 == k {print $2}'; }
direct() { [ "$(ep_of 2 "$k3")" = "192.168.$NET.3:51820" ] && [ "$(ep_of 3 "$k2")" = "192.168.$NET.2:51820" ] &&
	[ "$(hs_of 2 "$k3")" -gt 0 ]; }
log "n2 and n3 learn each other's NAT address from the store"
if ! wait_until 40 direct; then
	record_of 1; wg_ns 2 show pnxw2; wg_ns 3 show pnxw3
	fail "n2 and n3 did not connect directly"
fi
grep -q "^# Observed = $k2 192.168.$NET.2:51820" "$W/store/n1.conf" || fail "n1 did not publish n2's observed endpoint"
echo "n2 -> n3 at $(ep_of 2 "$k3"), n3 -> n2 at $(ep_of 3 "$k2"), handshake $(($(date +%s) - $(hs_of 2 "$k3"))) s ago"
pod_ping 2 1 "$(pod_ip 3 1)" 3 || fail "n2's pod cannot reach n3's pod"
pod_ping 3 1 "$(pod_ip 2 1)" 3 || fail "n3's pod cannot reach n2's pod"
all_pods_reach || fail "pods"
# Direct, not relayed: n1's counters for n2 do not grow with n2<->n3 traffic.
k1=$(wg_ns 1 show pnxw1 public-key)
rx1=$(wg_ns 1 show pnxw1 transfer | awk -v k="$k2" '$1 == k {print $2}')
pod_ping 2 1 "$(pod_ip 3 1)" 5 || fail "pods n2->n3"
rx1b=$(wg_ns 1 show pnxw1 transfer | awk -v k="$k2" '$1 == k {print $2}')
echo "n1's rx from n2 during 5 pings n2->n3: $((rx1b - rx1)) bytes (keepalives only)"
[ $((rx1b - rx1)) -lt 600 ] || fail "n2->n3 traffic went through n1"
echo "PASS"
