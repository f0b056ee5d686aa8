#!/bin/bash
# k8s_api_h2.sh — podwired as the DaemonSet runs it: the in-cluster configuration
# (KUBERNETES_SERVICE_HOST/PORT, the service account's token, ca.crt and namespace laid out as
# kubelet projects them: token -> ..data/token, ..data -> a timestamped directory swapped on
# rotation; the directory is given with PODWIRE_SERVICEACCOUNT_DIR instead of
# /var/run/secrets/kubernetes.io/serviceaccount), against the API EMULATOR behind a real
# HTTP/2 TLS front, nghttpx (Debian's nghttp2-proxy), as kube-apiserver speaks HTTP/2:
#   - libcurl negotiates HTTP/2 with nghttpx by ALPN: every request of podwired arrives as h2;
#   - the emulator writes each watch event in three pieces with pauses between, which nghttpx
#     forwards as separate DATA frames: a Node added then reaches every node (the reconciles
#     read the cache that the watch feeds, so nothing else could bring it);
#   - the projected token rotates (the ..data link swapped): the new token is used, the old
#     one refused afterwards without harm;
#   - the token vanishes (..data removed): logged once, the token read before stays in use,
#     the mesh stays, a Node added still reaches every node.
#
#   [ pn-kh-n1 ] [ pn-kh-n2 ] [ pn-kh-n3 ]   podwired, in-cluster, h2 to the front
#         \          |          /
#   [ pn-kh-r: br0; nghttpx https://192.168.243.254:16643 (h2, TLS)
#              -> emulator http://127.0.0.1:16644 (HTTP/1.1, chunked) ]
T=kh NET=243 PORT=16643 BPORT=16644
source "$(dirname "$0")/lib/common.bash"
require_cmd nghttpx
source "$(dirname "$0")/lib/k8s_emu.bash"
cluster_init
k8s_emu_init
TOKEN1=$(openssl rand -hex 24) TOKEN2=$(openssl rand -hex 24)
echo "$TOKEN1" >"$W/tokens"

front_start() {
	ip netns exec "pn-$T-r" python3 "$EMU" --listen "127.0.0.1:$BPORT" --tokens "$W/tokens" \
		--state "$W/api-state.json" --log "$W/api-requests.log" >>"$W/emulator.log" 2>&1 &
	EMU_PID=$!
	ip netns exec "pn-$T-r" nghttpx --conf=/dev/null --workers=1 --no-ocsp \
		--frontend="$API,$PORT" --backend="127.0.0.1,$BPORT" \
		--backend-read-timeout=10m --frontend-http2-read-timeout=10m --frontend-read-timeout=10m \
		--accesslog-file="$W/front-access.log" --errorlog-file="$W/front-error.log" \
		--accesslog-format='$alpn $protocol_version "$method $path" $status' \
		"$W/server.key" "$W/server.crt" &
	FRONT_PID=$!
	track_pid "$FRONT_PID"
	wait_until 15 api GET /emulator/state || fail "nghttpx in front of the emulator does not answer"
}
sa_project() { # I TOKEN: the service account volume of node I, as kubelet writes it (atomic swap)
	local sa=$W/sa-n$1 v
	v=..$(date +%s%N)
	mkdir -p "$sa/$v"
	echo "$2" >"$sa/$v/token"
	cp "$W/ca.crt" "$sa/$v/ca.crt"
	echo kube-system >"$sa/$v/namespace"
	chmod 600 "$sa/$v/token"
	ln -sfn "$v" "$sa/..data.tmp" && mv -T "$sa/..data.tmp" "$sa/..data"
	for f in token ca.crt namespace; do [ -L "$sa/$f" ] || ln -s "..data/$f" "$sa/$f"; done
}
in_cluster_start() { # I: podwired with the in-cluster configuration, no --kubeconfig
	[ -d "$W/sa-n$1" ] || sa_project "$1" "$TOKEN1"
	DAEMON_WRAP=(env KUBERNETES_SERVICE_HOST="$API" KUBERNETES_SERVICE_PORT="$PORT" PODWIRE_SERVICEACCOUNT_DIR="$W/sa-n$1")
	daemon_start "$1" --resync 5
	DAEMON_WRAP=()
}
logged() { grep -c -- "$2" "$W/n$1.log"; }
annotated() { # NAME LAST_OCTET: a Node with a podwire record written by another writer
	node_create "$1"
	api POST "/emulator/annotate/$1" "{\"podwire.io/public-key\":\"$(wg genkey | wg pubkey)\",\"podwire.io/tunnel-ips\":\"10.99.9.$2\",\"podwire.io/claims\":\"10.99.9.${2}_32\",\"podwire.io/endpoint\":\"192.168.$NET.$2:51820\"}" >/dev/null ||
		fail "cannot annotate $1"
}
front_start

log "two nodes in-cluster through nghttpx: the mesh forms, over HTTP/2"
for i in 1 2; do node_ns $i; node_create "n$i" "10.244.$i.0/24"; in_cluster_start $i; done
for i in 1 2; do wait_until 30 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
grep -q "kubernetes store: API server https://$API:$PORT (in-cluster)" "$W/n1.log" || fail "n1 did not use the in-cluster configuration"
h2=$(grep -c '^h2 HTTP/2 ' "$W/front-access.log") other=$(grep -vc '^h2 HTTP/2 ' "$W/front-access.log")
echo "requests at the front: $h2 over h2, $other otherwise"
[ "$other" -eq 0 ] && [ "$h2" -gt 0 ] || fail "not every request came over HTTP/2 ($other did not)"
ok "in-cluster configuration; $h2 requests, all HTTP/2 (ALPN h2)"

log "watch events split in three DATA frames each: a third node and a foreign Node reach everyone"
api POST /emulator/fault '{"split": true}' >/dev/null
node_ns 3; node_create n3 10.244.3.0/24; in_cluster_start 3
annotated x4 204
for i in 1 2 3; do wait_until 30 has_peers $i 3 || fail "n$i has $(peers_of $i) peers, want 3"; done
for i in 1 2 3; do printf '# PodCIDRs = 10.244.%s.0/24\n' "$i" >"$W/store/n$i.conf"; pod_add $i 1; done
all_pods_reach || fail "pods cannot all reach each other"
ok "split events: n3 and x4 reached every node through the watch"

log "the projected token rotates: the new one is used, the old one then refused"
echo "$TOKEN2" >>"$W/tokens"
for i in 1 2 3; do sa_project $i "$TOKEN2"; done
api POST /emulator/compact >/dev/null # every watch ends: the next requests read the token
for i in 1 2 3; do wait_until 20 grep -q "token file $W/sa-n$i/token changed" "$W/n$i.log" || fail "n$i did not take the new token"; done
echo "$TOKEN2" >"$W/tokens"
annotated x5 205
for i in 1 2 3; do wait_until 30 has_peers $i 4 || fail "n$i has $(peers_of $i) peers after the rotation, want 4"; done
grep -q "token=2" "$W/api-requests.log" || fail "the new token was never used"
# nghttpx logs a request when it ends: the watches that the compaction ended.
grep -q '^h2 HTTP/2 "GET /api/v1/nodes?watch=1&allowWatchBookmarks=true.*" 200' "$W/front-access.log" ||
	fail "no watch over HTTP/2 in the front's log"
grep -m1 'watch=1' "$W/front-access.log"
grep -vq '^h2 HTTP/2 ' "$W/front-access.log" && fail "a request not over HTTP/2: $(grep -v '^h2 HTTP/2 ' "$W/front-access.log" | head -1)"
ok "rotation through the ..data swap: new token used, x5 reached all"

log "n1's token vanishes (..data removed): logged once, the last token kept"
rm "$W/sa-n1/..data"
api POST /emulator/compact >/dev/null
annotated x6 206
for i in 1 2 3; do wait_until 30 has_peers $i 5 || fail "n$i has $(peers_of $i) peers with n1's token gone, want 5"; done
sleep 6
kill -0 "$(daemon_pid 1)" || fail "n1 exited"
all_pods_reach >/dev/null || fail "pods cannot all reach each other with n1's token gone"
[ "$(logged 1 "token file $W/sa-n1/token: No such file")" -eq 1 ] ||
	fail "n1 logged the vanished token $(logged 1 "token file $W/sa-n1/token: No such file") times, want once"
ok "token gone: logged once, mesh kept, x6 reached n1 too"
log "ok"
