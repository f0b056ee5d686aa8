#!/bin/bash
# k8s_node_cluster.sh — a kind-like cluster on this machine, kind's own model: each Kubernetes
# "node" is a privileged podman container, here three of them (pw18-kn1..3) on one podman
# network, inside the container tests' private namespace pw18-host (lib/containers.bash):
#
#   pw18-kube 10.89.140.0/24 (the node network)
#     ├─ .1   pw18-host: the Kubernetes API EMULATOR tests/k8s_api_emulator.py over HTTPS
#     │       (no kube-apiserver runs here; hack/kind-e2e.sh is the test against a real one)
#     └─ .11 .12 .13  pw18-kn1..3: the podwire image, running containerd (the node's runtime,
#                     as in kind's node image) and, as the DaemonSet would: `podwirectl
#                     install-cni` into the node's /opt/cni/bin, then podwired with the
#                     Kubernetes store (a kubeconfig in YAML), --pod-cidr-allocation=off
#                     and the ConfigMap's conflist template from manifests/podwire.yaml,
#                     writing the node's conflist into its /etc/cni/net.d once
#                     spec.podCIDRs is known
#
# containerd, ctr, containerd-shim-runc-v2, runc (and runc's libseccomp) are this host's
# Debian binaries mounted read-only into the node containers, and the standard CNI plugins
# loopback and portmap (the conflist chains portmap) are copied into each node's
# /opt/cni/bin: kind's node image carries them, the podwire image does not. Pods are
# `ctr run --cni` containers of a busybox image imported into each node's containerd.
# Checked: every node's podwired writes its conflist with its Node's pod CIDR and becomes
# ready; a pod on each node pings, and fetches a page over HTTP from, the pods on both other
# nodes (all 6 directions); a capture on a node's eth0 (tcpdump in its network namespace)
# while the pods ping shows between nodes only UDP to and from the WireGuard port, and no
# pod address; a node removed (its container stopped, its Node deleted) leaves the others'
# peers and routes within 30 s;
# teardown leaves no container, network, namespace or process (the podwire image stays in
# podman's storage, cached by its inputs' digest; the pod image lives only in $W and the
# nodes' tmpfs). Prints the time from the first node container to a 3-node cluster with
# pods talking.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
require_cmd containerd ctr containerd-shim-runc-v2 runc tcpdump python3 openssl nsenter
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml missing (hack/deps.sh installs it)"
ct_setup

NET=pw18-kube
API=10.89.140.1
PORT=16443
IFC=pw18kw # the nodes' WireGuard interface; the name the cleanup looks for in podwire-wg's argv
NODES=(1 2 3)
node_ip() { echo "10.89.140.1$1"; }
pod_cidr() { echo "10.244.$1.0/24"; }
EMU_PID=

# N I CMD...: CMD in node I (podman exec, as `docker exec` into a kind node).
N() { local i=$1; shift; P exec "pw18-kn$i" "$@"; }
api() { # METHOD PATH [BODY]: the emulator, over HTTPS with the cluster CA (from pw18-host's
	# loopback: the bridge, and with it $API, exists once the first node joined the network)
	H curl -sf --cacert "$W/ca.crt" -X "$1" "https://127.0.0.1:$PORT$2" ${3:+-d "$3"}
}
emu_stop() { [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null; EMU_PID=
	! pgrep -f "k8s_api_emulator.py .*$W/" >/dev/null || cleanup_fail "the API emulator outlived the test"; }
# The nodes' logs go to $W/kn*/log; copied to $W/*.log so a failure shows their tails.
collect_logs() {
	local i f
	for i in "${NODES[@]}"; do
		for f in "$W/kn$i/log"/*.log; do [ -f "$f" ] && cp "$f" "$W/kn$i-$(basename "$f")"; done
	done
}
# podwired and podwire-wg run in the nodes: nothing of theirs may appear on this host.
host_untouched() {
	[ ! -e "/var/run/wireguard/$IFC.sock" ] || cleanup_fail "a UAPI socket of the nodes' interface on this host"
}
at_exit host_untouched
at_exit emu_stop
at_exit collect_logs

log "cluster CA, API server certificate for $API, a service-account token per node"
make_tls_cert pw18-kube-ca "$API" 127.0.0.1
: >"$W/tokens"
# The DaemonSet's conflist template, as the ConfigMap in manifests/podwire.yaml carries it.
python3 - "$TOP/manifests/podwire.yaml" "$W/10-podwire.conflist" <<-'EOF' || fail "no ConfigMap conflist in manifests/podwire.yaml"
	import sys, yaml
	for d in yaml.safe_load_all(open(sys.argv[1])):
	    if d and d.get("kind") == "ConfigMap" and "10-podwire.conflist" in d.get("data", {}):
	        open(sys.argv[2], "w").write(d["data"]["10-podwire.conflist"])
	        break
	else:
	    sys.exit(1)
EOF

# Each node's files: what kubelet would mount into the DaemonSet pod (token, CA, the
# kubeconfig that names them) and the node's own /opt/cni/bin and /etc/cni/net.d.
for i in "${NODES[@]}"; do
	d=$W/kn$i
	mkdir -p "$d/podwire" "$d/cni-bin" "$d/net.d" "$d/log" "$d/containerd"
	openssl rand -hex 24 >"$d/podwire/token"
	cat "$d/podwire/token" >>"$W/tokens"
	cp "$W/ca.crt" "$W/10-podwire.conflist" "$d/podwire/"
	# In YAML, as kubectl and kind write kubeconfigs (k8s_api_store.sh uses the JSON form).
	cat >"$d/podwire/kubeconfig" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: kind
	  cluster:
	    server: https://$API:$PORT
	    certificate-authority: ca.crt
	users:
	- name: podwire
	  user:
	    tokenFile: /etc/podwire/token
	contexts:
	- name: kind
	  context: {cluster: kind, user: podwire}
	current-context: kind
	EOF
	cp /usr/lib/cni/loopback /usr/lib/cni/portmap "$d/cni-bin/" || fail "standard CNI plugins missing in /usr/lib/cni"
	cat >"$d/containerd/config.toml" <<-EOF
	version = 2
	[plugins."io.containerd.grpc.v1.cri"]
	  disable_tcp_service = true
	EOF
done
# The node's init: containerd, as kind's node image runs it, until the container stops.
cat >"$W/node-init.sh" <<-'EOF'
	#!/bin/bash
	containerd --config /etc/containerd/config.toml >/var/log/podwire/containerd.log 2>&1 &
	trap 'kill $!; wait $!; exit 0' TERM INT
	wait $!
EOF
chmod 755 "$W/node-init.sh"

log "the pod image: busybox, imported into each node's containerd from an OCI archive"
mkdir -p "$W/podfs"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$W/podfs/bin/" || fail "busybox (busybox-static) missing"
for c in sh ip ping cat sleep httpd nc; do ln -s busybox "$W/podfs/bin/$c"; done
tar -C "$W/podfs" -cf "$W/podfs.tar" . || fail "pod rootfs tar"
PS=(podman --root "$W/pstore" --runroot "$W/prun" --storage-driver vfs)
"${PS[@]}" import -q "$W/podfs.tar" localhost/pw18-pod:1 >/dev/null &&
	"${PS[@]}" save -q --format oci-archive -o "$W/pod.tar" localhost/pw18-pod:1 || fail "pod image"
"${PS[@]}" rmi -a -f >/dev/null 2>&1
rm -rf "$W/pstore" "$W/prun" "$W/podfs"

ct_network "$NET" 10.89.140.0/24

# The emulator listens in pw18-host, where the podman bridge has the network's gateway.
# nsenter execs python3 (H, a function, would put it under a subshell that $! names).
nsenter --net="/run/netns/$HOSTNS" python3 "$TOP/tests/k8s_api_emulator.py" --listen "0.0.0.0:$PORT" --cert "$W/server.crt" --key "$W/server.key" \
	--tokens "$W/tokens" --state "$W/api-state.json" --log "$W/api-requests.log" >>"$W/emulator.log" 2>&1 &
EMU_PID=$!
wait_until 10 api GET /emulator/state || fail "the API emulator did not start"
# The Nodes as kube-controller-manager --allocate-node-cidrs leaves them.
for i in "${NODES[@]}"; do
	api POST /emulator/nodes "{\"metadata\":{\"name\":\"kn$i\"},\"spec\":{\"podCIDR\":\"$(pod_cidr "$i")\",\"podCIDRs\":[\"$(pod_cidr "$i")\"]}}" >/dev/null ||
		fail "cannot create Node kn$i"
done

host_bins=(/usr/bin/containerd /usr/bin/ctr /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc)
mounts=()
for b in "${host_bins[@]}"; do mounts+=(-v "$b:/usr/local/bin/$(basename "$b"):ro"); done
seccomp=$(readlink -f /lib/x86_64-linux-gnu/libseccomp.so.2)
mounts+=(-v "$seccomp:/usr/lib/x86_64-linux-gnu/libseccomp.so.2:ro" -v "$W/node-init.sh:/kind/node-init.sh:ro"
	-v "$W/pod.tar:/kind/pod.tar:ro")

t0=$(date +%s.%N)
log "3 node containers: containerd, install-cni, podwired with the Kubernetes store"
for i in "${NODES[@]}"; do
	d=$W/kn$i
	P run -d --name "pw18-kn$i" --hostname "kn$i" --privileged --no-healthcheck --network "$NET" --ip "$(node_ip "$i")" \
		--sysctl net.ipv4.ip_forward=1 --tmpfs /var/lib/containerd "${mounts[@]}" \
		-v "$d/podwire:/etc/podwire:ro" -v "$d/cni-bin:/opt/cni/bin" -v "$d/net.d:/etc/cni/net.d" \
		-v "$d/log:/var/log/podwire" -v "$d/containerd:/etc/containerd:ro" \
		"$IMAGE" bash /kind/node-init.sh >/dev/null || fail "podman run node kn$i"
done
for i in "${NODES[@]}"; do
	wait_until 10 N "$i" ctr version || { cat "$W/kn$i/log/containerd.log"; fail "kn$i: containerd does not answer"; }
	N "$i" podwirectl install-cni /opt/cni/bin >/dev/null || fail "kn$i: podwirectl install-cni"
	P exec -d "pw18-kn$i" sh -c "exec podwired --name kn$i -i $IFC --kubeconfig /etc/podwire/kubeconfig \
		--pod-cidr-allocation=off --cni-conf-dir /etc/cni/net.d --cni-conf-template /etc/podwire/10-podwire.conflist \
		--state-dir /var/lib/podwire --metrics 127.0.0.1:9586 >>/var/log/podwire/podwired.log 2>&1" >/dev/null ||
		fail "kn$i: podwired"
done
ready() { [ "$(N "$1" curl -s http://127.0.0.1:9586/readyz)" = ok ]; }
peers_of() { N "$1" podwirectl show "$IFC" peers 2>/dev/null | wc -l; }
has_peers() { [ "$(peers_of "$1")" -eq "$2" ]; }
for i in "${NODES[@]}"; do
	wait_until 30 ready "$i" || fail "kn$i: podwired not ready: $(N "$i" curl -s http://127.0.0.1:9586/readyz)"
done
for i in "${NODES[@]}"; do
	wait_until 20 has_peers "$i" 2 || fail "kn$i has $(peers_of "$i") peers, want 2"
	f=$W/kn$i/net.d/10-podwire.conflist
	[ -f "$f" ] || fail "kn$i: no conflist in its /etc/cni/net.d"
	python3 -c 'import json,sys
p=json.load(open(sys.argv[1]))["plugins"][0]
assert p["interface"]==sys.argv[2], p["interface"]
assert [r[0]["subnet"] for r in p["ipam"]["ranges"]]==[sys.argv[3]], p["ipam"]["ranges"]' "$f" "$IFC" "$(pod_cidr "$i")" ||
		fail "kn$i: the conflist has not interface $IFC and range $(pod_cidr "$i")"
	[ -x "$W/kn$i/cni-bin/podwire" ] && [ -x "$W/kn$i/cni-bin/podwire-ipam" ] || fail "kn$i: install-cni put no plugins"
done
ok "3 nodes ready: install-cni put the plugins into /opt/cni/bin, each conflist has its Node's pod CIDR, 2 peers each"

log "a pod on each node (ctr run --cni)"
for i in "${NODES[@]}"; do
	N "$i" ctr images import --base-name localhost/pw18-pod /kind/pod.tar >/dev/null 2>&1 || fail "kn$i: ctr images import"
	P exec -d "pw18-kn$i" sh -c "exec ctr run --cni --rm localhost/pw18-pod:1 pod$i sleep 100000 >/var/log/podwire/pod$i.log 2>&1" >/dev/null ||
		fail "kn$i: ctr run"
done
# pod_exec I CMD...: CMD in node I's pod.
pod_exec() { local i=$1; shift; N "$i" ctr tasks exec --exec-id "x$RANDOM$RANDOM" "pod$i" "$@"; }
pod_ip() { pod_exec "$1" ip -4 -o addr show eth0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
declare -A PIP
for i in "${NODES[@]}"; do
	wait_until 20 eval '[ -n "$(pod_ip '"$i"')" ]' || { cat "$W/kn$i/log/pod$i.log"; fail "kn$i: the pod got no address"; }
	PIP[$i]=$(pod_ip "$i")
	python3 -c 'import ipaddress,sys; sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network(sys.argv[2]))' \
		"${PIP[$i]}" "$(pod_cidr "$i")" || fail "kn$i: pod address ${PIP[$i]} is not in $(pod_cidr "$i")"
	echo "pod$i on kn$i: ${PIP[$i]}"
done
ping_all() {
	local i j
	for i in "${NODES[@]}"; do
		for j in "${NODES[@]}"; do
			[ "$i" = "$j" ] && continue
			pod_exec "$i" ping -c 1 -W 2 "${PIP[$j]}" >/dev/null 2>&1 || { echo "pod$i -> pod$j (${PIP[$j]}) fails"; return 1; }
		done
	done
}
# The first packets make the handshakes: allow them a few rounds.
wait_until 30 ping_all || { ping_all; fail "pods cannot all reach each other"; }
t1=$(date +%s.%N)
ok "every pod pings the pods on both other nodes (6 directions)"
# HTTP too: each pod serves its name (busybox httpd), fetched from the pods on other nodes.
# httpd in the foreground, as a second process of the pod's task (exec -d: ctr stays with it).
# The client is nc with a hand-written request: busybox-static's wget crashes (SIGSEGV) in
# these pods, which have no NSS files.
http_get() { # I IP: the body of http://IP:8080/index.html fetched from node I's pod
	pod_exec "$1" sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $2 8080" 2>/dev/null | tr -d '\r' |
		sed '1,/^$/d'
}
for i in "${NODES[@]}"; do
	pod_exec "$i" sh -c "echo pod$i >/tmp/index.html" || fail "kn$i: the page in the pod"
	P exec -d "pw18-kn$i" ctr tasks exec --exec-id "httpd$i" "pod$i" httpd -f -p 8080 -h /tmp >/dev/null ||
		fail "kn$i: httpd in the pod"
	wait_until 10 eval "[ \"\$(http_get $i 127.0.0.1)\" = pod$i ]" ||
		fail "kn$i: the pod's httpd does not answer on 127.0.0.1:8080"
done
for i in "${NODES[@]}"; do
	for j in "${NODES[@]}"; do
		[ "$i" = "$j" ] && continue
		got=$(http_get "$i" "${PIP[$j]}")
		[ "$got" = "pod$j" ] || fail "pod$i fetched '$got' from pod$j's http://${PIP[$j]}:8080/, want pod$j"
	done
done
ok "every pod fetches the page of the pods on both other nodes over HTTP (6 directions)"
echo "time from the first node container to a 3-node cluster with pods talking: $(echo "$t1 - $t0" | bc | xargs printf '%.1f') s"

log "a capture on kn1's eth0 while the pods ping: only WireGuard UDP between nodes"
pid1=$(P inspect pw18-kn1 --format '{{.State.Pid}}')
nsenter --net="/proc/$pid1/ns/net" tcpdump -n -i eth0 -U -w "$W/kn1.pcap" ip 2>"$W/tcpdump.log" &
TCPDUMP=$!
track_pid "$TCPDUMP"
wait_until 5 grep -q "listening on" "$W/tcpdump.log" || fail "tcpdump did not start"
for i in "${NODES[@]}"; do
	for j in "${NODES[@]}"; do
		[ "$i" = "$j" ] && continue
		pod_exec "$i" ping -c 3 -i 0.2 -W 2 "${PIP[$j]}" >/dev/null 2>&1 || fail "pod$i -> pod$j during the capture"
	done
done
kill -INT "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null
tcpdump -n -r "$W/kn1.pcap" 2>/dev/null >"$W/capture.txt"
between=$(grep -E "IP 10\.89\.140\.1[1-3]\.[0-9]+ > 10\.89\.140\.1[1-3]\.[0-9]+:" "$W/capture.txt")
n=$(grep -c . <<<"$between")
wgudp=$(grep -cE "^[0-9:.]+ IP 10\.89\.140\.1[1-3]\.(51820 > 10\.89\.140\.1[1-3]\.[0-9]+|[0-9]+ > 10\.89\.140\.1[1-3]\.51820): UDP" <<<"$between")
echo "capture: $(wc -l <"$W/capture.txt") IP packets, $n between nodes, $wgudp of them UDP to or from port 51820"
[ "$n" -ge 8 ] || fail "the capture holds only $n packets between nodes: kn1's pod traffic did not cross eth0"
[ "$wgudp" = "$n" ] || { grep -vE "\.51820(:| >).*UDP" <<<"$between" | head -5; fail "packets between nodes other than WireGuard UDP"; }
grep -E "10\.244\.|ICMP" "$W/capture.txt" | head -3 | grep . && fail "pod addresses or ICMP in clear on the node network"
ok "kn1's eth0 carried $n packets between nodes, all UDP to or from 51820; no pod address, no ICMP in clear"

log "node kn3 removed (container stopped, Node deleted): its peer and routes go from kn1 and kn2"
P rm -f -t 5 pw18-kn3 >/dev/null || fail "podman rm kn3"
NODES=(1 2)
ts=$SECONDS
api DELETE /emulator/nodes/kn3 >/dev/null || fail "cannot delete Node kn3"
gone() { has_peers "$1" 1 && [ -z "$(N "$1" ip route show "$(pod_cidr 3)")" ]; }
for i in 1 2; do
	wait_until 30 gone "$i" || fail "kn$i still has $(peers_of "$i") peers or a route to $(pod_cidr 3) 30 s after kn3 was deleted"
done
ok "kn3's peer and route to $(pod_cidr 3) left kn1 and kn2 within $((SECONDS - ts)) s (limit 30 s)"
pod_exec 1 ping -c 1 -W 2 "${PIP[2]}" >/dev/null 2>&1 || fail "pod1 -> pod2 after kn3 left"
ok "pod1 still reaches pod2"
echo "k8s_node_cluster: $CHECKS checks passed"
