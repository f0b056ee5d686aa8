#!/bin/bash
# bench/rss.sh — does podwire-wg's RSS plateau or keep climbing under repeated load?
# Two network namespaces over a veth, podwire-wg on each side (tunnel MTU 1420). Then
# RSS_CYCLES (8) cycles of: a burst (iperf3 TCP as fast as it goes, RSS_BURST (2) s each
# way with 4 streams, while the UAPI adds and removes RSS_PEERS (64) peers with allowed-ips
# and the real peer is removed and re-added, forcing a new handshake with packets staged),
# then RSS_IDLE (2) s idle. After each cycle it prints side A's VmRSS, VmHWM, and from
# /proc/PID/smaps the size and resident KiB of the main heap ([heap]: the brk heap does not
# grow while only its size is flat), the resident KiB of other anonymous mappings (thread
# arenas, stacks, large mallocs) and of file-backed mappings. One run per setting in
# RSS_ENVS, passed to side A's podwire-wg (default: none, MALLOC_ARENA_MAX=1 for one glibc
# arena, and PODWIRE_WG_OFFLOAD=0, where no read is larger than the MTU). Needs root and
# iperf3. Not a test: it never fails on numbers.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD_DIR=${PODWIRE_BUILD:-$PWD/${BUILD:-build}}
CYCLES=${RSS_CYCLES:-8} BURST=${RSS_BURST:-2} IDLE=${RSS_IDLE:-2} NPEERS=${RSS_PEERS:-64}
read -r -a ENVS <<<"${RSS_ENVS:-default MALLOC_ARENA_MAX=1 PODWIRE_WG_OFFLOAD=0}"
[ "$(id -u)" = 0 ] || { echo "bench/rss.sh: needs root"; exit 1; }
[ -x "$BUILD_DIR/podwire-wg" ] || { echo "bench/rss.sh: build podwire-wg first ($BUILD_DIR)"; exit 1; }
command -v iperf3 >/dev/null && command -v wg >/dev/null || { echo "bench/rss.sh: needs iperf3 and wg"; exit 1; }

A=pr-rss-a B=pr-rss-b TMP=$(mktemp -d /tmp/pr-rss-XXXXXX)
PIDS=()
stop_daemons() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	rm -f /var/run/wireguard/prr0.sock /var/run/wireguard/prr1.sock
}
cleanup() {
	stop_daemons
	ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
umask 077
source bench/lib/pair.bash
bench_pair $A $B pr-rv0 pr-rv1 10.93.0 || exit 1
for i in $(seq "$NPEERS"); do wg genkey | wg pubkey; done >"$TMP/churn.pubs"

# sample PID: "rss hwm heapsize heap anon file" in KiB.
sample() {
	local st
	st=$(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/$1/status")
	awk -v st="$st" '
		/^[0-9a-f]+-[0-9a-f]+ / { kind = ($6 == "[heap]") ? "heap" : ($6 == "" || $6 ~ /^\[(stack|anon)/) ? "anon" : "file"; next }
		/^Size:/ && kind == "heap" { hs += $2 }
		/^Rss:/ { s[kind] += $2 }
		END { print st, hs + 0, s["heap"] + 0, s["anon"] + 0, s["file"] + 0 }' "/proc/$1/smaps"
}

# churn: add NPEERS peers with allowed-ips on A, then remove them; then remove the real
# peer and add it back, so the next packets are staged while a new handshake runs.
churn() {
	local i=0 args=() pub
	while read -r pub; do
		i=$((i + 1))
		args+=(peer "$pub" allowed-ips "10.94.$((i / 250)).$((i % 250 + 1))/32" endpoint "10.93.0.$((i % 200 + 10)):51000")
	done <"$TMP/churn.pubs"
	ip netns exec $A wg set prr0 "${args[@]}"
	args=()
	while read -r pub; do args+=(peer "$pub" remove); done <"$TMP/churn.pubs"
	ip netns exec $A wg set prr0 "${args[@]}"
	ip netns exec $A wg set prr0 peer "$(cat "$TMP/b.pub")" remove
	ip netns exec $A wg set prr0 peer "$(cat "$TMP/b.pub")" endpoint 10.93.0.2:51931 allowed-ips 10.95.0.2/32
}

iperf() { # iperf PORT ARGS...
	local port=$1 srv; shift
	ip netns exec $B iperf3 -s -1 -p "$port" >/dev/null 2>&1 & srv=$!
	for _ in $(seq 50); do ip netns exec $B ss -ltn 2>/dev/null | grep -q ":$port " && break; sleep 0.05; done
	ip netns exec $A iperf3 -c 10.95.0.2 -p "$port" -t "$BURST" -P 4 "$@" >/dev/null 2>&1
	wait $srv
}

run() { # run ENV
	local menv=$1 pa pb c cp port=5400 e=()
	[ "$menv" = default ] || e=("$menv")
	ip netns exec $A env "${e[@]}" "$BUILD_DIR/podwire-wg" -f prr0 >"$TMP/a.log" 2>&1 & pa=$!
	ip netns exec $B "$BUILD_DIR/podwire-wg" -f prr1 >"$TMP/b.log" 2>&1 & pb=$!
	PIDS=("$pa" "$pb")
	bench_tunnel $A $B prr0 prr1 10.93.0 10.95.0 51930
	ip netns exec $A ping -c 1 -W 3 10.95.0.2 >/dev/null || echo "bench/rss.sh: $menv: tunnel not up" >&2
	echo "== podwire-wg side A, environment: $menv (KiB)"
	printf '%-6s %7s %7s %8s %7s %7s %7s\n' cycle rss hwm heapsize heap anon file
	printf '%-6s %7s %7s %8s %7s %7s %7s\n' start $(sample $pa)
	for c in $(seq "$CYCLES"); do
		churn & cp=$!
		port=$((port + 1)); iperf "$port"
		port=$((port + 1)); iperf "$port" -R
		wait $cp
		sleep "$IDLE" # the idle half of the cycle, not a wait for state
		printf '%-6s %7s %7s %8s %7s %7s %7s\n' "$c" $(sample $pa)
	done
	grep -i "error\|leak" "$TMP/a.log" | head -5
	stop_daemons
}

for menv in "${ENVS[@]}"; do run "$menv"; done
