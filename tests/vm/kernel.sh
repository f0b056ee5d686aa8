#!/bin/bash
# The kernel-datapath suite, run inside one VM boot by tests/run (hack/vm.sh): loads the
# WireGuard module, then runs every case against it. Cases live in tests/vm/cases/ and the
# host integration scripts that also apply here are reused with the kernel selected.
#   device_cli:    podwirectl show/set/setconf/... == wg on the kernel and on podwire-wg
#   bulk_setconf:  1000 peers x 8 allowed IPs through split netlink messages, timed
#   interop:       kernel <-> podwire-wg, handshake from either side, ping, iperf3
#   netlink_errors: errors carry the operation and the kernel's reason
#   device_fallback: with the module present, device creation picks the kernel
#   netns:         the netns trick (create, move, use, move back, delete) on the module
#   any other tests/vm/cases/*.sh (other modules' kernel checks), in the same boot
set -uo pipefail
cd "$(dirname "$0")/../.."
export PODWIRE_BUILD=${PODWIRE_BUILD:-$PWD/build}
modprobe wireguard || { echo "cannot load wireguard.ko"; exit 1; }
modprobe tun 2>/dev/null
failures=()
# Each case's output goes to the console and to a file; a failed case's last lines are shown
# again at the end, next to the summary, where a truncated CI log still shows them.
outs=$(mktemp -d)
trap 'rm -rf "$outs"' EXIT
run_case() { # NAME COMMAND...
	local name=$1 t0=$SECONDS rc
	shift
	# PODWIRE_VM_CASES="a b": run only these (for debugging one case in a VM).
	[ -z "${PODWIRE_VM_CASES:-}" ] || [[ " $PODWIRE_VM_CASES " == *" $name "* ]] || return 0
	echo "=== $name"
	# tail follows the file until the case exits: a process the case leaks cannot hold it open.
	"$@" >"$outs/$name" 2>&1 &
	local pid=$!
	tail -n +1 -f --pid="$pid" "$outs/$name"
	wait "$pid"
	rc=$?
	echo "=== $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") ($((SECONDS - t0))s)"
	[ $rc -eq 0 ] || failures+=("$name")
}
run_case device_cli env PODWIRE_TEST_IMPLS="kernel podwire-wg" PODWIRE_TEST_QUICK=1 bash tests/integration/device_cli.sh
run_case bulk_setconf bash tests/vm/cases/bulk_setconf.sh
run_case interop bash tests/vm/cases/interop.sh
run_case netlink_errors bash tests/vm/cases/netlink_errors.sh
run_case device_fallback bash tests/integration/device_fallback.sh
# Other modules' kernel-datapath checks share this boot: every other tests/vm/cases/*.sh.
for c in tests/vm/cases/*.sh; do
	case $(basename "$c" .sh) in
	bulk_setconf | interop | netlink_errors) continue ;;
	esac
	run_case "$(basename "$c" .sh)" bash "$c"
done
for name in "${failures[@]}"; do
	echo "--- $name failed; its last lines:"
	tail -n 12 "$outs/$name" | sed 's/^/  /'
done
echo "kernel suite: ${#failures[@]} failed${failures[*]:+ (${failures[*]})}, ${SECONDS}s in the VM"
[ ${#failures[@]} -eq 0 ]
