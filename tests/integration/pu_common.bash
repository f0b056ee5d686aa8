# pu_common.bash — shared setup for the podwire-wg integration tests (userspace_*.sh):
# two network namespaces joined by a veth with IPv4 and IPv6 underlay addresses, helpers
# to start podwire-wg / wireguard-go in the foreground (PIDs tracked), and cleanup.
# Every name carries the "pu" prefix: UAPI sockets in /var/run/wireguard are global.
# Sourced, not run: tests/run only runs *.sh.

skip() { echo "$*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
log() { echo "== $*"; }

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
BUILD_DIR=${PODWIRE_BUILD:-$(cd "$(dirname "$0")/../../build" && pwd)}
PODWIRE_WG=$BUILD_DIR/podwire-wg
[ -x "$PODWIRE_WG" ] || skip "podwire-wg not built in $BUILD_DIR"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in wg ip iperf3 busybox python3; do
	command -v $tool >/dev/null || skip "$tool not installed"
done

umask 077
PU_PIDS=()
PU_NS=()
PU_TMP=$(mktemp -d /tmp/pu-XXXXXX)
chmod 700 "$PU_TMP"

pu_cleanup() {
	local rc=$? p n
	for p in "${PU_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PU_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	# A daemonized podwire-wg (wg-quick) exits when its link goes away; delete links before
	# the namespaces, since its open sockets would keep a deleted namespace alive.
	for n in "${PU_NS[@]}"; do
		for p in "${PU_IFACES[@]}"; do ip -n "$n" link del "$p" 2>/dev/null; done
	done
	sleep 0.2
	for n in "${PU_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for n in "${PU_IFACES[@]}"; do rm -f "/var/run/wireguard/$n.sock"; done
	# Under the ASan build, a sanitizer report from any daemon fails the test.
	if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer\|runtime error:" "$PU_TMP"/*.log 2>/dev/null; then
		grep -h -A30 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer\|runtime error:" "$PU_TMP"/*.log | head -80
		rc=1
	fi
	rm -rf "$PU_TMP"
	exit $rc
}
PU_IFACES=()
trap pu_cleanup EXIT

# pu_netns A B: namespaces A and B, veth between them: A=10.77.0.1 fd77::1, B=.2 / ::2.
pu_netns() {
	local a=$1 b=$2
	ip netns add "$a" && PU_NS+=("$a") || fail "cannot create netns $a"
	ip netns add "$b" && PU_NS+=("$b") || fail "cannot create netns $b"
	ip link add pu-v0 netns "$a" type veth peer name pu-v1 netns "$b" || fail "cannot create veth"
	ip -n "$a" addr add 10.77.0.1/24 dev pu-v0
	ip -n "$b" addr add 10.77.0.2/24 dev pu-v1
	ip -n "$a" addr add fd77::1/64 dev pu-v0 nodad
	ip -n "$b" addr add fd77::2/64 dev pu-v1 nodad
	for n in "$a" "$b"; do ip -n "$n" link set lo up; done
	ip -n "$a" link set pu-v0 up
	ip -n "$b" link set pu-v1 up
}

# pu_start IMPL NS IFACE: run podwire-wg or wireguard-go in the foreground in NS.
pu_start() {
	local impl=$1 ns=$2 ifc=$3 bin
	case $impl in
	podwire-wg) bin=$PODWIRE_WG ;;
	wireguard-go) bin=$(command -v wireguard-go) || skip "wireguard-go not installed" ;;
	esac
	PU_IFACES+=("$ifc")
	ip netns exec "$ns" env LOG_LEVEL=verbose "$bin" -f "$ifc" >>"$PU_TMP/$ifc.log" 2>&1 &
	PU_PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "/var/run/wireguard/$ifc.sock" ] && ip -n "$ns" link show "$ifc" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$PU_TMP/$ifc.log"
	fail "$impl $ifc did not start"
}

# pu_stop IFACE-PID: stop the most recently started implementations.
pu_stop_all() {
	local p
	for p in "${PU_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PU_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	PU_PIDS=()
}

pu_key() { # name: private key in $PU_TMP/name.key, public in name.pub
	wg genkey >"$PU_TMP/$1.key"
	wg pubkey <"$PU_TMP/$1.key" >"$PU_TMP/$1.pub"
}

# pu_ping NS ADDR [COUNT]
pu_ping() {
	ip netns exec "$1" busybox ping -c "${3:-2}" -i 0.2 -W 3 "$2" >"$PU_TMP/ping.log" 2>&1 || {
		cat "$PU_TMP/ping.log"
		return 1
	}
}

# pu_iperf SERVER_NS CLIENT_NS ADDR SECONDS: TCP throughput in Mbit/s on stdout.
pu_iperf() {
	local sns=$1 cns=$2 addr=$3 secs=$4 port=$((5200 + RANDOM % 500)) spid out
	ip netns exec "$sns" iperf3 -s -1 -p $port >"$PU_TMP/iperf-s.log" 2>&1 &
	spid=$!
	PU_PIDS+=($spid)
	sleep 0.3
	out=$(ip netns exec "$cns" timeout $((secs + 20)) iperf3 -c "$addr" -p $port -t "$secs" -J 2>&1) || {
		echo "$out" | tail -5 >&2
		kill $spid 2>/dev/null
		return 1
	}
	wait $spid 2>/dev/null
	echo "$out" | python3 -c 'import json,sys; print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# pu_dump_field NS IFACE PEER-PUB FIELD-INDEX (1-based within a wg show dump peer line)
pu_dump_field() {
	ip netns exec "$1" wg show "$2" dump | awk -v k="$3" -v f="$4" '$1 == k { print $f }'
}
