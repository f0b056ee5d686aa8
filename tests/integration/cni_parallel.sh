#!/bin/bash
# cni_parallel.sh — 100 podwire ADDs at once (separate processes, one /24) must hand out 100
# distinct addresses (the IPAM's flock), and 100 DELs at once must leave no reservation file,
# no veth and no host route; 20 rounds, as the issue asks (PC_PARALLEL_ROUNDS overrides).
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-ph-$$
cni_setup_host
# Measured on 2 cores: 20 rounds in 17 s (-O2 build), one round in 2.6 s under ASan.
ROUNDS=${PC_PARALLEL_ROUNDS:-20}
N=100
net=pc-par
conf=$W/conf.json
conf_make "$conf" 1.1.0 "$net" '[[{"subnet":"10.213.0.0/24"}]]'
# The pod namespaces are made once and reused: the subject here is the plugin, not netns setup.
for i in $(seq $N); do netns_add pc-pp$i-$$; done
t0=$(date +%s.%N)
for round in $(seq "$ROUNDS"); do
	pids=()
	for i in $(seq $N); do
		cni_run ADD c$round-$i pc-pp$i-$$ eth0 "$conf" "$W/r$i.json" & pids+=($!)
	done
	for i in $(seq $N); do wait "${pids[$((i - 1))]}" || { cat "$W/r$i.json"; fail "round $round: ADD $i failed"; }; done
	addrs=$(python3 -c 'import json,sys; print(len({json.load(open(f))["ips"][0]["address"] for f in sys.argv[1:]}))' "$W"/r*.json)
	[ "$addrs" = $N ] || fail "round $round: $addrs distinct addresses for $N pods"
	files=$(ls "$W/ipam/$net" | grep -c '^10\.')
	[ "$files" = $N ] || fail "round $round: $files reservation files for $N pods"
	[ "$(host_veths | wc -l)" = $N ] || fail "round $round: $(host_veths | wc -l) veths for $N pods"
	rm -f "$W"/r*.json
	pids=()
	for i in $(seq $N); do
		cni_run DEL c$round-$i pc-pp$i-$$ eth0 "$conf" "$W/d$i.json" & pids+=($!)
	done
	for i in $(seq $N); do wait "${pids[$((i - 1))]}" || { cat "$W/d$i.json"; fail "round $round: DEL $i failed"; }; done
	left=$(ls "$W/ipam/$net" | grep -c '^10\.')
	[ "$left" = 0 ] || fail "round $round: $left reservation files left after DEL"
	[ -z "$(host_veths)" ] || fail "round $round: veths left: $(host_veths | head -3)"
	ip -n "$HOST" route | grep -q ' dev pc' && fail "round $round: host routes left"
	for i in 1 $N; do ip -n pc-pp$i-$$ link show eth0 >/dev/null 2>&1 && fail "round $round: eth0 left in pod $i"; done
	echo "round $round: $N distinct addresses, all released"
done
t1=$(date +%s.%N)
echo "cni_parallel: $ROUNDS rounds x ($N parallel ADD + $N parallel DEL) in $(echo "$t1 - $t0" | bc) s"
