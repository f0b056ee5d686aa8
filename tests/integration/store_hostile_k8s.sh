#!/bin/bash
# store_hostile_k8s.sh — the trust model on the Kubernetes store, against the API emulator
# tests/k8s_api_emulator.py (no kube-apiserver runs on this machine). RBAC cannot keep a
# node's service account from patching other Nodes, so a compromised node can annotate any
# Node. n1 and n2 have spec.podCIDRs; hostile annotations then appear on other Nodes:
#   aa-evil   claims the lower half of n2's spec.podCIDRs and publishes a record with it;
#   ab-twin   publishes n2's public key;
#   ac-thief  claims n2's tunnel address;
#   ad-pools  carries wider cluster pools than the other Nodes.
# n1, running, refuses all three and keeps routing n2's pods and tunnel address to n2. n3,
# started afterwards, sees everything at once. It takes the pools most Nodes carry (on the old
# code the first Node listed decided, and n3 refused to start). The cluster's spec.podCIDRs outrank any
# annotation, so aa-evil is refused there too; the two claims of n2's tunnel address have no
# creation order on Kubernetes, so n3 refuses both (n2 unreachable from n3, never hijacked)
# until the hostile annotations are gone, and then takes n2 in. On the old code the store
# listed a block once, for the Node whose name sorts first: n3 gave n2's tunnel address to
# ac-thief.
T=h13k NET=237 PORT=16543
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
k8s_emu_cluster

hostile() { # NAME KEY TUNNEL_IP CLAIMS [POD_CIDRS]: a Node annotated by a compromised node
	node_create "$1"
	api POST "/emulator/annotate/$1" "{\"podwire.io/public-key\":\"$2\",\"podwire.io/tunnel-ips\":\"$3\",\"podwire.io/claims\":\"$4\",\"podwire.io/endpoint\":\"192.168.$NET.9:51820\"${5:+,\"podwire.io/pod-cidrs\":\"$5\"}}" >/dev/null ||
		fail "cannot annotate $1"
}
allowed_of() { wg_ns "$1" show "pn${T}w$1" allowed-ips | awk -v k="$2" '$1 == k {$1 = ""; print}' | xargs; }
allowed_is() { [ "$(allowed_of "$1" "$2")" = "$3" ]; } # I KEY PREFIXES
logged() { wait_until 20 grep -qF -- "$2" "$W/n$1.log"; } # I TEXT
no_route() { ! ip -n "pn-$T-n$1" route show "$2" dev "pn${T}w$1" | grep -q .; } # I PREFIX

log "n1 and n2 with spec.podCIDRs on the Kubernetes store"
for i in 1 2 3; do node_ns $i; node_create "n$i" "10.244.$i.0/24"; done
for i in 1 2; do kube_start $i --resync 5 --pod-cidr-allocation off; done
for i in 1 2; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
k2=$(wg_ns 2 show "pn${T}w2" public-key)
wait_until 10 eval '[ -n "$(ann n2 tunnel-ips)" ]' || fail "n2 published no tunnel address"
tip2=$(ann n2 tunnel-ips)
wait_until 10 eval '[ -n "$(allowed_of 1 "$k2")" ]' || fail "n1 has no allowed IPs for n2"
allowed2=$(allowed_of 1 "$k2")
[[ $allowed2 == *10.244.2.0/24* && $allowed2 == *"$tip2/32"* ]] || fail "n1 gives n2 '$allowed2'"
ok "n1 routes $allowed2 to n2"

log "hostile annotations: aa-evil claims 10.244.2.0/25, ab-twin carries n2's key, ac-thief claims $tip2, ad-pools widens the pools"
hostile aa-evil "$(wg genkey | wg pubkey)" 10.99.0.220 "10.99.0.220_32,10.244.2.0_25" 10.244.2.0/25
hostile ab-twin "$k2" 10.99.0.221 10.99.0.221_32
hostile ac-thief "$(wg genkey | wg pubkey)" "$tip2" "${tip2}_32"
for i in 1 2; do [ -n "$(ann n$i cluster-pools)" ] || fail "n$i does not carry the cluster's pools"; done
wide=$(ann n1 cluster-pools | sed 's|^ClusterCIDR = .*|ClusterCIDR = 0.0.0.0/1|')
node_create ad-pools
api POST /emulator/annotate/ad-pools "$(python3 -c 'import json,sys; print(json.dumps({"podwire.io/cluster-pools": sys.argv[1]}))' "$wide")" >/dev/null ||
	fail "cannot annotate ad-pools"
logged 1 "alloc/10.244.2.0_25 skipped: it overlaps alloc/10.244.2.0_24 of node n2, claimed earlier" || fail "n1 did not refuse aa-evil's claim"
logged 1 "store record nodes/aa-evil skipped: pod CIDR 10.244.2.0/25: its claim alloc/10.244.2.0_25 is refused" ||
	fail "n1 did not refuse aa-evil's record"
logged 1 "store record nodes/ab-twin skipped: same public key as node n2, which was there first" ||
	fail "n1 did not refuse ab-twin"
logged 1 "store record nodes/ac-thief skipped" || fail "n1 did not refuse ac-thief"
grep -h "skipped" "$W/n1.log" | grep -E "aa-evil|ab-twin|ac-thief" | sort -u | sed 's/^/  n1: /'
sleep 6 # a full resync (--resync 5) after the writes: the refusals must hold on the next pass too
allowed_is 1 "$k2" "$allowed2" || fail "n1 now gives n2 '$(allowed_of 1 "$k2")'"
has_peers 1 1 || fail "n1 has $(peers_of 1) peers, want only n2"
no_route 1 10.244.2.0/25 || fail "n1 routes 10.244.2.0/25 on its own"
ok "n1, running, refuses all three and routes n2's block and tunnel address to n2 only"

log "n3 starts now and sees everything at once"
kube_start 3 --resync 5 --pod-cidr-allocation off
wait_until 20 eval '[ -n "$(ann n3 public-key)" ]' || fail "n3 did not publish itself"
logged 3 "alloc/10.244.2.0_25 skipped: it overlaps alloc/10.244.2.0_24 of node n2, claimed earlier" ||
	fail "n3 let an annotation claim outrank n2's spec.podCIDRs"
logged 3 "store record nodes/aa-evil skipped" || fail "n3 did not refuse aa-evil"
logged 3 "alloc/${tip2}_32 skipped: it overlaps alloc/${tip2}_32 of node ac-thief, and neither is known to be earlier" ||
	fail "n3 did not refuse n2's tunnel claim as contested"
logged 3 "alloc/${tip2}_32 skipped: it overlaps alloc/${tip2}_32 of node n2, and neither is known to be earlier" ||
	fail "n3 did not refuse ac-thief's tunnel claim as contested"
logged 3 "store record nodes/ac-thief skipped" || fail "n3 did not refuse ac-thief"
logged 3 "store record nodes/n2 skipped: tunnel IP $tip2/32: its claim alloc/${tip2}_32 is refused" ||
	fail "n3 did not hold n2 back"
logged 3 "kubernetes: Node ad-pools: podwire.io/cluster-pools differs from that of Node n1 (which more Nodes carry): ignored" ||
	fail "n3 did not name ad-pools' pools"
grep -q "the cluster's pools are" "$W/n3.log" && fail "n3 took ad-pools' pools for the cluster's"
grep -hE "skipped|differs" "$W/n3.log" | sort -u | sed 's/^/  n3: /'
# ab-twin's record holds only its own, uncontested address. With n2 held back nothing else
# carries n2's key, so n3 may take ab-twin in: it gets no range of n2's, and its handshakes
# need n2's private key.
wait_until 20 has_peers 3 2 || fail "n3 has $(peers_of 3) peers, want n1 and ab-twin"
[ "$(allowed_of 3 "$k2")" = 10.99.0.221/32 ] || fail "n3 gives the key twin '$(allowed_of 3 "$k2")'"
no_route 3 10.244.2.0/24 || fail "n3 routes 10.244.2.0/24"
no_route 3 10.244.2.0/25 || fail "n3 routes 10.244.2.0/25"
no_route 3 "$tip2" || fail "n3 routes $tip2"
ok "n3 gives nothing of n2's to the hostile Nodes; n2 waits, unreachable from n3, not hijacked"

log "the hostile Nodes are removed: n3 takes n2 in"
for n in aa-evil ab-twin ac-thief ad-pools; do api DELETE "/emulator/nodes/$n" >/dev/null || fail "cannot delete $n"; done
wait_until 30 has_peers 3 2 || fail "n3 has $(peers_of 3) peers after the hostile Nodes left, want 2"
wait_until 10 eval 'allowed_of 3 "$k2" | grep -q 10.244.2.0/24' || fail "n3 gives n2 '$(allowed_of 3 "$k2")'"
for i in 1 2; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
allowed_is 1 "$k2" "$allowed2" || fail "n1 gives n2 '$(allowed_of 1 "$k2")' at the end"
ok "n3 routes $(allowed_of 3 "$k2") to n2; n1 still $(allowed_of 1 "$k2")"
echo "PASS ($CHECKS checks)"
