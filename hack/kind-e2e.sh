#!/bin/bash
# kind-e2e.sh — podwire on a real Kubernetes: a kind cluster (manifests/kind/cluster.yaml: no
# default CNI, 1 control-plane + 2 workers), the podwire image loaded into it, the manifests
# applied, and then:
#   - every node becomes Ready (kubelet sees podwired's conflist) and carries podwire.io/
#     annotations; podwired is ready on each;
#   - one pod per worker: ping and HTTP from one to the other;
#   - a capture on the kind network (the nodes' underlay) while they talk shows pod addresses
#     only inside WireGuard UDP;
#   - a worker's Node deleted: its peer leaves the other nodes; kubelet registers it again
#     and the mesh has it back.
# This is the test against a real API server; tests/integration/k8s_api_store.sh runs the same
# store against an emulator where kind cannot run. Needs kind, kubectl, docker (or podman with
# KIND_EXPERIMENTAL_PROVIDER=podman), tcpdump, and the image (`make image`). Exit 77 when kind
# or a container engine is missing. KEEP=1 keeps the cluster.
set -uo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${KIND_CLUSTER:-podwire-e2e}
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' lib/version.h)
IMAGE=podwire:$version
NS=podwire

for t in kind kubectl; do
	command -v "$t" >/dev/null || { echo "kind-e2e: $t is not installed: this test runs where kind exists (the hosted CI workflow .github/workflows/kind-e2e.yml)"; exit 77; }
done
engine=docker
[ "${KIND_EXPERIMENTAL_PROVIDER:-}" = podman ] && engine=podman
command -v "$engine" >/dev/null && "$engine" info >/dev/null 2>&1 ||
	{ echo "kind-e2e: no working $engine for kind's node containers"; exit 77; }

log() { echo "== $*"; }
fail() { echo "FAIL: $*"; kubectl -n "$NS" logs -l app.kubernetes.io/name=podwire --tail=30 --prefix 2>/dev/null; exit 1; }
K() { kubectl --context "kind-$CLUSTER" "$@"; }
CAP_PID=
cleanup() {
	[ -n "$CAP_PID" ] && sudo kill "$CAP_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || kind delete cluster --name "$CLUSTER" >/dev/null 2>&1
	rm -rf "$W"
}
W=$(mktemp -d)
trap cleanup EXIT
t0=$SECONDS

"$engine" image inspect "$IMAGE" >/dev/null 2>&1 || make image || fail "no image $IMAGE and make image failed"
log "kind cluster $CLUSTER"
kind create cluster --name "$CLUSTER" --config manifests/kind/cluster.yaml --wait 0s || fail "kind create cluster"
"$engine" save "$IMAGE" -o "$W/image.tar" && kind load image-archive "$W/image.tar" --name "$CLUSTER" ||
	fail "cannot load $IMAGE into the cluster"
log "nodes are NotReady without a CNI"
K get nodes -o wide

log "podwire applied"
K apply -f manifests/podwire.yaml || fail "kubectl apply"
K -n "$NS" rollout status ds/podwire --timeout=300s || fail "the DaemonSet did not roll out"
K wait --for=condition=Ready nodes --all --timeout=300s || fail "nodes did not become Ready"
echo "3 nodes Ready $((SECONDS - t0)) s after the start"
for n in $(K get nodes -o name); do
	key=$(K get "$n" -o jsonpath='{.metadata.annotations.podwire\.io/public-key}')
	cidr=$(K get "$n" -o jsonpath='{.spec.podCIDR}')
	[ -n "$key" ] || fail "$n has no podwire.io/public-key annotation"
	echo "$n: key $key, pods $cidr, tunnel $(K get "$n" -o jsonpath='{.metadata.annotations.podwire\.io/tunnel-ips}')"
done

workers=($(K get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{.items[*].metadata.name}'))
[ ${#workers[@]} -eq 2 ] || fail "want 2 workers, have ${workers[*]}"
log "one pod per worker: ${workers[*]}"
for i in 0 1; do
	K run "pw-e2e-$i" --image=busybox:1.36 --restart=Never \
		--overrides="{\"spec\":{\"nodeName\":\"${workers[$i]}\"}}" -- sh -c 'echo podwire-e2e > /tmp/index.html; httpd -f -p 8080 -h /tmp' ||
		fail "cannot start a pod on ${workers[$i]}"
done
K wait --for=condition=Ready pod/pw-e2e-0 pod/pw-e2e-1 --timeout=180s || fail "the test pods did not start"
ip0=$(K get pod pw-e2e-0 -o jsonpath='{.status.podIP}') ip1=$(K get pod pw-e2e-1 -o jsonpath='{.status.podIP}')
echo "pods: $ip0 on ${workers[0]}, $ip1 on ${workers[1]}"

# The kind network's bridge on this host carries everything between node containers.
br=br-$("$engine" network inspect kind -f '{{.Id}}' | cut -c1-12)
if command -v tcpdump >/dev/null && ip link show "$br" >/dev/null 2>&1; then
	sudo tcpdump -i "$br" -n -U -w "$W/underlay.pcap" 2>/dev/null &
	CAP_PID=$!
	sleep 2
fi
K exec pw-e2e-0 -- ping -c 5 -W 2 "$ip1" || fail "ping from ${workers[0]} to ${workers[1]}"
[ "$(K exec pw-e2e-0 -- wget -qO- "http://$ip1:8080/")" = podwire-e2e ] || fail "HTTP from pod to pod"
[ "$(K exec pw-e2e-1 -- wget -qO- "http://$ip0:8080/")" = podwire-e2e ] || fail "HTTP back"
echo "ping and HTTP between the workers' pods"
if [ -n "$CAP_PID" ]; then
	sleep 1; sudo kill -INT "$CAP_PID"; wait "$CAP_PID" 2>/dev/null; CAP_PID=
	wg=$(tcpdump -n -r "$W/underlay.pcap" 'udp port 51820' 2>/dev/null | wc -l)
	clear=$(tcpdump -n -r "$W/underlay.pcap" "host $ip0 or host $ip1" 2>/dev/null | wc -l)
	echo "underlay: $wg WireGuard packets, $clear packets with a pod address in clear"
	[ "$wg" -gt 0 ] && [ "$clear" -eq 0 ] || fail "pod traffic is not only WireGuard on the node network"
else
	echo "no capture: tcpdump or the bridge $br is missing here"
fi

peers_on() { # NODE: WireGuard peers of podwired on NODE
	local pod
	pod=$(K -n "$NS" get pod -l app.kubernetes.io/name=podwire --field-selector "spec.nodeName=$1" -o name)
	K -n "$NS" exec "$pod" -c podwired -- podwirectl show wg-pods peers 2>/dev/null | wc -l
}
wait_peers() { # NODE N
	local end=$((SECONDS + 60))
	until [ "$(peers_on "$1")" -eq "$2" ]; do [ $SECONDS -ge $end ] && return 1; sleep 1; done
}
log "Node ${workers[1]} deleted and registered again"
K delete pod pw-e2e-0 pw-e2e-1 --wait=false
wait_peers "${workers[0]}" 2 || fail "${workers[0]} does not have 2 peers"
K delete node "${workers[1]}" || fail "kubectl delete node"
wait_peers "${workers[0]}" 1 || fail "${workers[0]} kept the deleted node's peer"
"$engine" exec "${workers[1]}" systemctl restart kubelet || fail "cannot restart kubelet on ${workers[1]}"
K wait --for=condition=Ready "node/${workers[1]}" --timeout=300s || fail "${workers[1]} did not come back Ready"
wait_peers "${workers[0]}" 2 || fail "${workers[0]} did not get ${workers[1]} back"
echo "ok ($((SECONDS - t0)) s)"
