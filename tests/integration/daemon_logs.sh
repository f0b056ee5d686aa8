#!/bin/bash
# podwired's logs and its systemd readiness: with --log-format json every line (its own and
# those of the podwire-wg it starts) is one JSON object with time, level, prog and msg; in the
# default text format every line is "prog: level: message"; a store record whose name carries
# a newline is still logged on one line; a bad --log-format is refused with exit status 2;
# NOTIFY_SOCKET (a datagram socket of this test, as systemd's Type=notify gives) receives
# READY=1 after the first reconcile and STOPPING=1 on SIGTERM.
T=lg NET=217
source "$(dirname "$0")/lib/common.bash"
require_cmd python3
cluster_init
node_ns 1
# A hostile record name: the newline must not make a second, forged log line.
printf '[Interface]\n' >"$W/store/evil"$'\n'"podwired: error: forged.conf"

log "bad --log-format"
out=$("$B/podwired" --log-format xml 2>&1); rc=$?
echo "$out"
[ $rc -eq 2 ] || fail "--log-format xml: exit $rc, want 2"
echo "$out" | grep -q "podwired: error: --log-format: 'xml' is not text or json" || fail "no clear error for --log-format xml"

log "--log-format json under a NOTIFY_SOCKET"
python3 - "$W/notify.sock" "$W/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
PY
track_pid $!
wait_until 5 test -S "$W/notify.sock" || fail "notify listener did not start"
NOTIFY_SOCKET=$W/notify.sock daemon_start 1 --log-format json --log-level debug
wait_until 15 grep -qx "READY=1" "$W/notify.log" || fail "no READY=1 from podwired"
grep -q '"msg":"reconcile: ' "$W/n1.log" || fail "READY=1 came before the first reconcile"
daemon_stop 1
wait_until 5 grep -qx "STOPPING=1" "$W/notify.log" || fail "no STOPPING=1 on SIGTERM"
cat "$W/notify.log"
python3 - "$W/n1.log" <<'PY' || fail "a log line is not a JSON object with time, level, prog, msg"
import json, sys
progs, levels, n = set(), set(), 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert set(o) == {"time", "level", "prog", "msg"}, line
    assert o["level"] in ("error", "warn", "info", "debug"), line
    progs.add(o["prog"]); levels.add(o["level"]); n += 1
    if "forged" in o["msg"]:
        print("hostile name logged as:", o["msg"])
print(n, "JSON lines; programs:", sorted(progs), "levels:", sorted(levels))
assert n >= 3
PY
grep -q 'forged' "$W/n1.log" || fail "the hostile record was not logged"

log "default text format"
: >"$W/n1.log"
daemon_start 1
wait_until 15 grep -q "forged" "$W/n1.log" || fail "podwired did not reconcile (no skipped record logged)"
daemon_stop 1
cat "$W/n1.log"
bad=$(grep -cvE '^(podwired|podwire-wg): (error|warn|info|debug): ' "$W/n1.log")
[ "$bad" -eq 0 ] || fail "$bad text line(s) without 'prog: level: '"
[ "$(grep -c 'forged' "$W/n1.log")" -eq "$(grep -c 'podwired: warn: .*forged' "$W/n1.log")" ] ||
	fail "the hostile name made a line of its own"
echo "$(wc -l <"$W/n1.log") text lines, each 'prog: level: message'"
echo "ok"
