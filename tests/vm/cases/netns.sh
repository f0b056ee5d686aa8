#!/bin/bash
# tests/vm/cases/netns.sh — tests/integration/userspace_netns.sh on the kernel module, run
# INSIDE the VM by tests/vm/kernel.sh (or alone: hack/vm.sh tests/vm/cases/netns.sh): the
# same steps with interfaces the module creates (ip link add type wireguard) and moves,
# configured by podwirectl as `wg`. On the host the script runs on podwire-wg; here it shows
# that what it checks is the kernel's behaviour too.
set -uo pipefail
cd "$(dirname "$0")/../../.."
modprobe wireguard || { echo "FAIL: cannot load wireguard.ko"; exit 1; }
PODWIRE_NETNS_IMPL=kernel bash tests/integration/userspace_netns.sh
rc=$?
# A skip here (no module, no tool) would hide that nothing was checked.
[ $rc = 77 ] && { echo "FAIL: userspace_netns.sh skipped in the VM"; exit 1; }
exit $rc
