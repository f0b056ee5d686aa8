# tests/integration/lib/common.bash — the one test base of the integration tests (sourced,
# not run: tests/run only runs tests/integration/*.sh).
#
# A test sources this file and gets, in this order of use:
#   B, W              the build directory whose binaries are tested, and a private work
#                     directory (0700) that the cleanup removes;
#   require_root, require_cmd, require_built, require_tun, skip, fail, ok, log
#                     preconditions (a missing one skips the test: exit 77) and the one
#                     fail (message, exit 1);
#   netns_add, veth_pair, lan_create, lan_join, two_hosts
#                     namespaces and links, deleted by the cleanup; topologies drawn below;
#   wait_until, wait_socket, wait_socket_gone, stop_pid
#                     waiting by polling state, never by a bare sleep;
#   userspace_wg, wg_start, make_key, make_tls_cert, ns_ping, track_pid, track_wg, at_exit
#                     the one rule for the userspace WireGuard, starting it, keys, a CA and
#                     server certificate, ping;
#   and the topology sections: the podwired cluster (cluster_*, node_ns, daemon_*, pod_*),
#   the CNI host (cni_*), the deterministic namespace of the up/down tests (stable_ns, …).
#
# One EXIT trap (test_cleanup) undoes everything in reverse: the steps a test added with
# at_exit, tracked processes, WireGuard links, namespaces, UAPI sockets, then W. A sanitizer
# report in any $W/*.log fails the test; on failure the logs' tails are shown.
# Names that a test creates in shared places (namespaces, links, /var/run/wireguard sockets)
# carry the test's own prefix: other tests run on the same machine.

set -u

B=${PODWIRE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
W=$(mktemp -d "/tmp/podwire-$(basename "$0" .sh).XXXXXX")
chmod 700 "$W"
# The CNI plugin opens a config's logFile only below /var/log or this directory (set, as an
# administrator would, in the runtime's environment): tests keep their logs in W.
export PODWIRE_CNI_LOG_DIR=$W

PIDS=()         # processes to stop at exit
NETNS=()        # namespaces to delete at exit
WG_LINKS=()     # "NS IFACE" of WireGuard interfaces: link and UAPI socket go at exit
AT_EXIT=()      # a test's own cleanup steps, run first, last added first

skip() { echo "$*"; exit 77; }
# fail MESSAGE: the test fails; a test made of named steps sets FAIL_STEP, which the message
# names. PODWIRE_TEST_KEEP_GOING=1 (to count what an older build gets wrong): each failure is
# reported, the test goes on and fails at the end.
FAILS=0
fail() {
	echo "FAIL: ${FAIL_STEP:+[$FAIL_STEP] }$*"
	[ -n "${PODWIRE_TEST_KEEP_GOING:-}" ] || exit 1
	FAILS=$((FAILS + 1))
	return 1
}
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; } # a check passed: what it checked (counted)
log() { echo "== $*"; }

require_root() { [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"; }
require_cmd() { # TOOL...: skip unless each is on PATH
	local t
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || skip "$t not installed"; done
}
require_built() { # BINARY...: fail unless each was built into $B (a test that cannot run is no pass)
	local b
	for b in "$@"; do [ -x "$B/$b" ] || fail "$B/$b not built (make)"; done
}
require_tun() { [ -c /dev/net/tun ] || skip "no /dev/net/tun"; }

at_exit() { AT_EXIT+=("$*"); }
# cleanup_fail MESSAGE: a cleanup step found something of the test left behind: it fails.
cleanup_fail() { echo "FAIL: $*"; CLEANUP_FAILED=1; }
track_pid() { PIDS+=("$@"); }
track_wg() { WG_LINKS+=("$1 $2"); } # NS IFACE

# stop_pid PID [SIGNAL]: signal it, wait up to 5 s for it to go, then kill -9. Only a
# child of this shell: a PID that exited long ago may since belong to someone else.
stop_pid() {
	local i
	[ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ] || return 0
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
stop_pids() { # every tracked process
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	PIDS=()
}

# wait_until SECONDS CMD...: run CMD every $POLL_SECONDS (0.1 s) until it succeeds; 1 on
# timeout. Under emulation (the VM) fewer rounds leave the CPUs to the tests.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep "${POLL_SECONDS:-0.1}"
	done
}
uapi_sock() { echo "/var/run/wireguard/$1.sock"; }
socket_up() { # IFACE [NS]: the UAPI socket exists (and the link, in NS)
	[ -S "$(uapi_sock "$1")" ] || return 1
	[ -z "${2:-}" ] || ip -n "$2" link show "$1" >/dev/null 2>&1
}
# wait_socket IFACE [NS]: a userspace WireGuard serves IFACE (5 s at most).
wait_socket() { wait_until 5 socket_up "$@"; }
# wait_socket_gone IFACE: the userspace WireGuard behind IFACE exited (it removes its socket);
# a socket still there after 5 s is stale and removed, so the next test finds the path free.
wait_socket_gone() {
	wait_until 5 test ! -e "$(uapi_sock "$1")" || rm -f "$(uapi_sock "$1")"
}

test_cleanup() {
	local rc=$? i ns ifc f
	set +e
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[i]}"; done
	[ -z "${CLEANUP_FAILED:-}" ] || rc=1
	[ "$FAILS" -eq 0 ] || { echo "$FAILS checks failed"; rc=1; }
	stop_pids
	# A daemonized userspace WireGuard exits when its link goes away; delete the links
	# before the namespaces, since its open sockets would keep a deleted namespace alive.
	for i in "${WG_LINKS[@]}"; do
		read -r ns ifc <<<"$i"
		ip -n "$ns" link del "$ifc" 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for i in "${WG_LINKS[@]}"; do
		read -r ns ifc <<<"$i"
		wait_socket_gone "$ifc"
	done
	# Under the ASan build, a sanitizer report from any daemon fails the test.
	local san="ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|runtime error:"
	if grep -lE "$san" "$W"/*.log 2>/dev/null; then
		grep -hE -A30 "$san" "$W"/*.log | head -80
		echo "FAIL: sanitizer report in a log"
		rc=1
	fi
	if [ -n "${PODWIRE_KEEP_LOGS:-}" ] || [ "$rc" != 0 ]; then
		for f in "$W"/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	fi
	if [ -n "${PODWIRE_TEST_KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
	exit "$rc"
}
trap test_cleanup EXIT

# netns_add NAME...: a namespace with loopback up, deleted at exit.
netns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || fail "cannot create namespace $ns"
		NETNS+=("$ns")
		ip -n "$ns" link set lo up
	done
}
# veth_pair NS_A IF_A NS_B IF_B: a veth between two namespaces, both ends down.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || fail "cannot create veth $2/$4"
}

# two_hosts A B: two namespaces on one wire, both families; NA=A and NB=B afterwards.
#
#   +------------ A ------------+          +------------ B ------------+
#   | pu-v0 10.77.0.1/24 fd77::1| <------> |pu-v1 10.77.0.2/24 fd77::2 |
#   +---------------------------+   veth   +---------------------------+
two_hosts() {
	local a=$1 b=$2
	NA=$1 NB=$2
	netns_add "$a" "$b"
	veth_pair "$a" pu-v0 "$b" pu-v1
	ip -n "$a" addr add 10.77.0.1/24 dev pu-v0
	ip -n "$b" addr add 10.77.0.2/24 dev pu-v1
	ip -n "$a" addr add fd77::1/64 dev pu-v0 nodad
	ip -n "$b" addr add fd77::2/64 dev pu-v1 nodad
	ip -n "$a" link set pu-v0 up
	ip -n "$b" link set pu-v1 up
}

# A LAN: a bridge in its own namespace, hosts attached by a veth each.
#
#      NS1                 NS2                 NS3
#   IF ADDR1            IF ADDR2            IF ADDR3
#       |                   |                   |
#   +---+--- BRIDGE (in namespace LAN, ports lp1, lp2, ...) ---+
#
# lan_create LAN BRIDGE: the namespace and its bridge.
lan_create() {
	netns_add "$1"
	ip -n "$1" link add "$2" type bridge
	ip -n "$1" link set "$2" up
	eval "LAN_PORTS_${1//[^a-zA-Z0-9]/_}=0"
}
# lan_join LAN BRIDGE NS IF [ADDR/LEN]: NS gets interface IF on the LAN (up, with ADDR).
lan_join() {
	local lan=$1 br=$2 ns=$3 ifc=$4 addr=${5:-} var=LAN_PORTS_${1//[^a-zA-Z0-9]/_} port
	eval "$var=\$((\$$var + 1)); port=lp\$$var"
	veth_pair "$ns" "$ifc" "$lan" "$port"
	ip -n "$lan" link set "$port" master "$br" up
	[ -z "$addr" ] || ip -n "$ns" addr add "$addr" dev "$ifc"
	ip -n "$ns" link set "$ifc" up
}

# The userspace WireGuard, one rule for every test: $WG_QUICK_USERSPACE_IMPLEMENTATION when
# set (e.g. wireguard-go, to run a test against the reference), else podwire-wg from the
# build, else Debian's wireguard-go.
userspace_wg() {
	if [ -n "${WG_QUICK_USERSPACE_IMPLEMENTATION:-}" ]; then echo "$WG_QUICK_USERSPACE_IMPLEMENTATION"
	elif [ -x "$B/podwire-wg" ]; then echo "$B/podwire-wg"
	else command -v wireguard-go || echo wireguard-go
	fi
}
# use_userspace_wg: wg-quick, podwirectl and podwired start userspace_wg when the kernel
# has no WireGuard; skip when there is none.
use_userspace_wg() {
	WG_QUICK_USERSPACE_IMPLEMENTATION=$(userspace_wg)
	export WG_QUICK_USERSPACE_IMPLEMENTATION
	command -v "$WG_QUICK_USERSPACE_IMPLEMENTATION" >/dev/null 2>&1 || [ -x "$WG_QUICK_USERSPACE_IMPLEMENTATION" ] ||
		skip "no userspace WireGuard ($WG_QUICK_USERSPACE_IMPLEMENTATION)"
	require_tun
}

# wg_start IMPL NS IFACE: run IMPL (podwire-wg, wireguard-go or a path) in the foreground
# in NS, log in $W/IFACE.log, and wait until it serves IFACE.
wg_start() {
	local impl=$1 ns=$2 ifc=$3 bin=$1
	case $impl in
	podwire-wg) bin=$B/podwire-wg ;;
	wireguard-go) bin=$(command -v wireguard-go) || skip "wireguard-go not installed" ;;
	esac
	track_wg "$ns" "$ifc"
	ip netns exec "$ns" env LOG_LEVEL=verbose WG_PROCESS_FOREGROUND=1 "$bin" -f "$ifc" >>"$W/$ifc.log" 2>&1 &
	track_pid $!
	wait_socket "$ifc" "$ns" || { cat "$W/$ifc.log"; fail "$impl $ifc did not start"; }
}

# two_wg_hosts A B: two_hosts for a userspace WireGuard test: its preconditions, keys a and b.
two_wg_hosts() {
	require_root; require_tun; require_built podwire-wg
	require_cmd wg iperf3 busybox python3
	umask 077
	two_hosts "$1" "$2"
	make_key a b
}

make_key() { # NAME...: private key in $W/NAME.key (0600), public key in $W/NAME.pub
	local k
	for k in "$@"; do
		(umask 077; wg genkey >"$W/$k.key")
		wg pubkey <"$W/$k.key" >"$W/$k.pub"
	done
}

# make_tls_cert CA_CN IP...: a CA of its own ($W/ca.key, $W/ca.crt, CommonName CA_CN) and a
# server certificate it signed for the IPs ($W/server.key, $W/server.crt), each valid a day:
# what an HTTPS server made for one test (the Kubernetes API emulator) presents.
make_tls_cert() {
	local cn=$1 san
	shift
	san=$(printf 'IP:%s,' "$@")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=$cn" \
		-keyout "$W/ca.key" -out "$W/ca.crt" 2>/dev/null || fail "openssl: CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=kube-apiserver \
		-keyout "$W/server.key" -out "$W/server.csr" 2>/dev/null || fail "openssl: CSR"
	printf 'subjectAltName=%s\n' "${san%,}" >"$W/san.ext"
	openssl x509 -req -in "$W/server.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 1 \
		-extfile "$W/san.ext" -out "$W/server.crt" 2>/dev/null || fail "openssl: sign"
}

# ns_ping NS ADDR [COUNT] [WAIT]: COUNT (1) echo requests 0.2 s apart, each answered within
# WAIT (3) seconds; the output is shown only when it fails. iputils ping is not always
# installed; busybox's is.
ns_ping() {
	local ping=(ping) out
	command -v ping >/dev/null 2>&1 || ping=(busybox ping)
	[[ $2 == *:* ]] && ping+=(-6)
	out=$(ip netns exec "$1" "${ping[@]}" -c "${3:-1}" -i 0.2 -W "${4:-3}" "$2" 2>&1) || { echo "$out"; return 1; }
}

# ---- A podwired cluster ------------------------------------------------------------------
#
#                         pn-$T-r (router: bridge br0, 192.168.$NET.254 when etcd runs)
#      +--------------------+------------------+------------------+
#      | eth0 .1            | eth0 .2          | eth0 .3          |   underlay 192.168.$NET.0/24
#   pn-$T-n1             pn-$T-n2           pn-$T-n3       ...
#   podwired, pn${T}w1   pn${T}w2           pn${T}w3           WireGuard interfaces
#      |  veth pn${T}pIJ (node side, gateway 169.254.1.1 / fe80::1)
#   pn-$T-n1-pJ  pod J on node 1: eth0 = pod CIDR base + 10 + J (/32, /128)
#
# Every node runs its own podwired (UAPI socket paths are global, so names are unique per
# test), all sharing the file store $W/store (every namespace sees the host filesystem) or an
# etcd started by etcd_start. Set T (a short tag, e.g. "a") and NET (third octet of the
# underlay) before calling cluster_init.
NODES=()
ETCD_PID=
STORE_ARGS=()
DAEMON_WRAP=()	# a command that daemon_start runs podwired through (e.g. capsh dropping capabilities)

cluster_init() {
	require_root
	require_built podwired podwirectl
	use_userspace_wg
	mkdir -p "$W/store"
	lan_create "pn-$T-r" br0
	STORE_ARGS=(--store-dir "$W/store")
	at_exit cluster_teardown
}

# node_ns I: node namespace I on the underlay at 192.168.$NET.I
node_ns() {
	local i=$1 ns=pn-$T-n$1
	netns_add "$ns"
	lan_join "pn-$T-r" br0 "$ns" eth0 "192.168.$NET.$i/24"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	NODES+=("$i")
}

# daemon_start I [extra podwired args...]: start podwired on node I
daemon_start() {
	local i=$1 ep; shift
	mkdir -p "$W/n$i"
	# PN_ENDPOINT_HOST=none: no --endpoint, podwired takes it from the store or the host.
	ep=(--endpoint "${PN_ENDPOINT_HOST:-192.168.$NET.$i}:51820")
	[ "${PN_ENDPOINT_HOST:-}" = none ] && ep=()
	ip netns exec "pn-$T-n$i" ${DAEMON_WRAP[@]+"${DAEMON_WRAP[@]}"} "$B/podwired" --name "n$i" -i "pn${T}w$i" "${STORE_ARGS[@]}" \
		--state-dir "$W/n$i" ${ep[@]+"${ep[@]}"} \
		--metrics 127.0.0.1:9586 --resync 5 --heartbeat 10 --log-level "${PN_LOG_LEVEL:-info}" "$@" \
		>>"$W/n$i.log" 2>&1 &
	eval "DPID_$i=$!"
	track_pid $!
}
daemon_pid() { eval "echo \${DPID_$1:-}"; }
daemon_stop() { # I [signal]
	local pid; pid=$(daemon_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	eval "DPID_$1="
}

wg_ns() { local i=$1; shift; ip netns exec "pn-$T-n$i" wg "$@"; }

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
	netns_add "$ns"
	veth_pair "pn-$T-n$i" "pn${T}p$i$j" "$ns" eth0
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
	ns_ping "pn-$T-n$1-p$2" "$3" "${4:-1}" 1 >/dev/null
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

etcd_run() { # PORT: (re)start the single etcd member on the router's address
	local port=$1
	mkdir -p "$W/etcd"
	ip netns exec "pn-$T-r" etcd --name "pn-$T" --data-dir "$W/etcd" \
		--listen-client-urls "http://192.168.$NET.254:$port" --advertise-client-urls "http://192.168.$NET.254:$port" \
		--listen-peer-urls "http://127.0.0.1:$((port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 10))" \
		--initial-cluster "pn-$T=http://127.0.0.1:$((port + 10))" >>"$W/etcd.log" 2>&1 &
	ETCD_PID=$!
}
etcd_start() { # PORT: a single-member etcd in the router namespace reachable from all nodes
	local port=$1
	ip -n "pn-$T-r" addr add "192.168.$NET.254/24" dev br0 2>/dev/null
	etcd_run "$port"
	STORE_ARGS=(--etcd-endpoints "http://192.168.$NET.254:$port" --lease-ttl 30)
	wait_until 15 ip netns exec "pn-$T-r" curl -sf -X POST -d '{}' "http://192.168.$NET.254:$port/v3/maintenance/status" ||
		fail "etcd did not start"
}
etcd_stop() { [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null; ETCD_PID=; }

cluster_teardown() { # stop the daemons and etcd before their interfaces and namespaces go
	local i
	stop_pids
	etcd_stop
	for i in "${NODES[@]}"; do track_wg "pn-$T-n$i" "pn${T}w$i"; done
}

# ---- A CNI host --------------------------------------------------------------------------
#
#   +------------------------------ $HOST ------------------------------+
#   | pcwg0 10.210.0.1/32, MTU 1380 (stands in for wg-pods; its veth    |
#   |   peer pcwg0p: this kernel has no dummy driver)                   |
#   | pc… veths --------> pod namespaces made with netns_add            |
#   +-------------------------------------------------------------------+
#
# A runner drives a plugin through the CNI_* environment exactly as a runtime would; one
# long-lived validator (lib/cni_shapes.py serve) checks results against the spec's shapes.
# Everything carries the "pc" prefix. Set HOST (the host netns name) first.
SHAPES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cni_shapes.py
CNI_BIN=$W/bin

cni_setup_host() {
	require_root
	require_built podwire podwire-ipam
	mkdir -p "$CNI_BIN"
	ln -sf "$B/podwire" "$B/podwire-ipam" "$CNI_BIN/"
	for p in /usr/lib/cni/*; do [ -e "$CNI_BIN/$(basename "$p")" ] || ln -sf "$p" "$CNI_BIN/"; done
	coproc SHAPESRV { exec python3 -u "$SHAPES" serve; }
	track_pid "$SHAPESRV_PID"
	netns_add "$HOST"
	ip -n "$HOST" link add pcwg0 mtu 1380 type veth peer name pcwg0p
	ip -n "$HOST" link set pcwg0 up
	ip -n "$HOST" addr add 10.210.0.1/32 dev pcwg0
}

# cni_run VERB CONTAINERID NETNS IFNAME CONFFILE OUTFILE [VAR=VALUE...] — returns the exit code.
# It runs in $HOST with the plugins of $CNI_BIN, stderr appended to $W/stderr, the plugin
# behind ${CNI_WRAP[@]} when set (e.g. timeout).
cni_run() {
	local verb=$1 id=$2 ns=$3 ifname=$4 conf=$5 out=$6; shift 6
	local nspath=""
	[ -n "$ns" ] && nspath=/var/run/netns/$ns
	ip netns exec "$HOST" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" PODWIRE_CNI_LOG_DIR="${PODWIRE_CNI_LOG_DIR:-}" CNI_COMMAND="$verb" CNI_CONTAINERID="$id" \
		CNI_NETNS="$nspath" CNI_IFNAME="$ifname" CNI_PATH="$CNI_BIN" "$@" \
		${CNI_WRAP[@]+"${CNI_WRAP[@]}"} "${PLUGIN:-$B/podwire}" <"$conf" >"$out" 2>>"$W/stderr"
}

# shapes REQUEST ARGS... — ask the one long-lived validator (lib/cni_shapes.py serve): shape
# checks, and the JSON helpers below. Prints its value; fails (printing why) when it says so.
# Bash hands the coprocess pipes to command substitutions but not to pipelines: use
# "$(json_get …)", never "json_get … | grep".
shapes() {
	local IFS=$'\x1f' reply
	[ -n "${SHAPESRV_PID:-}" ] || { echo "validator not started (cni_setup_host starts it)"; return 1; }
	printf '%s\n' "$*" >&"${SHAPESRV[1]}"
	IFS= read -r reply <&"${SHAPESRV[0]}" || { echo "validator died"; return 1; }
	case $reply in
	ok) return 0 ;;
	"ok "*) printf '%s\n' "${reply#ok }" ;;
	*) printf '%s\n' "$reply"; return 1 ;;
	esac
}
# conf_make OUT VERSION NAME SUBNETS_JSON [EXTRA_JSON] — a podwire network config
conf_make() { shapes conf "$@"; }
# with_prev CONF RESULT OUT — CONF with "prevResult" set to RESULT (for CHECK and DEL)
with_prev() { shapes prev "$@"; }
# json_get FILE EXPR — a python expression over the JSON (as r)
json_get() { shapes get "$1" "$2"; }

host_veths() { ip -n "$HOST" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^pcwg0' | grep '^pc' || true; }

# The container runtimes of Debian 12, private to the test (recipes podman-cni.sh and
# containerd-cni.sh), for the tests that run real containers on a podwire network.
# podman_cni_conf NETCONFDIR PLUGINDIR: podman's CNI backend reading the conflists of
# NETCONFDIR and the plugins of PLUGINDIR then /usr/lib/cni ($W/containers.conf, exported as
# CONTAINERS_CONF), and RUN=(run …), the options every `podman run' here needs: crun refuses
# this machine's hybrid cgroup layout (runc, what the recipe was proven with, copes), and the
# default ulimits exceed its hard limits.
podman_cni_conf() {
	cat >"$W/containers.conf" <<-EOF
	[network]
	network_backend = "cni"
	cni_plugin_dirs = ["$2", "/usr/lib/cni"]
	network_config_dir = "$1"
	EOF
	export CONTAINERS_CONF=$W/containers.conf
	RUN=(run --runtime runc --ulimit nproc=1000:1000 --ulimit nofile=1024:1024)
}
# containerd_start: a containerd of the test's own (root, state and socket in $W, log in
# $W/containerd.log, its PID in $W/containerd.pid for the test's cleanup); fails when its
# socket did not appear within 5 s.
containerd_start() {
	cat >"$W/config.toml" <<-EOF
	version = 2
	root = "$W/root"
	state = "$W/state"
	[grpc]
	  address = "$W/containerd.sock"
	[plugins."io.containerd.grpc.v1.cri"]
	  disable_tcp_service = true
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$W/opt"
	EOF
	containerd --config "$W/config.toml" >"$W/containerd.log" 2>&1 &
	echo $! >"$W/containerd.pid"
	wait_until 5 test -S "$W/containerd.sock"
}

# ---- The up/down tests' namespace --------------------------------------------------------
#
#   +----------------------------------- NS -----------------------------------+
#   | pqd0 10.77.0.1/24 fd77::1/64, MTU 1420 ---veth--- pqd1 (same namespace)   |
#   | default via 10.77.0.254; 10.78.0.0/24 via 10.77.0.254 with route MTU 1300 |
#   +--------------------------------------------------------------------------+
#
# Addresses that do not depend on chance: fixed MACs with EUI-64 link-local addresses on
# the veths, a fixed IPv6 stable secret (the tunnel's link-local address derives from it),
# no DAD (no "tentative"), so that wg-quick's and podwirectl's runs compare byte for byte.
stable_ns() { # NAME
	local ns=$1
	netns_add "$ns"
	ip netns exec "$ns" sh -c 'echo fd00:70:71:72:73:74:75:76 > /proc/sys/net/ipv6/conf/default/stable_secret &&
		echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
	ip -n "$ns" -batch - <<EOF
link add pqd0 address 02:00:00:00:77:01 mtu 1420 type veth peer name pqd1 address 02:00:00:00:77:02 mtu 1420
link set pqd0 addrgenmode eui64
link set pqd1 addrgenmode eui64
link set pqd1 up
addr add 10.77.0.1/24 dev pqd0
addr add fd77::1/64 dev pqd0 nodad
link set pqd0 up
route add default via 10.77.0.254 dev pqd0
route add 10.78.0.0/24 via 10.77.0.254 dev pqd0 mtu 1300
EOF
	# Wait until the veth pair has carrier and its link-local addresses are no longer
	# tentative, so that "before" snapshots do not catch the namespace half way up.
	wait_until 5 ns_settled "$ns" || { ip -n "$ns" addr; fail "namespace $ns did not settle"; }
}
ns_settled() {
	! ip -n "$1" link show | grep -q -e NO-CARRIER -e LOWERLAYERDOWN &&
		[ -z "$(ip -n "$1" -6 addr show tentative)" ] &&
		[ "$(ip -n "$1" -6 addr show scope link | grep -c inet6)" -ge 2 ]
}
no_tentative() { [ -z "$(ip -n "$1" -6 addr show tentative)" ]; }

# Everything up/down may touch in a namespace, in a comparable form: transfer counters and
# handshake times (which depend on timing) are zeroed in the dump.
ns_snapshot() { # ns ifname...: the namespace, and the WireGuard interfaces to dump
	local ns=$1 i; shift
	# The kernel clears "tentative" from a new link-local address a moment after the link
	# comes up (DAD is off); podwirectl finishes sooner than wg-quick, so wait for it.
	for i in $(seq 40); do no_tentative "$ns" && break; sleep 0.05; done
	echo "== ip -d addr"; ip -n "$ns" -d addr
	echo "== ip route show table all"; ip -n "$ns" route show table all
	echo "== ip -6 route show table all"; ip -n "$ns" -6 route show table all
	echo "== ip rule"; ip -n "$ns" rule
	echo "== ip -6 rule"; ip -n "$ns" -6 rule
	echo "== nft list ruleset"; ip netns exec "$ns" ${PQ_NFT:-nft} list ruleset
	if [ -n "${PQ_IPTABLES:-}" ]; then # without nft, the rules live in iptables
		echo "== iptables-save"
		ip netns exec "$ns" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
		echo "== ip6tables-save"
		ip netns exec "$ns" ip6tables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
	fi
	echo "== wg show all dump"
	# Not `wg show all`: the UAPI sockets of every namespace are visible from each.
	for i in "$@"; do ip netns exec "$ns" wg show "$i" dump 2>/dev/null; done |
		awk -F'\t' 'BEGIN { OFS = "\t" } NF == 8 { $5 = 0; $6 = 0; $7 = 0 } { print }'
}

# The one mock: resolvconf. The real one would rewrite this host's /etc/resolv.conf, so a
# script records each call (arguments, and the records given on stdin) in DIR/log and keeps
# the records per interface in DIR for -l. wg-quick and podwirectl find it first on PATH.
resolvconf_mock() { # bindir statedir
	mkdir -p "$1" "$2"
	cat > "$1/resolvconf" <<MOCK
#!/bin/bash
d='$2'
case \$1 in
-a) in=\$(cat); printf 'resolvconf %s\n%s\n' "\$*" "\$in" >> "\$d/log"; printf '%s\n' "\$in" > "\$d/rec.\$2" ;;
-d) echo "resolvconf \$*" >> "\$d/log"; rm -f "\$d/rec.\$2" ;;
-l) echo "resolvconf \$*" >> "\$d/log"; cat "\$d/rec.\$2" 2>/dev/null ;;
*) echo "resolvconf \$*" >> "\$d/log"; exit 1 ;;
esac
MOCK
	chmod +x "$1/resolvconf"
}

# Render a config template: @PRIV@ @PUB1@ @PUB2@ @PUB3@ @PSK@ @DIR@.
conf_render() { # template out keydir dir
	sed -e "s|@PRIV@|$(cat "$3/priv")|" -e "s|@PUB1@|$(cat "$3/pub1")|" -e "s|@PUB2@|$(cat "$3/pub2")|" \
	    -e "s|@PUB3@|$(cat "$3/pub3")|" -e "s|@PSK@|$(cat "$3/psk")|" -e "s|@DIR@|$4|g" "$1" > "$2"
	chmod 600 "$2"
}

conf_keys() { # dir: the keys conf_render fills in
	mkdir -p "$1"; (umask 077
	wg genkey > "$1/priv"; wg genpsk > "$1/psk"
	for i in 1 2 3; do wg genkey | wg pubkey > "$1/pub$i"; done)
}
