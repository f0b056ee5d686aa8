#!/bin/bash
# tests/vm/cases/topo.sh — the tutorial's topologies (tests/integration/topo_*.sh) on the
# kernel datapath, run INSIDE the VM by tests/vm/kernel.sh (or alone: hack/vm.sh
# tests/vm/cases/topo.sh). The same scripts as on the host; with the module loaded
# `podwirectl up` creates kernel interfaces and TOPO_DATAPATH=kernel fails a test whose
# interface is anything else.
# Kernel interfaces have no global UAPI socket and every test has its own namespace and
# interface names, so the scenarios run side by side (under TCG that halves the wall time);
# topo_cleanup reuses topo_relay's names and runs after them.
# PODWIRE_TOPO_TESTS="relay ipv6" limits the set.
set -uo pipefail
cd "$(dirname "$0")/../../.."
modprobe wireguard || { echo "FAIL: cannot load wireguard.ko"; exit 1; }
export TOPO_DATAPATH=kernel TOPO_IPERF_SECONDS=${TOPO_IPERF_SECONDS:-1}
tests=${PODWIRE_TOPO_TESTS:-relay nat2nat ipv6 fulltunnel keepalive}
logs=$(mktemp -d /tmp/tp-vm.XXXXXX)
declare -A pid t0
for t in $tests; do
	[ "$t" = cleanup ] && continue
	t0[$t]=$SECONDS
	bash "tests/integration/topo_$t.sh" >"$logs/$t.log" 2>&1 &
	pid[$t]=$!
done
rc=0
report() { # NAME STATUS
	echo "== topo_$1 (kernel)"
	sed 's/^/   /' "$logs/$1.log"
	echo "== topo_$1 (kernel): exit $2 after $((SECONDS - ${t0[$1]}))s"
	[ "$2" = 0 ] || { echo "FAIL: topo_$1 exited $2"; rc=1; }
}
for t in "${!pid[@]}"; do
	wait "${pid[$t]}"
	report "$t" $?
done
if [ -z "${PODWIRE_TOPO_TESTS:-}" ] || [[ " $PODWIRE_TOPO_TESTS " == *" cleanup "* ]]; then
	t0[cleanup]=$SECONDS
	bash tests/integration/topo_cleanup.sh >"$logs/cleanup.log" 2>&1
	report cleanup $?
fi
rm -rf "$logs"
exit $rc
