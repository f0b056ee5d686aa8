#!/bin/bash
# k8s_api_clients.sh — REAL Kubernetes clients against the API emulator tests/k8s_api_emulator.py,
# so that the emulator the Kubernetes store is tested against is shown to answer as
# kube-apiserver does, not only as podwired expects: kubectl (Debian's kubernetes-client, or any
# kubectl on PATH) and the Python client (python3-kubernetes, run with /usr/bin/python3) doing
# what podwired does:
#   list with limit/continue     kubectl get nodes --chunk-size=2; list_node(limit=2, _continue=)
#   watch with bookmarks         Watch().stream(list_node, allow_watch_bookmarks=True) from the
#                                list's resourceVersion sees a Node added meanwhile and a BOOKMARK
#   merge patch, stale version   kubectl patch --type=merge / patch_node with an old
#                                metadata.resourceVersion: 409 Conflict, the Node unchanged
#   expired resourceVersion      after a compaction: a continue token and a watch from before it
#                                get 410 Gone (kubectl get --raw, list_node, the watch)
#
#   [ pn-kc-r: emulator https://192.168.241.254:16641, kubectl, python ]
T=kc NET=241 PORT=16641
source "$(dirname "$0")/lib/common.bash"
require_root
require_cmd kubectl
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import kubernetes' 2>/dev/null ||
	skip "no python3-kubernetes for /usr/bin/python3 (apt-get install python3-kubernetes)"
lan_create "pn-$T-r" br0
source "$(dirname "$0")/lib/k8s_emu.bash"
ip -n "pn-$T-r" addr add "$API/24" dev br0
make_tls_cert pn-test-ca "$API"
at_exit emu_stop
TOKEN=$(openssl rand -hex 24)
echo "$TOKEN" >"$W/tokens"
cat >"$W/kubeconfig" <<EOC
apiVersion: v1
kind: Config
current-context: emu
clusters:
- name: emu
  cluster: {server: "https://$API:$PORT", certificate-authority: "$W/ca.crt"}
users:
- name: client
  user: {token: "$TOKEN"}
contexts:
- name: emu
  context: {cluster: emu, user: client}
EOC
chmod 600 "$W/kubeconfig"
kc() { ip netns exec "pn-$T-r" env HOME="$W" kubectl --kubeconfig "$W/kubeconfig" "$@"; }
py() { ip netns exec "pn-$T-r" env HOME="$W" /usr/bin/python3 - "$W/kubeconfig" "$@"; }
reqs() { grep -c -- "$1" "$W/api-requests.log"; }
emu_start
for i in 1 2 3 4 5; do node_create "n$i"; done
echo "kubectl: $(kubectl version --client 2>/dev/null | head -1), python kubernetes $(/usr/bin/python3 -c 'import kubernetes; print(kubernetes.__version__)')"

log "kubectl get nodes --chunk-size=2: three pages of one list"
: >"$W/api-requests.log"
names=$(kc get nodes --chunk-size=2 -o name 2>"$W/kubectl.err" | xargs) || fail "kubectl get: $(cat "$W/kubectl.err")"
[ "$names" = "node/n1 node/n2 node/n3 node/n4 node/n5" ] || fail "kubectl listed '$names'"
[ "$(reqs '^GET /api/v1/nodes?limit=2 200')" -eq 1 ] || fail "kubectl did not ask for a first page of 2"
[ "$(reqs '^GET /api/v1/nodes?continue=.*limit=2 200')" -eq 2 ] || fail "kubectl did not follow 2 continue tokens"
ok "kubectl: $names, in $(reqs '^GET /api/v1/nodes?') requests ($(reqs 'continue=') with continue)"

log "Python client: list_node(limit=2) and its continue tokens, then a watch with bookmarks"
out=$(py "$API" "$PORT" <<'PY'
import sys, threading, time, json, ssl, urllib.request
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
names, cont, pages, rvs = [], None, 0, set()
while True:
    r = v1.list_node(limit=2, _continue=cont) if cont else v1.list_node(limit=2)
    pages += 1
    names += [n.metadata.name for n in r.items]
    rvs.add(r.metadata.resource_version)
    cont = r.metadata._continue
    if not cont:
        break
print("list", pages, " ".join(names), len(rvs))
rv = r.metadata.resource_version
def add_node():  # another writer while the watch runs
    time.sleep(0.5)
    ctx = ssl.create_default_context(cafile=sys.argv[1].rsplit("/", 1)[0] + "/ca.crt")
    req = urllib.request.Request(f"https://{sys.argv[2]}:{sys.argv[3]}/emulator/nodes", method="POST",
                                 data=json.dumps({"metadata": {"name": "n6"}}).encode())
    urllib.request.urlopen(req, context=ctx).read()
threading.Thread(target=add_node).start()
seen = []
for ev in watch.Watch().stream(v1.list_node, resource_version=rv, allow_watch_bookmarks=True, timeout_seconds=10):
    obj = ev["object"]
    seen.append(ev["type"] + ":" + (obj.metadata.name or "" if hasattr(obj, "metadata") else obj["metadata"].get("name", "")))
    if ev["type"] == "BOOKMARK" and any(s.startswith("ADDED") for s in seen):
        break
print("watch", " ".join(seen))
PY
) || fail "the Python client failed: $out"
echo "$out"
grep -qx "list 3 n1 n2 n3 n4 n5 1" <<<"$out" || fail "list_node(limit=2) did not page through 5 Nodes of one snapshot"
grep -q "^watch .*ADDED:n6.*BOOKMARK" <<<"$out" || fail "the watch did not see n6 ADDED and then a BOOKMARK"
grep -q "allowWatchBookmarks=True.*watch=True" "$W/api-requests.log" || fail "no bookmark watch in the request log"
ok "python: 3 pages, one resourceVersion; the watch saw $(sed -n 's/^watch //p' <<<"$out")"

log "merge patch with a stale resourceVersion: 409 Conflict for both, the Node unchanged"
stale=$(kc get node n1 -o jsonpath='{.metadata.resourceVersion}')
api POST /emulator/annotate/n1 '{"example.com/other-writer":"1"}' >/dev/null
if kc patch node n1 --type=merge -p "{\"metadata\":{\"resourceVersion\":\"$stale\",\"annotations\":{\"podwire.io/x\":\"kubectl\"}}}" \
	>"$W/patch.out" 2>&1; then
	fail "kubectl patch with resourceVersion $stale succeeded: $(cat "$W/patch.out")"
fi
grep -q "Conflict\|the object has been modified" "$W/patch.out" || fail "kubectl did not report the conflict: $(cat "$W/patch.out")"
grep -q "^PATCH /api/v1/nodes/n1[? ].* 409" "$W/api-requests.log" || fail "no 409 for kubectl's patch"
out=$(py "$stale" <<'PY'
import sys
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
try:
    v1.patch_node("n1", {"metadata": {"resourceVersion": sys.argv[2], "annotations": {"podwire.io/x": "python"}}})
    print("patched")
except ApiException as e:
    print("status", e.status)
n = v1.read_node("n1")
print("annotation", (n.metadata.annotations or {}).get("podwire.io/x"))
fresh = v1.patch_node("n1", {"metadata": {"resourceVersion": n.metadata.resource_version,
                                          "annotations": {"podwire.io/x": "fresh"}}})
print("fresh", fresh.metadata.annotations.get("podwire.io/x"))
PY
) || fail "the Python client failed: $out"
echo "$(head -1 "$W/patch.out")"; echo "$out" | xargs
grep -qx "status 409" <<<"$out" || fail "patch_node with a stale resourceVersion did not get 409"
grep -qx "annotation None" <<<"$out" || fail "a refused patch changed the Node"
grep -qx "fresh fresh" <<<"$out" || fail "a patch with the current resourceVersion was refused"
ok "kubectl and python: 409 Conflict on resourceVersion $stale; with the current one the patch applies"

log "expired resourceVersion: a continue token and a watch from before a compaction get 410 Gone"
out=$(py "$API" "$PORT" <<'PY'
import sys, json, ssl, urllib.request
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
first = v1.list_node(limit=2)
print("token", first.metadata._continue)
ctx = ssl.create_default_context(cafile=sys.argv[1].rsplit("/", 1)[0] + "/ca.crt")
urllib.request.urlopen(urllib.request.Request(f"https://{sys.argv[2]}:{sys.argv[3]}/emulator/compact", method="POST",
                                              data=b""), context=ctx).read()
try:
    v1.list_node(limit=2, _continue=first.metadata._continue)
    print("continue accepted")
except ApiException as e:
    print("continue", e.status, json.loads(e.body).get("reason"))
try:
    for ev in watch.Watch().stream(v1.list_node, resource_version=first.metadata.resource_version, timeout_seconds=5):
        print("event", ev["type"])
        break
    print("watch ended")
except ApiException as e:
    print("watch", e.status)
PY
) || fail "the Python client failed: $out"
echo "$out" | grep -v '^token'
tok=$(sed -n 's/^token //p' <<<"$out")
grep -qx "continue 410 Expired" <<<"$out" || fail "list_node with an expired continue token did not get 410 Expired"
grep -qx "watch 410" <<<"$out" || fail "the watch from an expired resourceVersion did not raise 410"
if kc get --raw "/api/v1/nodes?limit=2&continue=$tok" >"$W/raw.out" 2>&1; then
	fail "kubectl get --raw with the expired continue token succeeded"
fi
grep -qi "expired\|too old\|gone" "$W/raw.out" || fail "kubectl did not report the expiry: $(cat "$W/raw.out")"
echo "kubectl: $(head -1 "$W/raw.out")"
grep -q "^GET /api/v1/nodes?continue=.* 410" "$W/api-requests.log" || fail "no 410 in the emulator's log"
ok "python: continue 410 Expired, watch 410; kubectl: $(head -c 80 "$W/raw.out")"
log "ok"
