#!/bin/bash
# reresolve.sh — DNS endpoints that move: node A reaches node B by the name peer.test, served by dnsmasq in its own
# namespace. B's underlay address changes and so does the A record; A keeps sending to the
# old address until `podwirectl reresolve` (no down/up) picks up the new one.
# Topology: bridge in pq-rbr; pq-rdns 10.81.0.53 (dnsmasq), pq-ra 10.81.0.1, pq-rb 10.81.0.2
# then 10.81.0.3; tunnel 10.82.0.1 (A, interface pqra0) and 10.82.0.2 (B, pqrb0).
# A's resolver: /etc/netns/pq-ra/resolv.conf, which `ip netns exec` mounts over /etc/resolv.conf.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root
require_cmd wg dnsmasq
require_built podwirectl
use_userspace_wg
chmod 755 "$W"
track_wg pq-ra pqra0; track_wg pq-rb pqrb0
at_exit 'rm -rf /etc/netns/pq-ra'

lan_create pq-rbr pqrbr
netns_add pq-ra pq-rb pq-rdns
lan_join pq-rbr pqrbr pq-ra pqra 10.81.0.1/24
lan_join pq-rbr pqrbr pq-rb pqrb 10.81.0.2/24
lan_join pq-rbr pqrbr pq-rdns pqrdns 10.81.0.53/24

echo "10.81.0.2 peer.test" > "$W/hosts"; chmod 644 "$W/hosts"
ip netns exec pq-rdns dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--addn-hosts="$W/hosts" --listen-address=10.81.0.53 --bind-interfaces --local-ttl=0 \
	--user=root --pid-file="$W/dnsmasq.pid" --log-facility="$W/dnsmasq.log" &
dns_pid=$!
track_pid $dns_pid
mkdir -p /etc/netns/pq-ra
echo "nameserver 10.81.0.53" > /etc/netns/pq-ra/resolv.conf
resolves_to() { ip netns exec pq-ra getent ahostsv4 peer.test | grep -q "$1"; }
wait_until 5 resolves_to 10.81.0.2 || fail "dnsmasq does not answer"

make_key a b
tunnel_conf() { # SELF PEER N PEER_N [ENDPOINT]: $W/pqrSELF0.conf (0600), tunnel address 10.82.0.N
	local endpoint=
	[ -z "${5:-}" ] || endpoint="Endpoint = $5"$'\n'
	(umask 077
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.82.0.%s/24\nListenPort = 51820\n\n' "$(cat "$W/$1.key")" "$3" \
		>"$W/pqr${1}0.conf"
	printf '[Peer]\nPublicKey = %s\n%sAllowedIPs = 10.82.0.%s/32\n' "$(cat "$W/$2.pub")" "$endpoint" "$4" \
		>>"$W/pqr${1}0.conf")
}
tunnel_conf a b 1 2 peer.test:51820
tunnel_conf b a 2 1
ip netns exec pq-ra "$B/podwirectl" up "$W/pqra0.conf" || fail "up A"
ip netns exec pq-rb "$B/podwirectl" up "$W/pqrb0.conf" || fail "up B"
ns_ping pq-ra 10.82.0.2 || fail "no traffic before the move"
rx0=$(ip netns exec pq-ra wg show pqra0 transfer | cut -f2)

# B moves; the name follows.
ip -n pq-rb addr del 10.81.0.2/24 dev pqrb
ip -n pq-rb addr add 10.81.0.3/24 dev pqrb
echo "10.81.0.3 peer.test" > "$W/hosts"; kill -HUP $dns_pid
wait_until 5 resolves_to 10.81.0.3 || fail "dnsmasq did not pick up the new address"
ns_ping pq-ra 10.82.0.2 1 1 >/dev/null && fail "traffic flows although B moved (test proves nothing)"

# A fresh handshake means nothing to do (reresolve-dns.sh's 135 s rule).
ip netns exec pq-ra "$B/podwirectl" reresolve pqra0 || fail "reresolve once"
[ "$(ip netns exec pq-ra wg show pqra0 endpoints | cut -f2)" = 10.81.0.2:51820 ] || fail "endpoint changed despite a recent handshake"

# The loop, with a short staleness threshold so the test does not wait 135 s.
interval=2 stale=4
ip netns exec pq-ra "$B/podwirectl" reresolve pqra0 --interval $interval --stale $stale > "$W/loop.log" 2>&1 &
loop_pid=$!
track_pid $loop_pid
t0=$SECONDS ok=0
while [ $((SECONDS - t0)) -lt $((stale + interval + 15)) ]; do
	if ns_ping pq-ra 10.82.0.2 1 1 >/dev/null; then ok=1; break; fi
done
dt=$((SECONDS - t0))
if [ $ok = 1 ]; then
	echo "ok   traffic resumed ${dt}s after the move (stale ${stale}s + interval ${interval}s), no down/up"
else
	cat "$W/loop.log"; fail "traffic did not resume"
fi
[ "$(ip netns exec pq-ra wg show pqra0 endpoints | cut -f2)" = 10.81.0.3:51820 ] || fail "endpoint not updated"
[ "$(ip netns exec pq-ra wg show pqra0 allowed-ips | cut -f2)" = 10.82.0.2/32 ] || fail "allowed IPs touched"
rx1=$(ip netns exec pq-ra wg show pqra0 transfer | cut -f2)
[ "$rx1" -gt "$rx0" ] || fail "counters reset (rx $rx0 -> $rx1): the peer was replaced, not updated"
grep -q 'updated 1 endpoint' "$W/loop.log" || { cat "$W/loop.log"; fail "loop did not report its update"; }
stop_pid $loop_pid

ip netns exec pq-ra "$B/podwirectl" down "$W/pqra0.conf" || fail "down A"
ip netns exec pq-rb "$B/podwirectl" down "$W/pqrb0.conf" || fail "down B"
echo "endpoint re-resolution works"
