#!/bin/bash
# bench/throughput.sh — podwire-wg <-> podwire-wg vs wireguard-go <-> wireguard-go in the
# same run: two network namespaces over a veth, iperf3 TCP for BENCH_SECONDS (10) seconds,
# BENCH_RUNS (3) runs each. Prints Mbit/s per run, the medians and their ratio, and the CPU
# time both daemons used per Gbit carried. Needs root. Not a test: it never fails on speed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PODWIRE_BUILD:-$PWD/${BUILD:-build}}
SECS=${BENCH_SECONDS:-10} RUNS=${BENCH_RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "bench/throughput.sh: needs root"; exit 1; }
[ -x "$BUILD_DIR/podwire-wg" ] || { echo "bench/throughput.sh: build podwire-wg first ($BUILD_DIR)"; exit 1; }
command -v wireguard-go >/dev/null && command -v iperf3 >/dev/null || { echo "bench/throughput.sh: needs wireguard-go and iperf3"; exit 1; }

A=pu-bench-a B=pu-bench-b TMP=$(mktemp -d /tmp/pu-bench-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	ip -n $A link del pub0 2>/dev/null; ip -n $B link del pub1 2>/dev/null
	ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
	rm -f /var/run/wireguard/pub0.sock /var/run/wireguard/pub1.sock
	rm -rf "$TMP"
}
trap cleanup EXIT
umask 077
ip netns add $A && ip netns add $B || exit 1
ip link add pu-bv0 netns $A type veth peer name pu-bv1 netns $B
ip -n $A addr add 10.90.0.1/24 dev pu-bv0; ip -n $B addr add 10.90.0.2/24 dev pu-bv1
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set pu-bv0 up; ip -n $B link set pu-bv1 up
for k in a b; do wg genkey >"$TMP/$k.key"; wg pubkey <"$TMP/$k.key" >"$TMP/$k.pub"; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_impl BINARY LABEL: prints "LABEL Mbit/s... median cpu-s/Gbit"
run_impl() {
	local bin=$1 label=$2 pa pb srv i rates=() out port t0a t0b t1a t1b ticks=0 bits=0
	ip netns exec $A "$bin" -f pub0 >"$TMP/a.log" 2>&1 & pa=$!
	ip netns exec $B "$bin" -f pub1 >"$TMP/b.log" 2>&1 & pb=$!
	PIDS=($pa $pb)
	for _ in $(seq 100); do [ -S /var/run/wireguard/pub0.sock ] && [ -S /var/run/wireguard/pub1.sock ] && break; sleep 0.05; done
	ip netns exec $A wg set pub0 private-key "$TMP/a.key" listen-port 51900 \
		peer "$(cat "$TMP/b.pub")" endpoint 10.90.0.2:51901 allowed-ips 10.91.0.2/32
	ip netns exec $B wg set pub1 private-key "$TMP/b.key" listen-port 51901 \
		peer "$(cat "$TMP/a.pub")" endpoint 10.90.0.1:51900 allowed-ips 10.91.0.1/32
	ip -n $A addr add 10.91.0.1/24 dev pub0; ip -n $B addr add 10.91.0.2/24 dev pub1
	ip -n $A link set pub0 up; ip -n $B link set pub1 up
	ip netns exec $A busybox ping -c 1 -W 3 10.91.0.2 >/dev/null || echo "$label: tunnel not up" >&2
	for i in $(seq "$RUNS"); do
		port=$((5300 + i))
		ip netns exec $B iperf3 -s -1 -p $port >/dev/null 2>&1 &
		srv=$!
		sleep 0.3
		t0a=$(cpu_ticks $pa) t0b=$(cpu_ticks $pb)
		out=$(ip netns exec $A iperf3 -c 10.91.0.2 -p $port -t "$SECS" -J 2>/dev/null)
		t1a=$(cpu_ticks $pa) t1b=$(cpu_ticks $pb)
		wait $srv
		out=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin)["end"]["sum_received"]; print("%.1f %d" % (d["bits_per_second"] / 1e6, d["bytes"] * 8))' 2>/dev/null || echo "0 0")
		rates+=("${out% *}")
		bits=$((bits + ${out#* }))
		ticks=$((ticks + t1a - t0a + t1b - t0b))
	done
	kill $pa $pb; wait $pa $pb 2>/dev/null
	PIDS=()
	ip -n $A link del pub0 2>/dev/null; ip -n $B link del pub1 2>/dev/null
	python3 - "$label" "$ticks" "$bits" "$(getconf CLK_TCK)" "${rates[@]}" <<'PY'
import statistics, sys
label, ticks, bits, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rates = [float(r) for r in sys.argv[5:]]
cpu_per_gbit = (ticks / hz) / (bits / 1e9) if bits else float("nan")
print("%-13s runs: %s Mbit/s  median %.0f Mbit/s  CPU %.2f s per Gbit (both daemons)" %
      (label, " ".join("%.0f" % r for r in rates), statistics.median(rates), cpu_per_gbit))
PY
}

echo "iperf3 TCP ${SECS}s x $RUNS, one tunnel, $(nproc) CPUs"
pw=$(run_impl "$BUILD_DIR/podwire-wg" podwire-wg); echo "$pw"
go=$(run_impl "$(command -v wireguard-go)" wireguard-go); echo "$go"
python3 - "$pw" "$go" <<'PY'
import re, sys
m = [float(re.search(r"median (\S+) Mbit", s).group(1)) for s in sys.argv[1:3]]
print("ratio podwire-wg / wireguard-go: %.2f" % (m[0] / m[1] if m[1] else float("nan")))
# One full-size TCP segment per 1420-byte packet: the packet rate the tunnel achieved.
print("podwire-wg packet rate: ~%.0f kpps of 1420-byte packets (compare bench/crypto.sh)" % (m[0] * 1e6 / 8 / 1420 / 1e3))
PY
