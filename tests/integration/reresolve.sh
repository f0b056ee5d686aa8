#!/bin/bash
# reresolve.sh — F9: node A reaches node B by the name peer.test, served by dnsmasq in its own
# namespace. B's underlay address changes and so does the A record; A keeps sending to the
# old address until `podwirectl reresolve` (no down/up) picks up the new one.
# Topology: bridge in pq-rbr; pq-rdns 10.81.0.53 (dnsmasq), pq-ra 10.81.0.1, pq-rb 10.81.0.2
# then 10.81.0.3; tunnel 10.82.0.1 (A, interface pqra0) and 10.82.0.2 (B, pqrb0).
# A's resolver: /etc/netns/pq-ra/resolv.conf, which `ip netns exec` mounts over /etc/resolv.conf.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/updown.bash"
pq_need_root
command -v dnsmasq >/dev/null || { echo "needs dnsmasq (dnsmasq-base)"; exit 77; }
B=$(pq_build)
[ -x "$B/podwirectl" ] || { echo "no $B/podwirectl (build first)"; exit 77; }
T=$(mktemp -d /tmp/pq-reresolve.XXXXXX)
loop_pid= dns_pid=
cleanup() {
	[ -n "$loop_pid" ] && kill $loop_pid 2>/dev/null
	[ -n "$dns_pid" ] && kill $dns_pid 2>/dev/null
	ip -n pq-ra link del pqra0 2>/dev/null; ip -n pq-rb link del pqrb0 2>/dev/null
	for n in pq-ra pq-rb pq-rdns pq-rbr; do ip netns del $n 2>/dev/null; done
	rm -rf /etc/netns/pq-ra
	pq_wait_socket_gone pqra0; pq_wait_socket_gone pqrb0
	rm -rf "$T"
}
trap cleanup EXIT
export WG_QUICK_USERSPACE_IMPLEMENTATION=$(pq_pick_userspace "$B")
chmod 755 "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

ip netns add pq-rbr
ip -n pq-rbr link add pqrbr type bridge
ip -n pq-rbr link set pqrbr up
for n in a b dns; do
	ip netns add pq-r$n
	ip -n pq-r$n link set lo up
	ip link add pqr$n netns pq-r$n type veth peer name pqrb-$n netns pq-rbr
	ip -n pq-rbr link set pqrb-$n master pqrbr up
done
ip -n pq-ra addr add 10.81.0.1/24 dev pqra; ip -n pq-rb addr add 10.81.0.2/24 dev pqrb
ip -n pq-rdns addr add 10.81.0.53/24 dev pqrdns
for n in a b dns; do ip -n pq-r$n link set pqr$n up; done

echo "10.81.0.2 peer.test" > "$T/hosts"; chmod 644 "$T/hosts"
ip netns exec pq-rdns dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--addn-hosts="$T/hosts" --listen-address=10.81.0.53 --bind-interfaces --local-ttl=0 \
	--user=root --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" &
dns_pid=$!
mkdir -p /etc/netns/pq-ra
echo "nameserver 10.81.0.53" > /etc/netns/pq-ra/resolv.conf
for i in $(seq 50); do ip netns exec pq-ra getent ahostsv4 peer.test >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec pq-ra getent ahostsv4 peer.test | grep -q 10.81.0.2 || { echo "FAIL: dnsmasq does not answer"; exit 1; }

for n in a b; do (umask 077; wg genkey > "$T/key$n"); wg pubkey < "$T/key$n" > "$T/pub$n"; done
umask 077
cat > "$T/pqra0.conf" <<C
[Interface]
PrivateKey = $(cat "$T/keya")
Address = 10.82.0.1/24
ListenPort = 51820

[Peer]
PublicKey = $(cat "$T/pubb")
Endpoint = peer.test:51820
AllowedIPs = 10.82.0.2/32
C
cat > "$T/pqrb0.conf" <<C
[Interface]
PrivateKey = $(cat "$T/keyb")
Address = 10.82.0.2/24
ListenPort = 51820

[Peer]
PublicKey = $(cat "$T/puba")
AllowedIPs = 10.82.0.1/32
C
umask 022
ip netns exec pq-ra "$B/podwirectl" up "$T/pqra0.conf" || fail "up A"
ip netns exec pq-rb "$B/podwirectl" up "$T/pqrb0.conf" || fail "up B"
pq_ping pq-ra 10.82.0.2 || fail "no traffic before the move"
rx0=$(ip netns exec pq-ra wg show pqra0 transfer | cut -f2)

# B moves; the name follows.
ip -n pq-rb addr del 10.81.0.2/24 dev pqrb
ip -n pq-rb addr add 10.81.0.3/24 dev pqrb
echo "10.81.0.3 peer.test" > "$T/hosts"; kill -HUP $dns_pid
for i in $(seq 50); do ip netns exec pq-ra getent ahostsv4 peer.test | grep -q 10.81.0.3 && break; sleep 0.1; done
pq_ping pq-ra 10.82.0.2 1 && fail "traffic flows although B moved (test proves nothing)"

# A fresh handshake means nothing to do (reresolve-dns.sh's 135 s rule).
ip netns exec pq-ra "$B/podwirectl" reresolve pqra0 || fail "reresolve once"
[ "$(ip netns exec pq-ra wg show pqra0 endpoints | cut -f2)" = 10.81.0.2:51820 ] || fail "endpoint changed despite a recent handshake"

# The loop, with a short staleness threshold so the test does not wait 135 s.
interval=2 stale=4
ip netns exec pq-ra "$B/podwirectl" reresolve pqra0 --interval $interval --stale $stale > "$T/loop.log" 2>&1 &
loop_pid=$!
t0=$SECONDS ok=0
while [ $((SECONDS - t0)) -lt $((stale + interval + 15)) ]; do
	if pq_ping pq-ra 10.82.0.2 1; then ok=1; break; fi
done
dt=$((SECONDS - t0))
if [ $ok = 1 ]; then
	echo "ok   traffic resumed ${dt}s after the move (stale ${stale}s + interval ${interval}s), no down/up"
else
	fail "traffic did not resume"; cat "$T/loop.log"
fi
[ "$(ip netns exec pq-ra wg show pqra0 endpoints | cut -f2)" = 10.81.0.3:51820 ] || fail "endpoint not updated"
[ "$(ip netns exec pq-ra wg show pqra0 allowed-ips | cut -f2)" = 10.82.0.2/32 ] || fail "allowed IPs touched"
rx1=$(ip netns exec pq-ra wg show pqra0 transfer | cut -f2)
[ "$rx1" -gt "$rx0" ] || fail "counters reset (rx $rx0 -> $rx1): the peer was replaced, not updated"
grep -q 'updated 1 endpoint' "$T/loop.log" || { fail "loop did not report its update"; cat "$T/loop.log"; }
kill $loop_pid; wait $loop_pid 2>/dev/null; loop_pid=

ip netns exec pq-ra "$B/podwirectl" down "$T/pqra0.conf" || fail "down A"
ip netns exec pq-rb "$B/podwirectl" down "$T/pqrb0.conf" || fail "down B"
[ $fails = 0 ] && echo "endpoint re-resolution works"
[ $fails = 0 ]
