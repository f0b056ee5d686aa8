#!/bin/bash
# kind-e2e.sh — podwire on a real Kubernetes: a kind cluster (manifests/kind/cluster.yaml: no
# default CNI, 1 control-plane + 2 workers), the podwire image built with `docker build -f
# image/Containerfile.debian` (a Debian base from a registry: what a stock CI runner has) and
# loaded into the nodes, the manifests applied, and then:
#   - every node becomes Ready (kubelet sees podwired's conflist) and carries podwire.io/
#     annotations; the DaemonSet is rolled out;
#   - one pod per worker: ping and HTTP from one to the other (pods across nodes);
#   - a ClusterIP Service in front of one of them, reached from the other by its DNS name;
#   - CoreDNS answers kubernetes.default.svc.cluster.local with the kubernetes Service's
#     ClusterIP, and a pod reaches the API server through it (the masquerade to a node address);
#   - egress: a pod fetches a page from an HTTP server on the runner itself (outside the
#     cluster, on the kind network's gateway) and the server saw a node's address, not the pod's;
#   - a capture on the kind network (the nodes' underlay) while the pods talk shows pod
#     addresses only inside WireGuard UDP;
#   - a worker's Node deleted: its peer leaves the other nodes; kubelet registers it again
#     and the mesh has it back.
# The image is tagged podwire:VERSION, which Docker names docker.io/library/podwire:VERSION:
# `kind load docker-image` puts it into the nodes' containerd under that name, the one the
# kubelet resolves the DaemonSet's `image: podwire:VERSION` to (podman would name it
# localhost/podwire:VERSION, which no node would find: with KIND_EXPERIMENTAL_PROVIDER=podman
# the image is saved under the docker.io name).
# Needs kind, kubectl, docker (or podman with KIND_EXPERIMENTAL_PROVIDER=podman), python3,
# and tcpdump for the capture (skipped without it). Exit 77 when kind or a container engine is
# missing. KEEP=1 keeps the cluster. DRY_RUN=1 prints every command that would change or query
# the cluster or the engine instead of running it (queries answer with stand-in values), and
# needs none of the tools: tests/integration/kind_e2e_dryrun.sh checks the script that way.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
CLUSTER=${KIND_CLUSTER:-podwire-e2e}
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' lib/version.h)
IMAGE=podwire:$version
NS=podwire
DRY=${DRY_RUN:-}
engine=docker
[ "${KIND_EXPERIMENTAL_PROVIDER:-}" = podman ] && engine=podman

log() { echo "== $*"; }
fail() {
	echo "FAIL: $*"
	[ -n "$DRY" ] || kubectl --context "kind-$CLUSTER" -n "$NS" logs -l app.kubernetes.io/name=podwire --tail=30 --prefix 2>/dev/null
	exit 1
}
shown() { printf '+'; printf ' %q' "$@"; echo; } # CMD...: its command line, quoted as a shell reads it
# run CMD...: CMD, or under DRY_RUN its command line.
run() {
	if [ -n "$DRY" ]; then
		shown "$@"
		return 0
	fi
	"$@"
}
# q STANDIN CMD...: CMD's output, or under DRY_RUN its command line (on stderr) and STANDIN.
q() {
	local standin=$1
	shift
	if [ -n "$DRY" ]; then
		shown "$@" >&2
		echo "$standin"
		return 0
	fi
	"$@"
}
K() { run kubectl --context "kind-$CLUSTER" "$@"; }
KQ() { local s=$1; shift; q "$s" kubectl --context "kind-$CLUSTER" "$@"; }
# retry SECONDS CMD...: CMD until it succeeds (once under DRY_RUN).
retry() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 2
	done
}

if [ -z "$DRY" ]; then
	for t in kind kubectl python3; do
		command -v "$t" >/dev/null || { echo "kind-e2e: $t is not installed: this test runs where kind exists (the hosted CI workflow .github/workflows/kind-e2e.yml)"; exit 77; }
	done
	if ! command -v "$engine" >/dev/null || ! "$engine" info >/dev/null 2>&1; then
		echo "kind-e2e: no working $engine for kind's node containers"
		exit 77
	fi
fi
[ -f image/Containerfile.debian ] || fail "image/Containerfile.debian missing: the image kind loads is built from it"
grep -q "image: $IMAGE\$" manifests/podwire.yaml || fail "manifests/podwire.yaml does not run $IMAGE"

CAP_PID='' SRV_PID='' W=''
cleanup() {
	[ -n "$CAP_PID" ] && sudo kill "$CAP_PID" 2>/dev/null
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || run kind delete cluster --name "$CLUSTER" >/dev/null 2>&1
	[ -n "$W" ] && rm -rf "$W"
}
W=$(mktemp -d)
trap cleanup EXIT
t0=$SECONDS

log "image $IMAGE (docker.io/library/$IMAGE) from image/Containerfile.debian"
run "$engine" build -f image/Containerfile.debian -t "$IMAGE" -t podwire:latest . || fail "$engine build"
if [ "$engine" = podman ]; then # podman names it localhost/; the nodes look for docker.io/library/
	run podman tag "localhost/$IMAGE" "docker.io/library/$IMAGE" || fail "podman tag"
	run podman save -o "$W/image.tar" "docker.io/library/$IMAGE" || fail "podman save"
fi
log "kind cluster $CLUSTER"
run kind create cluster --name "$CLUSTER" --config manifests/kind/cluster.yaml --wait 0s || fail "kind create cluster"
if [ "$engine" = podman ]; then
	run kind load image-archive "$W/image.tar" --name "$CLUSTER" || fail "cannot load $IMAGE into the cluster"
else
	run kind load docker-image "$IMAGE" --name "$CLUSTER" || fail "cannot load $IMAGE into the cluster"
fi
# The name the kubelet will resolve the DaemonSet's image to, in every node's containerd.
for n in $(q "$CLUSTER-control-plane $CLUSTER-worker $CLUSTER-worker2" kind get nodes --name "$CLUSTER"); do
	q "docker.io/library/$IMAGE" "$engine" exec "$n" crictl images -o json | grep -q "docker.io/library/$IMAGE" ||
		fail "$n: no docker.io/library/$IMAGE in the node's containerd"
done
log "nodes are NotReady without a CNI"
K get nodes -o wide

log "podwire applied"
K apply -f manifests/podwire.yaml || fail "kubectl apply"
K -n "$NS" rollout status ds/podwire --timeout=300s || fail "the DaemonSet did not roll out"
K wait --for=condition=Ready nodes --all --timeout=300s || fail "nodes did not become Ready"
echo "3 nodes Ready $((SECONDS - t0)) s after the start"
for n in $(KQ "node/$CLUSTER-control-plane node/$CLUSTER-worker node/$CLUSTER-worker2" get nodes -o name); do
	key=$(KQ standin-key= get "$n" -o jsonpath='{.metadata.annotations.podwire\.io/public-key}')
	[ -n "$key" ] || fail "$n has no podwire.io/public-key annotation"
	echo "$n: key $key, pods $(KQ 10.244.0.0/24 get "$n" -o jsonpath='{.spec.podCIDRs}')"
done

read -r -a workers <<<"$(KQ "$CLUSTER-worker $CLUSTER-worker2" get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{.items[*].metadata.name}')"
[ ${#workers[@]} -eq 2 ] || fail "want 2 workers, have ${workers[*]}"
log "one pod per worker: ${workers[*]}"
for i in 0 1; do
	K run "pw-e2e-$i" --image=busybox:1.36 --restart=Never --labels="app=pw-e2e-$i" \
		--overrides="{\"spec\":{\"nodeName\":\"${workers[$i]}\"}}" -- sh -c 'echo podwire-e2e > /tmp/index.html; httpd -f -p 8080 -h /tmp' ||
		fail "cannot start a pod on ${workers[$i]}"
done
K wait --for=condition=Ready pod/pw-e2e-0 pod/pw-e2e-1 --timeout=180s || fail "the test pods did not start"
ip0=$(KQ 10.244.1.2 get pod pw-e2e-0 -o jsonpath='{.status.podIP}')
ip1=$(KQ 10.244.2.2 get pod pw-e2e-1 -o jsonpath='{.status.podIP}')
echo "pods: $ip0 on ${workers[0]}, $ip1 on ${workers[1]}"

# The kind network's bridge on this host carries everything between node containers.
br=br-$(q 0123456789ab "$engine" network inspect kind -f '{{.Id}}' | cut -c1-12)
if [ -z "$DRY" ] && command -v tcpdump >/dev/null && ip link show "$br" >/dev/null 2>&1; then
	sudo tcpdump -i "$br" -n -U -w "$W/underlay.pcap" 2>/dev/null &
	CAP_PID=$!
	sleep 2
fi
K exec pw-e2e-0 -- ping -c 5 -W 2 "$ip1" || fail "ping from ${workers[0]} to ${workers[1]}"
[ "$(KQ podwire-e2e exec pw-e2e-0 -- wget -qO- "http://$ip1:8080/")" = podwire-e2e ] || fail "HTTP from pod to pod"
[ "$(KQ podwire-e2e exec pw-e2e-1 -- wget -qO- "http://$ip0:8080/")" = podwire-e2e ] || fail "HTTP back"
echo "ping and HTTP between the workers' pods"
if [ -n "$CAP_PID" ]; then
	sleep 1; sudo kill -INT "$CAP_PID"; wait "$CAP_PID" 2>/dev/null; CAP_PID=
	wg=$(tcpdump -n -r "$W/underlay.pcap" 'udp port 51820' 2>/dev/null | wc -l)
	clear=$(tcpdump -n -r "$W/underlay.pcap" "host $ip0 or host $ip1" 2>/dev/null | wc -l)
	echo "underlay: $wg WireGuard packets, $clear packets with a pod address in clear"
	if [ "$wg" -eq 0 ] || [ "$clear" -ne 0 ]; then fail "pod traffic is not only WireGuard on the node network"; fi
else
	echo "no capture: tcpdump or the bridge $br is missing here"
fi

log "a ClusterIP Service in front of pw-e2e-1, by its name from pw-e2e-0"
K expose pod pw-e2e-1 --name pw-e2e --port 80 --target-port 8080 || fail "kubectl expose"
svc_get() { [ "$(KQ podwire-e2e exec pw-e2e-0 -- wget -qO- -T 3 http://pw-e2e.default.svc.cluster.local/)" = podwire-e2e ]; }
retry 60 svc_get || fail "pw-e2e-0 cannot fetch http://pw-e2e.default.svc.cluster.local/ (Service pw-e2e, endpoint on ${workers[1]})"
echo "the Service pw-e2e answers by name from the other worker's pod"

log "CoreDNS: kubernetes.default, and the API server through its Service"
api_ip=$(KQ 10.96.0.1 get service kubernetes -n default -o jsonpath='{.spec.clusterIP}')
for i in 0 1; do
	dns_ok() { KQ "Address: $api_ip" exec "pw-e2e-$1" -- nslookup kubernetes.default.svc.cluster.local | grep -q "Address: *$api_ip\$"; }
	retry 60 dns_ok "$i" || fail "pw-e2e-$i: CoreDNS does not resolve kubernetes.default.svc.cluster.local to $api_ip"
	# /version is readable without credentials (system:public-info-viewer): the API server's answer.
	api_ok() { KQ '"gitVersion"' exec "pw-e2e-$1" -- wget -qO- -T 5 https://kubernetes.default.svc.cluster.local/version | grep -q '"gitVersion"'; }
	retry 30 api_ok "$i" || fail "pw-e2e-$i: no answer from the API server at https://kubernetes.default.svc.cluster.local/version"
done
echo "CoreDNS resolves kubernetes.default.svc.cluster.local to $api_ip; both pods reach the API server through it"

log "egress: a page from an HTTP server on this runner, outside the cluster"
gw=$(q 172.18.0.1 "$engine" network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -v : | head -1)
[ -n "$gw" ] || fail "the kind network has no IPv4 gateway"
port=18080
if [ -z "$DRY" ]; then
	mkdir -p "$W/www" && echo outside >"$W/www/index.html"
	python3 -m http.server --bind "$gw" --directory "$W/www" "$port" >"$W/http.log" 2>&1 &
	SRV_PID=$!
	retry 10 curl -sf -o /dev/null "http://$gw:$port/" || fail "the runner's HTTP server on $gw:$port does not start"
else
	echo "+ python3 -m http.server --bind $gw --directory \$W/www $port"
fi
for i in 0 1; do
	[ "$(KQ outside exec "pw-e2e-$i" -- wget -qO- -T 5 "http://$gw:$port/")" = outside ] ||
		fail "pw-e2e-$i cannot fetch http://$gw:$port/ outside the cluster"
done
node_ips=$(KQ "172.18.0.2 172.18.0.3 172.18.0.4" get nodes -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}')
if [ -z "$DRY" ]; then
	seen=$(grep -o '^[0-9.]* ' "$W/http.log" | sort -u | tr -d ' ' | tr '\n' ' ')
	for s in $seen; do
		[[ " $node_ips " == *" $s "* ]] || fail "the outside server saw $s, not a node's address ($node_ips): egress not masqueraded"
	done
	[ -n "$seen" ] || fail "the outside server logged no request"
	echo "the outside server saw only node addresses: $seen"
fi

peers_on() { # NODE: WireGuard peers of podwired on NODE
	local pod
	pod=$(KQ pod/podwire-x -n "$NS" get pod -l app.kubernetes.io/name=podwire --field-selector "spec.nodeName=$1" -o name)
	KQ "$(seq -f "peer%g=" "$2")" -n "$NS" exec "$pod" -c podwired -- podwirectl show wg-pods peers | grep -c .
}
wait_peers() { # NODE N
	local end=$((SECONDS + 60))
	until [ "$(peers_on "$1" "$2")" -eq "$2" ]; do [ $SECONDS -ge $end ] && return 1; sleep 1; done
}
log "Node ${workers[1]} deleted and registered again"
K delete service pw-e2e --wait=false
K delete pod pw-e2e-0 pw-e2e-1 --wait=false
wait_peers "${workers[0]}" 2 || fail "${workers[0]} does not have 2 peers"
K delete node "${workers[1]}" || fail "kubectl delete node"
wait_peers "${workers[0]}" 1 || fail "${workers[0]} kept the deleted node's peer"
run "$engine" exec "${workers[1]}" systemctl restart kubelet || fail "cannot restart kubelet on ${workers[1]}"
K wait --for=condition=Ready "node/${workers[1]}" --timeout=300s || fail "${workers[1]} did not come back Ready"
wait_peers "${workers[0]}" 2 || fail "${workers[0]} did not get ${workers[1]} back"
echo "ok ($((SECONDS - t0)) s)"
