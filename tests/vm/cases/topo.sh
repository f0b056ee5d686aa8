#!/bin/bash
# tests/vm/cases/topo.sh — the tutorial's topologies (tests/integration/topo_*.sh) on the
# kernel datapath, run INSIDE the VM by tests/vm/kernel.sh (or alone: hack/vm.sh
# tests/vm/cases/topo.sh). The same scripts as on the host; with the module loaded
# `podwirectl up` creates kernel interfaces and TOPO_DATAPATH=kernel fails a test whose
# interface is anything else.
# Kernel interfaces have no global UAPI socket and every test has its own namespace and
# interface names, so the scenarios run side by side: under TCG that is what keeps the group
# to a few minutes. Lean settings for the same reason: 1 s of iperf3, the -O2 build when
# there is one (the ASan build's podwirectl, polled many times a second, is several times
# slower under emulation; it is checked on the host), and topo_cleanup (the helper's own
# code, the same on both datapaths) only when asked for:
# PODWIRE_TOPO_TESTS="relay ipv6 cleanup" picks the set.
set -uo pipefail
cd "$(dirname "$0")/../../.."
modprobe wireguard || { echo "FAIL: cannot load wireguard.ko"; exit 1; }
[ -x build/podwirectl ] && export PODWIRE_BUILD=$PWD/build
export TOPO_DATAPATH=kernel TOPO_IPERF_SECONDS=${TOPO_IPERF_SECONDS:-1} TOPO_CLEANUP_AT=${TOPO_CLEANUP_AT:-iperf-server}
# Polling loops run podwirectl or ip each round: fewer rounds leave the emulated CPUs to
# the tests. The modules every scenario needs are loaded once, before they all start.
export POLL_SECONDS=${POLL_SECONDS:-0.3}
for m in veth bridge nf_conntrack nf_nat nf_tables nft_compat nft_chain_nat nft_masq nft_ct nft_fib_inet \
	nft_fib_ipv4 nft_fib_ipv6 xt_conntrack xt_MASQUERADE xt_tcpudp; do
	modprobe -q "$m" 2>/dev/null
done
echo "build: $PODWIRE_BUILD"
tests=${PODWIRE_TOPO_TESTS:-relay nat2nat ipv6 fulltunnel keepalive}
logs=$(mktemp -d /tmp/tp-vm.XXXXXX)
t0=$SECONDS
declare -A pid
for t in $tests; do
	bash "tests/integration/topo_$t.sh" >"$logs/$t.log" 2>&1 &
	pid[$t]=$!
done
rc=0
for t in $tests; do
	wait "${pid[$t]}"
	r=$?
	echo "== topo_$t (kernel)"
	sed 's/^/   /' "$logs/$t.log"
	echo "== topo_$t (kernel): exit $r, all done by ${SECONDS}s"
	[ $r = 0 ] || { echo "FAIL: topo_$t exited $r"; rc=1; }
done
echo "topo (kernel): $((SECONDS - t0))s for: $tests"
rm -rf "$logs"
exit $rc
