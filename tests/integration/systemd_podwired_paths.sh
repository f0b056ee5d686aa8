#!/bin/bash
# systemd_podwired_paths: podwired.service's sandbox lets podwired write what it writes with the
# README walk-through's flags (issue 29, item 5). The unit says ProtectSystem=strict: the whole
# file system is read-only but for /dev, /proc, /sys, StateDirectory=, RuntimeDirectory= and
# ReadWritePaths=. No systemd runs here as PID 1, so the test builds that view itself from the
# unit file: a private mount namespace in which every mount is remounted read-only and then the
# unit's writable paths read-write again, and runs podwired there with the walk-through's
# `--cni-conf-dir /etc/cni/net.d` (the store directory, /shared/podwire in the README, is made
# writable as the README's drop-in says). So that nothing of the host is written, the test's own
# directories are bound over /etc/cni/net.d and /var/lib first.
#   1. with the shipped unit, podwired starts, writes its key, lock and conflist, publishes;
#   2. with the unit as it was before issue 29 (no ReadWritePaths for /etc/cni/net.d), podwired
#      exits 2 at once with one line naming the directory and ReadWritePaths, before it claims
#      anything (systemd's RestartPreventExitStatus=2 then stops the restart loop); on the old
#      code it claimed addresses, exited 1 with "Read-only file system", and was restarted
#      every 5 s.
set -u
source "$(dirname "$0")/lib/common.bash"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
UNIT=$TOP/contrib/systemd/podwired.service.in
require_root
require_built podwired
require_cmd unshare nsenter
use_userspace_wg
[ -d /etc/cni/net.d ] || skip "/etc/cni/net.d does not exist: nothing to bind the test's directory over"
[ -d /run/wireguard ] || mkdir -p /run/wireguard
grep -qx 'ProtectSystem=strict' "$UNIT" || fail "podwired.service no longer says ProtectSystem=strict"

# writable_paths UNIT: the paths ProtectSystem=strict leaves writable, one a line.
writable_paths() {
	sed -n 's/^ReadWritePaths=//p' "$1" | tr ' ' '\n' | sed 's/^[-+]//' | grep .
	sed -n 's/^StateDirectory=//p' "$1" | tr ' ' '\n' | grep . | sed 's|^|/var/lib/|'
	sed -n 's/^RuntimeDirectory=//p' "$1" | tr ' ' '\n' | grep . | sed 's|^|/run/|'
}

# In the private mount namespace: the test's directories over the host's, everything
# read-only, the writable paths read-write again, then exec the command.
cat >"$W/strict.sh" <<'EOF'
#!/bin/bash
set -e
w=$1 paths=$2; shift 2
mount --bind "$w/netd" /etc/cni/net.d
mount --bind "$w/varlib" /var/lib
awk '{print $5}' /proc/self/mountinfo | grep -Ev '^/(proc|sys|dev)(/|$)' | sort -u | while read -r m; do
	mount -o remount,bind,ro "$m" 2>/dev/null || true
done
while read -r p; do
	[ -e "$p" ] || continue # systemd skips a "-" path that does not exist
	mount --bind "$p" "$p"
	mount -o remount,bind,rw "$p"
done <"$paths"
exec "$@"
EOF
chmod +x "$W/strict.sh"

netns_add sdp-n1
ip -n sdp-n1 link add sdpeth0 type veth peer name sdpeth1
ip -n sdp-n1 addr add 192.168.228.1/24 dev sdpeth0
ip -n sdp-n1 link set sdpeth0 up
mkdir -p "$W/store"

# run UNIT NAME IFACE: podwired under UNIT's sandbox, the walk-through's flags; fresh dirs.
run() {
	local unit=$1 name=$2 ifc=$3
	rm -rf "$W/netd" "$W/varlib" && mkdir -p "$W/netd" "$W/varlib/podwire" && chmod 700 "$W/varlib/podwire"
	{ writable_paths "$unit"; echo "$W/store"; } >"$W/paths"
	track_wg sdp-n1 "$ifc"
	ip netns exec sdp-n1 "$W/strict.sh" "$W" "$W/paths" "$B/podwired" --name "$name" --store-dir "$W/store" \
		--cni-conf-dir /etc/cni/net.d -i "$ifc" --endpoint 192.168.228.1:51820 --metrics off >"$W/$name.log" 2>&1 &
	PID=$!
	track_pid "$PID"
}

log "the shipped unit"
run "$UNIT" n1 sdpw1
wait_until 20 test -f "$W/netd/10-podwire.conflist" ||
	{ cat "$W/n1.log"; fail "podwired under the shipped unit's sandbox wrote no conflist: $(tail -n 1 "$W/n1.log")"; }
wait_until 10 test -f "$W/store/n1.conf" || fail "podwired under the unit's sandbox did not publish n1"
[ -f "$W/varlib/podwire/private.key" ] && [ -f "$W/varlib/podwire/podwired.lock" ] ||
	fail "no key or lock in the state directory: $(ls "$W/varlib/podwire")"
kill -0 "$PID" || fail "podwired exited: $(tail -n 1 "$W/n1.log")"
grep -E 'error|Read-only' "$W/n1.log" && fail "podwired logged an error under the sandbox"
ok "under ProtectSystem=strict with the unit's paths ($(tr '\n' ' ' <"$W/paths")) podwired writes key, lock, conflist and record"
stop_pid "$PID"

log "the unit without ReadWritePaths for /etc/cni/net.d (before issue 29)"
grep -v '^ReadWritePaths=.*/etc/cni/net.d' "$UNIT" >"$W/old.service"
grep -q "^ReadWritePaths=.*/etc/cni/net.d" "$W/old.service" && fail "could not take /etc/cni/net.d out of the unit"
run "$W/old.service" n2 sdpw2
wait "$PID"; rc=$?
[ "$rc" = 2 ] || { cat "$W/n2.log"; fail "podwired without a writable --cni-conf-dir: exit $rc, want 2"; }
[ "$(wc -l <"$W/n2.log")" = 1 ] || { cat "$W/n2.log"; fail "$(wc -l <"$W/n2.log") lines, want one"; }
grep -q "cni-conf-dir: '/etc/cni/net.d' is not writable: Read-only file system (under systemd: ReadWritePaths=/etc/cni/net.d" \
	"$W/n2.log" || fail "the message does not name the cause and ReadWritePaths: $(cat "$W/n2.log")"
[ -e "$W/store/n2.conf" ] && fail "the refused podwired published n2"
grep -rqx n2 "$W/store/.podwire" 2>/dev/null && fail "the refused podwired left claims: $(grep -rx n2 "$W/store/.podwire")"
ok "without it: exit 2, one line ($(cat "$W/n2.log")), nothing of n2 in the store"
echo "systemd_podwired_paths: $CHECKS checks passed"
