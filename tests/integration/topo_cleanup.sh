#!/bin/bash
# topo.bash cleans up after a failure half-way: topo_relay.sh is made to fail on purpose
# (TOPO_FAIL_AT) at three points, and after each run nothing of it may be left: no
# namespace, no WireGuard interface or UAPI socket, no process (podwire-wg, iperf3,
# tcpdump), no work directory.
#   ns:natb       the topology half built (the second NAT router just created)
#   up:a          the relay's and A's interfaces up, B's not
#   iperf-server  everything up: three interfaces, tcpdump on the relay, iperf3 server in B
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.bash"
require_root

leftovers() { # the run's output: print whatever of it is still there
	local out=$1 dir p pid
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^tp-$tag-" | sed 's/^/namespace /'
	ls /var/run/wireguard 2>/dev/null | grep '^tpr' | sed 's/^/socket /'
	dir=$(sed -n 's/^ *work directory //p' "$out")
	[ -n "$dir" ] && [ -e "$dir" ] && echo "work directory $dir"
	for pid in $(sed -n 's/.* started pid \([0-9]*\) .*/\1/p' "$out"); do
		kill -0 "$pid" 2>/dev/null && echo "process $pid ($(tr '\0' ' ' </proc/$pid/cmdline))"
	done
	# podwire-wg daemonizes (its PID is not printed): look for it by its argv.
	for p in /proc/[0-9]*/cmdline; do
		case $(tr '\0' ' ' 2>/dev/null <"$p") in
		*"podwire-wg tpr"*) echo "process ${p//[^0-9]/} ($(tr '\0' ' ' <"$p"))" ;;
		*"$dir/"*) [ -z "$dir" ] || echo "process ${p//[^0-9]/} ($(tr '\0' ' ' <"$p"))" ;;
		esac
	done
}

# Namespaces tp-rc-*: this can run beside topo_relay.sh on the kernel datapath (the VM does).
tag=rc
# TOPO_CLEANUP_AT="up:a": only these points (the VM's lean run).
for at in ${TOPO_CLEANUP_AT:-ns:natb up:a iperf-server}; do
	out=$W/run.out
	TOPO_NS_TAG=$tag TOPO_FAIL_AT=$at bash "$here/topo_relay.sh" >"$out" 2>&1
	rc=$?
	grep -q "TOPO_FAIL_AT=$at: failing on purpose" "$out" || { cat "$out"; fail "topo_relay.sh did not reach $at"; }
	[ $rc -ne 0 ] || { fail "topo_relay.sh exited 0 although it failed at $at"; }
	started=$(grep -c "started pid" "$out")
	ups=$(grep -c "is up on the" "$out")
	left=$(leftovers "$out")
	[ -z "$left" ] || fail "after failing at $at, still there: $left"
	echo "ok: failed at $at (exit $rc, $ups interfaces up, $started background processes): no namespace, socket, process or directory left"
done
echo "PASS"
