#!/bin/bash
# tests/vm/cases/updown.sh — the updown checks on the kernel datapath, run INSIDE the VM by
# tests/vm/kernel.sh (or alone: hack/vm.sh tests/vm/cases/updown.sh). The same scripts as on
# the host; with the module loaded, wg-quick and podwirectl both create kernel interfaces,
# and UPDOWN_REQUIRE_KERNEL makes the parity test fail rather than fall back.
set -uo pipefail
cd "$(dirname "$0")/../../.."
modprobe wireguard || { echo "FAIL: cannot load wireguard.ko"; exit 1; }
export UPDOWN_REQUIRE_KERNEL=1
# Kernel interfaces have no global UAPI socket, so configs can run side by side; under TCG
# emulation that is what keeps this case to a few minutes.
export UPDOWN_JOBS=${UPDOWN_JOBS:-3}
# `save` is datapath-independent (checked on the host); leave it out here to save time.
export UPDOWN_STEPS=${UPDOWN_STEPS:-up down}
# UPDOWN_VM_CONFS="tut_phone full_v6 ..." limits the parity set (all of it by default: about
# 6 minutes under TCG on a quiet 2-core host).
if [ -n "${UPDOWN_VM_CONFS:-}" ]; then
	export UPDOWN_CONFS=$(mktemp -d /tmp/pq-vmconfs.XXXXXX) UPDOWN_MIN_CONFS=1
	for c in $UPDOWN_VM_CONFS; do ln -s "$PWD/tests/configs/updown/$c.conf" "$UPDOWN_CONFS/"; done
fi
rc=0
for t in ${UPDOWN_VM_TESTS:-updown_parity peers_conf_mesh reresolve}; do
	echo "== $t (kernel)"
	t0=$SECONDS
	bash tests/integration/$t.sh; r=$?
	echo "== $t: exit $r after $((SECONDS - t0))s"
	[ $r = 0 ] || { echo "FAIL: $t exited $r"; rc=1; }
done
exit $rc
