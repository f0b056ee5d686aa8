#!/bin/bash
# bench/cni.sh — ADD and DEL latency of podwire+podwire-ipam against the reference
# ptp+host-local, same machine, same run, same pod namespaces: 200 pods ADDed one after the
# other (so state grows as on a busy node), then DELed; p50/p99 per verb and for ADD+DEL, and
# the ratio. Each invocation is timed around the plugin process alone (a driver inside the host
# namespace spawns it), so netns setup and driver overhead are not counted for either side.
# Usage: bench/cni.sh [PODS]   (default 200; BUILD=... picks the build directory)
set -eu
[ "$(id -u)" -eq 0 ] || { echo "bench/cni.sh: needs root (network namespaces)"; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
B=${PODWIRE_BUILD:-$top/${BUILD:-build}}
N=${1:-200}
for p in "$B/podwire" "$B/podwire-ipam" /usr/lib/cni/ptp /usr/lib/cni/host-local; do
	[ -x "$p" ] || { echo "bench/cni.sh: missing $p"; exit 1; }
done
W=$(mktemp -d /tmp/pc-bench.XXXXXX)
HOST=pc-bh-$$
cleanup() {
	for i in $(seq "$N"); do ip netns del pc-bp$i-$$ 2>/dev/null; done
	ip netns del "$HOST" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/bin"
ln -s "$B/podwire" "$B/podwire-ipam" /usr/lib/cni/ptp /usr/lib/cni/host-local "$W/bin/"
ip netns add "$HOST"
ip -n "$HOST" link set lo up
ip -n "$HOST" link add pcwg0 mtu 1380 type veth peer name pcwg0p
ip -n "$HOST" link set pcwg0 up
for i in $(seq "$N"); do ip netns add pc-bp$i-$$; done

ip netns exec "$HOST" python3 - "$W" "$N" "$$" <<'PY'
import json, os, subprocess, sys, time
w, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ranges = lambda net: [[{"subnet": net}]]
confs = {
    "podwire+podwire-ipam": {"cniVersion": "1.0.0", "name": "pc-bench-pw", "type": "podwire",
        "interface": "pcwg0", "vethPrefix": "pc", "logFile": w + "/cni.log",
        "ipam": {"type": "podwire-ipam", "dataDir": w + "/ipam", "ranges": ranges("10.219.0.0/24"),
                 "routes": [{"dst": "0.0.0.0/0"}]}},
    "ptp+host-local": {"cniVersion": "1.0.0", "name": "pc-bench-ptp", "type": "ptp", "ipMasq": False,
        "mtu": 1380,
        "ipam": {"type": "host-local", "dataDir": w + "/hl", "ranges": ranges("10.220.0.0/24"),
                 "routes": [{"dst": "0.0.0.0/0"}]}},
}

def run(plugin, verb, conf, i):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PODWIRE_CNI_LOG_DIR": w, "CNI_COMMAND": verb, "CNI_CONTAINERID": f"bench{i}",
           "CNI_NETNS": f"/var/run/netns/pc-bp{i}-{tag}", "CNI_IFNAME": "eth0", "CNI_PATH": w + "/bin"}
    t0 = time.perf_counter()
    p = subprocess.run([w + "/bin/" + plugin], input=conf, env=env, capture_output=True)
    dt = time.perf_counter() - t0
    if p.returncode:
        sys.exit(f"{plugin} {verb} pod {i} failed: {p.stdout.decode()} {p.stderr.decode()}")
    return dt * 1000

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]

res = {}
for name, conf in confs.items():
    plugin = conf["type"]
    text = json.dumps(conf).encode()
    add = [run(plugin, "ADD", text, i) for i in range(1, n + 1)]
    dele = [run(plugin, "DEL", text, i) for i in range(1, n + 1)]
    both = [a + d for a, d in zip(add, dele)]
    res[name] = (add, dele, both)

print(f"CNI latency over {n} pods (ms; ADD all, then DEL all; plugin process only)")
print(f"{'plugin':24} {'ADD p50':>8} {'ADD p99':>8} {'DEL p50':>8} {'DEL p99':>8} {'A+D p50':>8} {'A+D p99':>8}")
for name, (add, dele, both) in res.items():
    print(f"{name:24} {pct(add,50):8.2f} {pct(add,99):8.2f} {pct(dele,50):8.2f} {pct(dele,99):8.2f} "
          f"{pct(both,50):8.2f} {pct(both,99):8.2f}")
pw, ref = res["podwire+podwire-ipam"][2], res["ptp+host-local"][2]
print(f"ratio ptp+host-local / podwire (ADD+DEL): p50 {pct(ref,50)/pct(pw,50):.2f}x, p99 {pct(ref,99)/pct(pw,99):.2f}x "
      f"(>1 means podwire is faster)")
PY
