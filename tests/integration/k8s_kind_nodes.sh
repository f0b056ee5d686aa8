#!/bin/bash
# k8s_kind_nodes.sh — podwire on a cluster whose nodes look like kind's, not like podwire's
# image: each node is a network namespace and a root directory (an overlay of a minimal
# Debian 12 made by hack/kind-node-root.sh with what kind's node image has for pod networking:
# containerd, runc, iptables, iproute2, conntrack and the standard CNI plugins in /opt/cni/bin,
# and none of podwire's libraries). podwire is deployed as manifests/podwire.yaml deploys it:
# lib/kubelet.py reads the DaemonSet's pod template and runs its init container (install-cni
# writes the node's /opt/cni/bin) and its containers from the podwire image's root (the
# archive `make image` writes), with the node's network, the template's hostPath and ConfigMap
# volumes, its env, and the in-cluster configuration: a service-account token, ca.crt and
# namespace at /var/run/secrets/kubernetes.io/serviceaccount and KUBERNETES_SERVICE_HOST/PORT
# naming the `kubernetes` Service's ClusterIP. Pods are made as a node's runtime makes them
# (lib/libcni.py: the first conflist of the node's /etc/cni/net.d, each plugin run from the
# node's /opt/cni/bin inside the node's root, chained podwire -> portmap with the hostPorts in
# runtimeConfig), and DEL'd the same way at the end.
#
#   kd5-out  outside the cluster: 198.51.100.100, 2001:db8:5::100 (HTTP :80 answers the
#     |      caller's address; the NodePort and hostPort client)
#     | o0 198.51.100.1, 2001:db8:5::1
#   kd5-r    a router: forwards, and knows no pod CIDR (as a network outside a cluster)
#     | br0 192.168.77.1, fd77:5::1 (the node network, the nodes' default route)
#     +--------------------------+--------------------------+
#     | eth0 .11, ::11           | eth0 .12, ::12           | eth0 .13, ::13
#   kd5-n1 node kn1            kd5-n2 node kn2            kd5-n3 node kn3
#     API server :6443 (the emulator tests/k8s_api_emulator.py, hostNetwork)
#     hostNetwork HTTP :9090 on each node; podwired (DaemonSet pod, hostNetwork)
#     | veth (podwire)           |                          |
#   kd5-p1 10.244.1.x          kd5-p2, kd5-dns            kd5-p3      pods: HTTP :8080,
#          fd00:10:244:1::x           10.244.2.x ...              hostPort 8081 -> 8080;
#                                     kd5-dns: dnsmasq as CoreDNS
#
# kube-proxy cannot run here: kube_proxy_rules below IMITATES it, writing the iptables rules
# kube-proxy's iptables mode writes (KUBE-SERVICES, KUBE-SVC-, KUBE-SEP-, KUBE-EXT-,
# KUBE-NODEPORTS, KUBE-MARK-MASQ and KUBE-POSTROUTING's masquerade mark, chain names hashed as
# kube-proxy hashes them) with the node's own iptables-restore, for these Services:
#   kubernetes  10.96.0.1:443 -> 192.168.77.11:6443 (the API server, hostNetwork on kn1;
#               single-stack, as the default Service of a dual-stack cluster)
#   kube-dns    10.96.0.10, fd00:10:96::a :53/udp -> the dnsmasq pod on kn2
#   web         10.96.0.50, fd00:10:96::50 :80 -> the three pods' :8080; NodePort 30080
#   hostnet     10.96.0.60, fd00:10:96::60 :80 -> kn1's hostNetwork server :9090
# The DNS pod answers kubernetes.default.svc.cluster.local and hostnet.default.svc.cluster.local
# as CoreDNS answers a Service's name.
#
# Checked, from the pod on every node, IPv4 and IPv6: the pods on the other nodes (source kept),
# the other nodes' addresses (ping) and their hostNetwork servers, the ClusterIP Services with
# pod endpoints and with hostNetwork endpoints (the API server over TLS), DNS through the
# kube-dns Service, egress to kd5-out with the node's address as source, and the other nodes'
# hostPorts; from kd5-out: every node's NodePort and hostPort. A capture on the node network
# while the pods talk shows WireGuard UDP and no pod address. A Node deleted and registered
# again has its peers back within 30 s. PODWIRE_TEST_KEEP_GOING=1 runs every check and counts
# the failures (what a tree without a piece of the work gets wrong).
set -uo pipefail
source "$(dirname "$0")/lib/common.bash"
# Debian's python3, which python3-yaml is for (and which starts in a tenth of the time of a
# python3 shim that PATH may find first).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$TOP/tests/integration/lib
require_root
require_cmd podman runc python3 curl openssl tcpdump dnsmasq busybox nsenter chroot iptables
"$PY" -c 'import yaml' 2>/dev/null || skip "python3-yaml missing (hack/deps.sh installs it)"
require_tun
# manifests/podwire.yaml as the administrator of a dual-stack cluster applies it: the
# ConfigMap's IPv6 pools set to kube-controller-manager's IPv6 --cluster-cidr (kind's
# dual-stack podSubnet) and an IPv6 tunnel range; nothing else changed.
MANIFEST=$W/podwire.yaml
"$PY" - "$TOP/manifests/podwire.yaml" "$MANIFEST" <<-'EOF' || fail "manifests/podwire.yaml: no ConfigMap with cluster-cidr6 and tunnel-cidr6"
	import sys, yaml
	docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
	cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "podwire"][0]
	assert "cluster-cidr6" in cm["data"] and "tunnel-cidr6" in cm["data"]
	cm["data"].update({"cluster-cidr6": "fd00:10:244::/56", "tunnel-cidr6": "fd00:99::/112"})
	yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
EOF
NODES=(1 2 3)
M=$W/mnt # every mount of the test is below it (unmounted by kd_teardown)
mkdir -p "$M"

node_ip() { [ "$1" = 4 ] && echo "192.168.77.1$2" || echo "fd77:5::1$2"; } # FAMILY I
pod_cidr() { [ "$1" = 4 ] && echo "10.244.$2.0/24" || echo "fd00:10:244:$2::/64"; }
OUT4=198.51.100.100 OUT6=2001:db8:5::100
API_IP=10.96.0.1
svc_ip() { # FAMILY NAME: a Service's ClusterIP
	case $1-$2 in
	4-kube-dns) echo 10.96.0.10 ;; 6-kube-dns) echo fd00:10:96::a ;;
	4-web) echo 10.96.0.50 ;; 6-web) echo fd00:10:96::50 ;;
	4-hostnet) echo 10.96.0.60 ;; 6-hostnet) echo fd00:10:96::60 ;;
	esac
}
url() { local a=$1; [[ $a == *:* ]] && a="[$a]"; echo "http://$a:$2/"; } # ADDR PORT
get() { ip netns exec "$1" curl -gsf -m 2 "$2"; } # NS URL: the body
NS_OF() { echo "/run/netns/kd5-n$1"; }
# N I CMD...: CMD inside node I (its network and its root), as `docker exec` into a kind node.
N() { local i=$1; shift; nsenter --net="$(NS_OF "$i")" -- chroot "$M/n$i/root" "$@"; }
# PW I CMD...: CMD in node I's podwired container (`kubectl exec ds/podwire -c podwired`).
PW() { local i=$1; shift; nsenter --net="$(NS_OF "$i")" -- chroot "$M/n$i/pod/podwired/root" "$@"; }
api() { # METHOD PATH [BODY]: the API server (from kn1, where it runs)
	nsenter --net="$(NS_OF 1)" curl -sf --cacert "$W/ca.crt" -X "$1" "https://192.168.77.11:6443$2" ${3:+-d "$3"}
}
node_json() { # I: the Node as kubelet registers it and kube-controller-manager gives it pod CIDRs
	echo "{\"metadata\":{\"name\":\"kn$1\"},\"spec\":{\"podCIDR\":\"$(pod_cidr 4 "$1")\",\"podCIDRs\":[\"$(pod_cidr 4 "$1")\",\"$(pod_cidr 6 "$1")\"]},
	 \"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$(node_ip 4 "$1")\"},{\"type\":\"InternalIP\",\"address\":\"$(node_ip 6 "$1")\"},{\"type\":\"Hostname\",\"address\":\"kn$1\"}]}}"
}

# Teardown: the pods' CNI DEL (as the runtime at pod removal), every process in the test's
# namespaces, then the mounts; nothing of the nodes may stay.
PODS=() # "NODE NAME" of pods whose ADD ran
kd_teardown() {
	local p i ns pid
	for p in "${PODS[@]}"; do pod_del "${p% *}" "${p#* }" >/dev/null 2>&1; done
	stop_pids
	for ns in "${NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	for ns in "${NETNS[@]}"; do
		wait_until 5 eval "[ -z \"\$(ip netns pids $ns 2>/dev/null)\" ]" ||
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	done
	for i in "${NODES_ALL[@]}"; do
		for p in "$M/n$i"/pod/*/root "$M/n$i/root"; do [ -d "$p" ] && umount -R -l "$p" 2>/dev/null; done
	done
	if grep -F " $M/" /proc/self/mountinfo >/dev/null; then
		cleanup_fail "mounts of the test left: $(grep -cF " $M/" /proc/self/mountinfo)"
	else
		rm -rf --one-file-system "$M"
	fi
}
NODES_ALL=("${NODES[@]}")
at_exit kd_teardown

log "the kind-like node root (hack/kind-node-root.sh) and the podwire image's root (make image)"
tarball=$("$TOP/hack/kind-node-root.sh") || skip "no kind-like node root: hack/kind-node-root.sh failed (is Debian's archive reachable?)"
mkdir -p "$M/lower-node" "$M/lower-image"
tar -C "$M/lower-node" -xf "$tarball" || fail "cannot unpack $tarball"
for lib in libsodium libnl-3 libnl-route-3 libcjson; do
	[ -z "$(find "$M/lower-node/usr/lib" -name "$lib.so*")" ] || fail "the node root has $lib: it must not"
done
cat >"$W/containers.conf" <<-EOF
	[engine]
	runtime = "runc"
EOF
export CONTAINERS_CONF=$W/containers.conf
make -s -C "$TOP" BUILD=build image >"$W/image.log" 2>&1 || { cat "$W/image.log"; fail "make image"; }
image=$("$PY" -c 'import sys,yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind")=="DaemonSet": print(d["spec"]["template"]["spec"]["containers"][0]["image"])' "$MANIFEST")
# The image's root from the archive make image wrote into this tree's build directory, not
# from the engine's storage: its podwire:VERSION tag is shared with every other tree on this
# machine, and another one's make image may retag it at any time.
archive=$TOP/build/image/podwire-${image#podwire:}.tar
[ -s "$archive" ] || fail "$archive: make image wrote no archive of $image (the DaemonSet's image)"
"$PY" - "$archive" "$M/lower-image" <<-'EOF' || fail "cannot unpack $archive"
	import json, sys, tarfile
	with tarfile.open(sys.argv[1]) as a:
	    for layer in json.load(a.extractfile("manifest.json"))[0]["Layers"]:
	        with tarfile.open(fileobj=a.extractfile(layer)) as t:
	            t.extractall(sys.argv[2], numeric_owner=True)
EOF
for b in podwired podwirectl podwire-wg; do
	cmp -s "$M/lower-image/usr/local/bin/$b" "$TOP/build/$b" || fail "the image's $b is not this tree's build/$b"
done
echo "node root: $(du -sm "$M/lower-node" | cut -f1) MB from $tarball; podwire image $image: $(du -sm "$M/lower-image" | cut -f1) MB"

log "the network: router, outside, three nodes"
netns_add kd5-r kd5-out
ip netns exec kd5-r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n kd5-r link add br0 type bridge && ip -n kd5-r link set br0 up
ip -n kd5-r addr add 192.168.77.1/24 dev br0 && ip -n kd5-r addr add fd77:5::1/64 dev br0 nodad
veth_pair kd5-r o0 kd5-out eth0
ip -n kd5-r addr add 198.51.100.1/24 dev o0 && ip -n kd5-r addr add 2001:db8:5::1/64 dev o0 nodad
ip -n kd5-out addr add "$OUT4/24" dev eth0 && ip -n kd5-out addr add "$OUT6/64" dev eth0 nodad
ip -n kd5-r link set o0 up && ip -n kd5-out link set eth0 up
ip -n kd5-out route add default via 198.51.100.1 && ip -n kd5-out -6 route add default via 2001:db8:5::1
t0=$(date +%s.%N)
for i in "${NODES[@]}"; do
	ns=kd5-n$i
	netns_add "$ns"
	veth_pair kd5-r "u$i" "$ns" eth0
	ip -n kd5-r link set "u$i" master br0 up
	ip -n "$ns" addr add "$(node_ip 4 "$i")/24" dev eth0 && ip -n "$ns" addr add "$(node_ip 6 "$i")/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via 192.168.77.1 && ip -n "$ns" -6 route add default via fd77:5::1
	# What kind's node entrypoint and kube-proxy set.
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	"$PY" "$LIB/kubelet.py" node-root "$M/n$i/root" "$M/lower-node" "$M/n$i/node" "$(NS_OF "$i")" ||
		fail "kn$i: cannot make the node's root"
done
for i in "${NODES[@]}"; do
	N "$i" iptables -V >/dev/null || fail "kn$i: iptables does not run in the node's root"
done
ok "3 nodes: network namespaces with roots of the kind-like Debian (no libsodium, libnl, libcjson)"

# kube_proxy_rules I [full]: IMITATES kube-proxy (iptables mode) on node I for both families:
# the chains and rules it writes, by iptables-restore --noflush (its own chains are flushed and
# rewritten at each sync, nobody else's). Without "full": only the kubernetes Service, as before
# any pod exists.
kp_chain() { # PREFIX SERVICE-PORT PROTO [ENDPOINT]: kube-proxy's chain name (base32 of sha256, 16)
	local p=$1 hex
	shift
	hex=$(printf '%s' "$@" | sha256sum | cut -c1-64)
	# shellcheck disable=SC2059 # the format is the digest as \xHH escapes
	echo "$p$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | base32 -w0 | cut -c1-16)"
}
kp_service() { # FAMILY NAME CLUSTERIP PORT PROTO NODEPORT ENDPOINT...: one Service's rules
	local f=$1 name=$2 vip=$3 port=$4 proto=$5 nodeport=$6 cluster n k ep svc sep ext host
	shift 6
	local spn="default/$name:http" # namespace/name:port-name, as kube-proxy names a Service port
	case $name in kubernetes) spn=default/kubernetes:https ;; kube-dns) spn=kube-system/kube-dns:dns ;; esac
	[ "$f" = 4 ] && cluster=10.244.0.0/16 host=32 || { cluster=fd00:10:244::/56; host=128; }
	svc=$(kp_chain KUBE-SVC- "$spn" "$proto")
	echo ":$svc - [0:0]" >>"$KP_CHAINS"
	echo "-A KUBE-SERVICES -d $vip/$host -p $proto -m comment --comment \"$spn cluster IP\" -m $proto --dport $port -j $svc" >>"$KP_RULES"
	echo "-A $svc ! -s $cluster -d $vip/$host -p $proto -m comment --comment \"$spn cluster IP\" -m $proto --dport $port -j KUBE-MARK-MASQ" >>"$KP_RULES"
	if [ "$nodeport" != - ]; then
		ext=$(kp_chain KUBE-EXT- "$spn" "$proto")
		echo ":$ext - [0:0]" >>"$KP_CHAINS"
		echo "-A KUBE-NODEPORTS -p $proto -m comment --comment \"$spn\" -m $proto --dport $nodeport -j $ext" >>"$KP_RULES"
		echo "-A $ext -m comment --comment \"masquerade traffic for $spn external destinations\" -j KUBE-MARK-MASQ" >>"$KP_RULES"
		echo "-A $ext -j $svc" >>"$KP_RULES"
	fi
	n=$#
	k=0
	for ep in "$@"; do
		sep=$(kp_chain KUBE-SEP- "$spn" "$proto" "$ep")
		echo ":$sep - [0:0]" >>"$KP_CHAINS"
		local stat=""
		[ $((n - k)) -gt 1 ] && stat="-m statistic --mode random --probability $(echo "scale=11; 1/$((n - k))" | bc | sed 's/^\./0./') "
		echo "-A $svc -m comment --comment \"$spn -> $ep\" $stat-j $sep" >>"$KP_RULES"
		local epaddr=${ep%:*}
		epaddr=${epaddr#[}; epaddr=${epaddr%]}
		echo "-A $sep -s $epaddr/$host -m comment --comment $spn -j KUBE-MARK-MASQ" >>"$KP_RULES"
		echo "-A $sep -p $proto -m comment --comment $spn -m $proto -j DNAT --to-destination $ep" >>"$KP_RULES"
		k=$((k + 1))
	done
}
kube_proxy_rules() {
	local i=$1 full=${2:-} f restore
	for f in 4 6; do
		KP_CHAINS=$W/kp-chains KP_RULES=$W/kp-rules
		printf ':KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n' >"$KP_CHAINS"
		cat >"$KP_RULES" <<-'EOF'
			-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
			-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
			-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
			-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
		EOF
		[ "$f" = 4 ] && kp_service 4 kubernetes "$API_IP" 443 tcp - 192.168.77.11:6443
		if [ -n "$full" ]; then
			local eps=() j a
			for j in "${NODES[@]}"; do # the pods that have an address of the family
				a=$(pip "$f" "$j")
				[ -z "$a" ] || { [ "$f" = 4 ] && eps+=("$a:8080") || eps+=("[$a]:8080"); }
			done
			[ ${#eps[@]} -eq 0 ] || kp_service "$f" web "$(svc_ip "$f" web)" 80 tcp 30080 "${eps[@]}"
			if [ "$f" = 4 ] && [ -n "$DNS4" ]; then kp_service 4 kube-dns "$(svc_ip 4 kube-dns)" 53 udp - "$DNS4:53"; fi
			if [ "$f" = 6 ] && [ -n "$DNS6" ]; then kp_service 6 kube-dns "$(svc_ip 6 kube-dns)" 53 udp - "[$DNS6]:53"; fi
			[ "$f" = 4 ] && kp_service 4 hostnet "$(svc_ip 4 hostnet)" 80 tcp - 192.168.77.11:9090 ||
				kp_service 6 hostnet "$(svc_ip 6 hostnet)" 80 tcp - "[fd77:5::11]:9090"
		fi
		echo "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS" >>"$KP_RULES"
		restore=iptables-restore
		[ "$f" = 6 ] && restore=ip6tables-restore
		{ echo '*nat'; cat "$KP_CHAINS" "$KP_RULES"; echo COMMIT; } >"$W/kube-proxy-kn$i-v$f.rules"
		N "$i" "$restore" --noflush <"$W/kube-proxy-kn$i-v$f.rules" || fail "kn$i: $restore of the kube-proxy rules (v$f)"
		if [ -z "$full" ]; then # the jumps kube-proxy puts into the built-in chains, once
			local ipt=iptables
			[ "$f" = 6 ] && ipt=ip6tables
			N "$i" "$ipt" -w -t nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES &&
				N "$i" "$ipt" -w -t nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES &&
				N "$i" "$ipt" -w -t nat -I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING ||
				fail "kn$i: $ipt: kube-proxy's jumps"
		fi
	done
}

log "the API server on kn1 (hostNetwork) behind the kubernetes Service; Nodes registered"
make_tls_cert kd5-cluster-ca "$API_IP" 192.168.77.11
: >"$W/tokens"
for i in "${NODES[@]}"; do
	mkdir -p "$W/sa-kn$i"
	openssl rand -hex 24 >"$W/sa-kn$i/token"
	cat "$W/sa-kn$i/token" >>"$W/tokens"
	cp "$W/ca.crt" "$W/sa-kn$i/ca.crt"
	echo podwire >"$W/sa-kn$i/namespace"
	chmod 600 "$W/sa-kn$i/token"
done
nsenter --net="$(NS_OF 1)" "$PY" "$TOP/tests/k8s_api_emulator.py" --listen 192.168.77.11:6443 --cert "$W/server.crt" \
	--key "$W/server.key" --tokens "$W/tokens" --state "$W/api-state.json" --log "$W/api-requests.log" >>"$W/emulator.log" 2>&1 &
track_pid $!
wait_until 10 api GET /emulator/state || fail "the API server (emulator) did not start on kn1"
for i in "${NODES[@]}"; do
	api POST /emulator/nodes "$(node_json "$i")" >/dev/null || fail "cannot register Node kn$i"
	kube_proxy_rules "$i"
done

log "the DaemonSet's pod on each node: init containers, then containers, from the image's root"
mapfile -t ctrs < <("$PY" "$LIB/kubelet.py" containers "$MANIFEST" DaemonSet/podwire) || fail "the DaemonSet's containers"
pod_start() { # I: the DaemonSet's pod on node I, as kubelet starts it
	local i=$1 kind name
	for c in "${ctrs[@]}"; do
		read -r kind name <<<"$c"
		run=("$PY" "$LIB/kubelet.py" run "$MANIFEST" DaemonSet/podwire "$name" --node "kn$i" --node-root "$M/n$i/root"
			--netns "$(NS_OF "$i")" --image-root "$M/lower-image" --work "$M/n$i/pod" --sa "$W/sa-kn$i"
			--env "KUBERNETES_SERVICE_HOST=$API_IP" --env KUBERNETES_SERVICE_PORT=443 --env KUBERNETES_SERVICE_PORT_HTTPS=443)
		if [ "$kind" = init ]; then
			"${run[@]}" >>"$W/kn$i-$name.log" 2>&1 || { cat "$W/kn$i-$name.log"; fail "kn$i: init container $name failed"; }
		else
			"${run[@]}" >>"$W/kn$i-$name.log" 2>&1 &
			track_pid $!
		fi
	done
}
for i in "${NODES[@]}"; do pod_start "$i"; done
ready() { [ "$(nsenter --net="$(NS_OF "$1")" curl -s -m 2 http://127.0.0.1:9586/readyz)" = ok ]; }
conflist_of() { ls "$M/n$1/root/etc/cni/net.d/" 2>/dev/null | sort | head -1; }
IFC=
peers_of() { PW "$1" podwirectl show "$IFC" peers 2>/dev/null | wc -l; }
has_peers() { [ "$(peers_of "$1")" -eq "$2" ]; }
for i in "${NODES[@]}"; do
	wait_until 60 ready "$i" || fail "kn$i: podwired not ready: $(nsenter --net="$(NS_OF "$i")" curl -s -m 2 http://127.0.0.1:9586/readyz)"
	[ -n "$(conflist_of "$i")" ] || fail "kn$i: no conflist in the node's /etc/cni/net.d"
done
IFC=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["plugins"][0]["interface"])' \
	"$M/n1/root/etc/cni/net.d/$(conflist_of 1)") || fail "kn1: the conflist names no interface"
for i in "${NODES[@]}"; do
	wait_until 20 has_peers "$i" 2 || fail "kn$i has $(peers_of "$i") peers, want 2"
done
grep -E ' token=bad' "$W/api-requests.log" | head -3 | grep . && fail "requests with a token the API server does not know"
[ "$(grep -c 'token=[0-9]' "$W/api-requests.log")" -gt 0 ] || fail "no request with a service-account token reached the API server"
ok "the DaemonSet's pods run from the image's root on the 3 nodes with the in-cluster configuration through the kubernetes Service: ready, 2 peers each"

log "the CNI plugins in the node's root, as install-cni left them"
for i in "${NODES[@]}"; do
	for p in podwire podwire-ipam; do
		out=$(echo '{"cniVersion":"1.0.0"}' | N "$i" env CNI_COMMAND=VERSION "/opt/cni/bin/$p" 2>&1)
		if grep -q supportedVersions <<<"$out"; then ok "kn$i: /opt/cni/bin/$p runs in the node's root"
		else fail "kn$i: /opt/cni/bin/$p does not run in the node's root: $out"; fi
	done
done

declare -A PIP4 PIP6
pod_add() { # I NAME [HOSTPORT]: a pod on node I through the node's CNI (its netns kd5-NAME)
	local i=$1 name=$2 hp=${3:-} pm=()
	netns_add "kd5-$name"
	mkdir -p "$M/n$i/root/run/netns"
	touch "$M/n$i/root/run/netns/kd5-$name"
	mount --bind "/run/netns/kd5-$name" "$M/n$i/root/run/netns/kd5-$name" || fail "$name: the sandbox's netns in the node"
	[ -n "$hp" ] && pm=("[{\"hostPort\":$hp,\"containerPort\":8080,\"protocol\":\"tcp\"}]")
	PODS+=("$i $name")
	: >"$W/addrs-$name"
	"$PY" "$LIB/libcni.py" ADD "$M/n$i/root" "$(NS_OF "$i")" "/run/netns/kd5-$name" "cid-$name" "$name" ${pm[@]+"${pm[@]}"} \
		>"$W/cni-$name.json" 2>"$W/cni-$name.err" || { fail "$name on kn$i: CNI ADD: $(cat "$W/cni-$name.err")"; return 1; }
	"$PY" -c 'import json,sys
r=json.load(open(sys.argv[1]))
for ip in r.get("ips",[]): print(ip["address"].split("/")[0])' "$W/cni-$name.json" >"$W/addrs-$name"
}
pod_del() { # I NAME
	"$PY" "$LIB/libcni.py" DEL "$M/n$1/root" "$(NS_OF "$1")" "/run/netns/kd5-$2" "cid-$2" "$2"
}
pip() { if [ "$1" = 4 ]; then echo "${PIP4[$2]:-}"; else echo "${PIP6[$2]:-}"; fi; } # FAMILY I: pod I's address
in_family() { local a; for a in "${@:2}"; do if [ "$1" = 6 ]; then [[ $a == *:* ]] && echo "$a"; else [[ $a == *:* ]] || echo "$a"; fi; done; }
log "a pod on each node with hostPort 8081 -> 8080, and the DNS pod on kn2 (the node's CNI)"
for i in "${NODES[@]}"; do
	pod_add "$i" "p$i" 8081
	mapfile -t addrs <"$W/addrs-p$i"
	PIP4[$i]=$(in_family 4 "${addrs[@]}" | head -1)
	PIP6[$i]=$(in_family 6 "${addrs[@]}" | head -1)
	echo "p$i on kn$i: ${PIP4[$i]:-no IPv4} ${PIP6[$i]:-no IPv6}"
	[ -n "${PIP4[$i]}" ] && ok "p$i on kn$i: IPv4 ${PIP4[$i]}" || fail "p$i on kn$i got no IPv4 address"
	[ -n "${PIP6[$i]}" ] && ok "p$i on kn$i: IPv6 ${PIP6[$i]}" || fail "p$i on kn$i got no IPv6 address"
done
pod_add 2 dns
mapfile -t addrs <"$W/addrs-dns"
DNS4=$(in_family 4 "${addrs[@]}" | head -1)
DNS6=$(in_family 6 "${addrs[@]}" | head -1)
echo "dns on kn2: ${DNS4:-no IPv4} ${DNS6:-no IPv6}"

log "servers: the pods' HTTP, the nodes' hostNetwork HTTP, outside's HTTP, the DNS pod"
cat >"$W/srv.py" <<-'EOF'
	# srv.py NAME PORT: HTTP on every address of both families; the body is "NAME CALLER".
	import socket, sys
	from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
	class H(BaseHTTPRequestHandler):
	    def do_GET(self):
	        a = self.client_address[0]
	        a = a[7:] if a.startswith("::ffff:") else a
	        b = f"{sys.argv[1]} {a}\n".encode()
	        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
	        self.wfile.write(b)
	    def log_message(self, *a): pass
	class S(ThreadingHTTPServer):
	    address_family = socket.AF_INET6
	    daemon_threads = True
	    def server_bind(self):
	        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
	        super().server_bind()
	S(("::", int(sys.argv[2])), H).serve_forever()
EOF
serve() { ip netns exec "$1" "$PY" "$W/srv.py" "$2" "$3" >>"$W/srv-$2.log" 2>&1 & track_pid $!; } # NS NAME PORT
for i in "${NODES[@]}"; do serve "kd5-p$i" "p$i" 8080; serve "kd5-n$i" "kn$i-host" 9090; done
serve kd5-out outside 80
ip netns exec kd5-dns dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --user=root \
	--pid-file= --log-facility="$W/dnsmasq.log" \
	--host-record=kubernetes.default.svc.cluster.local,$API_IP \
	--host-record="hostnet.default.svc.cluster.local,$(svc_ip 4 hostnet),$(svc_ip 6 hostnet)" &
track_pid $!
for i in "${NODES[@]}"; do
	wait_until 20 get "kd5-p$i" http://127.0.0.1:8080/ || fail "p$i: its HTTP server does not answer"
	wait_until 20 get "kd5-n$i" http://127.0.0.1:9090/ || fail "kn$i: its hostNetwork HTTP server does not answer"
done
wait_until 20 get kd5-out http://127.0.0.1/ || fail "the outside HTTP server does not answer"
log "kube-proxy's rules for every Service on every node (imitated)"
for i in "${NODES[@]}"; do kube_proxy_rules "$i" full; done

# The first packets make the handshakes: a few rounds of pod -> pod before the checks count.
pods_meet() {
	local i j
	for i in "${NODES[@]}"; do for j in "${NODES[@]}"; do
		[ "$i" = "$j" ] || get "kd5-p$i" "$(url "${PIP4[$j]}" 8080)" >/dev/null || return 1
	done; done
}
[ -n "${PIP4[1]}${PIP4[2]}${PIP4[3]}" ] && wait_until 30 pods_meet
t1=$(date +%s.%N)
echo "time from the first node to pods talking: $(echo "$t1 - $t0" | bc | xargs printf '%.1f') s"

# check DESCRIPTION EXPECTED_REGEX CMD...: CMD's output matches, or the check fails saying what came.
check() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1 | head -c 300)
	if [[ $got =~ $want ]]; then ok "$what"; else fail "$what: got '${got//$'\n'/ }', want /$want/"; fi
}
ping_from() { local p=(ping -c 1 -W 2); [[ $2 == *:* ]] && p+=(-6); ip netns exec "$1" "${p[@]}" "$2" >/dev/null 2>&1 && echo answered; }
web_round() { # NS URL: 6 requests, the answering pods' names
	local k
	for k in 1 2 3 4 5 6; do get "$1" "$2" | cut -d' ' -f1 || echo none; done | sort | uniq -c | tr '\n' ' '
}
dns_query() { # NS TYPE NAME SERVER: the addresses in the answer
	ip netns exec "$1" busybox nslookup -type="$2" "$3" "$4" 2>&1 | sed -n '/^Name:/,$s/^Address: *//p' | tr '\n' ' '
}
tls_code() { ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' -m 2 --cacert "$W/ca.crt" "https://$2/api/v1/nodes"; }

for f in 4 6; do
	log "IPv$f from the pod on every node"
	for i in "${NODES[@]}"; do
		ns=kd5-p$i
		me=$(pip "$f" "$i")
		if [ -z "$me" ]; then
			fail "v$f p$i has no IPv$f address: none of its IPv$f checks can run"
			continue
		fi
		for j in "${NODES[@]}"; do
			[ "$i" = "$j" ] && continue
			peer=$(pip "$f" "$j")
			if [ -n "$peer" ]; then
				check "v$f p$i -> p$j's pod address (source $me kept)" "^p$j $me$" get "$ns" "$(url "$peer" 8080)"
			else
				fail "v$f p$i -> p$j: a pod has no IPv$f address"
			fi
			check "v$f p$i -> kn$j's address (ping)" '^answered$' ping_from "$ns" "$(node_ip "$f" "$j")"
			check "v$f p$i -> kn$j's hostNetwork server" "^kn$j-host " get "$ns" "$(url "$(node_ip "$f" "$j")" 9090)"
			check "v$f p$i -> kn$j's hostPort 8081 (portmap) reaches p$j" "^p$j " get "$ns" "$(url "$(node_ip "$f" "$j")" 8081)"
		done
		# 6 requests to the Service: all answered by the pods, at least one on another node
		r=$(web_round "$ns" "$(url "$(svc_ip "$f" web)" 80)")
		if [[ $r =~ ^( *[0-9]+ p[1-3])+\ *$ ]] && [[ ${r//p$i/} =~ p[1-3] ]]; then
			ok "v$f p$i -> ClusterIP Service web (pod endpoints): 6 of 6 answered, by $r"
		else
			fail "v$f p$i -> ClusterIP Service web: want 6 answers, some from pods on other nodes; got $r"
		fi
		check "v$f p$i -> ClusterIP Service hostnet (hostNetwork endpoint on kn1)" '^kn1-host ' get "$ns" "$(url "$(svc_ip "$f" hostnet)" 80)"
		if [ "$f" = 4 ]; then
			check "v4 p$i -> kubernetes Service (the API server, hostNetwork on kn1) over TLS" '^401$' tls_code "$ns" "$API_IP"
			check "v4 p$i -> DNS through the kube-dns Service: kubernetes.default.svc.cluster.local" "^$API_IP $" \
				dns_query "$ns" A kubernetes.default.svc.cluster.local "$(svc_ip 4 kube-dns)"
		else
			check "v6 p$i -> DNS through the kube-dns Service: hostnet.default.svc.cluster.local AAAA" "^$(svc_ip 6 hostnet) $" \
				dns_query "$ns" AAAA hostnet.default.svc.cluster.local "$(svc_ip 6 kube-dns)"
		fi
		eval "out=\$OUT$f"
		check "v$f p$i -> outside (egress) with kn$i's address as source" "^outside $(node_ip "$f" "$i")$" get "$ns" "$(url "$out" 80)"
	done
	log "IPv$f from outside the cluster"
	for i in "${NODES[@]}"; do
		check "v$f outside -> kn$i's NodePort 30080 (Service web)" '^p[1-3] ' get kd5-out "$(url "$(node_ip "$f" "$i")" 30080)"
		check "v$f outside -> kn$i's hostPort 8081 reaches p$i" "^p$i " get kd5-out "$(url "$(node_ip "$f" "$i")" 8081)"
	done
done

log "a capture on the node network while the pods talk: WireGuard only"
ip netns exec kd5-r tcpdump -n -i br0 -U -w "$W/underlay.pcap" 2>"$W/tcpdump.err" &
cap=$!
track_pid "$cap"
wait_until 5 grep -q "listening on" "$W/tcpdump.err" || fail "tcpdump did not start"
for f in 4 6; do
	for i in "${NODES[@]}"; do for j in "${NODES[@]}"; do
		[ "$i" = "$j" ] && continue
		peer=$(pip "$f" "$j")
		[ -n "$peer" ] || continue
		get "kd5-p$i" "$(url "$peer" 8080)" >/dev/null
		ping_from "kd5-p$i" "$peer" >/dev/null
	done; done
done
sleep 0.5 # the last replies on the wire before the capture stops
kill -INT "$cap"; wait "$cap" 2>/dev/null
tcpdump -n -r "$W/underlay.pcap" 2>/dev/null >"$W/underlay.txt"
wg=$(grep -c '\.51820[ :].*UDP' "$W/underlay.txt")
clear=$(grep -cE '10\.244\.|fd00:10:244:' "$W/underlay.txt")
echo "underlay: $(wc -l <"$W/underlay.txt") packets, $wg WireGuard UDP, $clear with a pod address in clear"
[ "$wg" -ge 12 ] && ok "pod <-> pod crossed the node network as WireGuard UDP ($wg packets)" || fail "only $wg WireGuard packets on the node network"
[ "$clear" -eq 0 ] && ok "no pod address in clear on the node network" ||
	{ grep -E '10\.244\.|fd00:10:244:' "$W/underlay.txt" | head -3; fail "$clear packets with a pod address in clear"; }

log "Node kn3 deleted and registered again (as kubelet does after a node object is lost)"
api DELETE /emulator/nodes/kn3 >/dev/null || fail "cannot delete Node kn3"
wait_until 30 has_peers 1 1 || fail "kn1 kept kn3's peer after kn3's Node was deleted: $(peers_of 1) peers"
ts=$SECONDS
api POST /emulator/nodes "$(node_json 3)" >/dev/null || fail "cannot register Node kn3 again"
back() { has_peers 1 2 && has_peers 2 2 && has_peers 3 2 && get kd5-p1 "$(url "${PIP4[3]}" 8080)" >/dev/null; }
if wait_until 30 back; then ok "kn3 re-registered: every node has 2 peers and p1 reaches p3 again after $((SECONDS - ts)) s (limit 30 s)"
else fail "30 s after kn3 registered again: peers kn1 $(peers_of 1), kn2 $(peers_of 2), kn3 $(peers_of 3) (want 2 each), or p1 -> p3 fails"; fi

log "the pods removed through the node's CNI (DEL)"
for p in "${PODS[@]}"; do
	i=${p% *} name=${p#* }
	if pod_del "$i" "$name" 2>"$W/cni-del-$name.err"; then ok "$name on kn$i: CNI DEL"
	else fail "$name on kn$i: CNI DEL: $(cat "$W/cni-del-$name.err")"; fi
done
PODS=()
for i in "${NODES[@]}"; do
	left=$(find "$M/n$i/root/var/lib/cni/networks" -mindepth 2 -maxdepth 2 -regextype egrep -regex '.*/[0-9a-f.:]+' -printf '%f ' 2>/dev/null)
	[ -z "$left" ] && ok "kn$i: no IPAM reservation left" || fail "kn$i: IPAM reservations left after DEL: $left"
done
echo "k8s_kind_nodes: $CHECKS checks passed"
