#!/bin/bash
# bench/mesh.sh — how fast one podwired applies a big mesh, and what it costs when idle.
#   For N in 100, 1000, 5000 (BENCH_SIZES): N simulated nodes are written to a file store,
#   one real node (its own namespace, userspace datapath) starts podwired against it, and we
#   report the first reconcile pass (N peers + N routes applied) as the daemon logs it, the
#   wall time until `wg show` lists all N peers, and the duration of a no-op resync.
#   With 1000 peers the daemon then idles for BENCH_IDLE seconds (default 30, one resync
#   period) and we report its CPU use. Goal (issue 7): 1000 peers in under 1 s, idle CPU ~ 0.
#   The datapath is podwire-wg; WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go compares.
set -uo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${PODWIRE_BUILD:-${BUILD:-build}}" && pwd)
SIZES=${BENCH_SIZES:-100 1000 5000}
IDLE=${BENCH_IDLE:-30}
[ "$(id -u)" = 0 ] || { echo "bench/mesh.sh: needs root"; exit 77; }
[ -x "$B/podwired" ] || { echo "bench/mesh.sh: $B/podwired missing (make)"; exit 1; }
export WG_QUICK_USERSPACE_IMPLEMENTATION=${WG_QUICK_USERSPACE_IMPLEMENTATION:-$B/podwire-wg}
W=/tmp/pn-bench NS=pn-bench-n1 IF=pnbw1
PID=
cleanup() {
	[ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	ip netns exec $NS ip link del $IF 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -f /var/run/wireguard/$IF.sock
	rm -rf "$W"
}
trap cleanup EXIT

gen_store() { # N DIR: N node records with random keys, /24 pod blocks from 10.128.0.0/9, and
	# their claims in the allocation registry (a record counts only with them: README, trust model)
	python3 - "$1" "$2" <<'PY'
import base64, os, sys
n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d + "/.podwire/alloc", exist_ok=True)
for i in range(1, n + 1):
    key = base64.b64encode(os.urandom(32)).decode()
    t = "10.97.%d.%d" % (i // 250, i % 250 + 1)
    pod = "10.%d.%d.0/24" % (128 + i // 256, i % 256)
    with open("%s/s%05d.conf" % (d, i), "w") as f:
        f.write("[Peer]\n# Name = s%05d\n# TunnelIP = %s\n# PodCIDRs = %s\n# Heartbeat = 0\n"
                "PublicKey = %s\nEndpoint = 192.0.2.%d:51820\nAllowedIPs = %s/32, %s\n" %
                (i, t, pod, key, i % 250 + 1, t, pod))
    for block in (t + "_32", pod.replace("/", "_")):
        with open("%s/.podwire/alloc/%s" % (d, block), "w") as f:
            f.write("s%05d" % i)
PY
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for n in $SIZES; do
	cleanup; PID=
	mkdir -p "$W/state"
	gen_store "$n" "$W/store"
	ip netns add $NS; ip -n $NS link set lo up
	t0=$(date +%s.%N)
	ip netns exec $NS "$B/podwired" --name real -i $IF --store-dir "$W/store" --state-dir "$W/state" \
		--endpoint 192.0.2.254:51820 --cluster-cidr 10.128.0.0/9 --tunnel-cidr 10.96.0.0/12 \
		--metrics 127.0.0.1:9586 --resync 30 ${BENCH_DAEMON_ARGS:-} >"$W/log" 2>&1 &
	PID=$!
	while [ "$(ip netns exec $NS wg show $IF peers 2>/dev/null | wc -l)" -lt "$n" ]; do
		kill -0 $PID 2>/dev/null || { echo "podwired died:"; cat "$W/log"; exit 1; }
		sleep 0.05
	done
	t1=$(date +%s.%N)
	# The pass goes on with the routes after the peers are in: wait for its log line.
	for _ in $(seq 1200); do grep -q "peers: $n added" "$W/log" && break; sleep 0.05; done
	pass=$(grep -o "peers: $n added.*" "$W/log" | head -1)
	# A no-op resync: touch the store (inotify) and read the pass time from the metrics.
	before=$(ip netns exec $NS curl -sf http://127.0.0.1:9586/metrics | awk '$1 == "podwire_reconcile_total" {print $2}')
	touch "$W/store/s00001.conf"
	for _ in $(seq 100); do
		now=$(ip netns exec $NS curl -sf http://127.0.0.1:9586/metrics | awk '$1 == "podwire_reconcile_total" {print $2}')
		[ "$now" != "$before" ] && break
		sleep 0.05
	done
	noop=$(ip netns exec $NS curl -sf http://127.0.0.1:9586/metrics | awk '$1 == "podwire_reconcile_last_duration_seconds" {print $2}')
	routes=$(ip -n $NS route | grep -c "dev $IF")
	printf 'N=%-5s first pass: %s\n        all %s peers visible after %.3f s (daemon start incl. datapath launch); %s routes; no-op resync %.3f s\n' \
		"$n" "${pass:-?}" "$n" "$(echo "$t1 - $t0" | bc)" "$routes" "$noop"
	if [ "$n" = 1000 ]; then
		c0=$(cpu_ticks $PID); s0=$SECONDS
		sleep "$IDLE"
		c1=$(cpu_ticks $PID)
		hz=$(getconf CLK_TCK)
		printf '        idle with 1000 peers: %d ticks in %d s = %.2f%% of one CPU (includes %d resync pass(es))\n' \
			$((c1 - c0)) $((SECONDS - s0)) "$(echo "100 * ($c1 - $c0) / $hz / ($SECONDS - $s0)" | bc -l)" \
			$(( (SECONDS - s0) / 30 ))
	fi
done
