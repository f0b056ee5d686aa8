#!/bin/bash
# podwired with the Kubernetes store, against the API EMULATOR tests/k8s_api_emulator.py (no
# kube-apiserver runs on this machine; hack/kind-e2e.sh is the test against a real one).
# HTTPS with a CA made here by openssl, bearer tokens from token files. Every daemon runs
# with --resync 600, so everything it learns after the start comes through its watch.
# Checked: the mesh forms from Node.spec.podCIDRs and pods talk; what each node publishes as
# annotations; garbage annotations skip that Node with one log line naming it; a patch that
# races another writer gets 409, is read again and retried; a compaction (410 Gone) makes
# every watch list again; a deleted Node's peer and routes go; rotated tokens are picked up
# from the token file; a refused token (401) is logged and recovers when the file is fixed;
# an unreachable API at start is retried while the interface stays; a Node without pod
# CIDRs (allocation off) stays not ready, without interface or CNI config, until the cluster
# assigns one (each node writes its conflist into its --cni-conf-dir once its CIDRs are known);
# with allocation on, such a Node gets a block of --cluster-cidr, and spec.podCIDRs assigned
# later replaces that block (conflist, annotations, claims, the others' routes).
T=k NET=216 PORT=16443
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/k8s_emu.bash"
cluster_init
k8s_emu_init

log "CA and server certificate for $API (openssl), tokens"
TOKEN1=$(openssl rand -hex 24) TOKEN2=$(openssl rand -hex 24)
TOKEN=$TOKEN1 # what a newly started node's token file gets
echo "$TOKEN1" >"$W/tokens"

node_start() { # I [args]: podwired on node I, resync 600 s, writing its conflist into $W/cni-nI
	mkdir -p "$W/cni-n$1"
	kube_start "$1" --resync 600 --cni-conf-dir "$W/cni-n$1" "${@:2}"
}
set_token() { # FILE TOKEN: replaced atomically, as kubelet does for projected tokens
	echo "$2" >"$1.new" && mv "$1.new" "$1"
}
logged() { grep -c -- "$2" "$W/n$1.log"; }
has_route() { ip -n "pn-$T-n$1" route show "$2" | grep -q .; }
pubkey_of() { wg_ns "$1" show "pn${T}w$1" public-key; }
emu_start

log "3 Nodes with spec.podCIDRs, podwired on each: the mesh forms"
for i in 1 2 3; do node_ns $i; node_create "n$i" "10.244.$i.0/24"; node_start $i; done
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
for i in 1 2 3; do
	[ "$(ann n$i public-key)" = "$(pubkey_of $i)" ] || fail "n$i: public-key annotation is not its key"
	[ "$(ann n$i pod-cidrs)" = "10.244.$i.0/24" ] || fail "n$i: pod-cidrs annotation '$(ann n$i pod-cidrs)'"
	[ "$(ann n$i endpoint)" = "192.168.$NET.$i:51820" ] || fail "n$i: endpoint annotation '$(ann n$i endpoint)'"
	tip=$(ann n$i tunnel-ips)
	[[ $tip == 10.99.* ]] || fail "n$i: tunnel-ips annotation '$tip'"
	[[ $(ann n$i claims) == *"${tip}_32"* ]] || fail "n$i: claims annotation '$(ann n$i claims)' lacks $tip"
	grep -q "\"10.244.$i.0/24\"" "$W/cni-n$i/10-podwire.conflist" || fail "n$i: the conflist has not its pod CIDR"
	echo "n$i: key $(ann n$i public-key | cut -c1-8)..., tunnel $tip, pods 10.244.$i.0/24, claims $(ann n$i claims), conflist written"
done
mkdir -p "$W/store"
for i in 1 2 3; do printf '# PodCIDRs = 10.244.%s.0/24\n' "$i" >"$W/store/n$i.conf"; pod_add $i 1; done
all_pods_reach || fail "pods cannot all reach each other"
grep -q "token=bad\|token=none" "$W/api-requests.log" && fail "a request without the right token"
for i in 1 2 3; do
	grep -q "CAfile\|certificate" "$W/n$i.log" && fail "n$i: TLS complaint in its log"
done

log "garbage annotations on Nodes bad1 and bad2: skipped, named once in each log"
api POST /emulator/nodes '{"metadata":{"name":"bad1","annotations":{"podwire.io/public-key":"not a key"}}}' >/dev/null
api POST /emulator/nodes "{\"metadata\":{\"name\":\"bad2\",\"annotations\":{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"nonsense\"}}}" >/dev/null
for i in 1 2 3; do
	wait_until 10 grep -q "Node bad1: .*PublicKey.*skipped" "$W/n$i.log" || fail "n$i did not name bad1"
	wait_until 10 grep -q "Node bad2: .*TunnelIP.*skipped" "$W/n$i.log" || fail "n$i did not name bad2"
	has_peers $i 2 || fail "n$i has $(peers_of $i) peers after the garbage, want 2"
done
grep -h "Node bad" "$W/n1.log" | head -2

log "a patch racing another writer: 409, read again, retried"
api POST "/emulator/conflict/n1?count=2" >/dev/null
api POST /emulator/annotate/n1 '{"podwire.io/public-key":null}' >/dev/null
ann_is() { [ "$(ann "$1" "$2")" = "$3" ]; }
wait_until 15 ann_is n1 public-key "$(pubkey_of 1)" || fail "n1 did not restore its public-key annotation"
c=$(logged 1 "409 Conflict")
echo "n1: $c conflicts retried; the other writer's annotation: $(api GET /emulator/state | grep -o '"example.com/other-writer": "[0-9]*"')"
[ "$c" -ge 2 ] || fail "n1 logged $c conflicts, want 2"
grep -q "PATCH /api/v1/nodes/n1/status 409" "$W/api-requests.log" || fail "no 409 in the emulator's log"
grep -E "^PATCH /api/v1/nodes/[^/ ]+ " "$W/api-requests.log" && fail "a patch of a Node itself, not of its status (RBAC: nodes/status patch only)"
for i in 2 3; do wait_until 10 has_peers $i 2 || fail "n$i lost n1"; done

log "compaction: every watch gets 410 Gone and lists again; a new node n4 then reaches all"
lists_before=$(grep -c "^GET /api/v1/nodes?limit=[0-9]* 200" "$W/api-requests.log")
api POST /emulator/compact >/dev/null
for i in 1 2 3; do wait_until 15 grep -q "410 Gone" "$W/n$i.log" || fail "n$i did not see 410 Gone"; done
node_ns 4; node_create n4 10.244.4.0/24; node_start 4
for i in 1 2 3 4; do wait_until 20 has_peers $i 3 || fail "n$i has $(peers_of $i) peers after n4 joined, want 3"; done
echo "lists before the compaction: $lists_before, after: $(grep -c "^GET /api/v1/nodes?limit=[0-9]* 200" "$W/api-requests.log")"

log "Node n4 deleted: its peer and route go everywhere"
daemon_stop 4
api DELETE /emulator/nodes/n4 >/dev/null
for i in 1 2 3; do
	wait_until 15 has_peers $i 2 || fail "n$i still has $(peers_of $i) peers after n4 was deleted"
	wait_until 5 eval "! has_route $i 10.244.4.0/24" || fail "n$i still routes n4's pods"
done

log "token rotation: new token in the files, then the old one refused"
for i in 1 2 3; do set_token "$W/token-n$i" "$TOKEN2"; done
TOKEN=$TOKEN2
printf '%s\n%s\n' "$TOKEN1" "$TOKEN2" >"$W/tokens"
node_create n5 10.244.5.0/24
api POST /emulator/annotate/n5 "{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"10.99.0.50\",\"podwire.io/claims\":\"10.99.0.50_32\",\"podwire.io/endpoint\":\"192.168.$NET.50:51820\"}" >/dev/null
for i in 1 2 3; do wait_until 15 has_peers $i 3 || fail "n$i did not add n5"; done
echo "$TOKEN2" >"$W/tokens"
mark=$(wc -l <"$W/api-requests.log")
api POST /emulator/compact >/dev/null # the watches reconnect: only the new token works now
api DELETE /emulator/nodes/n5 >/dev/null
for i in 1 2 3; do
	wait_until 15 has_peers $i 2 || fail "n$i did not drop n5 with the rotated token"
	grep -q "token file $W/token-n$i changed" "$W/n$i.log" || fail "n$i did not log the new token"
done
# The tokens file holds only the new token now (its line 1): the lists after the compaction
# (the watch of n5 ran on the connection opened with the old one) are answered with it.
tail -n +"$((mark + 1))" "$W/api-requests.log" | grep -q "^GET /api/v1/nodes?limit=500 200 token=1$" ||
	fail "the new token was never used"
tail -n +"$((mark + 1))" "$W/api-requests.log" | grep -q "token=bad" && fail "the old token was used after the rotation"

log "a refused token (401): logged, and recovered when the token file is fixed"
set_token "$W/token-n3" "wrong-$TOKEN1"
api POST /emulator/compact >/dev/null
wait_until 15 grep -q "HTTP 401" "$W/n3.log" || fail "n3 did not log the 401"
grep -h "HTTP 401" "$W/n3.log" | head -1
node_create n5 10.244.5.0/24
api POST /emulator/annotate/n5 "{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"10.99.0.50\",\"podwire.io/claims\":\"10.99.0.50_32\"}" >/dev/null
for i in 1 2; do wait_until 15 has_peers $i 3 || fail "n$i did not add n5"; done
has_peers 3 2 || fail "n3 changed peers with a refused token"
set_token "$W/token-n3" "$TOKEN2"
wait_until 15 has_peers 3 3 || fail "n3 did not recover after its token file was fixed"
api DELETE /emulator/nodes/n5 >/dev/null
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i did not drop n5"; done

log "API unreachable when n1 starts: retried with backoff, the interface and pods keep working"
wg_diag() { for i in 1 2; do echo "-- n$i"; wg_ns $i show "pn${T}w$i" | grep -E "peer|endpoint|allowed|handshake|transfer"; ip -n "pn-$T-n$i" route | grep -v 169.254; done; }
# n2 and n3 dropped and re-added n1's peer in the 409 step, so n1 may still send on a session
# only it has; WireGuard makes a new handshake when no answer comes for 15 s.
wait_until 30 pod_ping 1 1 "$(pod_ip 2 1)" || { wg_diag; fail "n1's pod cannot reach n2's pod even before the API goes away"; }
wait_until 30 pod_ping 1 1 "$(pod_ip 3 1)" || { wg_diag; fail "n1's pod cannot reach n3's pod even before the API goes away"; }
emu_stop
daemon_stop 1
node_start 1
wait_until 15 grep -q "store kubernetes unreachable" "$W/n1.log" || fail "n1 did not log the unreachable API"
has_peers 1 2 || fail "n1's interface lost its peers while the API was away"
# A new handshake may be due (the sessions are minutes old): allow it a few seconds.
wait_until 10 pod_ping 1 1 "$(pod_ip 2 1)" || { wg_diag; fail "n1's pod cannot reach n2's pod while the API is away"; }
wait_until 10 pod_ping 1 1 "$(pod_ip 3 1)" || fail "n1's pod cannot reach n3's pod while the API is away"
has_peers 1 2 || fail "n1's interface lost its peers while the API was away"
echo "n1 restarted without the API: its interface kept 2 peers, its pod reaches n2's and n3's"
emu_start
wait_until 30 grep -q "store kubernetes reachable again" "$W/n1.log" || fail "n1 did not come back"
node_create n5 10.244.5.0/24
api POST /emulator/annotate/n5 "{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"10.99.0.50\",\"podwire.io/claims\":\"10.99.0.50_32\"}" >/dev/null
for i in 1 2 3; do wait_until 20 has_peers $i 3 || fail "n$i does not follow the restarted API"; done
api DELETE /emulator/nodes/n5 >/dev/null

log "Node n6 without pod CIDRs, allocation off: not ready, no interface, until the cluster assigns one"
node_ns 6; node_create n6
node_start 6 --pod-cidr-allocation off
wait_until 15 grep -q "not ready: Node has no spec.podCIDRs" "$W/n6.log" || fail "n6 did not say why it is not ready"
r=$(ip netns exec "pn-$T-n6" curl -s -w ' %{http_code}' http://127.0.0.1:9586/readyz)
echo "n6 /readyz: $r"
[[ $r == "not ready: Node has no spec.podCIDRs"*" 503" ]] || fail "n6 /readyz answered '$r'"
[ "$(ip netns exec "pn-$T-n6" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9586/healthz)" = 200 ] ||
	fail "n6 /healthz is not 200 while waiting"
ip -n "pn-$T-n6" link show "pn${T}w6" >/dev/null 2>&1 && fail "n6 created its interface without a pod CIDR"
[ -z "$(ann n6 public-key)" ] || fail "n6 published itself without a pod CIDR"
[ -z "$(ls -A "$W/cni-n6")" ] || fail "n6 wrote into its CNI directory without a pod CIDR: $(ls -A "$W/cni-n6")"
pid6=$(daemon_pid 6)
kill -TERM "$pid6"
wait_until 5 eval "! kill -0 $pid6" || fail "n6 did not stop on SIGTERM while waiting for a pod CIDR"
wait "$pid6" || fail "n6 exited with $? on SIGTERM while waiting"
echo "n6 stopped on SIGTERM while not ready; started again"
node_start 6 --pod-cidr-allocation off
wait_until 15 eval '[ "$(grep -c "not ready: Node has no spec.podCIDRs" "$W/n6.log")" -ge 2 ]' || fail "n6 did not wait again"
node_create n6 10.244.6.0/24
ready() { [ "$(ip netns exec "pn-$T-n$1" curl -s http://127.0.0.1:9586/readyz)" = ok ]; }
wait_until 30 ready 6 || fail "n6 never became ready"
for i in 1 2 3 6; do wait_until 20 has_peers $i 3 || fail "n$i has $(peers_of $i) peers with n6, want 3"; done
grep -q '"10.244.6.0/24"' "$W/cni-n6/10-podwire.conflist" || fail "n6: no conflist with its pod CIDR once ready"

log "Node n7 without pod CIDRs, allocation on: a free block of --cluster-cidr"
node_ns 7; node_create n7
node_start 7
wait_until 20 eval '[ -n "$(ann n7 pod-cidrs)" ]' || fail "n7 published no pod CIDR"
echo "n7 allocated $(ann n7 pod-cidrs) (claims: $(ann n7 claims))"
[ "$(ann n7 pod-cidrs)" = 10.244.0.0/24 ] || fail "n7 got $(ann n7 pod-cidrs), want the free 10.244.0.0/24"
for i in 1 2 3; do wait_until 20 has_route $i 10.244.0.0/24 || fail "n$i has no route to n7's pods"; done

log "the cluster assigns n7 spec.podCIDRs later: they replace its own block everywhere"
node_create n7 10.244.7.0/24
wait_until 20 grep -q '"10.244.7.0/24"' "$W/cni-n7/10-podwire.conflist" || fail "n7 did not rewrite its conflist for 10.244.7.0/24"
grep -q '"10.244.0.0/24"' "$W/cni-n7/10-podwire.conflist" && fail "n7's conflist still has its own block 10.244.0.0/24"
grep -h "spec.podCIDRs 10.244.7.0/24 replaces the pod CIDR 10.244.0.0/24" "$W/n7.log" || fail "n7 did not log the replacement"
wait_until 20 eval '[ "$(ann n7 pod-cidrs)" = 10.244.7.0/24 ]' || fail "n7 publishes pod-cidrs '$(ann n7 pod-cidrs)'"
wait_until 20 eval '[[ "$(ann n7 claims)" != *10.244.0.0_24* ]]' || fail "n7 still claims 10.244.0.0/24: $(ann n7 claims)"
for i in 1 2 3; do
	wait_until 20 has_route $i 10.244.7.0/24 || fail "n$i has no route to n7's assigned pods"
	wait_until 20 eval "! has_route $i 10.244.0.0/24" || fail "n$i still routes n7's old block"
done
echo "n7: conflist, pod-cidrs annotation and the others' routes moved to 10.244.7.0/24; claims now: $(ann n7 claims)"

for i in 2 3; do # (n1 restarted: two daemons wrote its log)
	[ "$(logged $i 'Node bad1: ')" -eq 1 ] || fail "n$i logged bad1 $(logged $i 'Node bad1: ') times, want once"
done
echo "requests to the emulator: $(wc -l <"$W/api-requests.log"), of them 401: $(grep -c ' 401 ' "$W/api-requests.log")"
log "ok"
