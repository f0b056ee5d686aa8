#!/bin/bash
# bench/throughput.sh — podwire-wg <-> podwire-wg vs wireguard-go <-> wireguard-go in the
# same run: two network namespaces over a veth, tunnel MTU 1420. For each implementation:
# iperf3 TCP A->B and B->A with 1 and 4 streams (BENCH_SECONDS (5) s, BENCH_RUNS (1) runs,
# median), UDP at a fixed offered load (BENCH_UDP_MBIT, 800) with loss and goodput, CPU
# seconds both daemons used per Gbit of TCP carried, and ping RTT p50/p99 idle, under a
# TCP load as fast as it goes (each side at its own rate), and under the same paced load
# for both (BENCH_PING_LOAD_MBIT, 300, over 4 streams). Then the ratios podwire-wg / wireguard-go and podwire-wg's packet rate as a
# fraction of the one-core crypto ceiling (bench/crypto.sh). PODWIRE_WG_OFFLOAD is passed
# on (0: podwire-wg without offload). Needs root. Not a test: it never fails on speed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PODWIRE_BUILD:-$PWD/${BUILD:-build}}
SECS=${BENCH_SECONDS:-5} RUNS=${BENCH_RUNS:-1} UDP_MBIT=${BENCH_UDP_MBIT:-800}
PING_LOAD_MBIT=${BENCH_PING_LOAD_MBIT:-300}
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
source bench/lib/pair.bash
bench_pair $A $B pu-bv0 pu-bv1 10.90.0 || exit 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# iperf3_json PORT ARGS...: one iperf3 client run A -> 10.91.0.2 (server in B), JSON on stdout.
iperf3_json() {
	local port=$1 srv out; shift
	ip netns exec $B iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 50); do ip netns exec $B ss -ltn 2>/dev/null | grep -q ":$port " && break; sleep 0.05; done
	out=$(ip netns exec $A iperf3 -c 10.91.0.2 -p "$port" "$@" -J 2>/dev/null)
	wait $srv
	echo "$out"
}

# rtts COUNT: ping A -> B every 10 ms, one RTT in ms per line.
rtts() {
	ip netns exec $A ping -n -c "$1" -i 0.01 -W 1 10.91.0.2 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'
}

# run_impl BINARY LABEL: writes "key value..." lines to $TMP/LABEL.res
run_impl() {
	local bin=$1 label=$2 pa pb i rates out t0 t1 ticks=0 bits=0 res=$TMP/$2.res port=5300 key args
	ip netns exec $A "$bin" -f pub0 >"$TMP/a.log" 2>&1 & pa=$!
	ip netns exec $B "$bin" -f pub1 >"$TMP/b.log" 2>&1 & pb=$!
	PIDS=($pa $pb)
	bench_tunnel $A $B pub0 pub1 10.90.0 10.91.0 51900
	ip netns exec $A busybox ping -c 1 -W 3 10.91.0.2 >/dev/null || echo "$label: tunnel not up" >&2
	: >"$res"
	echo "rtt_idle $(rtts 300 | tr '\n' ' ')" >>"$res"
	for key in fwd1 rev1 fwd4 rev4; do
		args=()
		[[ $key == rev* ]] && args+=(-R)
		[[ $key == *4 ]] && args+=(-P 4)
		rates=()
		for i in $(seq "$RUNS"); do
			port=$((port + 1))
			t0=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
			out=$(iperf3_json $port -t "$SECS" "${args[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin)["end"]["sum_received"]; print("%.1f %d" % (d["bits_per_second"] / 1e6, d["bytes"] * 8))' 2>/dev/null || echo "0 0")
			t1=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
			rates+=("${out% *}")
			bits=$((bits + ${out#* }))
			ticks=$((ticks + t1 - t0))
		done
		echo "tcp_$key ${rates[*]}" >>"$res"
	done
	echo "cpu $ticks $bits $(getconf CLK_TCK)" >>"$res"
	port=$((port + 1))
	out=$(iperf3_json $port -u -b "${UDP_MBIT}M" -l 1372 -t "$SECS" | python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print("%.2f %.1f" % (s["lost_percent"], s["bits_per_second"] * (1 - s["lost_percent"] / 100) / 1e6))' 2>/dev/null || echo "nan nan")
	echo "udp $out" >>"$res"
	# Ping under a TCP load: one stream for the whole ping run.
	port=$((port + 1))
	iperf3_json $port -t 6 >/dev/null &
	i=$!
	sleep 1
	echo "rtt_load $(rtts 300 | tr '\n' ' ')" >>"$res"
	wait $i
	# The same paced load for both: what queueing each adds at equal throughput.
	port=$((port + 1))
	iperf3_json $port -t 6 -P 4 -b "$((PING_LOAD_MBIT / 4))M" >/dev/null &
	i=$!
	sleep 1
	echo "rtt_paced $(rtts 300 | tr '\n' ' ')" >>"$res"
	wait $i
	kill $pa $pb; wait $pa $pb 2>/dev/null
	PIDS=()
	ip -n $A link del pub0 2>/dev/null; ip -n $B link del pub1 2>/dev/null
}

ceiling=$(bench/crypto.sh 2>/dev/null | sed -n 's/.*one core: \([0-9.]*\) kpps.*/\1/p')
echo "tunnel MTU 1420, iperf3 ${SECS}s x $RUNS per case, UDP offered ${UDP_MBIT} Mbit/s, $(nproc) CPUs" \
	"(shared machine: other work may run at the same time), PODWIRE_WG_OFFLOAD=${PODWIRE_WG_OFFLOAD:-1}"
run_impl "$BUILD_DIR/podwire-wg" podwire-wg
run_impl "$(command -v wireguard-go)" wireguard-go
python3 - "$TMP/podwire-wg.res" "$TMP/wireguard-go.res" "${ceiling:-0}" "$PING_LOAD_MBIT" <<'PY'
import statistics, sys

def load(path):
    d = {}
    for line in open(path):
        k, *v = line.split()
        d[k] = v
    return d

pw, go, ceiling = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])

def med(d, k):
    v = [float(x) for x in d.get(k, [])]
    return statistics.median(v) if v else float("nan")

def pct(d, k, q):
    v = sorted(float(x) for x in d.get(k, []))
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")

def ratio(a, b):
    return a / b if b else float("nan")

names = {"fwd1": "TCP A->B 1 stream", "rev1": "TCP B->A 1 stream", "fwd4": "TCP A->B 4 streams", "rev4": "TCP B->A 4 streams"}
print("%-20s %12s %12s %7s" % ("", "podwire-wg", "wireguard-go", "ratio"))
for k, n in names.items():
    a, b = med(pw, "tcp_" + k), med(go, "tcp_" + k)
    print("%-20s %7.0f Mb/s %7.0f Mb/s %7.2f" % (n, a, b, ratio(a, b)))
for label, d in (("podwire-wg", pw), ("wireguard-go", go)):
    t, bits, hz = (int(x) for x in d["cpu"])
    print("%-13s CPU %.2f s per Gbit of TCP (both daemons)" % (label, (t / hz) / (bits / 1e9) if bits else float("nan")))
for label, d in (("podwire-wg", pw), ("wireguard-go", go)):
    loss, good = d.get("udp", ["nan", "nan"])
    print("%-13s UDP at the offered load: loss %s %%, goodput %s Mbit/s" % (label, loss, good))
for label, d in (("podwire-wg", pw), ("wireguard-go", go)):
    print("%-13s ping RTT idle p50 %.3f p99 %.3f ms; under TCP load p50 %.3f p99 %.3f ms; under %s Mbit/s of TCP (paced, 4 streams) p50 %.3f p99 %.3f ms" %
          (label, pct(d, "rtt_idle", .5), pct(d, "rtt_idle", .99), pct(d, "rtt_load", .5), pct(d, "rtt_load", .99),
           sys.argv[4], pct(d, "rtt_paced", .5), pct(d, "rtt_paced", .99)))
best = max(med(pw, "tcp_" + k) for k in names)
kpps = best * 1e6 / 8 / 1420 / 1e3
print("podwire-wg best TCP %.0f Mbit/s = ~%.0f kpps of 1420-byte packets = %.2f of the one-core crypto ceiling (%.0f kpps, bench/crypto.sh)" %
      (best, kpps, ratio(kpps, ceiling), ceiling))
PY
