#!/bin/bash
# A Node deleted and registered again while podwired runs on it (what a node's kubelet does
# after `kubectl delete node`, and what hack/kind-e2e.sh does in its last step): the new Node
# object has none of podwire's annotations, so podwired must write all of them again, its
# address claims too, or every peer skips it for good. Against the API EMULATOR
# (tests/k8s_api_emulator.py), with the default --resync 30: the watch brings the change.
#
#        n1 ---- br0 (192.168.241.0/24, emulator at .254) ---- n2 ---- n3
#   pods 10.244.1.0/24          pods 10.244.2.0/24        pods 10.244.3.0/24
#
# Checked: after n2's Node is deleted, n1 and n3 drop it; after it is created again (same
# spec.podCIDRs, no annotations), n1 and n3 have n2 as a peer again within 30 s (the time is
# printed), n2's claims annotation holds its tunnel address again, and pods reach n2's pod.
T=kr NET=241 PORT=16641
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
k8s_emu_cluster

log "3 Nodes with spec.podCIDRs, podwired on each"
for i in 1 2 3; do node_ns $i; node_create "n$i" "10.244.$i.0/24"; kube_start $i --resync 30; done
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
mkdir -p "$W/store"
for i in 1 2 3; do printf '# PodCIDRs = 10.244.%s.0/24\n' "$i" >"$W/store/n$i.conf"; pod_add $i 1; done
all_pods_reach || fail "pods cannot all reach each other"
tip=$(ann n2 tunnel-ips)
echo "n2: tunnel $tip, claims $(ann n2 claims)"

log "Node n2 deleted: n1 and n3 drop it"
api DELETE /emulator/nodes/n2 >/dev/null
for i in 1 3; do wait_until 20 has_peers $i 1 || fail "n$i still has $(peers_of $i) peers after n2 was deleted"; done

log "Node n2 registered again (no annotations): back everywhere within 30 s"
node_create n2 10.244.2.0/24
t0=$(date +%s.%N)
back() { has_peers 1 2 && has_peers 3 2; }
wait_until 30 back || { for i in 1 2 3; do grep -h "n2\|skipped\|claim" "$W/n$i.log" | tail -5; done
	fail "n2 is not a peer of n1 and n3 30 s after it was registered again (claims: '$(ann n2 claims)')"; }
echo "n2 a peer of n1 and n3 again after $(echo "$(date +%s.%N) - $t0" | bc) s"
[[ $(ann n2 claims) == *"${tip}_32"* ]] || fail "n2's claims annotation '$(ann n2 claims)' lacks its tunnel address $tip"
[ "$(ann n2 tunnel-ips)" = "$tip" ] || fail "n2 came back with tunnel address '$(ann n2 tunnel-ips)', had $tip"
[ -n "$(ann n2 cluster-pools)" ] || fail "n2 did not carry the cluster's pools again"
grep -h "claimed again" "$W/n2.log" | head -2
for i in 1 3; do wait_until 20 pod_ping $i 1 "$(pod_ip 2 1)" || fail "n$i's pod cannot reach n2's pod after n2 came back"; done
wait_until 20 pod_ping 2 1 "$(pod_ip 1 1)" || fail "n2's pod cannot reach n1's pod after n2 came back"
echo "claims: $(ann n2 claims); pods on n1 and n3 reach n2's pod again"
log "ok"
