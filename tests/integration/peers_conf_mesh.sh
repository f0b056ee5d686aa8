#!/bin/bash
# peers_conf_mesh.sh — the shared peers list: three nodes share ONE peers.conf listing all three; each node's
# own config has only [Interface] and `PostUp = podwirectl addconf %i peers.conf`. Each node
# must ignore the peer that is itself, keep the other two, and all pairs ping.
# Topology: namespaces pq-m1..3 on a bridge in pq-mbr (10.79.0.N/24), tunnel 10.80.0.N/24.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root
require_cmd wg
require_built podwirectl
use_userspace_wg
echo "userspace datapath if needed: $WG_QUICK_USERSPACE_IMPLEMENTATION"
export PATH="$B:$PATH"
resolvconf_mock "$W/bin" "$W/rc"
export PATH="$W/bin:$PATH"

lan_create pq-mbr pqmbr
for i in 1 2 3; do
	netns_add pq-m$i
	track_wg pq-m$i pqmesh$i
	lan_join pq-mbr pqmbr pq-m$i pqm$i 10.79.0.$i/24
	make_key $i
done
# The shared list: all three nodes, this one included.
for i in 1 2 3; do
	printf '[Peer]\n# Name = node%s\nPublicKey = %s\nEndpoint = 10.79.0.%s:51820\nAllowedIPs = 10.80.0.%s/32\n\n' \
		$i "$(cat "$W/$i.pub")" $i $i
done > "$W/peers.conf"
chmod 600 "$W/peers.conf"
for i in 1 2 3; do
	cat > "$W/pqmesh$i.conf" <<C
[Interface]
PrivateKey = $(cat "$W/$i.key")
Address = 10.80.0.$i/24
ListenPort = 51820
PostUp = podwirectl addconf %i $W/peers.conf
C
	chmod 600 "$W/pqmesh$i.conf"
	ip netns exec pq-m$i podwirectl up "$W/pqmesh$i.conf" || fail "up on node $i"
done
for i in 1 2 3; do
	peers=$(ip netns exec pq-m$i wg show pqmesh$i peers | sort)
	want=$(for j in 1 2 3; do [ $j = $i ] || cat "$W/$j.pub"; done | sort)
	if [ "$peers" != "$want" ]; then
		echo "node $i peers:"; echo "$peers"; echo "want:"; echo "$want"; fail "node $i has the wrong peers"
	else
		echo "ok   node $i has the other two peers and not itself"
	fi
done
for i in 1 2 3; do for j in 1 2 3; do
	[ $i = $j ] && continue
	if ns_ping pq-m$i 10.80.0.$j >/dev/null; then
		echo "ok   node $i -> node $j"
	else
		fail "node $i cannot reach node $j"
	fi
done; done
for i in 1 2 3; do
	ip netns exec pq-m$i podwirectl down "$W/pqmesh$i.conf" || fail "down on node $i"
done
echo "full mesh of 3 from one shared peers.conf"
