# cni.bash — shared by the CNI integration tests: a "host" network namespace with a stand-in
# for the node WireGuard interface, pod namespaces, and a runner that drives a plugin through
# the CNI_* environment exactly as a runtime would. Everything carries the "pc" prefix.
# Source after setting W (a private temp dir) and HOST (the host netns name).

B=${PODWIRE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
SHAPES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cni_shapes.py
CNI_BIN=$W/bin
NETNS_LIST=()

cni_setup_host() { # host netns with pcwg0 (MTU 1380, 10.210.0.1) standing in for wg-pods
	[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
	for b in podwire podwire-ipam; do
		[ -x "$B/$b" ] || { echo "missing $B/$b (build first)"; exit 1; }
	done
	mkdir -p "$CNI_BIN"
	ln -sf "$B/podwire" "$B/podwire-ipam" "$CNI_BIN/"
	for p in /usr/lib/cni/*; do [ -e "$CNI_BIN/$(basename "$p")" ] || ln -sf "$p" "$CNI_BIN/"; done
	coproc SHAPESRV { exec python3 -u "$SHAPES" serve; }
	cni_netns_add "$HOST"
	ip -n "$HOST" link set lo up
	# No dummy driver in this kernel: a veth end is the node interface's stand-in.
	ip -n "$HOST" link add pcwg0 mtu 1380 type veth peer name pcwg0p
	ip -n "$HOST" link set pcwg0 up
	ip -n "$HOST" addr add 10.210.0.1/32 dev pcwg0
}

cni_netns_add() { ip netns add "$1" && NETNS_LIST+=("$1"); }

cni_cleanup() {
	[ -n "${SHAPESRV_PID:-}" ] && kill "$SHAPESRV_PID" 2>/dev/null
	for n in "${NETNS_LIST[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$W"
}

# cni_run VERB CONTAINERID NETNS IFNAME CONFFILE OUTFILE [VAR=VALUE...] — returns the exit code
cni_run() {
	local verb=$1 id=$2 ns=$3 ifname=$4 conf=$5 out=$6; shift 6
	local nspath=""
	[ -n "$ns" ] && nspath=/var/run/netns/$ns
	ip netns exec "$HOST" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" CNI_COMMAND="$verb" CNI_CONTAINERID="$id" \
		CNI_NETNS="$nspath" CNI_IFNAME="$ifname" CNI_PATH="$CNI_BIN" "$@" \
		"${PLUGIN:-$B/podwire}" <"$conf" >"$out" 2>>"$W/stderr"
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

fail() { echo "FAIL: $*"; exit 1; }
