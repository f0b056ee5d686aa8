#!/bin/bash
# bench/setconf.sh — the kernel datapath against podwire's, in one VM boot (hack/vm.sh):
#  1. `podwirectl setconf` vs `wg setconf` on the same file, 1000 and 10000 peers (8 allowed
#     IPs each), onto an empty kernel device and again onto the populated one;
#  2. iperf3 throughput kernel<->kernel and podwire-wg<->podwire-wg between two namespaces,
#     and the ratio (the kernel is the ceiling).
# Env: BENCH_PEERS ("1000 10000"), BENCH_IPS (8), BENCH_SECONDS (iperf3 time, 5).
# Numbers under TCG emulation are slow in absolute terms; compare them with each other.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PODWIRE_BENCH_IN_VM:-}" ]; then
	export PODWIRE_BUILD=${PODWIRE_BUILD:-$PWD/${BUILD:-build}} PODWIRE_BENCH_IN_VM=1
	exec hack/vm.sh bench/setconf.sh
fi
build=$PODWIRE_BUILD
ctl=$build/podwirectl
secs=${BENCH_SECONDS:-5}
modprobe wireguard
modprobe tun 2>/dev/null || true
umask 077
tmp=$(mktemp -d /tmp/pd-bench.XXXXXX)
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for n in pd-bench pd-bench-a pd-bench-b; do ip netns del $n 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
seconds() { # CMD... : run it, print its wall time in seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}

echo "== setconf, kernel device (${BENCH_IPS:-8} allowed IPs per peer)"
ip netns add pd-bench
printf '%-8s %-12s %12s %12s\n' peers target podwirectl wg
for n in ${BENCH_PEERS:-1000 10000}; do
	python3 tests/vm/lib/gen_peers.py "$n" "${BENCH_IPS:-8}" >"$tmp/$n.conf"
	ip -n pd-bench link add pdbp type wireguard
	ip -n pd-bench link add pdbw type wireguard
	ours=$(seconds ip netns exec pd-bench "$ctl" setconf pdbp "$tmp/$n.conf")
	theirs=$(seconds ip netns exec pd-bench wg setconf pdbw "$tmp/$n.conf")
	printf '%-8s %-12s %11.3fs %11.3fs\n' "$n" empty "$ours" "$theirs"
	ours=$(seconds ip netns exec pd-bench "$ctl" setconf pdbp "$tmp/$n.conf")
	theirs=$(seconds ip netns exec pd-bench wg setconf pdbw "$tmp/$n.conf")
	printf '%-8s %-12s %11.3fs %11.3fs\n' "$n" populated "$ours" "$theirs"
	[ "$(ip netns exec pd-bench wg show pdbp allowed-ips | sort)" = "$(ip netns exec pd-bench wg show pdbw allowed-ips | sort)" ] ||
		{ echo "devices differ after setconf of $n peers"; exit 1; }
	ip -n pd-bench link del pdbp
	ip -n pd-bench link del pdbw
done

# tunnel KIND: two namespaces over a veth with a WireGuard tunnel of KIND (kernel|podwire-wg);
# prints the iperf3 receiver rate in Mbit/s.
tunnel() {
	local kind=$1 a=pd-bench-a b=pd-bench-b ka kb out
	ip netns add $a
	ip netns add $b
	ip -n $a link set lo up
	ip -n $b link set lo up
	ip -n $a link add pdbva type veth peer name pdbvb netns $b
	ip -n $a addr add 192.168.93.1/24 dev pdbva
	ip -n $b addr add 192.168.93.2/24 dev pdbvb
	ip -n $a link set pdbva up
	ip -n $b link set pdbvb up
	if [ "$kind" = kernel ]; then
		ip -n $a link add pdbwa type wireguard
		ip -n $b link add pdbwb type wireguard
	else
		ip netns exec $a "$build/podwire-wg" pdbwa
		ip netns exec $b "$build/podwire-wg" pdbwb
		for _ in $(seq 50); do [ -S /var/run/wireguard/pdbwb.sock ] && break; sleep 0.1; done
	fi
	"$ctl" genkey >"$tmp/ka"
	"$ctl" genkey >"$tmp/kb"
	ka=$("$ctl" pubkey <"$tmp/ka")
	kb=$("$ctl" pubkey <"$tmp/kb")
	ip netns exec $a "$ctl" set pdbwa private-key "$tmp/ka" listen-port 51820 peer "$kb" endpoint 192.168.93.2:51820 allowed-ips 10.93.0.2/32
	ip netns exec $b "$ctl" set pdbwb private-key "$tmp/kb" listen-port 51820 peer "$ka" endpoint 192.168.93.1:51820 allowed-ips 10.93.0.1/32
	ip -n $a addr add 10.93.0.1/24 dev pdbwa
	ip -n $b addr add 10.93.0.2/24 dev pdbwb
	ip -n $a link set pdbwa up
	ip -n $b link set pdbwb up
	ip netns exec $b iperf3 -s -1 -B 10.93.0.2 >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do ip netns exec $b ss -ltn | grep -q 10.93.0.2:5201 && break; sleep 0.2; done
	out=$(ip netns exec $a iperf3 -c 10.93.0.2 -t "$secs" -J)
	ip -n $a link del pdbwa
	ip -n $b link del pdbwb 2>/dev/null || true
	ip netns del $a
	ip netns del $b
	echo "$out" | python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}
echo "== throughput (iperf3 ${secs}s, one TCP stream, same VM)"
k=$(tunnel kernel)
echo "kernel <-> kernel:          $k Mbit/s"
u=$(tunnel podwire-wg)
echo "podwire-wg <-> podwire-wg:  $u Mbit/s"
printf 'ratio podwire-wg / kernel:  %.2f\n' "$(echo "scale=4; $u / $k" | bc)"
