#!/bin/bash
# k8s_api_faults.sh — podwired's Kubernetes client as an informer, against the API EMULATOR
# tests/k8s_api_emulator.py (no kube-apiserver runs on this machine), and an API server that
# misbehaves. Three nodes mesh with --resync 5; then:
#   steady state   reconciles read the watch's cache: no list of Nodes at all in 20 s (the
#                  old client listed all Nodes twice per reconcile per node)
#   429            every request answered 429 with Retry-After: 3 while a compaction forces a
#                  new list: logged once per node, no node asks sooner than Retry-After says
#   500            answered twice: logged once, retried, listed again
#   truncated      a list and a watch cut in the middle of a chunk: logged once, retried
#   annotations    a Node with a garbage public key and one with a 600 KiB annotation: each
#                  named once in each log and skipped
#   token gone     n1's token file removed: logged once, the token read before stays in use
# and through all of them the pods keep reaching each other (the last mesh stays, no healthy
# peer is dropped), no podwired exits, and after each a Node added reaches every node.
#
#   [ pn-kf-n1 ]  [ pn-kf-n2 ]  [ pn-kf-n3 ]      podwired each, own token (line i of tokens)
#        \             |             /
#         [ pn-kf-r: br0, emulator https://192.168.242.254:16642 ]
T=kf NET=242 PORT=16642
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
cluster_init
k8s_emu_init
for i in 1 2 3; do openssl rand -hex 24; done >"$W/tokens"
emu_start

logged() { grep -c -- "$2" "$W/n$1.log"; } # I TEXT: how many lines of node I's log
reqs_of() { grep -- "$2" "$W/api-requests.log" | grep -c " token=$1\$"; } # I PATTERN: node I's requests
alive() { for i in 1 2 3; do kill -0 "$(daemon_pid $i)" 2>/dev/null || fail "podwired n$i exited"; done; }
fault() { api POST /emulator/fault "$1" >/dev/null || fail "cannot inject $1"; }
PEERS=2 # each node's peers: the other two, and each Node joined
mesh_holds() { # what a fault must never break
	alive
	for i in 1 2 3; do has_peers $i $PEERS || fail "n$i has $(peers_of $i) peers during $1, want $PEERS"; done
	all_pods_reach >/dev/null || fail "pods cannot all reach each other during $1"
}
joins() { # NAME N: a Node created now with a podwire record reaches every node (through its watch)
	node_create "$1"
	api POST "/emulator/annotate/$1" "{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"10.99.9.$2\",\"podwire.io/claims\":\"10.99.9.${2}_32\",\"podwire.io/endpoint\":\"192.168.$NET.$2:51820\"}" >/dev/null
	PEERS=$((PEERS + 1))
	for i in 1 2 3; do wait_until 30 has_peers $i $PEERS || fail "n$i has $(peers_of $i) peers after $1 joined, want $PEERS"; done
}

log "3 Nodes, podwired on each (own token), resync 5 s: the mesh forms"
for i in 1 2 3; do
	node_ns $i; node_create "n$i" "10.244.$i.0/24"
	TOKEN=$(sed -n "${i}p" "$W/tokens") kube_start $i --resync 5
done
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
for i in 1 2 3; do printf '# PodCIDRs = 10.244.%s.0/24\n' "$i" >"$W/store/n$i.conf"; pod_add $i 1; done
all_pods_reach || fail "pods cannot all reach each other"

log "steady state: 20 s of reconciles every 5 s read the cache, no list of Nodes"
sleep 2
before=$(wc -l <"$W/api-requests.log")
sleep 20
window=$(tail -n +"$((before + 1))" "$W/api-requests.log")
lists=$(grep -c "^GET /api/v1/nodes?limit=" <<<"$window")
echo "requests in 20 s by 3 nodes: $(wc -l <<<"$window" | tr -d ' ') ($lists lists, $(grep -c "watch=1" <<<"$window") watches)"
[ "$lists" -eq 0 ] || fail "$lists lists of Nodes in 20 s of steady state, want 0 (reconciles must read the cache)"
grep -q "^GET /api/v1/nodes 200" "$W/api-requests.log" && fail "an unpaginated list of Nodes"
for i in 1 2 3; do [ "$(reqs_of $i '^GET /api/v1/nodes?limit=500 200')" -ge 1 ] || fail "n$i never listed in pages of 500"; done
ok "no list in 20 s of steady state; every list paginated"

log "429 with Retry-After: 3 on every request, and a compaction that makes every watch list again"
fault '{"status":429,"count":100000,"match":"any","retry_after":3}'
mark=$(wc -l <"$W/api-requests.log")
api POST /emulator/compact >/dev/null
sleep 12
tail -n +"$((mark + 1))" "$W/api-requests.log" >"$W/window-429"
mesh_holds "the 429s"
for i in 1 2 3; do
	n=$(grep " 429 " "$W/window-429" | grep -c " token=$i\$")
	echo "n$i: $n requests answered 429 in 12 s; logged $(logged $i 'HTTP 429') time(s)"
	[ "$n" -ge 2 ] || fail "n$i retried $n times in 12 s: it gave up"
	[ "$n" -le 5 ] || fail "n$i asked $n times in 12 s despite Retry-After: 3"
	[ "$(logged $i 'HTTP 429')" -eq 1 ] || fail "n$i logged the 429 $(logged $i 'HTTP 429') times, want once"
done
fault '{}'
for i in 1 2 3; do wait_until 20 grep -q "API server answers again" "$W/n$i.log" || fail "n$i did not come back after the 429s"; done
joins x4 204
ok "429: logged once, Retry-After kept, mesh kept, x4 seen by all afterwards"

log "500 twice for each list after a compaction"
fault '{"status":500,"count":6,"match":"list"}'
api POST /emulator/compact >/dev/null
for i in 1 2 3; do wait_until 20 grep -q "list of Nodes .* failed (HTTP 500" "$W/n$i.log" || fail "n$i did not log the 500"; done
mesh_holds "the 500s"
fault '{}'
joins x5 205
for i in 1 2 3; do [ "$(logged $i 'HTTP 500')" -eq 1 ] || fail "n$i logged the 500 $(logged $i 'HTTP 500') times"; done
ok "500: logged once, retried, x5 seen by all afterwards"

log "truncated replies: a list and a watch cut in the middle of a chunk"
fault '{"truncate":60,"count":3,"match":"list"}'
fault '{"truncate":40,"count":3,"match":"watch"}'
api POST /emulator/compact >/dev/null
for i in 1 2 3; do
	wait_until 20 grep -q "of Nodes at .* failed (transfer closed with outstanding read data remaining" "$W/n$i.log" ||
		fail "n$i did not log the truncated reply"
done
mesh_holds "the truncated replies"
grep -c "200-truncated" "$W/api-requests.log" | sed 's/^/truncated replies sent: /'
fault '{}'
joins x6 206
ok "truncated chunks: logged, retried, x6 seen by all afterwards"

log "a Node with a garbage public key, one with a 600 KiB annotation"
node_create bad1
api POST /emulator/annotate/bad1 '{"podwire.io/public-key":"not-a-key","podwire.io/tunnel-ips":"10.99.9.250"}' >/dev/null
node_create big1
python3 -c 'import json; print(json.dumps({"podwire.io/public-key": "A" * 600000, "podwire.io/tunnel-ips": "10.99.9.251"}))' >"$W/big.json"
ip netns exec "pn-$T-r" curl -sf --cacert "$W/ca.crt" -X POST "https://$API:$PORT/emulator/annotate/big1" \
	--data-binary @"$W/big.json" >/dev/null || fail "cannot annotate big1"
for i in 1 2 3; do
	wait_until 20 grep -q "Node bad1: .*skipped" "$W/n$i.log" || fail "n$i did not name bad1"
	wait_until 20 grep -q "Node big1: .*skipped" "$W/n$i.log" || fail "n$i did not name big1"
done
sleep 11 # two more reconciles: still named once
mesh_holds "the bad annotations"
for i in 1 2 3; do
	[ "$(logged $i 'Node bad1: ')" -eq 1 ] && [ "$(logged $i 'Node big1: ')" -eq 1 ] ||
		fail "n$i named bad1 $(logged $i 'Node bad1: ') and big1 $(logged $i 'Node big1: ') times, want once each"
	has_peers $i $PEERS || fail "n$i has $(peers_of $i) peers, want $PEERS (bad1, big1 skipped)"
done
grep -h "Node big1: " "$W/n1.log" | cut -c1-160
ok "garbage and oversized annotations: skipped, named once each"

log "n1's token file vanishes: logged once, the token read before stays in use"
mv "$W/token-n1" "$W/token-n1.gone"
api POST /emulator/compact >/dev/null
joins x7 207
sleep 6
mesh_holds "the missing token file"
[ "$(logged 1 "token file $W/token-n1: No such file")" -eq 1 ] ||
	fail "n1 logged the missing token file $(logged 1 "token file $W/token-n1: No such file") times, want once"
mv "$W/token-n1.gone" "$W/token-n1"
ok "token file gone: logged once, mesh kept, x7 seen"
alive
log "ok"
