#!/bin/bash
# bench/flood.sh — a handshake-initiation flood at a WireGuard responder while an established
# session carries iperf3, for each implementation in the same run:
#   pf-a ==(tunnel, iperf3 TCP A->B)==> pf-b <== flood (bench/flood.c) == pf-f
# A and B run the implementation under test over a veth; F reaches B's UDP port over a veth
# of its own and sends initiations (148 bytes, type 1) at BENCH_FLOOD_PPS (30000) per second
# from BENCH_FLOOD_SOURCES (4096) addresses of 10.97.0.0/16 (a local route in F, routed back
# to F by B) for BENCH_FLOOD_SECONDS (6) in the middle of a BENCH_FLOOD_PRE (4) + flood +
# BENCH_FLOOD_POST (3) second iperf3 run. Each flood runs with a valid mac1 (it reaches the
# DH work unless the responder asks for a cookie) and with an invalid one (the cheap drop)
# — BENCH_FLOOD_MODES ("valid invalid"). During the flood a legitimate peer C (a peer of B)
# starts a real handshake from F every 500 ms and uses the cookie at once when it gets one.
# Reported per implementation and mode: iperf3 before / during / after the flood and the drop,
# the flood's achieved send rate, when the first cookie reply reached F and how many came
# back per second, C's handshakes that completed and how long they took, the CPU the B
# daemon used during the flood (userspace only) and the machine's busy CPU, and whether the
# A-B session lived through it (its handshake time on B unchanged, no second without data).
# Then podwire-wg's numbers against each other implementation measured in this run.
# BENCH_FLOOD_IPERF=0: no iperf3, the flood alone (the daemon's CPU is then the flood's cost).
# Usage: bench/flood.sh [IMPL...]   IMPL: podwire-wg wireguard-go kernel (default: podwire-wg
#        wireguard-go); bench/flood.sh --vm [IMPL...]: the same inside hack/vm.sh's VM
#        (default there: kernel podwire-wg, so the kernel's numbers have an anchor, and
#        BENCH_FLOOD_PPS 1500: a rate the VM reaches with either).
#        IMPL podwire-wg:PATH runs another podwire-wg binary (an older build: before/after).
# Needs root, wg, iperf3 (and wireguard-go / the wireguard module for those). Not a test: it
# never fails on speed. The machine may run other work: compare numbers within one run.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PODWIRE_BUILD:-$PWD/${BUILD:-build}}
if [ "${1:-}" = --vm ]; then
	shift
	export PODWIRE_BUILD=$BUILD_DIR
	[ $# -gt 0 ] || set -- kernel podwire-wg
	# Under TCG the VM runs some 50 times slower, and at 30000 a second the kernel's flooder
	# (whose sends carry the kernel's receive work) reaches far less than podwire-wg's.
	export BENCH_FLOOD_PPS=${BENCH_FLOOD_PPS:-1500}
	exec hack/vm.sh bench/flood.sh "$@"
fi
IMPLS=("$@")
[ ${#IMPLS[@]} -gt 0 ] || IMPLS=(podwire-wg wireguard-go)
PPS=${BENCH_FLOOD_PPS:-30000} SOURCES=${BENCH_FLOOD_SOURCES:-4096} FSECS=${BENCH_FLOOD_SECONDS:-6}
PRE=${BENCH_FLOOD_PRE:-4} POST=${BENCH_FLOOD_POST:-3} MODES=${BENCH_FLOOD_MODES:-valid invalid}
IPERF=${BENCH_FLOOD_IPERF:-1}
[ "$(id -u)" = 0 ] || { echo "bench/flood.sh: needs root"; exit 1; }
[ -x "$BUILD_DIR/podwire-wg" ] && [ -f "$BUILD_DIR/libdatapath-userspace.a" ] ||
	{ echo "bench/flood.sh: build podwire-wg first ($BUILD_DIR)"; exit 1; }
for c in wg iperf3 python3 cc; do
	command -v $c >/dev/null || { echo "bench/flood.sh: needs $c"; exit 1; }
done
for i in "${IMPLS[@]}"; do
	case $i in
	podwire-wg) ;;
	podwire-wg:*) [ -x "${i#podwire-wg:}" ] || { echo "bench/flood.sh: ${i#podwire-wg:}: not an executable"; exit 1; } ;;
	wireguard-go) command -v wireguard-go >/dev/null || { echo "bench/flood.sh: needs wireguard-go"; exit 1; } ;;
	kernel) modprobe wireguard 2>/dev/null || { echo "bench/flood.sh: no wireguard kernel module (try --vm)"; exit 1; } ;;
	*) echo "bench/flood.sh: $i: not an implementation (podwire-wg, wireguard-go, kernel)"; exit 1 ;;
	esac
done
[ "$SOURCES" -ge 1 ] && [ "$SOURCES" -le 60000 ] || { echo "bench/flood.sh: BENCH_FLOOD_SOURCES: 1..60000"; exit 1; }

A=pf-a B=pf-b F=pf-f TMP=$(mktemp -d /tmp/pf-flood-XXXXXX)
PIDS=() IPERF_PIDS=()
cleanup() {
	set +e
	for p in "${PIDS[@]}" "${IPERF_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" "${IPERF_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip -n $A link del pfw0 2>/dev/null; ip -n $B link del pfw1 2>/dev/null
	for n in $A $B $F; do ip netns del $n 2>/dev/null; done
	rm -f /var/run/wireguard/pfw0.sock /var/run/wireguard/pfw1.sock
	rm -rf "$TMP"
}
trap cleanup EXIT
umask 077
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$TMP/flood" bench/flood.c "$BUILD_DIR/libdatapath-userspace.a" \
	"$BUILD_DIR/liblib.a" $(pkg-config --cflags --libs libsodium) || exit 1

modprobe tun 2>/dev/null || true # userspace implementations (in the VM nothing loads it first)
for n in $A $B $F; do ip netns add $n || exit 1; ip -n $n link set lo up; done
ip link add pf-va netns $A type veth peer name pf-vb netns $B
ip link add pf-vf netns $F type veth peer name pf-vfb netns $B
ip -n $A addr add 10.96.0.1/24 dev pf-va; ip -n $B addr add 10.96.0.2/24 dev pf-vb
ip -n $F addr add 10.96.1.2/24 dev pf-vf; ip -n $F addr add 10.96.1.3/24 dev pf-vf
ip -n $B addr add 10.96.1.1/24 dev pf-vfb
for l in "$A pf-va" "$B pf-vb" "$F pf-vf" "$B pf-vfb"; do ip -n ${l% *} link set ${l#* } up; done
# The flood's sources: any address of 10.97.0.0/16 is F's own, and B routes them back to F.
ip -n $F route add local 10.97.0.0/16 dev lo
ip -n $B route add 10.97.0.0/16 via 10.96.1.2
for k in a b c; do wg genkey >"$TMP/$k.key"; wg pubkey <"$TMP/$k.key" >"$TMP/$k.pub"; done
echo "$(cat "$TMP/c.key") $(cat "$TMP/c.pub")" >"$TMP/c.pair"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# busy and total jiffies of the whole machine
machine() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }

# start IMPL: pfw0 in A and pfw1 in B, keys set, addresses up, the A-B session established.
# Sets $pb (B's daemon, empty for the kernel).
start() {
	local impl=$1 bin pa
	pb=
	if [ "$impl" = kernel ]; then
		ip -n $A link add pfw0 type wireguard && ip -n $B link add pfw1 type wireguard || return 1
	else
		bin=$BUILD_DIR/podwire-wg
		[[ $impl == podwire-wg:* ]] && bin=${impl#podwire-wg:}
		[ "$impl" = wireguard-go ] && bin=$(command -v wireguard-go)
		ip netns exec $A "$bin" -f pfw0 >"$TMP/${impl//\//_}-a.log" 2>&1 & pa=$!
		ip netns exec $B "$bin" -f pfw1 >"$TMP/${impl//\//_}-b.log" 2>&1 & pb=$!
		PIDS=($pa $pb)
		for _ in $(seq 600); do
			[ -S /var/run/wireguard/pfw0.sock ] && [ -S /var/run/wireguard/pfw1.sock ] && break
			sleep 0.05
		done
		[ -S /var/run/wireguard/pfw0.sock ] && [ -S /var/run/wireguard/pfw1.sock ] || {
			echo "bench/flood.sh: $impl did not start: $(cat "$TMP/${impl//\//_}"-[ab].log)" >&2
			return 1
		}
	fi
	ip netns exec $A wg set pfw0 private-key "$TMP/a.key" listen-port 51820 \
		peer "$(cat "$TMP/b.pub")" endpoint 10.96.0.2:51820 allowed-ips 10.99.0.2/32 || return 1
	ip netns exec $B wg set pfw1 private-key "$TMP/b.key" listen-port 51820 \
		peer "$(cat "$TMP/a.pub")" endpoint 10.96.0.1:51820 allowed-ips 10.99.0.1/32 \
		peer "$(cat "$TMP/c.pub")" allowed-ips 10.99.0.3/32 || return 1
	ip -n $A addr add 10.99.0.1/24 dev pfw0; ip -n $B addr add 10.99.0.2/24 dev pfw1
	ip -n $A link set pfw0 mtu 1420 up; ip -n $B link set pfw1 mtu 1420 up
	for _ in $(seq 10); do ip netns exec $A ping -c 1 -W 1 10.99.0.2 >/dev/null 2>&1 && return 0; done
	echo "bench/flood.sh: $impl: tunnel A-B did not come up" >&2
	return 1
}
stop() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	ip -n $A link del pfw0 2>/dev/null; ip -n $B link del pfw1 2>/dev/null
	for _ in $(seq 100); do [ -S /var/run/wireguard/pfw0.sock ] || [ -S /var/run/wireguard/pfw1.sock ] || break; sleep 0.05; done
}
a_handshake() { ip netns exec $B wg show pfw1 latest-handshakes | awk -v k="$(cat "$TMP/a.pub")" '$1 == k {print $2}'; }

# phase IMPL MODE PORT: one iperf3 run with the flood in its middle; writes $TMP/IMPL-MODE.res.
phase() {
	local impl=$1 mode=$2 port=$3 srv cli hs0 hs1 c0=0 c1=0 m0 m1 flags=() res=$TMP/${1//\//_}-$2.res
	[ "$mode" = invalid ] && flags=(-b)
	rm -f "$TMP/iperf.json"
	if [ "$IPERF" = 1 ]; then
		ip netns exec $B iperf3 -s -1 -p "$port" >/dev/null 2>&1 & srv=$!
		for _ in $(seq 100); do ip netns exec $B ss -ltn 2>/dev/null | grep -q ":$port " && break; sleep 0.05; done
		ip netns exec $A iperf3 -c 10.99.0.2 -p "$port" -t $((PRE + FSECS + POST)) -i 1 -J >"$TMP/iperf.json" 2>/dev/null & cli=$!
		IPERF_PIDS=($srv $cli)
	fi
	hs0=$(a_handshake)
	sleep "$PRE"
	[ -n "$pb" ] && c0=$(cpu_ticks "$pb")
	m0=$(machine)
	ip netns exec $F "$TMP/flood" "${flags[@]}" -k "$TMP/c.pair" -l 10.96.1.3 "$(cat "$TMP/b.pub")" \
		10.96.1.1 51820 10.97.1.1 "$SOURCES" "$PPS" "$FSECS" >"$TMP/flood.out" 2>&1
	[ -n "${BENCH_FLOOD_DEBUG:-}" ] && cat "$TMP/flood.out" >&2
	m1=$(machine)
	[ -n "$pb" ] && c1=$(cpu_ticks "$pb")
	[ "$IPERF" = 1 ] && { wait $cli; wait $srv; IPERF_PIDS=(); }
	hs1=$(a_handshake)
	{
		echo "flood $(tail -1 "$TMP/flood.out")"
		echo "cpu $((c1 - c0)) $(getconf CLK_TCK) ${pb:+daemon}"
		echo "machine $m0 $m1"
		echo "handshake ${hs0:-0} ${hs1:-0}"
	} >"$res"
	python3 - "$TMP/iperf.json" "$PRE" "$FSECS" >>"$res" <<'PY'
import json, sys
pre, fl = int(sys.argv[2]), int(sys.argv[3])
try:
    iv = [i["sum"]["bits_per_second"] / 1e6 for i in json.load(open(sys.argv[1]))["intervals"]]
except Exception:
    iv = []
print("iperf " + " ".join("%.1f" % x for x in iv))
PY
}

echo "flood: ${PPS} initiations/s from $SOURCES sources for ${FSECS}s inside a $((PRE + FSECS + POST))s iperf3 run" \
	"(one TCP stream A->B, tunnel MTU 1420), $(nproc) CPUs (shared machine: other work may run at the same time)"
port=5400
for impl in "${IMPLS[@]}"; do
	if ! start "$impl"; then
		stop
		continue
	fi
	for mode in $MODES; do
		port=$((port + 1))
		phase "$impl" "$mode" $port
	done
	stop
done

python3 - "$TMP" "$PRE" "$FSECS" "$MODES" "${IMPLS[@]}" <<'PY'
import os, statistics, sys
tmp, pre, fl, modes, impls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5:]

def load(impl, mode):
    path = os.path.join(tmp, "%s-%s.res" % (impl.replace("/", "_"), mode))
    if not os.path.exists(path):
        return None
    d = {}
    for line in open(path):
        k, *v = line.split()
        d[k] = v
    r = {"flood": dict(kv.split("=", 1) for kv in d.get("flood", []) if "=" in kv)}
    iv = [float(x) for x in d.get("iperf", [])]
    mean = lambda v: statistics.mean(v) if v else float("nan")
    # Interval 0 is slow start; the flood's first second shows the time before cookies.
    r["base"] = mean(iv[1:pre])
    r["during"] = mean(iv[pre:pre + fl])
    r["min"] = min(iv[pre:pre + fl]) if iv[pre:pre + fl] else float("nan")
    r["after"] = mean(iv[pre + fl + 1:])
    r["drop"] = 100 * (1 - r["during"] / r["base"]) if r["base"] else float("nan")
    ticks, hz = int(d["cpu"][0]), int(d["cpu"][1])
    r["cpu"] = ticks / hz / fl if len(d["cpu"]) > 2 else None
    b0, t0, b1, t1 = (int(x) for x in d["machine"])
    r["busy"] = 100 * (b1 - b0) / (t1 - t0) if t1 > t0 else float("nan")
    hs0, hs1 = d["handshake"]
    r["session"] = "-" if not iv else "kept" if hs0 == hs1 and hs0 != "0" and iv and min(iv[1:]) > 0 else \
        ("rekeyed" if hs0 != hs1 else "stalled")
    return r

rows = {(i, m): load(i, m) for i in impls for m in modes}
# podwire-wg:PATH is shown by the directory of PATH (e.g. build-before)
label = lambda i: os.path.basename(os.path.dirname(i.split(":", 1)[1])) if i.startswith("podwire-wg:") else i
print("%-13s %-7s %8s %8s %6s %8s %8s %8s %9s %8s %8s %5s %7s %5s %5s %s" % (
    "", "mac1", "base", "flood", "drop", "min 1s", "after", "sent/s", "1st cookie", "cookie/s",
    "C hs ok", "C ck", "C p50", "CPU", "busy", "session"))
print("%-13s %-7s %8s %8s %6s %8s %8s %8s %9s %8s %8s %5s %7s %5s %5s" % (
    "", "", "Mb/s", "Mb/s", "%", "Mb/s", "Mb/s", "", "ms", "", "", "", "ms", "cores", "%"))
for (impl, mode), r in rows.items():
    if not r:
        print("%-13s %-7s (did not run)" % (label(impl), mode))
        continue
    f = r["flood"]
    cps = [int(x) for x in f.get("cookies_per_s", "0").split(",") if x]
    print("%-13s %-7s %8.0f %8.0f %6.1f %8.0f %8.0f %8s %9s %8.0f %8s %5s %7s %5s %5.0f %s" % (
        label(impl), mode, r["base"], r["during"], r["drop"], r["min"], r["after"], f.get("send_pps", "?"),
        f.get("first_cookie_ms", "?"), statistics.mean(cps[1:]) if len(cps) > 1 else float(cps[0] if cps else 0),
        "%s/%s" % (f.get("legit_ok", "?"), f.get("legit_attempts", "?")), f.get("legit_cookies", "?"),
        f.get("legit_ms_p50", "?"),
        "%.2f" % r["cpu"] if r["cpu"] is not None else "-", r["busy"], r["session"]))
print("base/flood/after: iperf3 1 s intervals before (the first left out), during and after (the first left out)"
      " the flood; cookie/s: replies F received per second after the flood's first; C hs ok: the legitimate peer's"
      " handshakes completed / started (a cookie is used at once), C ck: cookie replies it got; CPU: B's daemon during the flood, cores; busy:"
      " the whole machine")
if "podwire-wg" in impls:
    for other in impls:
        if other == "podwire-wg":
            continue
        for mode in modes:
            p, o = rows.get(("podwire-wg", mode)), rows.get((other, mode))
            if not p or not o:
                continue
            ratio = lambda a, b: a / b if b else float("nan")
            print("ratio podwire-wg / %s, %s mac1: throughput during the flood %.2f; kept of its own baseline %.2f vs %.2f" % (
                label(other), mode, ratio(p["during"], o["during"]), ratio(p["during"], p["base"]), ratio(o["during"], o["base"])))
PY
