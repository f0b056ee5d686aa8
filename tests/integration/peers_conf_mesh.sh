#!/bin/bash
# peers_conf_mesh.sh — F13: three nodes share ONE peers.conf listing all three; each node's
# own config has only [Interface] and `PostUp = podwirectl addconf %i peers.conf`. Each node
# must ignore the peer that is itself, keep the other two, and all pairs ping.
# Topology: namespaces pq-m1..3 on a bridge in pq-mbr (10.79.0.N/24), tunnel 10.80.0.N/24.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/updown.bash"
pq_need_root
B=$(pq_build)
[ -x "$B/podwirectl" ] || { echo "no $B/podwirectl (build first)"; exit 77; }
T=$(mktemp -d /tmp/pq-mesh.XXXXXX)
cleanup() {
	for i in 1 2 3; do ip -n pq-m$i link del pqmesh$i 2>/dev/null; ip netns del pq-m$i 2>/dev/null; done
	ip netns del pq-mbr 2>/dev/null
	for i in 1 2 3; do pq_wait_socket_gone pqmesh$i; done
	rm -rf "$T"
}
trap cleanup EXIT
export WG_QUICK_USERSPACE_IMPLEMENTATION=$(pq_pick_userspace "$B")
echo "userspace datapath if needed: $WG_QUICK_USERSPACE_IMPLEMENTATION"
export PATH="$B:$PATH"
pq_resolvconf_mock "$T/bin" "$T/rc"
export PATH="$T/bin:$PATH"
chmod 700 "$T"

ip netns add pq-mbr
ip -n pq-mbr link add pqmbr type bridge
ip -n pq-mbr link set pqmbr up
for i in 1 2 3; do
	ip netns add pq-m$i
	ip -n pq-m$i link set lo up
	ip link add pqm$i netns pq-m$i type veth peer name pqmb$i netns pq-mbr
	ip -n pq-mbr link set pqmb$i master pqmbr up
	ip -n pq-m$i addr add 10.79.0.$i/24 dev pqm$i
	ip -n pq-m$i link set pqm$i up
	(umask 077; wg genkey > "$T/key$i"); wg pubkey < "$T/key$i" > "$T/pub$i"
done
# The shared list: all three nodes, this one included.
for i in 1 2 3; do
	printf '[Peer]\n# Name = node%s\nPublicKey = %s\nEndpoint = 10.79.0.%s:51820\nAllowedIPs = 10.80.0.%s/32\n\n' \
		$i "$(cat "$T/pub$i")" $i $i
done > "$T/peers.conf"
chmod 600 "$T/peers.conf"
fails=0
for i in 1 2 3; do
	cat > "$T/pqmesh$i.conf" <<C
[Interface]
PrivateKey = $(cat "$T/key$i")
Address = 10.80.0.$i/24
ListenPort = 51820
PostUp = podwirectl addconf %i $T/peers.conf
C
	chmod 600 "$T/pqmesh$i.conf"
	ip netns exec pq-m$i podwirectl up "$T/pqmesh$i.conf" || { echo "FAIL: up on node $i"; fails=$((fails + 1)); }
done
for i in 1 2 3; do
	peers=$(ip netns exec pq-m$i wg show pqmesh$i peers | sort)
	want=$(for j in 1 2 3; do [ $j = $i ] || cat "$T/pub$j"; done | sort)
	if [ "$peers" != "$want" ]; then
		echo "FAIL: node $i peers:"; echo "$peers"; echo "want:"; echo "$want"; fails=$((fails + 1))
	else
		echo "ok   node $i has the other two peers and not itself"
	fi
done
for i in 1 2 3; do for j in 1 2 3; do
	[ $i = $j ] && continue
	if pq_ping pq-m$i 10.80.0.$j; then
		echo "ok   node $i -> node $j"
	else
		echo "FAIL: node $i cannot reach node $j"; fails=$((fails + 1))
	fi
done; done
for i in 1 2 3; do
	ip netns exec pq-m$i podwirectl down "$T/pqmesh$i.conf" || { echo "FAIL: down on node $i"; fails=$((fails + 1)); }
done
[ $fails = 0 ] && echo "full mesh of 3 from one shared peers.conf"
[ $fails = 0 ]
