#!/bin/bash
# daemon_state_lock: one podwired per state directory, and what is refused before it touches
# the store (issue 29, items 2 and 6, and the bad input they list):
#   1. a second podwired on a state directory a live one holds (the README's walk-through tried
#      on one host) is refused with one line naming the holder's pid and node and what to do,
#      before it opens the store: no record, no claim, no interface of its own;
#   2. podwired --cleanup while that node's daemon runs is refused the same way (exit 1), and
#      nothing is removed: record, claims, interface and conflist stay, the daemon keeps its
#      peer; once the daemon is stopped, --cleanup removes everything;
#   3. a SIGKILLed daemon leaves the lock file behind but not the lock: the restart goes on;
#   4. a read-only --cni-conf-dir (a read-only bind mount in a private mount namespace, as
#      under systemd's ProtectSystem=strict) is refused at start with one line that names the
#      cause and ReadWritePaths, exit 2 (systemd does not restart it), nothing in the store.
# On the code before issue 29, 1 goes on to reuse the key and fail with "No such device"
# leaving its claims, 2 exits 0 "removed" while the daemon writes its record back, and 4
# claims addresses and then fails with "Read-only file system" (exit 1, restarted every 5 s).
set -u
source "$(dirname "$0")/lib/common.bash"
T=t29 NET=229
require_cmd unshare
cluster_init
node_ns 1
node_ns 2
mkdir -p "$W/n1/net.d" "$W/n2/net.d"

# The store's claims (DIR/.podwire/alloc/...) and records, names and holders, one a line.
store_claims() { (cd "$W/store" && grep -r . .podwire 2>/dev/null | sort); }
store_records() { (cd "$W/store" && ls ./*.conf 2>/dev/null | sort); }
# expect_refusal WHAT EXIT PATTERN CMD...: exit status EXIT, one line of output matching PATTERN.
expect_refusal() {
	local what=$1 want=$2 pat=$3 rc; shift 3
	# timeout: a podwired that is not refused runs on (exit 124 then fails the check).
	timeout 20 "$@" >"$W/out" 2>&1; rc=$?
	[ "$rc" = "$want" ] || { cat "$W/out"; fail "$what: exit $rc, want $want"; }
	[ "$(wc -l <"$W/out")" = 1 ] || { cat "$W/out"; fail "$what: $(wc -l <"$W/out") lines, want one"; }
	grep -qE -- "$pat" "$W/out" || { cat "$W/out"; fail "$what: no '$pat' in '$(cat "$W/out")'"; }
}

daemon_start 1 --cni-conf-dir "$W/n1/net.d"
daemon_start 2 --cni-conf-dir "$W/n2/net.d"
wait_until 20 has_peers 1 1 || fail "n1 has $(peers_of 1) peers"
wait_until 20 has_peers 2 1 || fail "n2 has $(peers_of 2) peers"
pid1=$(daemon_pid 1)
grep -qx "$pid1 n1" "$W/n1/podwired.lock" || fail "the lock file says '$(cat "$W/n1/podwired.lock")', not '$pid1 n1'"
ok "two nodes up; $W/n1/podwired.lock names its holder ($(cat "$W/n1/podwired.lock"))"

log "a second podwired on n1's state directory"
claims0=$(store_claims) records0=$(store_records)
track_wg "pn-$T-n2" "pn${T}w9"
expect_refusal "a second podwired on a state directory in use" 1 \
	"--state-dir $W/n1 is in use by podwired pid $pid1 \(node n1; it holds $W/n1/podwired.lock\): .*own --state-dir" \
	ip netns exec "pn-$T-n2" "$B/podwired" --name n9 -i "pn${T}w9" --store-dir "$W/store" --state-dir "$W/n1" \
	--endpoint "192.168.$NET.2:51821" --listen-port 51821 --metrics off
[ -e "$W/store/n9.conf" ] && fail "the refused podwired published a record"
[ "$(store_claims)" = "$claims0" ] || fail "the refused podwired changed the claims: $(store_claims)"
ip -n "pn-$T-n2" link show "pn${T}w9" >/dev/null 2>&1 && fail "the refused podwired created its interface"
kill -0 "$pid1" || fail "n1's daemon died"
ok "refused, one line: $(cat "$W/out")"
ok "nothing of n9 in the store (no record, claims unchanged), no interface; n1 runs on"

log "--cleanup while n1's daemon runs"
cidr1=$(pod_cidr_of 1)
expect_refusal "--cleanup beside a live daemon" 1 \
	"--cleanup: podwired pid $pid1 \(node n1\) still runs .*stop it first .*kill $pid1.*nothing was removed" \
	ip netns exec "pn-$T-n1" "$B/podwired" --name n1 -i "pn${T}w1" --store-dir "$W/store" --state-dir "$W/n1" \
	--cni-conf-dir "$W/n1/net.d" --cleanup
ok "refused, one line: $(cat "$W/out")"
[ "$(store_records)" = "$records0" ] || fail "records after the refused --cleanup: $(store_records), want $records0"
[ "$(store_claims)" = "$claims0" ] || fail "claims after the refused --cleanup: $(store_claims), want $claims0"
[ "$(pod_cidr_of 1)" = "$cidr1" ] || fail "n1's record lost its pod CIDR $cidr1"
[ -f "$W/n1/net.d/10-podwire.conflist" ] || fail "the refused --cleanup removed the conflist"
ip -n "pn-$T-n1" link show "pn${T}w1" >/dev/null 2>&1 || fail "the refused --cleanup removed pn${T}w1"
sleep 2 # two resyncs of n2 would show a record or claim that went away
has_peers 2 1 || fail "n2 dropped n1 after the refused --cleanup"
grep -q "not given to it by the allocation registry" "$W/n2.log" && fail "n2 refuses n1's record"
ok "nothing removed: record, claims, pod CIDR $cidr1, conflist and interface stay; n2 keeps n1 as a peer"

log "SIGKILL, restart, then --cleanup with the daemon stopped"
daemon_stop 1 KILL
[ -f "$W/n1/podwired.lock" ] || fail "the lock file went with the killed daemon"
daemon_start 1 --cni-conf-dir "$W/n1/net.d"
wait_until 20 grep -q "$(daemon_pid 1) n1" "$W/n1/podwired.lock" || fail "the restarted daemon did not take the lock"
wait_until 20 has_peers 1 1 || fail "n1 has $(peers_of 1) peers after its restart"
grep -q "is in use" "$W/n1.log" && fail "the restart after SIGKILL was refused"
ok "after SIGKILL the stale lock file does not block the restart (lock held by $(cat "$W/n1/podwired.lock"))"
daemon_stop 1
ip netns exec "pn-$T-n1" "$B/podwired" --name n1 -i "pn${T}w1" --store-dir "$W/store" --state-dir "$W/n1" \
	--cni-conf-dir "$W/n1/net.d" --cleanup >"$W/out" 2>&1 || { cat "$W/out"; fail "--cleanup with n1 stopped"; }
[ -e "$W/store/n1.conf" ] && fail "--cleanup left n1's record"
store_claims | grep -q ':n1$' && fail "--cleanup left claims of n1: $(store_claims)"
[ -e "$W/n1/net.d/10-podwire.conflist" ] && fail "--cleanup left the conflist"
ip -n "pn-$T-n1" link show "pn${T}w1" >/dev/null 2>&1 && fail "--cleanup left pn${T}w1"
wait_until 15 has_peers 2 0 || fail "n2 still has $(peers_of 2) peers after n1's cleanup"
ok "with the daemon stopped, --cleanup removes record, claims, conflist and interface; n2 drops n1"

log "a read-only --cni-conf-dir"
daemon_stop 2
claims0=$(store_claims) records0=$(store_records)
mkdir -p "$W/ro"
track_wg "pn-$T-n2" "pn${T}w3" # not made by a refused start; the old code made it
expect_refusal "a read-only --cni-conf-dir" 2 \
	"--cni-conf-dir: '$W/ro' is not writable: Read-only file system \(under systemd: ReadWritePaths=$W/ro" \
	ip netns exec "pn-$T-n2" unshare -m --propagation private sh -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$W/ro" \
	"$B/podwired" --name n3 -i "pn${T}w3" --store-dir "$W/store" --state-dir "$W/n3" --cni-conf-dir "$W/ro" \
	--endpoint "192.168.$NET.2:51820" --metrics off
ok "refused, exit 2, one line: $(cat "$W/out")"
[ -e "$W/store/n3.conf" ] && fail "the refused podwired published n3"
[ "$(store_claims)" = "$claims0" ] || fail "the refused podwired changed the claims: $(store_claims)"
[ "$(store_records)" = "$records0" ] || fail "records changed: $(store_records)"
ok "nothing of n3 in the store"
echo "daemon_state_lock: $CHECKS checks passed"
