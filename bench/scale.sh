#!/bin/bash
# bench/scale.sh — how podwire-wg's cost grows with peers, against wireguard-go in the same
# run, each daemon alone in one network namespace (pu-scale):
#  1. memory: RSS per peer after `wg setconf` of 1k, 10k and 100k peers (one allowed IP each,
#     private key set, so both precompute a static-static DH per peer); the setconf time too;
#  2. the cost of `wg set` and `podwirectl set` of one peer (its allowed IP replaced) on the
#     device holding the most peers (median of BENCH_SCALE_SETS runs). wireguard-go holds at
#     most 65536 peers: beyond that it is measured full, and the peer count is printed;
#  3. handshakes per second one core completes: the daemon pinned to CPU 1, bench/wgpeers.c
#     (podwire-wg's own noise code) on CPU 0 keeping BENCH_SCALE_WINDOW initiations from
#     BENCH_SCALE_HS_PEERS initiators in flight. The window stays below both daemons'
#     "under load" marks (wireguard-go: 128 queued; podwire-wg counts per second, so it is
#     raised here with PODWIRE_WG_LOAD_THRESHOLD): this is capacity, not the cookie defence;
#  4. throughput spread over BENCH_SCALE_SPREAD peers instead of 1: plain UDP into the
#     daemon's TUN to one address per peer (wgpeers blast), sealed and sent to wgpeers
#     respond (one socket per peer, it answers the daemon's handshakes); the rate is the
#     daemon's own tx counter (`wg show transfer`). Daemon on CPU 1, generator on CPU 0.
# Every line prints podwire-wg / wireguard-go measured in this run. Env: BENCH_SCALE_PEERS
# ("1000 10000 100000"), BENCH_SCALE_SETS (10), BENCH_SCALE_HS_PEERS (1000),
# BENCH_SCALE_WINDOW (32), BENCH_SCALE_SPREAD (1000), BENCH_SCALE_SECONDS (3), BENCH_SCALE_PARTS
# ("memory handshake spread": which parts to run).
# Needs root, wireguard-go, wg, taskset. Not a test: it never fails on speed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PODWIRE_BUILD:-$PWD/${BUILD:-build}}
PEERS=${BENCH_SCALE_PEERS:-1000 10000 100000} SETS=${BENCH_SCALE_SETS:-10}
HS_PEERS=${BENCH_SCALE_HS_PEERS:-1000} WINDOW=${BENCH_SCALE_WINDOW:-32}
SPREAD=${BENCH_SCALE_SPREAD:-1000} SECS=${BENCH_SCALE_SECONDS:-3}
PARTS=${BENCH_SCALE_PARTS:-memory handshake spread}
part() { [[ " $PARTS " == *" $1 "* ]]; }
[ "$(id -u)" = 0 ] || { echo "bench/scale.sh: needs root"; exit 1; }
[ -x "$BUILD_DIR/podwire-wg" ] && [ -f "$BUILD_DIR/libdatapath-userspace.a" ] ||
	{ echo "bench/scale.sh: build podwire-wg first ($BUILD_DIR)"; exit 1; }
for c in wireguard-go wg taskset python3; do
	command -v $c >/dev/null || { echo "bench/scale.sh: needs $c"; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench/scale.sh: needs 2 CPUs (daemon and generator pinned apart)"; exit 1; }

NS=pu-scale IF=pus0 TMP=$(mktemp -d /tmp/pu-scale-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip -n $NS link del $IF 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -f /var/run/wireguard/$IF.sock
	rm -rf "$TMP"
}
trap cleanup EXIT
umask 077
ip netns add $NS || exit 1
ip -n $NS link set lo up
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$TMP/wgpeers" bench/wgpeers.c "$BUILD_DIR/libdatapath-userspace.a" \
	"$BUILD_DIR/liblib.a" $(pkg-config --cflags --libs libsodium) || exit 1
wgp=$TMP/wgpeers
ctl=$BUILD_DIR/podwirectl
in_ns() { ip netns exec $NS "$@"; }
now() { date +%s.%N; }
wg genkey >"$TMP/dut.key"
dut_pub=$(wg pubkey <"$TMP/dut.key")

# start LABEL [CPU]: the daemon for LABEL in the namespace (pinned to CPU if given); sets $pid.
start() {
	local bin=podwire-wg pin=()
	[ "$1" = podwire-wg ] && bin=$BUILD_DIR/podwire-wg || bin=$(command -v wireguard-go)
	[ -n "${2:-}" ] && pin=(taskset -c "$2")
	# Not through in_ns: $! must be the daemon itself (ip netns exec, env and taskset exec it).
	ip netns exec $NS env PODWIRE_WG_LOAD_THRESHOLD=1000000000 "${pin[@]}" "$bin" -f $IF >"$TMP/$1.log" 2>&1 &
	pid=$!
	PIDS=($pid)
	for _ in $(seq 200); do [ -S /var/run/wireguard/$IF.sock ] && return 0; sleep 0.05; done
	echo "bench/scale.sh: $1 did not start: $(cat "$TMP/$1.log")" >&2
	return 1
}
stop() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	PIDS=()
	ip -n $NS link del $IF 2>/dev/null
	for _ in $(seq 100); do [ -S /var/run/wireguard/$IF.sock ] || break; sleep 0.05; done
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ms_since() { echo "($(now) - $1) * 1000" | bc; }
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "nan"}'; }

# gen_conf N: [Interface] with the daemon's key, N peers with random public keys, one /32 each.
gen_conf() {
	python3 - "$1" "$(cat "$TMP/dut.key")" <<'PY'
import base64, os, sys
n, key = int(sys.argv[1]), sys.argv[2]
out = ["[Interface]", "PrivateKey = " + key, ""]
for i in range(n):
    out += ["[Peer]", "PublicKey = " + base64.b64encode(os.urandom(32)).decode(),
            "AllowedIPs = 10.%d.%d.%d/32" % (100 + (i >> 16), i >> 8 & 255, i & 255), ""]
sys.stdout.write("\n".join(out))
PY
}

echo "podwire-wg vs wireguard-go $(wireguard-go --version 2>/dev/null | awk 'NR == 1 {print $2}'), $(nproc) CPUs" \
	"(shared machine: other work may run at the same time), PODWIRE_WG_OFFLOAD=${PODWIRE_WG_OFFLOAD:-1}"

if part memory; then
echo "== memory per peer (RSS after wg setconf; one allowed IP per peer)"
max=0
for n in $PEERS; do
	gen_conf "$n" >"$TMP/peers-$n.conf"
	[ "$n" -gt "$max" ] && max=$n
done
printf '%-8s %-13s %10s %10s %12s %10s\n' peers daemon base_MiB MiB B/peer setconf_s
for n in $PEERS; do
	for impl in podwire-wg wireguard-go; do
		start $impl || exit 1
		in_ns ip link set $IF up
		base=$(rss_kb $pid)
		t0=$(now)
		in_ns wg setconf $IF "$TMP/peers-$n.conf" || echo "$impl: setconf of $n peers failed" >&2
		secs=$(echo "$(now) - $t0" | bc)
		in_ns wg show $IF peers >"$TMP/peers"
		got=$(wc -l <"$TMP/peers")
		after=$(rss_kb $pid)
		per=$(( (after - base) * 1024 / (got > 0 ? got : 1) ))
		printf '%-8s %-13s %10.1f %10.1f %12d %10.2f%s\n' "$n" $impl "$(echo "$base / 1024" | bc -l)" \
			"$(echo "$after / 1024" | bc -l)" $per "$secs" \
			"$([ "$got" = "$n" ] || echo " (holds $got peers: its limit)")"
		echo "$per $secs" >"$TMP/mem-$impl-$n"
		if [ "$n" = "$max" ]; then
			# One peer's allowed IP replaced, SETS times each way, on the full device.
			echo "$got" >"$TMP/set-$impl-peers"
			for tool in wg podwirectl; do
				c=wg
				[ $tool = podwirectl ] && c=$ctl
				for i in $(seq "$SETS"); do
					k=$(sed -n "$((i * 97 % got + 1))p" "$TMP/peers")
					t0=$(now)
					in_ns "$c" set $IF peer "$k" allowed-ips "10.250.$((i / 256)).$((i % 256))/32" ||
						echo "$impl: $tool set failed" >&2
					ms_since "$t0"
				done | median >"$TMP/set-$impl-$tool"
			done
		fi
		stop
	done
	read -r a as <"$TMP/mem-podwire-wg-$n"
	read -r b bs <"$TMP/mem-wireguard-go-$n"
	printf '%-8s ratio podwire-wg / wireguard-go: memory per peer %.2f, setconf time %.2f\n' "$n" \
		"$(echo "$a / $b" | bc -l)" "$(echo "$as / $bs" | bc -l)"
done
echo "== set of one peer (its allowed IP replaced) on the full device (median of $SETS)"
for tool in wg podwirectl; do
	a=$(cat "$TMP/set-podwire-wg-$tool") b=$(cat "$TMP/set-wireguard-go-$tool")
	printf '%-11s set: podwire-wg %7.1f ms (%s peers)  wireguard-go %7.1f ms (%s peers)  ratio %.2f\n' $tool \
		"$a" "$(cat "$TMP/set-podwire-wg-peers")" "$b" "$(cat "$TMP/set-wireguard-go-peers")" "$(echo "$a / $b" | bc -l)"
done
fi

if part handshake; then
echo "== handshakes one core completes (daemon on CPU 1, $HS_PEERS initiators on CPU 0, window $WINDOW, ${SECS}s)"
$wgp genkeys "$HS_PEERS" >"$TMP/hs.keys"
{
	echo "[Interface]"; echo "PrivateKey = $(cat "$TMP/dut.key")"; echo "ListenPort = 51950"
	while read -r _ pub; do echo "[Peer]"; echo "PublicKey = $pub"; done <"$TMP/hs.keys"
} >"$TMP/hs.conf"
for impl in podwire-wg wireguard-go; do
	start $impl 1 || exit 1
	in_ns wg setconf $IF "$TMP/hs.conf"
	in_ns ip link set $IF up
	line=$(in_ns taskset -c 0 "$wgp" handshake "$TMP/hs.keys" "$dut_pub" 127.0.0.1 51950 "$SECS" "$WINDOW")
	printf '%-13s %s\n' $impl "$line"
	echo "$line" | awk '{print $2}' >"$TMP/hs-$impl"
	stop
done
printf 'ratio podwire-wg / wireguard-go: handshakes per second %.2f\n' \
	"$(echo "$(cat "$TMP/hs-podwire-wg") / $(cat "$TMP/hs-wireguard-go")" | bc -l)"
fi

part spread || exit 0
# Ports below the ephemeral range, so no socket the daemons open by themselves takes one.
echo "== throughput spread over peers (daemon on CPU 1, generator on CPU 0, ${SECS}s after 2 s warm-up)"
$wgp genkeys "$SPREAD" >"$TMP/spread.keys"
tx_bytes() { in_ns wg show $IF transfer | awk '{s += $3} END {print s + 0}'; }
for impl in podwire-wg wireguard-go; do
	for p in 1 "$SPREAD"; do
		head -n "$p" "$TMP/spread.keys" >"$TMP/spread-$p.keys"
		{
			echo "[Interface]"; echo "PrivateKey = $(cat "$TMP/dut.key")"; echo "ListenPort = 19999"
			i=0
			while read -r _ pub; do
				echo "[Peer]"; echo "PublicKey = $pub"; echo "Endpoint = 127.0.0.1:$((20000 + i))"
				echo "AllowedIPs = 10.98.$((i / 256)).$((i % 256))/32"
				i=$((i + 1))
			done <"$TMP/spread-$p.keys"
		} >"$TMP/spread-$p.conf"
		start $impl 1 || exit 1
		in_ns wg setconf $IF "$TMP/spread-$p.conf"
		in_ns ip addr add 10.99.0.1/32 dev $IF
		in_ns ip link set $IF mtu 1420 up
		in_ns ip route add 10.98.0.0/16 dev $IF
		in_ns taskset -c 0 "$wgp" respond "$TMP/spread-$p.keys" "$dut_pub" 20000 2 "$SECS" >"$TMP/resp.out" &
		r=$!
		for _ in $(seq 100); do grep -q ready "$TMP/resp.out" 2>/dev/null && break; sleep 0.05; done
		in_ns taskset -c 0 "$wgp" blast "$p" "$(echo "$SECS + 2.5" | bc)" >"$TMP/blast.out" &
		b=$!
		sleep 2
		t0=$(now) b0=$(tx_bytes)
		sleep "$SECS"
		b1=$(tx_bytes) t1=$(now)
		wait $r $b
		mbit=$(echo "($b1 - $b0) * 8 / ($t1 - $t0) / 1000000" | bc -l)
		printf '%-13s %5s peers: %7.0f Mbit/s sealed (tx counter); %s; %s\n' $impl "$p" "$mbit" \
			"$(tail -1 "$TMP/resp.out")" "$(cat "$TMP/blast.out")"
		echo "$mbit" >"$TMP/spread-$impl-$p"
		stop
	done
done
for impl in podwire-wg wireguard-go; do
	printf '%-13s %s peers / 1 peer: %.2f\n' $impl "$SPREAD" \
		"$(echo "$(cat "$TMP/spread-$impl-$SPREAD") / $(cat "$TMP/spread-$impl-1")" | bc -l)"
done
for p in 1 "$SPREAD"; do
	printf 'ratio podwire-wg / wireguard-go at %s peers: %.2f\n' "$p" \
		"$(echo "$(cat "$TMP/spread-podwire-wg-$p") / $(cat "$TMP/spread-wireguard-go-$p")" | bc -l)"
done
