#!/bin/bash
# hack/demo.sh [--store file|etcd] [--wait] — `make demo`: a 3-node podwire cluster in network
# namespaces on this machine. Each node is a namespace on a shared bridge (the "LAN"), runs
# its own podwired (userspace WireGuard unless the kernel has the module), which writes the
# node's CNI conflist with its own pod CIDR (--cni-conf-dir), and gets 2 pods wired by the CNI
# plugin `podwire` from that conflist (driven with CNI_* variables, as a runtime would). The
# demo shows `podwirectl status`, pings every pod from every pod, prints a summary and tears
# everything down on exit or Ctrl-C. --store etcd starts a local etcd for the nodes to share;
# the default is the file store (a directory every namespace sees). --wait keeps the cluster
# up until Ctrl-C, e.g. to try `ip netns exec pn-demo-n1 podwirectl status -i pndw1 ...`.
# Each step prints, as "   $ COMMAND", the commands a user would type to do it by hand (for
# node 1 and its first pod; the other nodes and pods take the same with their numbers).
set -uo pipefail
cd "$(dirname "$0")/.."
STORE=file WAIT=
while [ $# -gt 0 ]; do
	case $1 in
	--store) STORE=${2:-}; shift 2 ;;
	--store=*) STORE=${1#--store=}; shift ;;
	--wait) WAIT=1; shift ;;
	*) echo "usage: $0 [--store file|etcd] [--wait]" >&2; exit 2 ;;
	esac
done
case $STORE in file|etcd) ;; *) echo "demo: --store: '$STORE' is not file or etcd" >&2; exit 2 ;; esac
B=$(cd "${BUILD:-build}" 2>/dev/null && pwd) || { echo "demo: no build directory (run make)" >&2; exit 1; }
for b in podwired podwirectl podwire podwire-ipam; do
	[ -x "$B/$b" ] || { echo "demo: $B/$b is missing (run make)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root for network namespaces (sudo make demo)" >&2; exit 1; }
if command -v ping >/dev/null 2>&1; then PING=(ping); else PING=(busybox ping); fi

# cmd ARGS...: print the command as one would type it, then run it. quiet ARGS...: just run it
# (the same step for the other nodes).
cmd() {
	printf '   $'
	printf ' %q' "$@"
	printf '\n'
	"$@"
}
quiet() { "$@"; }
# by_hand TEXT: a command printed for the user that the demo runs in another form.
by_hand() { printf '   $ %s\n' "$*"; }
# quoted ARGS...: the words as a shell would need them typed, one space apart.
quoted() { local out; out=$(printf '%q ' "$@"); printf '%s' "${out% }"; }

W=/tmp/pn-demo NET=250 ETCD_PORT=23797 N=3
ETCD_PID= PIDS=()
teardown() {
	local wgpids=() i p
	echo "== tearing down"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$ETCD_PID" ] && { kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null; }
	# podwired started a podwire-wg per node (it outlives its daemon by design); it exits when
	# its interface is deleted. The demo returns only once they are gone.
	for i in $(seq $N); do
		wgpids+=($(pgrep -f "podwire-wg (-f |--foreground )?pndw$i\$"))
		ip netns exec "pn-demo-n$i" ip link del "pndw$i" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{print $1}' | grep '^pn-demo-'); do ip netns del "$ns"; done
	for p in "${wgpids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && { echo "demo: podwire-wg $p did not exit; killing it"; kill -9 "$p"; }
	done
	for i in $(seq $N); do rm -f "/var/run/wireguard/pndw$i.sock"; done
	rm -rf "$W"
}
trap teardown EXIT
trap 'exit 130' INT TERM
teardown >/dev/null 2>&1
mkdir -p "$W/store"

echo "== underlay: bridge in pn-demo-r, nodes at 192.168.$NET.1-$N"
cmd ip netns add pn-demo-r
cmd ip -n pn-demo-r link set lo up
cmd ip -n pn-demo-r link add br0 type bridge
cmd ip -n pn-demo-r link set br0 up
for i in $(seq $N); do
	run=quiet
	[ "$i" = 1 ] && run=cmd
	$run ip netns add "pn-demo-n$i"
	$run ip -n "pn-demo-n$i" link set lo up
	$run ip link add "pndu$i" netns "pn-demo-n$i" type veth peer name "u$i" netns pn-demo-r
	$run ip -n pn-demo-r link set "u$i" master br0 up
	$run ip -n "pn-demo-n$i" link set "pndu$i" name eth0
	$run ip -n "pn-demo-n$i" addr add "192.168.$NET.$i/24" dev eth0
	$run ip -n "pn-demo-n$i" link set eth0 up
	$run ip netns exec "pn-demo-n$i" sysctl -qw net.ipv4.ip_forward=1
done
echo "   (the same for node2..node$N with their numbers)"

STORE_ARGS=(--store-dir "$W/store")
if [ "$STORE" = etcd ]; then
	command -v etcd >/dev/null || { echo "demo: etcd is not installed" >&2; exit 1; }
	echo "== etcd on 192.168.$NET.254:$ETCD_PORT"
	cmd ip -n pn-demo-r addr add "192.168.$NET.254/24" dev br0
	by_hand "ip netns exec pn-demo-r etcd --name pn-demo --data-dir $W/etcd" \
		"--listen-client-urls http://192.168.$NET.254:$ETCD_PORT --advertise-client-urls http://192.168.$NET.254:$ETCD_PORT" \
		"--listen-peer-urls http://127.0.0.1:$((ETCD_PORT + 10)) --initial-advertise-peer-urls http://127.0.0.1:$((ETCD_PORT + 10))" \
		"--initial-cluster pn-demo=http://127.0.0.1:$((ETCD_PORT + 10)) &"
	ip netns exec pn-demo-r etcd --name pn-demo --data-dir "$W/etcd" \
		--listen-client-urls "http://192.168.$NET.254:$ETCD_PORT" --advertise-client-urls "http://192.168.$NET.254:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
		--initial-cluster "pn-demo=http://127.0.0.1:$((ETCD_PORT + 10))" >"$W/etcd.log" 2>&1 &
	ETCD_PID=$!
	for _ in $(seq 100); do
		ip netns exec pn-demo-r curl -sf -m 1 -X POST -d '{}' "http://192.168.$NET.254:$ETCD_PORT/v3/maintenance/status" >/dev/null && break
		kill -0 "$ETCD_PID" 2>/dev/null || { echo "demo: etcd failed:"; tail -n 5 "$W/etcd.log"; exit 1; }
		sleep 0.1
	done
	STORE_ARGS=(--etcd-endpoints "http://192.168.$NET.254:$ETCD_PORT")
fi

echo "== podwired on each node (store: $STORE); each writes its node's CNI conflist"
for i in $(seq $N); do
	mkdir -p "$W/n$i/net.d"
	# The shipped manifest as the template; only what differs between nodes sharing this
	# machine's filesystem is changed (IPAM state, log, veth names). podwired fills in the
	# interface and the node's pod CIDR.
	python3 - manifests/10-podwire.conflist "$W/n$i/10-podwire.conflist" "$W/n$i" <<'PY'
import json, sys
src, out, d = sys.argv[1:4]
c = json.load(open(src))
c["name"] = "podwire-demo"
c["plugins"] = [p for p in c["plugins"] if p["type"] == "podwire"]
c["plugins"][0].update({"vethPrefix": "pnd", "logFile": d + "/cni.log"})
c["plugins"][0]["ipam"]["dataDir"] = d + "/ipam"
json.dump(c, open(out, "w"), indent=2)
PY
	daemon=(ip netns exec "pn-demo-n$i" "$B/podwired" --name "node$i" -i "pndw$i" "${STORE_ARGS[@]}" --state-dir "$W/n$i"
		--endpoint "192.168.$NET.$i:51820" --resync 10
		--cni-conf-dir "$W/n$i/net.d" --cni-conf-template "$W/n$i/10-podwire.conflist")
	[ "$i" = 1 ] && by_hand "$(quoted "${daemon[@]}") >$W/n$i.log 2>&1 &"
	"${daemon[@]}" >"$W/n$i.log" 2>&1 &
	PIDS+=("$!")
done
echo "   (the same for node2..node$N; then watch the mesh form:)"
by_hand "ip netns exec pn-demo-n1 wg show pndw1 peers"
status() { ip netns exec "pn-demo-n$1" "$B/podwirectl" status -i "pndw$1" "${STORE_ARGS[@]}"; }
for i in $(seq $N); do
	for _ in $(seq 150); do
		[ "$(ip netns exec "pn-demo-n$i" wg show "pndw$i" peers 2>/dev/null | wc -l)" -eq $((N - 1)) ] && break
		sleep 0.1
	done
	[ "$(ip netns exec "pn-demo-n$i" wg show "pndw$i" peers 2>/dev/null | wc -l)" -eq $((N - 1)) ] ||
		{ echo "demo: node$i did not join the mesh; its log:"; cat "$W/n$i.log"; exit 1; }
done

echo "== 2 pods per node through the CNI plugin"
mkdir -p "$W/cni-bin"
ln -sf "$B/podwire" "$B/podwire-ipam" "$W/cni-bin/"
PODS=()
for i in $(seq $N); do
	cidr=$(status "$i" | awk '$NF == "node" && $(NF-1) == "this" {print $3}')
	[ -n "$cidr" ] || { echo "demo: node$i has no pod CIDR"; exit 1; }
	conf=$W/n$i/net.d/10-podwire.conflist
	[ -f "$conf" ] || { echo "demo: node$i's podwired wrote no $conf; its log:"; cat "$W/n$i.log"; exit 1; }
	# The CNI plugin reads one plugin's config: the conflist's podwire entry, with the
	# network's name and cniVersion, as a runtime hands it over.
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); p=c["plugins"][0]; p.update(cniVersion=c["cniVersion"], name=c["name"]); print(json.dumps(p))' \
		"$conf" >"$W/n$i/net.conf"
	for j in 1 2; do
		ns=pn-demo-n$i-p$j
		add=(ip netns exec "pn-demo-n$i" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PODWIRE_CNI_LOG_DIR="$W" CNI_COMMAND=ADD
			CNI_CONTAINERID="demo-n$i-p$j" CNI_NETNS="/var/run/netns/$ns" CNI_IFNAME=eth0 CNI_PATH="$W/cni-bin"
			"$B/podwire")
		if [ "$i$j" = 11 ]; then
			cmd ip netns add "$ns"
			by_hand "$(quoted "${add[@]}") <$W/n$i/net.conf   # the runtime's part: CNI ADD, JSON result on stdout"
		else
			ip netns add "$ns"
		fi
		"${add[@]}" <"$W/n$i/net.conf" >"$W/n$i/p$j.json" ||
			{ echo "demo: CNI ADD failed for $ns:"; cat "$W/n$i/p$j.json" "$W/n$i/cni.log" 2>/dev/null; exit 1; }
		ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$W/n$i/p$j.json")
		echo "   node$i pod$j: $ip (pod CIDR $cidr)"
		PODS+=("$i:$j:$ip")
	done
done

echo "== every pod pings every pod"
p12=${PODS[$((${#PODS[@]} - 1))]}
by_hand "ip netns exec pn-demo-n1-p1 ${PING[*]} -c 1 ${p12##*:}   # node1 pod1 to node$N pod2, through the tunnel"
ok=0 bad=0
for src in "${PODS[@]}"; do
	IFS=: read -r si sj _ <<<"$src"
	for dst in "${PODS[@]}"; do
		[ "$src" = "$dst" ] && continue
		dip=${dst##*:}
		# The first packet to a peer waits for its handshake: allow a few tries.
		if ip netns exec "pn-demo-n$si-p$sj" "${PING[@]}" -c 1 -W 2 -q "$dip" >/dev/null 2>&1 ||
			ip netns exec "pn-demo-n$si-p$sj" "${PING[@]}" -c 1 -W 2 -q "$dip" >/dev/null 2>&1 ||
			ip netns exec "pn-demo-n$si-p$sj" "${PING[@]}" -c 1 -W 2 -q "$dip" >/dev/null 2>&1; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1)); echo "   node$si pod$sj -> $dip: no reply"
		fi
	done
done
echo "== podwirectl status on node1"
by_hand "ip netns exec pn-demo-n1 $(quoted "$B/podwirectl" status -i pndw1 "${STORE_ARGS[@]}")"
status 1
echo "== summary"
echo "   nodes: $N (store: $STORE, datapath: $(ip netns exec pn-demo-n1 cat /sys/class/net/pndw1/type 2>/dev/null | sed 's/^65534$/userspace (tun)/;s/^65535$/kernel/'))"
echo "   pods: ${#PODS[@]}, pod pairs reachable: $ok of $((ok + bad))"
for i in $(seq $N); do
	echo "   node$i: $(ip netns exec "pn-demo-n$i" wg show "pndw$i" latest-handshakes | awk '$2 > 0' | wc -l) peers with a handshake"
done
if [ -n "$WAIT" ]; then
	echo "== cluster is up; Ctrl-C tears it down (the commands above work on it as printed)"
	# wait, not a foreground sleep: a signal sent to this script (not only a terminal's
	# Ctrl-C to the whole group) tears down at once.
	while :; do sleep 3600 & wait $!; done
fi
[ -n "$WAIT" ] || echo "   (hack/demo.sh --wait, or make demo WAIT=1, keeps the cluster up to run the commands above by hand)"
[ $bad -eq 0 ]
