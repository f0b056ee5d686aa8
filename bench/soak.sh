#!/bin/bash
# bench/soak.sh — a long run of a 3-node cluster under churn, watching for slow leaks.
#   Three nodes (network namespaces on one bridge, the integration tests' cluster: podwired
#   with its podwire-wg datapath on a shared file store), each with one long-lived pod; the
#   real CNI plugin `podwire` with `podwire-ipam` wires every pod, driven through the CNI_*
#   environment as a runtime does. For SOAK_SECONDS (1800):
#    - pod churn: SOAK_CHURN (5) ADD+DEL pairs per second, spread round-robin over the nodes;
#      each churn pod is a namespace of its own, created before its ADD and deleted after its
#      DEL; about SOAK_LIVE (15) churn pods are alive at any time (the oldest is DELed when a
#      new one is ADDed), and every ADD's address is checked against all live pods;
#      every 10th new pod is pinged from another node's long-lived pod;
#    - a node restart every SOAK_RESTART (120) seconds, round-robin over the nodes, SIGTERM
#      and SIGKILL in turn, then podwired again with the same state dir (key, addresses);
#    - iperf3 in a ring between the long-lived pods (each at SOAK_IPERF_RATE, 20M, port 5790),
#      restarted when it exits early (counted), and a ping every 0.2 s in the same ring.
#   RSS and open fds of every podwired and podwire-wg are sampled every 10 s. What is compared:
#   each process at warm-up (the first sample at age >= SOAK_WARM, 30 s) against its last
#   sample; and, since podwired restarts, each node's first podwired against its last one at
#   the same age (the warm-up sample of each). Growth past SOAK_FD_SLACK (2) fds or past
#   SOAK_RSS_PCT (20) % + SOAK_RSS_SLACK_KB (4096) KiB counts as a leak.
#   After the run every churn pod is DELed and the nodes are searched for what is left: veths,
#   pod routes, namespaces, IPAM files. Ping loss is reported overall and outside the restart
#   windows (a node's stop until 10 s after its podwired is ready again).
# Exit 1 on a leak, a duplicate address, a failed or stuck (SOAK_CNI_TIMEOUT, 30 s) ADD/DEL,
# a daemon that died by itself, or growth past the thresholds; never on speed or on ping loss.
# Names: namespaces pn-soak-*, links pnsoakw* and psk* inside them, underlay 192.168.241.0/24,
# iperf3 port 5790: no test or bench uses them, so it needs no test lock.
# Needs root, iperf3, ping (iputils), python3. PODWIRE_BUILD picks the build (e.g. build-asan);
# PODWIRE_TEST_KEEP=1 keeps the work directory with every log.
set -uo pipefail
T=soak NET=241
source "$(dirname "$0")/../tests/integration/lib/common.bash"

SECS=${SOAK_SECONDS:-1800} CHURN=${SOAK_CHURN:-5} RESTART=${SOAK_RESTART:-120} LIVE_N=${SOAK_LIVE:-15}
RATE=${SOAK_IPERF_RATE:-20M} PORT=${SOAK_IPERF_PORT:-5790} WARM=${SOAK_WARM:-30}
FD_SLACK=${SOAK_FD_SLACK:-2} RSS_PCT=${SOAK_RSS_PCT:-20} RSS_SLACK=${SOAK_RSS_SLACK_KB:-4096}
CNI_TIMEOUT=${SOAK_CNI_TIMEOUT:-30}
N=3 VP=psk NETNAME=podwire-soak
require_root
require_cmd iperf3 ping python3 timeout
require_built podwired podwirectl podwire podwire-ipam podwire-wg

now_us() { echo "${EPOCHREALTIME/./}"; }
T0_EPOCH=$EPOCHREALTIME T0=${EPOCHREALTIME/./}
rel() { local t; t=$(now_us); echo "$(((t - T0) / 1000000)).$(printf '%03d' $(((t - T0) / 1000 % 1000)))"; } # seconds since T0
note() { echo "[$(rel)] $*"; }

# ---- the cluster: the integration tests' nodes, and the CNI config podwired writes -----------
cluster_init
echo "$T0_EPOCH" >"$W/t0"
# Whatever stops the soak: the churn pods' namespaces go too (before the nodes').
at_exit 'for ns in $(ip netns list | awk "{print \$1}" | grep -E "^pn-$T-n[0-9]+-c[0-9]+\$"); do ip netns del "$ns"; done'
for i in $(seq $N); do node_ns "$i"; done
mkdir -p "$CNI_BIN"
ln -sf "$B/podwire" "$B/podwire-ipam" "$CNI_BIN/"
for i in $(seq $N); do
	mkdir -p "$W/n$i/net.d" "$W/n$i/tmpl"
	# The shipped conflist as the template (as make demo does): only the podwire entry, with
	# this node's IPAM state, log and veth prefix; podwired fills in interface and pod CIDR.
	python3 - "$(dirname "$0")/../manifests/10-podwire.conflist" "$W/n$i/tmpl/10-podwire.conflist" "$W/n$i" "$NETNAME" "$VP" <<'PY'
import json, sys
src, out, d, name, vp = sys.argv[1:6]
c = json.load(open(src))
c["name"] = name
c["plugins"] = [p for p in c["plugins"] if p["type"] == "podwire"]
c["plugins"][0].update({"vethPrefix": vp, "logFile": d + "/cni.log"})
c["plugins"][0]["ipam"]["dataDir"] = d + "/ipam"
json.dump(c, open(out, "w"), indent=2)
PY
done
# The datapath podwired starts keeps its stderr (the node's log) only with LOG_LEVEL set: its
# drop summary at exit, and a sanitizer report under PODWIRE_BUILD=build-asan, land there.
export LOG_LEVEL=${LOG_LEVEL:-info}
node_args() { echo "--cni-conf-dir $W/n$1/net.d --cni-conf-template $W/n$1/tmpl/10-podwire.conflist"; }
ready_count() { grep -c "node n$1: public key" "$W/n$1.log" 2>/dev/null; }
ready_after() { [ "$(ready_count "$1")" -gt "$2" ]; } # I COUNT: podwired of node I started once more
for i in $(seq $N); do
	# shellcheck disable=SC2046
	daemon_start "$i" $(node_args "$i")
done
for i in $(seq $N); do
	wait_until 30 has_peers "$i" $((N - 1)) || fail "n$i has $(peers_of "$i") peers, want $((N - 1))"
	wait_until 10 test -s "$W/n$i/net.d/10-podwire.conflist" || fail "n$i's podwired wrote no conflist"
	# One plugin's config, as a runtime hands it over: the conflist's entry with name and version.
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); p=c["plugins"][0]; p.update(cniVersion=c["cniVersion"], name=c["name"]); print(json.dumps(p))' \
		"$W/n$i/net.d/10-podwire.conflist" >"$W/n$i/net.conf" || fail "n$i's conflist is not readable"
done
wg_pid() { pgrep -f "podwire-wg (-f |--foreground )?pn${T}w$1\$" | head -n 1; }
untrack_pid() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

# ---- CNI: ADD and DEL through the plugin, as a runtime calls it ------------------------------
declare -A LIVE=()   # address -> pod (every live pod, long-lived and churn)
declare -A POD_IP=() # pod -> address
declare -A POD_NODE=()
ADDS=0 DELS=0 ADD_FAIL=0 DEL_FAIL=0 STUCK=0 DUPS=0 REACH_TRIED=0 REACH_FAIL=0
CNI_WRAP=(timeout -k 5 "$CNI_TIMEOUT")
cni() { # VERB NODE POD NETNS: the plugin's stdout in $W/cni.out; its exit code
	HOST=pn-$T-n$2 cni_run "$1" "soak-$3" "$4" eth0 "$W/n$2/net.conf" "$W/cni.out"
}
failure() { echo "[$(rel)] $*" >>"$W/failures.txt"; [ "$(wc -l <"$W/failures.txt")" -le 20 ] && note "$*"; }
pod_add_cni() { # NODE POD: namespace, ADD, address checked against every live pod
	local i=$1 pod=$2 ns=pn-$T-n$1-$2 rc ip
	ip netns add "$ns" || { failure "ip netns add $ns failed"; ADD_FAIL=$((ADD_FAIL + 1)); return 1; }
	ip -n "$ns" link set lo up
	ADDS=$((ADDS + 1))
	cni ADD "$i" "$pod" "$ns"; rc=$?
	if [ $rc -ne 0 ]; then
		ADD_FAIL=$((ADD_FAIL + 1))
		[ $rc -ge 124 ] && STUCK=$((STUCK + 1))
		failure "ADD $pod on n$i failed (exit $rc): $(head -c 300 "$W/cni.out")"
		# A failed ADD is followed by a DEL, as a runtime does; the namespace goes too.
		cni DEL "$i" "$pod" "$ns" || failure "DEL after the failed ADD of $pod failed"
		ip netns del "$ns"
		return 1
	fi
	ip=$(sed -n 's/.*"address":[[:space:]]*"\([0-9.]*\)\/.*/\1/p' "$W/cni.out" | head -n 1)
	[ -n "$ip" ] || { failure "ADD $pod on n$i: no IPv4 address in the result: $(head -c 300 "$W/cni.out")"; ip=none-$pod; }
	if [ -n "${LIVE[$ip]:-}" ]; then
		DUPS=$((DUPS + 1))
		failure "DUPLICATE: ADD $pod on n$i got $ip, which live pod ${LIVE[$ip]} holds"
	fi
	LIVE[$ip]=$pod POD_IP[$pod]=$ip POD_NODE[$pod]=$i
	echo "$(rel) ADD $i $pod $ip" >>"$W/pods.txt"
}
pod_del_cni() { # POD
	local pod=$1 i=${POD_NODE[$1]} ns=pn-$T-n${POD_NODE[$1]}-$1 rc
	DELS=$((DELS + 1))
	cni DEL "$i" "$pod" "$ns"; rc=$?
	if [ $rc -ne 0 ]; then
		DEL_FAIL=$((DEL_FAIL + 1))
		[ $rc -ge 124 ] && STUCK=$((STUCK + 1))
		failure "DEL $pod on n$i failed (exit $rc): $(head -c 300 "$W/cni.out")"
	fi
	ip netns del "$ns" 2>/dev/null || failure "ip netns del $ns failed"
	[ "${LIVE[${POD_IP[$pod]}]:-}" = "$pod" ] && unset "LIVE[${POD_IP[$pod]}]"
	echo "$(rel) DEL $i $pod ${POD_IP[$pod]}" >>"$W/pods.txt"
	unset "POD_IP[$pod]" "POD_NODE[$pod]"
}

# ---- long-lived pods, iperf3 and ping in a ring ----------------------------------------------
for i in $(seq $N); do
	pod_add_cni "$i" long || fail "the long-lived pod of n$i could not be added"
	NETNS+=("pn-$T-n$i-long") # deleted at exit whatever happens
done
next() { echo $(($1 % N + 1)); }
declare -A LONG_IP=()
while read -r _ _ i pod ip; do [ "$pod" = long ] && LONG_IP[$i]=$ip; done <"$W/pods.txt"
unset "POD_IP[long]" "POD_NODE[long]" # the churn's DELs never pick them
in_long() { local i=$1; shift; ip netns exec "pn-$T-n$i-long" "$@"; }
for i in $(seq $N); do
	wait_until 20 ns_ping "pn-$T-n$i-long" "${LONG_IP[$(next "$i")]}" ||
		fail "n$i's long-lived pod cannot reach n$(next "$i")'s (${LONG_IP[$(next "$i")]})"
done
note "3 nodes, long-lived pods ${LONG_IP[1]} ${LONG_IP[2]} ${LONG_IP[3]}: all reach the next one"

IPERF_RESTARTS=0 DAEMON_CRASHES=0
declare -A IPS_PID=() IPC_PID=() PING_PID=()
# Not through in_long: $! must be the program itself (ip netns exec execs it), to signal it.
iperf_server() { ip netns exec "pn-$T-n$1-long" iperf3 -s -p "$PORT" >>"$W/iperf-s$1.txt" 2>&1 & IPS_PID[$1]=$!; track_pid $!; }
iperf_client() { # I: iperf3 from n$I's long pod to the next node's, until the soak ends
	local left=$(((END - $(now_us)) / 1000000 + 5))
	ip netns exec "pn-$T-n$1-long" iperf3 -c "${LONG_IP[$(next "$1")]}" -p "$PORT" -b "$RATE" -t "$left" -i 10 --forceflush \
		>>"$W/iperf-c$1.txt" 2>&1 &
	IPC_PID[$1]=$!
	track_pid $!
}
END=$(($(now_us) + SECS * 1000000))
for i in $(seq $N); do iperf_server "$i"; done
for i in $(seq $N); do wait_until 5 in_long "$i" sh -c "ss -ltn | grep -q :$PORT" || fail "iperf3 server on n$i did not start"; done
for i in $(seq $N); do
	iperf_client "$i"
	ip netns exec "pn-$T-n$i-long" ping -D -O -i 0.2 -W 1 "${LONG_IP[$(next "$i")]}" >"$W/ping-$i.txt" 2>&1 &
	PING_PID[$i]=$!
	track_pid $!
done

# ---- memory and fds --------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
sample() { # one line per process: time node proc pid age_s rss_kB fds
	local i p t up
	t=$(rel); read -r up _ </proc/uptime
	for i in $(seq $N); do
		for p in "podwired:$(daemon_pid "$i")" "podwire-wg:$(wg_pid "$i")"; do
			local pid=${p#*:} st rss fds age
			[ -n "$pid" ] && [ -r "/proc/$pid/status" ] || continue
			rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
			fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
			st=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) || continue
			age=$(echo "$up $st $HZ" | awk '{printf "%.0f", $1 - $2 / $3}')
			echo "$t n$i ${p%%:*} $pid $age $rss $fds" >>"$W/mem.txt"
		done
	done
}

# ---- the soak --------------------------------------------------------------------------------
WINDOWS=() # "start end" of each restart window, in seconds since T0
declare -A PENDING=() # node -> "stop_time ready_count_before" while its podwired comes back
restart_node() { # I SIGNAL
	local i=$1 sig=$2 before pid
	before=$(ready_count "$i")
	pid=$(daemon_pid "$i")
	note "restart n$i (SIG$sig to podwired $pid)"
	daemon_stop "$i" "$sig"
	untrack_pid "$pid"
	# shellcheck disable=SC2046
	daemon_start "$i" $(node_args "$i")
	PENDING[$i]="$(rel) $before"
	RESTARTS=$((RESTARTS + 1))
}
check_pending() {
	local i t0 before
	for i in "${!PENDING[@]}"; do
		read -r t0 before <<<"${PENDING[$i]}"
		if ready_after "$i" "$before"; then
			local t; t=$(rel)
			WINDOWS+=("$t0 $(echo "$t + 10" | bc)")
			echo "$t0 $t" >>"$W/restarts.txt"
			unset "PENDING[$i]"
		fi
	done
}
check_processes() { # daemons that died by themselves, iperf3 that stopped early
	local i pid
	for i in $(seq $N); do
		pid=$(daemon_pid "$i")
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"; local rc=$?
			DAEMON_CRASHES=$((DAEMON_CRASHES + 1))
			failure "podwired of n$i (pid $pid) died by itself (exit $rc): $(tail -n 3 "$W/n$i.log" | tr '\n' ' ')"
			untrack_pid "$pid"
			PENDING[$i]="$(rel) $(ready_count "$i")"
			# shellcheck disable=SC2046
			daemon_start "$i" $(node_args "$i")
		fi
		if ! kill -0 "${IPS_PID[$i]}" 2>/dev/null; then
			note "iperf3 server on n$i exited: restarted"
			IPERF_RESTARTS=$((IPERF_RESTARTS + 1)); untrack_pid "${IPS_PID[$i]}"; iperf_server "$i"
		fi
		if ! kill -0 "${IPC_PID[$i]}" 2>/dev/null && [ $(((END - $(now_us)) / 1000000)) -gt 5 ]; then
			note "iperf3 n$i -> n$(next "$i") exited early: restarted ($(tail -n 1 "$W/iperf-c$i.txt"))"
			IPERF_RESTARTS=$((IPERF_RESTARTS + 1)); untrack_pid "${IPC_PID[$i]}"; iperf_client "$i"
		fi
	done
}
reach_check() { # POD: a new pod answers a ping from another node's long-lived pod
	local pod=$1 i=${POD_NODE[$1]} from
	from=$(next "$i")
	REACH_TRIED=$((REACH_TRIED + 1))
	wait_until 3 ns_ping "pn-$T-n$from-long" "${POD_IP[$pod]}" 1 1 ||
		{ REACH_FAIL=$((REACH_FAIL + 1)); failure "new pod $pod (${POD_IP[$pod]}) on n$i: no ping reply from n$from"; }
}

note "soak: ${SECS}s, churn ${CHURN}/s (about $LIVE_N churn pods alive), a node restart every ${RESTART}s," \
	"iperf3 ring at $RATE, ping ring every 0.2 s; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
: >"$W/restarts.txt"; : >"$W/failures.txt"
QUEUE=() K=0 RESTARTS=0
START=$(now_us) START0=$(now_us)
STEP=$((1000000 / CHURN))
next_restart=$((START + RESTART * 1000000)) next_sample=$START
while :; do
	t=$(now_us)
	[ "$t" -ge "$END" ] && break
	if [ "$t" -ge "$next_sample" ]; then sample; next_sample=$((next_sample + 10000000)); fi
	if [ "$t" -ge "$next_restart" ]; then
		r=$((RESTARTS % N + 1))
		# SIGTERM and SIGKILL in turn: with 3 nodes each node gets both.
		restart_node "$r" "$([ $((RESTARTS % 2)) -eq 0 ] && echo TERM || echo KILL)"
		next_restart=$((next_restart + RESTART * 1000000))
	fi
	check_pending
	check_processes
	# One ADD, and the oldest churn pod DELed once enough are alive.
	K=$((K + 1))
	pod=c$K
	if pod_add_cni $((K % N + 1)) "$pod"; then
		QUEUE+=("$pod")
		[ $((K % 10)) -eq 0 ] && reach_check "$pod"
	fi
	if [ ${#QUEUE[@]} -gt "$LIVE_N" ]; then
		pod_del_cni "${QUEUE[0]}"
		QUEUE=("${QUEUE[@]:1}")
	fi
	# Pace: tick K is due at START + K * STEP; a late tick is not made up by a burst.
	due=$((START + K * STEP)) t=$(now_us)
	if [ "$due" -gt "$t" ]; then sleep "$(printf '0.%06d' $((due - t)))"
	elif [ $((t - due)) -gt 2000000 ]; then START=$((t - K * STEP)); LATE=$((${LATE:-0} + 1)); fi
done
END_AT=$(now_us) ELAPSED=$((($(now_us) - T0) / 1000000))
sample
note "soak over: stopping ping and iperf3, DELing the $((${#QUEUE[@]})) churn pods still alive"
for i in $(seq $N); do kill -INT "${PING_PID[$i]}" 2>/dev/null; wait "${PING_PID[$i]}" 2>/dev/null; untrack_pid "${PING_PID[$i]}"; done
for i in $(seq $N); do stop_pid "${IPC_PID[$i]}" INT; stop_pid "${IPS_PID[$i]}"; done
for pod in "${QUEUE[@]}"; do pod_del_cni "$pod"; done
QUEUE=()
for i in "${!PENDING[@]}"; do wait_until 30 ready_after "$i" "${PENDING[$i]#* }" || failure "podwired of n$i did not come back"; done
check_pending

# ---- leaks: only the long-lived pods may remain ----------------------------------------------
LEAKS=0
leak() { LEAKS=$((LEAKS + 1)); echo "LEAK: $*"; }
for i in $(seq $N); do
	ns=pn-$T-n$i
	veths=$(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -c "^$VP")
	routes=$(ip -n "$ns" route show | grep -c " dev $VP")
	files=$(ls "$W/n$i/ipam/$NETNAME" 2>/dev/null | grep -cE '^[0-9a-f.:]+$')
	others=$(ls -a "$W/n$i/ipam/$NETNAME" 2>/dev/null | grep -vE '^(\.|\.\.|lock|last_reserved_ip\.[0-9]+|[0-9a-f.:]+)$' | tr '\n' ' ')
	echo "n$i: pod veths $veths, pod routes $routes, IPAM address files $files (1 each expected: the long-lived pod)"
	[ "$veths" -eq 1 ] || leak "n$i has $veths pod veths: $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | grep "^$VP" | tr '\n' ' ')"
	[ "$routes" -eq 1 ] || leak "n$i has $routes pod routes: $(ip -n "$ns" route show | grep " dev $VP" | tr '\n' ';')"
	[ "$files" -eq 1 ] || leak "n$i has $files IPAM address files: $(ls "$W/n$i/ipam/$NETNAME" | tr '\n' ' ')"
	[ -z "$others" ] || leak "n$i's IPAM directory holds unexpected files: $others"
	grep -qx "${LONG_IP[$i]}" <(ls "$W/n$i/ipam/$NETNAME") || leak "n$i's IPAM lost the long-lived pod's ${LONG_IP[$i]}"
done
churn_ns=$(ip netns list | awk '{print $1}' | grep -cE "^pn-$T-n[0-9]+-c[0-9]+$")
echo "churn pod namespaces left: $churn_ns"
[ "$churn_ns" -eq 0 ] || leak "$churn_ns churn pod namespaces left"
for i in $(seq $N); do
	wait_until 10 ns_ping "pn-$T-n$i-long" "${LONG_IP[$(next "$i")]}" ||
		leak "after the soak n$i's long-lived pod no longer reaches n$(next "$i")'s (counted as a failure)"
done

# ---- report ----------------------------------------------------------------------------------
echo
echo "== soak report: ${ELAPSED}s (asked ${SECS}s) on $(nproc) CPUs, load now $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
SOAKED=$(((END_AT - START0) / 1000000))
echo "churn: $ADDS ADD, $DELS DEL ($(echo "scale=2; $ADDS / ($SOAKED + 1)" | bc) ADD/s over ${SOAKED}s, asked $CHURN/s," \
	"${LATE:-0} times more than 2 s behind); failed: ADD $ADD_FAIL, DEL $DEL_FAIL, stuck (timeout) $STUCK"
echo "duplicate addresses: $DUPS; new pods pinged from another node: $REACH_TRIED, unreachable: $REACH_FAIL"
echo "node restarts: $RESTARTS; daemons that died by themselves: $DAEMON_CRASHES; iperf3 restarts: $IPERF_RESTARTS"
for i in $(seq $N); do
	echo "n$i podwired log: $(grep -c 'podwired: error:' "$W/n$i.log") errors, $(grep -c 'podwired: warn:' "$W/n$i.log") warnings" \
		"$(grep -hE 'podwired: (error|warn):' "$W/n$i.log" | sed 's/^podwired: //' | sort | uniq -c | sort -rn | head -n 3 | sed 's/^ */; /' | tr -d '\n')"
done
for i in $(seq $N); do
	awk -v n="n$i -> n$(next "$i")" '/sec .*bits\/sec/ && !/sender|receiver/ { for (f = 1; f < NF; f++) if ($(f+1) ~ /bits\/sec/) {
		v = $f; u = $(f+1); if (u ~ /^K/) v /= 1000; else if (u ~ /^G/) v *= 1000; else if (u !~ /^M/) v /= 1000000
		s += v; c++; if (min == "" || v < min) min = v } }
		END { printf "iperf3 %s: %d intervals of 10 s, mean %.1f Mbit/s, lowest %.1f Mbit/s\n", n, c, c ? s / c : 0, min + 0 }' "$W/iperf-c$i.txt"
done
python3 - "$W" "$N" <<'PY'
import re, sys
w, n = sys.argv[1], int(sys.argv[2])
windows = [tuple(map(float, l.split())) for l in open(w + "/restarts.txt") if l.strip()]
tot_sent = tot_lost = tot_out = tot_out_sent = 0
# ping -D prints the epoch time; restarts.txt is in seconds since the soak's T0: map through the
# first reply of each ping (sent right after it started) and the soak's log of its own start.
t0_epoch = float(open(w + "/t0").read())
for i in range(1, n + 1):
    replies, noans, sent = {}, {}, 0
    for l in open(f"{w}/ping-{i}.txt"):
        m = re.match(r"\[(\d+\.\d+)\] .*icmp_seq=(\d+) ttl", l)
        if m: replies.setdefault(int(m[2]), float(m[1]))
        m = re.match(r"\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)", l)
        if m: noans.setdefault(int(m[2]), float(m[1]))
        m = re.match(r"(\d+) packets transmitted", l)
        if m: sent = int(m[1])
    lost = [s for s in range(1, sent + 1) if s not in replies]
    known = sorted(replies.items())
    def when(s):
        if s in noans: return noans[s] - 1.0
        if not known: return 0.0
        near = min(known, key=lambda kv: abs(kv[0] - s))
        return near[1] + (s - near[0]) * 0.2
    out = [s for s in lost if not any(a <= when(s) - t0_epoch <= b for a, b in windows)]
    in_win = sum(1 for s in range(1, sent + 1) if s in replies and any(a <= replies[s] - t0_epoch <= b for a, b in windows))
    in_win += len(lost) - len(out)
    print(f"ping n{i} -> n{i % n + 1}: {sent} sent, {len(lost)} lost ({100 * len(lost) / max(sent, 1):.3f} %);"
          f" outside restart windows {len(out)} of {sent - in_win} lost ({100 * len(out) / max(sent - in_win, 1):.3f} %)")
    tot_sent += sent; tot_lost += len(lost); tot_out += len(out); tot_out_sent += sent - in_win
print(f"ping all: {tot_sent} sent, {tot_lost} lost ({100 * tot_lost / max(tot_sent, 1):.3f} %); outside restart"
      f" windows {tot_out} of {tot_out_sent} ({100 * tot_out / max(tot_out_sent, 1):.3f} %); {len(windows)} restart windows")
PY
echo "RSS (KiB) and open fds: each process at warm-up (age >= ${WARM}s) and at its last sample"
python3 - "$W/mem.txt" "$WARM" "$FD_SLACK" "$RSS_PCT" "$RSS_SLACK" >"$W/mem-report.txt" <<'PY'
import sys
path, warm, fd_slack, rss_pct, rss_slack = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
procs = {}  # (node, proc, pid) -> samples (t, age, rss, fds), in order
for l in open(path):
    t, node, proc, pid, age, rss, fds = l.split()
    procs.setdefault((node, proc, pid), []).append((float(t), int(age), int(rss), int(fds)))
def warmed(s):
    return next((x for x in s if x[1] >= warm), None)
bad = []
def grew(what, a, b):
    if b[3] - a[3] > fd_slack:
        bad.append(f"{what}: fds {a[3]} -> {b[3]}")
    if b[2] > a[2] * (100 + rss_pct) / 100 + rss_slack:
        bad.append(f"{what}: RSS {a[2]} -> {b[2]} KiB")
print(f"{'node':5} {'process':11} {'pid':>8} {'warm-up at':>10} {'RSS':>7} {'fds':>4} {'last at':>8} {'age':>6} {'RSS':>7} {'fds':>4}")
first_last = {}  # (node, proc) -> [first warmed, last warmed]
for (node, proc, pid), s in procs.items():
    w, e = warmed(s), s[-1]
    if w is None:
        print(f"{node:5} {proc:11} {pid:>8} {'(never ' + str(warm) + ' s old)':>23} {e[0]:8.0f} {e[1]:6} {e[2]:7} {e[3]:4}")
        continue
    print(f"{node:5} {proc:11} {pid:>8} {w[0]:10.0f} {w[2]:7} {w[3]:4} {e[0]:8.0f} {e[1]:6} {e[2]:7} {e[3]:4}")
    grew(f"{node} {proc} {pid} over its life ({w[1]} s -> {e[1]} s old)", w, e)
    fl = first_last.setdefault((node, proc), [(pid, w), (pid, w)])
    fl[1] = (pid, w)
for (node, proc), ((p1, a), (p2, b)) in first_last.items():
    if p1 != p2:
        print(f"{node} {proc}: first process {p1} vs last {p2}, each at {a[1]}/{b[1]} s old: RSS {a[2]} -> {b[2]} KiB, fds {a[3]} -> {b[3]}")
        grew(f"{node} {proc}: first {p1} vs last {p2} at the same age", a, b)
print(f"growth thresholds: fds +{fd_slack}, RSS +{rss_pct} % + {rss_slack} KiB")
for b in bad:
    print("GROWTH: " + b)
sys.exit(1 if bad else 0)
PY
rc_mem=$?
cat "$W/mem-report.txt"

bad=0
[ "$DUPS" -eq 0 ] || { echo "FAIL: $DUPS duplicate addresses"; bad=1; }
[ "$LEAKS" -eq 0 ] || { echo "FAIL: $LEAKS leaks"; bad=1; }
[ $((ADD_FAIL + DEL_FAIL)) -eq 0 ] || { echo "FAIL: $ADD_FAIL ADD and $DEL_FAIL DEL failed ($STUCK stuck); see failures above"; bad=1; }
[ "$DAEMON_CRASHES" -eq 0 ] || { echo "FAIL: $DAEMON_CRASHES daemons died by themselves"; bad=1; }
[ "$REACH_FAIL" -eq 0 ] || { echo "FAIL: $REACH_FAIL new pods were unreachable"; bad=1; }
[ "$rc_mem" -eq 0 ] || { echo "FAIL: RSS or fd growth past the thresholds"; bad=1; }
[ -s "$W/failures.txt" ] && { echo "failures (first 20 of $(wc -l <"$W/failures.txt")):"; head -n 20 "$W/failures.txt"; }
[ $bad -eq 0 ] && echo "soak: no leak, no duplicate address, no failed ADD/DEL, no growth past the thresholds"
exit $bad
