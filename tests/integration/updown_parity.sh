#!/bin/bash
# updown_parity.sh — `podwirectl up/down/save` leave a namespace exactly as wg-quick's do.
# For every tests/configs/updown/*.conf: a fresh namespace runs the real wg-quick, then another
# fresh one runs podwirectl, on the same interface name (pquN, N = the config's number: the
# UAPI socket path is global, so the two runs of one config are sequential; different
# configs may run side by side, UPDOWN_JOBS at a time). Compared: ip -d addr, routes of all
# tables, ip rule / ip -6 rule, nft ruleset, wg show dump (timing-dependent counters zeroed),
# hook output, resolvconf calls, the file `save` writes while up, the file after `down`
# (rewritten again when SaveConfig is set). After `down` each namespace must be as before `up`.
# On a host without the WireGuard module both use the userspace datapath (the one rule of
# lib/common.bash: $WG_QUICK_USERSPACE_IMPLEMENTATION when set, else podwire-wg); in the VM
# (tests/vm/cases/updown.sh, UPDOWN_REQUIRE_KERNEL=1) both use the kernel module.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root
require_cmd wg wg-quick nft
require_built podwirectl
CONFS=${UPDOWN_CONFS:-$(dirname "$0")/../configs/updown}
JOBS=${UPDOWN_JOBS:-2}
cases=()
for conf in "$CONFS"/*.conf; do cases+=("$(basename "$conf" .conf)"); done
# The runs happen in background jobs, whose namespaces the test's own lists do not see.
cleanup() {
	local i
	kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
	for i in "${!cases[@]}"; do
		for tool in wgquick podwirectl; do track_wg pq-u$i-$tool pqu$i; NETNS+=(pq-u$i-$tool); done
	done
}
at_exit cleanup

if [ "${UPDOWN_REQUIRE_KERNEL:-0}" = 1 ]; then
	modprobe wireguard 2>/dev/null
	[ -e /sys/module/wireguard ] || { echo "FAIL: no wireguard kernel module"; exit 1; }
	IMPL=/bin/false # never used: the kernel is there
	echo "datapath: kernel"
else
	IMPL=$(userspace_wg)
	echo "datapath: userspace ($IMPL)"
fi
conf_keys "$W/keys"
mkdir -p "$W/bin" "$W/out"
ln -s "$B/podwirectl" "$W/bin/podwirectl"
export PATH="$W/bin:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION=$IMPL
if [ "${UPDOWN_NO_NFT:-0}" = 1 ]; then
	# A system without nft: both tools fall back to iptables-restore. PATH keeps every
	# program of the sbin directories but nft; the snapshots still call nft by full path.
	export PQ_NFT=$(command -v nft) PQ_IPTABLES=1
	mkdir -p "$W/nonft"
	for d in /usr/local/sbin /usr/sbin /sbin; do
		for f in "$d"/*; do
			[ -x "$f" ] && [ "${f##*/}" != nft ] && [ ! -e "$W/nonft/${f##*/}" ] && ln -s "$f" "$W/nonft/${f##*/}"
		done
	done
	export PATH="$W/bin:$W/nonft:/usr/local/bin:/usr/bin:/bin"
	command -v nft >/dev/null && { echo "FAIL: nft still on PATH"; exit 1; }
	echo "nft hidden: firewall rules through iptables-restore"
fi

# run TOOL IDX: one up/save/down cycle of config IDX in a fresh namespace -> $W/out/CASE.TOOL.*
run() {
	local tool=$1 i=$2 case=${cases[$2]} rc=0 step
	local o=$W/out/$case.$tool dir=$W/c$i ns=pq-u$2-$1 IF=pqu$2
	local cmd=(podwirectl); [ $tool = wgquick ] && cmd=(wg-quick)
	rm -rf "$dir"; mkdir -p -m 700 "$dir"
	# The one mock (see lib/common.bash): resolvconf, found first on PATH by both tools.
	resolvconf_mock "$dir/bin" "$dir/rc"
	conf_render "$CONFS/$case.conf" "$dir/$IF.conf" "$W/keys" "$dir"
	stable_ns $ns
	cp "$W/out/pre" "$o.pre" # every fresh namespace starts the same (see below)
	for step in ${UPDOWN_STEPS:-up save down}; do
		PATH="$dir/bin:$PATH" ip netns exec $ns "${cmd[@]}" $step "$dir/$IF.conf" > "$o.${step}log" 2>&1 ||
			{ rc=1; echo "FAIL $case: $tool $step failed:"; cat "$o.${step}log"; }
		[ $step = down ] && wait_socket_gone $IF
		[ $step = save ] && cp "$dir/$IF.conf" "$o.saved" || ns_snapshot $ns $IF > "$o.$step"
	done
	cat "$dir/hooks.log" > "$o.hooks" 2>/dev/null || : > "$o.hooks"
	cat "$dir/rc/log" > "$o.resolvconf" 2>/dev/null || : > "$o.resolvconf"
	cp "$dir/$IF.conf" "$o.conf"
	ip netns del $ns
	return $rc
}

same() { # case what a b
	diff -u "$3" "$4" > "$3.diff" && return 0
	echo "FAIL $1: $2 differs (--- wg-quick, +++ podwirectl):"; cat "$3.diff"; return 1
}

check() { # idx: both runs and the comparisons, one line "ok CASE" or the failures
	local i=$1 case=${cases[$1]} ok=1 part
	local a=$W/out/$case.wgquick b=$W/out/$case.podwirectl
	run wgquick $i || ok=0
	run podwirectl $i || ok=0
	for part in up $([[ ${UPDOWN_STEPS:-save} == *save* ]] && echo saved) down hooks resolvconf conf; do
		same $case "$part" "$a.$part" "$b.$part" || ok=0
	done
	if [ -z "${PQ_IPTABLES:-}" ]; then
		same $case "state after down vs before up (wg-quick)" "$a.pre" "$a.down" || ok=0
		same $case "state after down vs before up (podwirectl)" "$b.pre" "$b.down" || ok=0
	else
		# iptables leaves its (now empty) tables behind, wg-quick's too: only the rules must go.
		grep -q 'wg-quick(8) rule' "$b.up" || { echo "FAIL $case: no iptables rules after up"; ok=0; }
		grep -q 'wg-quick(8) rule' "$b.down" && { echo "FAIL $case: iptables rules left after down"; ok=0; }
	fi
	# A test that cannot fail proves nothing: up must have changed something.
	cmp -s "$b.pre" "$b.up" && { echo "FAIL $case: podwirectl up changed nothing"; ok=0; }
	[ $ok = 1 ] && echo "ok   $case"
	[ $ok = 1 ]
}

# The state every run starts from, taken once (stable_ns is deterministic and waits for
# the namespace to settle; under TCG in the VM every snapshot counts).
stable_ns pq-upre-$$ && ns_snapshot pq-upre-$$ > "$W/out/pre"; ip netns del pq-upre-$$
for i in "${!cases[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.1; done
	check $i > "$W/out/result.$i" 2>&1 &
done
wait
fails=0
for i in "${!cases[@]}"; do
	cat "$W/out/result.$i"
	grep -q '^ok ' "$W/out/result.$i" || fails=$((fails + 1))
done
n=${#cases[@]}
[ $n -ge ${UPDOWN_MIN_CONFS:-15} ] || { echo "FAIL: only $n configs (want >= ${UPDOWN_MIN_CONFS:-15})"; exit 1; }
echo "$((n - fails))/$n configs identical"
[ $fails = 0 ]
