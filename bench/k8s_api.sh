#!/bin/bash
# bench/k8s_api.sh — what podwired costs the Kubernetes API server in steady state, before
# (the binaries of the commit before the informer cache: list every Node twice per reconcile)
# and after (paginated list once, then a watch feeding a cache), in one run.
#
# For each cluster size in BENCH_K8S_NODES ("10 1000"), one after the other, and each of the two
# builds at the same time: the API EMULATOR (tests/k8s_api_emulator.py) holds that many Nodes besides 3 real ones,
# each of them the size of a real Node (conditions, addresses, images: about 4 KiB), and a
# kubelet-like writer reports every Node's status once per 5 minutes (kubelet's
# nodeStatusReportFrequency), as MODIFIED events. 3 podwired run with their defaults (resync
# 30 s, heartbeat 30 s) on the topology of the integration tests (tests/integration/lib). After
# they meshed and settled, the emulator's counters of requests and bytes sent to each podwired
# are read over BENCH_K8S_SECONDS (320: one watch renewal of 300 s falls in the window) and
# printed per node per hour, and the ratio before/after. The goal: requests independent of the
# cluster's size, and bytes growing only with the changes that happen, not with
# size x reconciles.
#
# The old build: BENCH_K8S_OLD_BUILD (a build directory), or else the commit before the one that
# added mesh/kube_cache.c, built from `git archive` in a temporary directory. Needs root, python3, openssl, curl.
# Not a test: it never fails on numbers.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
SIZES=${BENCH_K8S_NODES:-10 1000} SECS=${BENCH_K8S_SECONDS:-320}
[ "$(id -u)" = 0 ] || { echo "bench/k8s_api.sh: needs root"; exit 1; }

if [ "${1:-}" = --one ]; then # --one NAME BUILD_DIR FAKE_NODES NET PORT: one cluster, prints RESULT
	name=$2 fakes=$4 NET=$5 PORT=$6 T=$2
	export PODWIRE_BUILD=$3
	source tests/integration/lib/common.bash
	source tests/integration/lib/k8s_emu.bash
	cluster_init
	k8s_emu_init
	for i in 1 2 3; do openssl rand -hex 24; done >"$W/tokens"
	python3 - "$W/api-state.json" "$fakes" "$NET" <<-'PY'
	import json, sys
	path, n, net = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	def node(name, i, cidr=None):
	    return {"kind": "Node", "apiVersion": "v1",
	            "metadata": {"name": name, "resourceVersion": "1", "uid": "%032x" % i,
	                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
	                                    "node.kubernetes.io/instance-type": "m5.large",
	                                    "topology.kubernetes.io/zone": "zone-%d" % (i % 3)},
	                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
	                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
	            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {"providerID": "aws:///zone/i-%x" % i},
	            "status": {"conditions": [{"type": t, "status": "False" if t != "Ready" else "True",
	                                       "lastHeartbeatTime": "2026-01-01T00:00:00Z",
	                                       "lastTransitionTime": "2026-01-01T00:00:00Z",
	                                       "reason": "Kubelet" + t, "message": "kubelet reports " + t}
	                                      for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
	                       "addresses": [{"type": "InternalIP", "address": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)},
	                                     {"type": "Hostname", "address": name}],
	                       "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
	                       "allocatable": {"cpu": "1930m", "memory": "7Gi", "pods": "110"},
	                       "nodeInfo": {"kubeletVersion": "v1.30.0", "containerRuntimeVersion": "containerd://1.7.0",
	                                    "osImage": "Debian GNU/Linux 12 (bookworm)", "architecture": "amd64"},
	                       "images": [{"names": ["registry.example/image-%d@sha256:%064x" % (k, k),
	                                             "registry.example/image-%d:v%d" % (k, k)], "sizeBytes": 10000000 + k}
	                                  for k in range(12)]}}
	nodes = {f"n{i}": node(f"n{i}", i, f"10.244.{i}.0/24") for i in (1, 2, 3)}
	nodes.update({f"k{i:05d}": node(f"k{i:05d}", 1000 + i) for i in range(n)})
	json.dump({"rv": 2, "nodes": nodes}, open(path, "w"))
	PY
	emu_start
	for i in 1 2 3; do node_ns $i; TOKEN=$(sed -n "${i}p" "$W/tokens") kube_start $i --resync 30 --heartbeat 30; done
	for i in 1 2 3; do wait_until 180 has_peers $i 2 || fail "$name: n$i has $(peers_of $i) peers, want 2"; done
	# kubelet's status reports: each fake Node once per 300 s, spread over the window.
	(
		gap=$(python3 -c "print(300 / $fakes)") k=0
		while :; do
			api POST "/emulator/status/k$(printf %05d $((k % fakes)))" >/dev/null 2>&1; k=$((k + 1))
			sleep "$gap"
		done
	) &
	writer=$!
	at_exit kill "$writer"
	sleep 30 # settle: the start's lists and patches are not steady state
	stats() { api GET /emulator/stats; }
	before=$(stats)
	sleep "$SECS"
	after=$(stats)
	python3 - "$name" "$fakes" "$SECS" "$before" "$after" <<-'PY'
	import json, sys
	name, fakes, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	b, a = json.loads(sys.argv[4]), json.loads(sys.argv[5])
	req = sum(a.get(t, {}).get("requests", 0) - b.get(t, {}).get("requests", 0) for t in "123")
	byt = sum(a.get(t, {}).get("bytes", 0) - b.get(t, {}).get("bytes", 0) for t in "123")
	print(f"RESULT {name} {fakes + 3} {req * 3600 / secs / 3:.1f} {byt * 3600 / secs / 3 / 1e6:.2f}")
	PY
	for i in 1 2 3; do has_peers $i 2 || fail "$name: n$i lost its peers"; done
	exit 0
fi

TMP=$(mktemp -d /tmp/pk-bench.XXXXXX)
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
new_build=${PODWIRE_BUILD:-$top/${BUILD:-build}}
[ -x "$new_build/podwired" ] || { echo "bench/k8s_api.sh: build podwired first ($new_build)"; exit 1; }
old_build=${BENCH_K8S_OLD_BUILD:-}
if [ -z "$old_build" ]; then
	first=$(git log --diff-filter=A --format=%H -- mesh/kube_cache.c | tail -1)
	[ -n "$first" ] || { echo "bench/k8s_api.sh: no commit adds mesh/kube_cache.c: give BENCH_K8S_OLD_BUILD"; exit 1; }
	echo "old build: $(git log -1 --format='%h %s' "$first^") (built in $TMP/old)"
	mkdir "$TMP/old" && git archive "$first^" | tar -x -C "$TMP/old" || exit 1
	make -C "$TMP/old" -s -j2 BUILD=build build/podwired build/podwirectl build/podwire-wg >"$TMP/old-build.log" 2>&1 ||
		{ tail -20 "$TMP/old-build.log"; exit 1; }
	old_build=$TMP/old/build
fi
echo "new build: $(git log -1 --format='%h %s')"
echo "$SECS s of steady state per cluster; for each size, the two builds at the same time"
net=244 port=16644 n=0 rc=0
for size in $SIZES; do
	pids=()
	for v in old new; do
		b=$old_build; [ $v = new ] && b=$new_build
		"$top/bench/k8s_api.sh" --one "pk$v${n}" "$b" "$size" $((net + n)) $((port + n)) >"$TMP/$v-$size.out" 2>&1 &
		pids+=($!); n=$((n + 1))
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
done
for size in $SIZES; do
	for v in old new; do
		r=$(grep "^RESULT " "$TMP/$v-$size.out")
		if [ -z "$r" ]; then echo "$v $size: failed:"; tail -15 "$TMP/$v-$size.out"; rc=1; continue; fi
		echo "$v $size ${r#RESULT * }"
	done
done >"$TMP/results"
python3 - "$TMP/results" <<'PY'
import sys
rows = {}
print(f"{'build':8} {'nodes':>6} {'requests/node/h':>16} {'MB/node/h':>10}")
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 5:
        print(line, end="")
        continue
    v, size, nodes, req, mb = f[0], f[1], f[2], float(f[3]), float(f[4])
    rows[v, size] = (req, mb)
    print(f"{v:8} {nodes:>6} {req:16.1f} {mb:10.2f}")
for size in dict.fromkeys(s for _, s in rows):
    if ("old", size) in rows and ("new", size) in rows:
        (ro, mo), (rn, mn) = rows["old", size], rows["new", size]
        ratio = lambda o, n: f"{o / n:.1f}x" if n else "inf"
        print(f"{int(size) + 3} Nodes: before/after = {ratio(ro, rn)} requests, {ratio(mo, mn)} bytes")
PY
exit $rc
