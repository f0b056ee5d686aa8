#!/bin/bash
# userspace_cookie.sh — cookie replies under load interoperate (paper §5.3, §5.4.7):
# podwire-wg, told that any handshake traffic is load (PODWIRE_WG_LOAD_THRESHOLD=0), answers
# wireguard-go's first initiation with a cookie reply instead of a response; wireguard-go
# decrypts the cookie, retries after REKEY_TIMEOUT with a valid mac2, and the session works.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_cmd wireguard-go

two_wg_hosts pu-ck-a pu-ck-b
PODWIRE_WG_LOAD_THRESHOLD=0 wg_start podwire-wg $NA puck0
wg_start wireguard-go $NB puck1
ip netns exec $NA wg set puck0 private-key "$W/a.key" listen-port 51870 \
	peer "$(cat "$W/b.pub")" allowed-ips 10.82.0.2/32 || fail "configure podwire-wg"
ip netns exec $NB wg set puck1 private-key "$W/b.key" listen-port 51871 \
	peer "$(cat "$W/a.pub")" endpoint 10.77.0.1:51870 allowed-ips 10.82.0.1/32 || fail "configure wireguard-go"
ip -n $NA addr add 10.82.0.1/24 dev puck0
ip -n $NB addr add 10.82.0.2/24 dev puck1
ip -n $NA link set puck0 up
ip -n $NB link set puck1 up

t0=$(date +%s.%N)
ok=
for _ in $(seq 6); do ns_ping $NB 10.82.0.1 1 && ok=1 && break; done
[ -n "$ok" ] || fail "no session through the cookie exchange"
t1=$(date +%s.%N)
echo "session after $(python3 -c "print('%.1f' % ($t1 - $t0))") s"
# The first initiation cannot have succeeded: the retry comes REKEY_TIMEOUT (5 s) later.
python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 4.5 else 1)" || fail "session without a cookie round trip"
ns_ping $NA 10.82.0.2 2 || fail "ping podwire-wg -> wireguard-go"
stop_pid "${PIDS[0]}"
grep "dropped:" "$W/puck0.log"
grep -q "cookies_sent=[1-9]" "$W/puck0.log" || fail "no cookie reply was sent"
echo "PASS: cookie replies interoperate with wireguard-go"
