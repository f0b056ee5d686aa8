#!/bin/bash
# `make demo` (hack/demo.sh) shows, for each step, the command a user would type to do it by
# hand, and those commands work as printed: the demo runs with --wait, and while its cluster
# is up this test runs the printed `wg show` (node1 has 2 peers), the printed pod-to-pod ping
# (node1's first pod to the last node's second pod, across the tunnel) and the printed
# `podwirectl status` (3 nodes). Then the demo is stopped by its PID and leaves nothing behind.
source "$(dirname "$0")/lib/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
require_root
require_built podwired podwirectl podwire podwire-ipam podwire-wg
require_tun
# The demo's names are fixed (pn-demo-*): another demo running now would be torn down.
ip netns list | grep -q '^pn-demo-' && skip "a demo is running on this machine (pn-demo-* namespaces)"

(cd "$top" && exec env BUILD="$B" hack/demo.sh --wait) >"$W/demo.log" 2>&1 &
demo=$!
at_exit "kill $demo 2>/dev/null; wait $demo 2>/dev/null"
wait_until 120 grep -q '^== cluster is up' "$W/demo.log" || { cat "$W/demo.log"; fail "the demo did not come up"; }
cat "$W/demo.log"

# Every step prints at least one command.
awk '/^== /{ if (step != "" && n == 0) print step; step = $0; n = 0 } /^   \$ /{ n++ }
	END { }' "$W/demo.log" | grep -v -e '^== summary' -e '^== tearing' >"$W/silent" || true
[ ! -s "$W/silent" ] || fail "steps without a command to type: $(cat "$W/silent")"
ok "every step of the demo prints the commands behind it ($(grep -c '^   \$ ' "$W/demo.log") lines)"

# by_hand PATTERN: the printed command matching PATTERN, run as a user would paste it.
by_hand() {
	local line
	line=$(grep -m1 -E "^   \\\$ .*$1" "$W/demo.log" | sed 's/^   \$ //; s/   #.*//') ||
		fail "no printed command matches '$1'"
	echo "\$ $line"
	bash -c "$line"
}
peers=$(by_hand 'wg show pndw1 peers') || fail "the printed wg show failed"
[ "$(echo "$peers" | grep -c .)" -eq 3 ] || fail "the printed wg show lists $(($(echo "$peers" | grep -c .) - 1)) peers, want 2: $peers"
ok "the printed 'wg show pndw1 peers' lists node1's 2 peers"
by_hand ' ping -c 1 ' >"$W/ping.out" 2>&1 || { cat "$W/ping.out"; fail "the printed ping failed"; }
ok "the printed pod-to-pod ping answers: $(grep -m1 'bytes from' "$W/ping.out")"
by_hand 'podwirectl status' >"$W/status.out" 2>&1 || { cat "$W/status.out"; fail "the printed status failed"; }
grep -q '^node1 .*this node$' "$W/status.out" && [ "$(grep -cE '^node[0-9] ' "$W/status.out")" -eq 3 ] ||
	{ cat "$W/status.out"; fail "the printed status does not show the 3 nodes"; }
ok "the printed podwirectl status shows the 3 nodes"

kill "$demo"
wait "$demo" 2>/dev/null
grep -q '^== tearing down' "$W/demo.log" || fail "the demo did not tear down on SIGTERM"
ip netns list | grep -q '^pn-demo-' && fail "the demo left namespaces: $(ip netns list | grep '^pn-demo-')"
ok "the demo, stopped by its PID, tore everything down"
