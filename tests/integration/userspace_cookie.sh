#!/bin/bash
# userspace_cookie.sh — cookie replies under load interoperate (paper §5.3, §5.4.7):
# podwire-wg, told that any handshake traffic is load (PODWIRE_WG_LOAD_THRESHOLD=0), answers
# wireguard-go's first initiation with a cookie reply instead of a response; wireguard-go
# decrypts the cookie, retries after REKEY_TIMEOUT with a valid mac2, and the session works.
set -uo pipefail
. "$(dirname "$0")/pu_common.bash"
command -v wireguard-go >/dev/null || skip "wireguard-go not installed"

A=pu-ck-a B=pu-ck-b
pu_netns $A $B
pu_key a
pu_key b
PODWIRE_WG_LOAD_THRESHOLD=0 pu_start podwire-wg $A puck0
pu_start wireguard-go $B puck1
ip netns exec $A wg set puck0 private-key "$PU_TMP/a.key" listen-port 51870 \
	peer "$(cat "$PU_TMP/b.pub")" allowed-ips 10.82.0.2/32 || fail "configure podwire-wg"
ip netns exec $B wg set puck1 private-key "$PU_TMP/b.key" listen-port 51871 \
	peer "$(cat "$PU_TMP/a.pub")" endpoint 10.77.0.1:51870 allowed-ips 10.82.0.1/32 || fail "configure wireguard-go"
ip -n $A addr add 10.82.0.1/24 dev puck0
ip -n $B addr add 10.82.0.2/24 dev puck1
ip -n $A link set puck0 up
ip -n $B link set puck1 up

t0=$(date +%s.%N)
ok=
for _ in $(seq 6); do pu_ping $B 10.82.0.1 1 && ok=1 && break; done
[ -n "$ok" ] || fail "no session through the cookie exchange"
t1=$(date +%s.%N)
echo "session after $(python3 -c "print('%.1f' % ($t1 - $t0))") s"
# The first initiation cannot have succeeded: the retry comes REKEY_TIMEOUT (5 s) later.
python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 4.5 else 1)" || fail "session without a cookie round trip"
pu_ping $A 10.82.0.2 || fail "ping podwire-wg -> wireguard-go"
kill "${PU_PIDS[0]}"
for _ in $(seq 50); do kill -0 "${PU_PIDS[0]}" 2>/dev/null || break; sleep 0.1; done
grep "dropped:" "$PU_TMP/puck0.log"
grep -q "cookies_sent=[1-9]" "$PU_TMP/puck0.log" || fail "no cookie reply was sent"
echo "PASS: cookie replies interoperate with wireguard-go"
