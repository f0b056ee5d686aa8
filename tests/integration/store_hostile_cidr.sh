#!/bin/bash
# store_hostile_cidr.sh — a pod CIDR hijack through the shared store is refused. n3 turns
# hostile: its daemon stops (its interface stays up, so it could receive what it steals) and
# its writer puts crafted claims and records into the file store, every trick the old
# conflict rules fell for: a claimed sub-block of the victim n2's pod CIDR in n3's own record,
# a claimed superset with more blocks and a name that sorts first, n2's public key with
# claimed addresses of its own, and n2's very block without a claim. Each one is refused by
# name on every other node, n2's pods are still reached at n2, and n1 and n2 keep working.
T=h13a1 NET=233
source "$(dirname "$0")/lib/common.bash"
cluster_init
A=$W/store/.podwire/alloc

# hostile_record NAME PUBLICKEY TUNNELIP PODCIDRS ENDPOINT: a well-formed record, as a writer
# of the store can put there
hostile_record() {
	printf '[Peer]\n# Name = %s\n# TunnelIP = %s\n# PodCIDRs = %s\n# Heartbeat = %s\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s/32, %s\n' \
		"$1" "$3" "$4" "$(date +%s)" "$2" "$5" "$3" "$4" >"$W/store/$1.conf"
}
claim() { printf '%s' "$2" >"$A/.$1.tmp" && mv "$A/.$1.tmp" "$A/$1"; } # BLOCK_KEY OWNER: as cidr_claim writes it
allowed_of() { # I KEY: the allowed IPs node I gives peer KEY
	wg_ns "$1" show "pn${T}w$1" allowed-ips | awk -v k="$2" '$1 == k {$1 = ""; print}' | xargs
}
logged() { wait_until 20 grep -qF "store record $2 skipped: $3" "$W/n$1.log"; } # I KEY REASON

log "3 nodes, a pod on each"
for i in 1 2 3; do node_ns "$i"; daemon_start "$i"; done
for i in 1 2 3; do wait_until 15 has_peers "$i" 2 || fail "n$i has $(peers_of "$i") peers, want 2"; done
for i in 1 2 3; do pod_add "$i" 1; done
all_pods_reach || fail "pods before the attack"
cidr2=$(pod_cidr_of 2) cidr3=$(pod_cidr_of 3)
base2=${cidr2%/*}
k2=$(wg_ns 2 show "pn${T}w2" public-key)
tip2=$(sed -n 's/^# TunnelIP = //p' "$W/store/n2.conf")
allowed2=$(allowed_of 1 "$k2")
[ -f "$A/${base2}_24" ] && [ "$(cat "$A/${base2}_24")" = n2 ] || fail "n2's claim of $cidr2 is not in $A"
echo "victim n2: $cidr2, tunnel $tip2; n1 routes $allowed2 to it"
ok "3-node mesh up, n2 owns $cidr2 in the registry"

log "n3 turns hostile and writes the store"
daemon_stop 3
# n3's own record takes the lower half of n2's block, claimed in the registry.
claim "${base2}_25" n3
sed -i "s|^# PodCIDRs = .*|# PodCIDRs = $cidr3, $base2/25|; s|^AllowedIPs = .*|&, $base2/25|" "$W/store/n3.conf"
# A superset with more blocks than anyone and a name that sorts first.
claim 10.99.0.200_32 aa-super; claim 10.244.0.0_16 aa-super
claim 10.244.250.0_24 aa-super; claim 10.244.251.0_24 aa-super
hostile_record aa-super "$(wg genkey | wg pubkey)" 10.99.0.200 10.244.0.0/16 "192.168.$NET.3:51820"
# n2's public key, with addresses of its own, pointing at n3.
claim 10.99.0.201_32 aa-twin; claim 10.244.201.0_24 aa-twin
hostile_record aa-twin "$k2" 10.99.0.201 10.244.201.0/24 "192.168.$NET.3:51820"
# n2's very block, with nothing in the registry behind it.
claim 10.99.0.202_32 aa-same
hostile_record aa-same "$(wg genkey | wg pubkey)" 10.99.0.202 "$cidr2" "192.168.$NET.3:51820"

# n1 judges them against the registry; n2 also sees n2's own addresses in them.
for i in 1 2; do
	logged "$i" "alloc/${base2}_25" "it overlaps alloc/${base2}_24 of node n2, claimed earlier" ||
		fail "n$i did not refuse the sub-block claim"
	logged "$i" alloc/10.244.0.0_16 "it overlaps" || fail "n$i did not refuse the superset claim"
	logged "$i" nodes/n3 "" && grep -q "store record nodes/n3 skipped: .*$base2/25" "$W/n$i.log" ||
		fail "n$i did not refuse n3's record"
	logged "$i" nodes/aa-super "" && grep -q "store record nodes/aa-super skipped: .*10.244.0.0/16" "$W/n$i.log" ||
		fail "n$i did not refuse aa-super"
	logged "$i" nodes/aa-same "" && grep -q "store record nodes/aa-same skipped: .*$cidr2" "$W/n$i.log" ||
		fail "n$i did not refuse aa-same"
done
logged 1 nodes/n3 "pod CIDR $base2/25: its claim alloc/${base2}_25 is refused" || fail "n1: wrong reason for n3"
logged 1 nodes/aa-same "pod CIDR $cidr2 is claimed by node n2" || fail "n1: wrong reason for aa-same"
logged 1 nodes/aa-twin "same public key as node n2, which was there first" || fail "n1 did not refuse aa-twin"
# On n2 the twin carries n2's own key.
logged 2 nodes/aa-twin "it claims this node's public key" || fail "n2 did not refuse aa-twin"
grep -h "store record .* skipped" "$W/n1.log" | sed 's/^/  n1: /'
ok "every crafted claim and record refused by name on n1 and n2"

log "n2's traffic still goes to n2"
wait_until 15 has_peers 1 1 || fail "n1 has $(peers_of 1) peers, want only n2"
[ "$(allowed_of 1 "$k2")" = "$allowed2" ] || fail "n1 gives n2 '$(allowed_of 1 "$k2")', was '$allowed2'"
[ "$(wg_ns 1 show "pn${T}w1" endpoints | awk -v k="$k2" '$1 == k {print $2}')" = "192.168.$NET.2:51820" ] ||
	fail "n1 sends n2's packets elsewhere"
routes=$(ip -n "pn-$T-n1" route show dev "pn${T}w1")
echo "$routes" | sed 's/^/  n1 route: /'
echo "$routes" | grep -Eq "^($base2/25|10\.244\.0\.0/16|10\.244\.201\.0/24) " && fail "n1 routes a stolen prefix"
pod_ping 1 1 "$(pod_ip 2 1)" 3 || fail "n1's pod cannot reach n2's pod"
pod_ping 2 1 "$(pod_ip 1 1)" 3 || fail "n2's pod cannot reach n1's pod"
ok "n1 routes $allowed2 to n2 only, pods n1 <-> n2 reach each other"

log "the attack ends: n3 comes back as itself and the mesh is whole"
rm -f "$A/${base2}_25" "$A"/10.99.0.20[012]_32 "$A/10.244.0.0_16" "$A"/10.244.25[01].0_24 "$A/10.244.201.0_24"
rm -f "$W"/store/aa-*.conf
daemon_start 3
for i in 1 2 3; do wait_until 15 has_peers "$i" 2 || fail "n$i has $(peers_of "$i") peers after the attack"; done
all_pods_reach || fail "pods after the attack"
ok "3-node mesh whole again"
echo "PASS ($CHECKS checks)"
