# daemon_lib.bash — topology helpers for the podwired integration tests (sourced, not run).
#
# A cluster is a "router" namespace pn-$T-r holding a bridge (the underlay LAN
# 192.168.$NET.0/24) and one namespace per node, pn-$T-nI, attached by a veth. Each node
# runs its own podwired on interface pn${T}wI (UAPI socket paths are global, so names are
# unique per test), all sharing the file store /tmp/pn-$T/store (every namespace sees the
# host filesystem) or an etcd started by etcd_start. Pods are namespaces pn-$T-nI-pJ with a
# veth into their node and an address from the node's pod CIDR. Everything created is
# removed by cluster_teardown, which the caller traps on EXIT.
#
# Required before sourcing: T (short tag, e.g. "a"), NET (third octet of the underlay).

set -u
B=${PODWIRE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
W=/tmp/pn-$T
PIDS=()
NODES=()
ETCD_PID=
STORE_ARGS=()
# Tests use the userspace datapath on this host; podwire-wg when it is built, else wireguard-go.
if [ -z "${WG_QUICK_USERSPACE_IMPLEMENTATION:-}" ]; then
	if [ -x "$B/podwire-wg" ] && [ -z "${PN_USE_WIREGUARD_GO:-}" ]; then
		export WG_QUICK_USERSPACE_IMPLEMENTATION=$B/podwire-wg
	else
		export WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go
	fi
fi

need_root() {
	[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 77; }
	[ -x "$B/podwired" ] || { echo "podwired not built in $B"; exit 77; }
	command -v "$WG_QUICK_USERSPACE_IMPLEMENTATION" >/dev/null 2>&1 || [ -x "$WG_QUICK_USERSPACE_IMPLEMENTATION" ] ||
		{ echo "no userspace WireGuard ($WG_QUICK_USERSPACE_IMPLEMENTATION)"; exit 77; }
}

# iputils ping is not always installed; busybox's is.
if command -v ping >/dev/null 2>&1; then PING=(ping); PING6=(ping -6); else PING=(busybox ping); PING6=(busybox ping6); fi

log() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

cluster_init() {
	rm -rf "$W"; mkdir -p "$W/store"
	ip netns add "pn-$T-r"
	ip -n "pn-$T-r" link set lo up
	ip -n "pn-$T-r" link add br0 type bridge
	ip -n "pn-$T-r" link set br0 up
	STORE_ARGS=(--store-dir "$W/store")
}

# node_ns I: create node namespace I on the underlay at 192.168.$NET.I
node_ns() {
	local i=$1 ns=pn-$T-n$1
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "pn${T}u$i" netns "$ns" type veth peer name "u$i" netns "pn-$T-r"
	ip -n "pn-$T-r" link set "u$i" master br0 up
	ip -n "$ns" link set "pn${T}u$i" name eth0
	ip -n "$ns" addr add "192.168.$NET.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	NODES+=("$i")
}

# daemon_start I [extra podwired args...]: start podwired on node I
daemon_start() {
	local i=$1; shift
	mkdir -p "$W/n$i"
	ip netns exec "pn-$T-n$i" "$B/podwired" --name "n$i" -i "pn${T}w$i" "${STORE_ARGS[@]}" \
		--state-dir "$W/n$i" --endpoint "${PN_ENDPOINT_HOST:-192.168.$NET.$i}:51820" \
		--metrics 127.0.0.1:9586 --resync 5 --heartbeat 10 --log-level "${PN_LOG_LEVEL:-info}" "$@" \
		>>"$W/n$i.log" 2>&1 &
	eval "DPID_$i=$!"
	PIDS+=("$!")
}
daemon_pid() { eval "echo \${DPID_$1:-}"; }
daemon_stop() { # I [signal]
	local pid; pid=$(daemon_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	eval "DPID_$1="
}

wg_ns() { local i=$1; shift; ip netns exec "pn-$T-n$i" wg "$@"; }

# wait_until SECONDS CMD...: poll every 0.1 s
wait_until() {
	local t=$1; shift
	local end=$((SECONDS + t))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

peers_of() { wg_ns "$1" show "pn${T}w$1" peers 2>/dev/null | wc -l; }
has_peers() { [ "$(peers_of "$1")" -eq "$2" ]; }

pod_cidr_of() { # I: the pod CIDR node I published
	sed -n 's/^# PodCIDRs = \([^,]*\).*/\1/p' "$W/store/n$1.conf" 2>/dev/null
}
pod_cidr6_of() { # I: node I's IPv6 pod CIDR (dual stack), if any
	sed -n 's/^# PodCIDRs = [^,]*, *\([^,]*:[^,]*\).*/\1/p' "$W/store/n$1.conf" 2>/dev/null
}
record_of() { cat "$W/store/n$1.conf"; }

# pod_add I J: pod J on node I, address = pod CIDR base + 10 + J
pod_add() {
	local i=$1 j=$2 ns=pn-$T-n$1-p$2 cidr base ip
	cidr=$(pod_cidr_of "$i"); [ -n "$cidr" ] || fail "node $i has no pod CIDR"
	base=${cidr%.*}
	ip=$base.$((10 + j))
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "pn${T}p$i$j" netns "pn-$T-n$i" type veth peer name eth0 netns "$ns"
	ip -n "$ns" addr add "$ip/32" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "pn-$T-n$i" link set "pn${T}p$i$j" up
	ip -n "$ns" route add 169.254.1.1 dev eth0
	ip -n "$ns" route add default via 169.254.1.1 dev eth0
	# The node side answers for the pods' gateway 169.254.1.1 (as Calico does).
	ip -n "pn-$T-n$i" addr add 169.254.1.1/32 dev "pn${T}p$i$j"
	ip -n "pn-$T-n$i" route add "$ip/32" dev "pn${T}p$i$j"
	echo "$ip" >"$W/pod-$i-$j"
	cidr=$(pod_cidr6_of "$i")
	if [ -n "$cidr" ]; then # dual stack: an IPv6 address too, gateway fe80::1 on the node side
		ip=${cidr%/*}$(printf '%x' $((10 + j)))
		ip netns exec "pn-$T-n$i" sysctl -qw net.ipv6.conf.all.forwarding=1
		ip -n "$ns" addr add "$ip/128" dev eth0 nodad
		ip -n "pn-$T-n$i" addr add fe80::1/64 dev "pn${T}p$i$j" nodad
		ip -n "$ns" -6 route add default via fe80::1 dev eth0
		ip -n "pn-$T-n$i" -6 route add "$ip/128" dev "pn${T}p$i$j"
		echo "$ip" >"$W/pod6-$i-$j"
	fi
}
pod_ip() { cat "$W/pod-$1-$2"; }
pod_ping() { # I J IP [count]: ping IP from pod J on node I
	ip netns exec "pn-$T-n$1-p$2" "${PING[@]}" -c "${4:-1}" -W 1 -q "$3" >/dev/null 2>&1
}

# all_pods_reach: every pod pings every other pod (retry each pair up to 5 s)
all_pods_reach() {
	local a b c d ok=0 bad=0
	for a in "${NODES[@]}"; do for b in 1 2; do
		[ -f "$W/pod-$a-$b" ] || continue
		for c in "${NODES[@]}"; do for d in 1 2; do
			[ -f "$W/pod-$c-$d" ] || continue
			[ "$a$b" = "$c$d" ] && continue
			if wait_until 5 pod_ping "$a" "$b" "$(pod_ip "$c" "$d")"; then ok=$((ok + 1))
			else bad=$((bad + 1)); echo "pod n$a-p$b cannot reach n$c-p$d ($(pod_ip "$c" "$d"))"; fi
		done; done
	done; done
	echo "pod pairs reachable: $ok, unreachable: $bad"
	[ $bad -eq 0 ] && [ $ok -gt 0 ]
}

etcd_start() { # PORT: a single-member etcd in the router namespace reachable from all nodes
	local port=$1
	mkdir -p "$W/etcd"
	ip -n "pn-$T-r" addr add "192.168.$NET.254/24" dev br0 2>/dev/null
	ip netns exec "pn-$T-r" etcd --name "pn-$T" --data-dir "$W/etcd" \
		--listen-client-urls "http://192.168.$NET.254:$port" --advertise-client-urls "http://192.168.$NET.254:$port" \
		--listen-peer-urls "http://127.0.0.1:$((port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 10))" \
		--initial-cluster "pn-$T=http://127.0.0.1:$((port + 10))" >>"$W/etcd.log" 2>&1 &
	ETCD_PID=$!
	STORE_ARGS=(--etcd-endpoints "http://192.168.$NET.254:$port" --lease-ttl 30)
	wait_until 15 ip netns exec "pn-$T-r" curl -sf -X POST -d '{}' "http://192.168.$NET.254:$port/v3/maintenance/status" ||
		fail "etcd did not start"
}
etcd_stop() { [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null; ETCD_PID=; }

cluster_teardown() { # [exit status]: on failure show the daemons' logs
	local rc=${1:-0} i ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	etcd_stop
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for i in "${NODES[@]}"; do
		ip netns exec "pn-$T-n$i" ip link del "pn${T}w$i" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^pn-$T-"); do ip netns del "$ns"; done
	sleep 0.2
	for i in "${NODES[@]}"; do rm -f "/var/run/wireguard/pn${T}w$i.sock"; done
	# Sanitizer reports (ASan build) appear when the daemons exit: they fail the test too.
	if grep -lE "AddressSanitizer|LeakSanitizer|runtime error" "$W"/*.log 2>/dev/null; then
		echo "FAIL: sanitizer report in a daemon log"
		rc=1
	fi
	if [ -n "${PN_KEEP_LOGS:-}" ] || [ "$rc" != 0 ]; then
		for f in "$W"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	fi
	rm -rf "$W"
	exit "$rc"
}
