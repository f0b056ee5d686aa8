#!/bin/bash
# tests/integration/userspace_netns.sh — the network-namespace trick, checked the way the
# kernel's tools/testing/selftests/wireguard/netns.sh checks it. Each WireGuard interface is
# created in $ns0, where its UDP socket is born and stays, then moved into $ns1 / $ns2,
# which have no other way out (a container whose only interface is WireGuard).
#
# ┌─────────────────────┐   ┌──────────────────────────────────┐   ┌─────────────────────┐
# │   $ns1 namespace    │   │          $ns0 namespace          │   │   $ns2 namespace    │
# │                     │   │                                  │   │                     │
# │┌────────┐           │   │            ┌────────┐            │   │           ┌────────┐│
# ││nn12wg1 │───────────┼───┼────────────│   lo   │────────────┼───┼───────────│nn12wg2 ││
# │├────────┴──────────┐│   │    ┌───────┴────────┴────────┐   │   │┌──────────┴────────┤│
# ││192.168.241.1/24   ││   │    │(ns1)         (ns2)      │   │   ││192.168.241.2/24   ││
# ││fd00::1/112        ││   │    │127.0.0.1:1   127.0.0.1:2│   │   ││fd00::2/112        ││
# │└───────────────────┘│   │    │[::]:1        [::]:2     │   │   │└───────────────────┘│
# └─────────────────────┘   │    └─────────────────────────┘   │   └─────────────────────┘
#                           └──────────────────────────────────┘
# $ns3 is a second home nn12wg1 visits and leaves; $ns4 is a namespace nn12wg2 is moved
# into and that is then deleted, taking the interface with it.
#
# PODWIRE_NETNS_IMPL: podwire-wg (default), kernel (the module: the VM suite), or
# wireguard-go. The `wg` used is podwirectl (PODWIRE_NETNS_WG=wg: the real one).
set -uo pipefail
umask 077
source "$(dirname "$0")/lib/common.bash"

require_root
impl=${PODWIRE_NETNS_IMPL:-podwire-wg}
case $impl in
podwire-wg) bin=$B/podwire-wg; require_built podwire-wg ;;
wireguard-go) require_cmd wireguard-go; bin=$(command -v wireguard-go) ;;
kernel) bin=; ip link add nn12probe type wireguard 2>/dev/null || skip "no WireGuard kernel module"
	ip link del nn12probe ;;
*) fail "PODWIRE_NETNS_IMPL=$impl: expected podwire-wg, kernel or wireguard-go" ;;
esac
[ "$impl" = kernel ] || require_tun
require_cmd ip ping iperf3 iptables ss

ns0=nn12-0 ns1=nn12-1 ns2=nn12-2 ns3=nn12-3 ns4=nn12-4
wg1=nn12wg1 wg2=nn12wg2 wg3=nn12wg3
mkdir "$W/bin"
# podwirectl as wg, so that every `wg` below (and anything it runs) is podwirectl.
if [ "${PODWIRE_NETNS_WG:-podwirectl}" = podwirectl ]; then
	require_built podwirectl
	ln -s "$B/podwirectl" "$W/bin/wg"
	export PATH="$W/bin:$PATH"
fi
declare -A pid=()
# The test base's cleanup: the interfaces, wherever a test step left them, then the namespaces.
for n in $ns0 $ns1 $ns2 $ns3 $ns4; do
	for i in $wg1 $wg2 $wg3; do track_wg $n $i; done
done

step() { echo; echo "[+] $*"; }
# nN CMD: run CMD in $nsN, printed as the kernel's netns.sh prints it.
nx() { local n=$1; shift; echo "    [$n] $*" >&2; ip netns exec "$n" "$@"; }
n0() { nx $ns0 "$@"; }
n1() { nx $ns1 "$@"; }
n2() { nx $ns2 "$@"; }
n3() { nx $ns3 "$@"; }
ip0() { n0 ip "$@"; }
ip1() { n1 ip "$@"; }
ip2() { n2 ip "$@"; }
ip3() { n3 ip "$@"; }
userspace() { [ "$impl" != kernel ]; }

# new_device NAME: create NAME in $ns0 with the implementation under test.
new_device() {
	if [ "$impl" = kernel ]; then
		ip0 link add "$1" type wireguard || fail "cannot create $1"
		return
	fi
	ip netns exec $ns0 env LOG_LEVEL=verbose "$bin" -f "$1" >>"$W/$1.log" 2>&1 &
	pid[$1]=$!
	track_pid $!
	wait_socket "$1" $ns0 || fail "$impl $1 did not start"
}
# wait_link NS NAME: the interface shows up in NS (a move is asynchronous for no one, but
# poll anyway rather than trust it).
wait_link() {
	wait_until 5 ip -n "$1" link show "$2" || fail "$2 did not appear in $1"
}
move() { # NAME FROM TO
	echo "    [$2] ip link set $1 netns $3"
	ip -n "$2" link set "$1" netns "$3" || fail "cannot move $1 from $2 to $3"
	wait_link "$3" "$1"
	! ip -n "$2" link show "$1" >/dev/null 2>&1 || fail "$1 still in $2 after the move"
	if userspace; then
		kill -0 "${pid[$1]}" 2>/dev/null || fail "$impl for $1 exited when $1 moved to $3"
	fi
	ok "$1 moved from $2 to $3$(userspace && echo ", $impl still running")"
}
# gone NAME: the process exited with status 0 and removed its socket; its UDP port closed.
gone() {
	local p=${pid[$1]:-} rc
	if userspace; then
		wait_until 10 pid_gone "$p" || fail "$impl for $1 still running after $1 was deleted"
		wait "$p"; rc=$?
		unset "pid[$1]"
		[ $rc = 0 ] || fail "$impl for $1 exited with status $rc, not a clean stop"
		[ ! -e /var/run/wireguard/$1.sock ] || fail "/var/run/wireguard/$1.sock left behind"
		ok "$impl for $1 exited cleanly (status 0), no socket file left"
	fi
}
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
# udp_listening NS PORT: a UDP socket listens on PORT in NS (tcp_listening: a TCP one).
udp_listening() { [ -n "$(ip netns exec "$1" ss -Huln "sport = :$2")" ]; }
tcp_listening() { [ -n "$(ip netns exec "$1" ss -Htln "sport = :$2")" ]; }
# udp_closed NS PORT: the port closes within 10 s (its owner has gone).
udp_free() { ! udp_listening "$1" "$2"; }
udp_closed() { wait_until 10 udp_free "$1" "$2"; }

ping_ok() { # NS ADDR [SIZE]
	for _ in 1 2 3 4 5; do
		ip netns exec "$1" ping -n -c 1 -W 1 ${3:+-s $3} "$2" >/dev/null 2>&1 && {
			ok "[$1] ping $2${3:+ with $3 bytes of payload}"
			return 0
		}
	done
	ip netns exec "$1" ping -n -c 1 -W 1 ${3:+-s $3} "$2"
	for n in $ns1 $ns2 $ns3; do ip netns exec $n wg show all dump 2>/dev/null | sed "s/^/    [$n] /"; done
	fail "[$1] no reply from $2"
}
ping_fails() { # NS ADDR WHY
	! ip netns exec "$1" ping -n -c 2 -i 0.5 -W 1 "$2" >/dev/null 2>&1 || fail "[$1] $2 answered: $3"
	ok "[$1] no reply from $2: $3"
}
tcp_ok() { # SERVER_NS CLIENT_NS ADDR: 1 MiB from client to server, then 1 MiB back (-R)
	local dir
	for dir in "" -R; do
		ip netns exec "$1" iperf3 -s -1 -p 5212 >"$W/iperf-s.log" 2>&1 &
		local spid=$!
		wait_until 5 tcp_listening "$1" 5212
		ip netns exec "$2" timeout 60 iperf3 -c "$3" -p 5212 -n 1M $dir >"$W/iperf-c.out" 2>&1 || {
			cat "$W/iperf-c.out" "$W/iperf-s.log"; kill $spid 2>/dev/null; fail "[$2] TCP ${dir:+(reverse) }to $3"
		}
		wait $spid
		ok "[$2] TCP to $3, 1 MiB $([ -n "$dir" ] && echo "from" || echo "to") [$1]"
	done
}
# dump_field NS IFACE PEER FIELD: a field of the peer's `wg show dump` line
# (3 endpoint, 4 allowed-ips, 5 latest-handshake, 6 rx, 7 tx, 8 keepalive).
dump_field() { ip netns exec "$1" wg show "$2" dump | awk -v k="$3" -v f="$4" '$1 == k { print $f }'; }
# peer_config NS IFACE: every peer's configuration (not its handshake and counters).
peer_config() { ip netns exec "$1" wg show "$2" dump | awk 'NR > 1 { print $1, $2, $3, $4, $8 }'; }
endpoint_at() { [ "$(dump_field "$1" "$2" "$3" 3)" = "$4" ]; } # NS IFACE PEER EXPECTED
endpoint_is() { # NS IFACE PEER EXPECTED WHY
	wait_until 2 endpoint_at "$1" "$2" "$3" "$4" ||
		fail "[$1] $2's endpoint for its peer is $(dump_field "$1" "$2" "$3" 3), expected $4: $5"
	ok "[$1] $2's endpoint for its peer is $4: $5"
}
v6addrs() { # re-add what a link loses when moved or set down
	ip -n "$1" -6 addr replace "$3" dev "$2" nodad
}

echo "implementation: $impl; wg: $(command -v wg)"
netns_add $ns0 $ns1 $ns2 $ns3

step "the interfaces are born in $ns0 and moved into $ns1 and $ns2"
new_device $wg1
new_device $wg2
move $wg1 $ns0 $ns1
move $wg2 $ns0 $ns2
for f in k1 k2 k1b psk; do wg genkey >"$W/$f"; done
pub1=$(wg pubkey <"$W/k1") pub2=$(wg pubkey <"$W/k2") pub1b=$(wg pubkey <"$W/k1b")
n1 wg set $wg1 private-key "$W/k1" listen-port 1 peer "$pub2" allowed-ips 192.168.241.2/32,fd00::2/128 || fail "wg set $wg1"
n2 wg set $wg2 private-key "$W/k2" listen-port 2 peer "$pub1" allowed-ips 192.168.241.1/32,fd00::1/128 || fail "wg set $wg2"
ip1 addr add 192.168.241.1/24 dev $wg1
ip2 addr add 192.168.241.2/24 dev $wg2
v6addrs $ns1 $wg1 fd00::1/112
v6addrs $ns2 $wg2 fd00::2/112
ip1 link set $wg1 up
ip2 link set $wg2 up
udp_listening $ns0 1 && udp_listening $ns0 2 || fail "the UDP ports 1 and 2 are not open in $ns0"
! udp_listening $ns1 1 && ! udp_listening $ns2 2 || fail "a UDP port followed its interface out of $ns0"
ok "UDP ports 1 and 2 stay in $ns0, where the interfaces were born"
if userspace; then
	[ "$(n0 wg show $wg1 public-key)" = "$pub1" ] && [ "$(n1 wg show $wg1 public-key)" = "$pub1" ] ||
		fail "the UAPI socket of $wg1 does not answer from both $ns0 and $ns1"
	ok "the UAPI socket of $wg1 answers from $ns0 and from $ns1"
fi

for outer in 4 6; do
	if [ $outer = 4 ]; then e1=127.0.0.1:1 e2=127.0.0.1:2; else e1=[::1]:1 e2=[::1]:2; fi
	step "ping and TCP both ways, IPv4 and IPv6 inside, IPv$outer outside ($e1 <-> $e2)"
	n1 wg set $wg1 peer "$pub2" endpoint $e2
	n2 wg set $wg2 peer "$pub1" endpoint $e1
	ping_ok $ns1 192.168.241.2
	ping_ok $ns2 192.168.241.1
	ping_ok $ns1 fd00::2
	ping_ok $ns2 fd00::1
	tcp_ok $ns2 $ns1 192.168.241.2
	tcp_ok $ns1 $ns2 fd00::1
	endpoint_is $ns2 $wg2 "$pub1" $e1 "learned from what $wg1 sent"
done

step "persistent keepalive: $wg1 sends keepalives with no traffic"
n1 wg set $wg1 peer "$pub2" persistent-keepalive 1
rx_beyond() { [ "$(dump_field $ns2 $wg2 "$pub1" 6)" -gt "$1" ]; } # BYTES
for round in 1 2; do
	rx=$(dump_field $ns2 $wg2 "$pub1" 6)
	wait_until 4 rx_beyond "$rx" || fail "no keepalive reached $wg2 within 4 s (round $round)"
done
ok "two rounds of keepalives reached $wg2 with nothing else sent"
n1 wg set $wg1 peer "$pub2" persistent-keepalive off

step "roaming: new listen ports while up, and $ns0's address changes under the sockets"
ip0 -4 addr del 127.0.0.1/8 dev lo
ip0 -4 addr add 127.212.121.99/8 dev lo
n1 wg set $wg1 listen-port 10
n2 wg set $wg2 listen-port 20
udp_listening $ns0 10 && udp_listening $ns0 20 && ! udp_listening $ns0 1 || fail "listen ports did not move to 10 and 20"
ok "listen ports changed to 10 and 20 while up, in $ns0"
n1 wg set $wg1 peer "$pub2" endpoint 127.212.121.99:20
ping_ok $ns1 192.168.241.2
endpoint_is $ns2 $wg2 "$pub1" 127.212.121.99:10 "roamed to a new source address and port"
ip0 -4 addr del 127.212.121.99/8 dev lo
ip0 -4 addr add 127.0.0.1/8 dev lo
ip0 -6 addr add fd12::99/128 dev lo nodad
n1 wg set $wg1 listen-port 11
n1 wg set $wg1 peer "$pub2" endpoint [fd12::99]:20
ping_ok $ns1 fd00::2
endpoint_is $ns2 $wg2 "$pub1" [fd12::99]:11 "roamed to a new IPv6 source address and port"

step "sticky source: the reply comes from the address the request was sent to"
# $ns0 gets a second address, 127.0.0.5. As a secondary address its route prefers the
# primary, 127.0.0.1, as source: the request leaves $wg1 from 127.0.0.1, and a reply whose
# source is left to routing would leave from 127.0.0.1 too. Only keeping where the request
# went makes it 127.0.0.5.
ip0 -4 addr add 127.0.0.5/8 dev lo
n1 wg set $wg1 peer "$pub2" endpoint 127.0.0.5:20
ping_ok $ns1 192.168.241.2
endpoint_is $ns1 $wg1 "$pub2" 127.0.0.5:20 "$wg2 answered from 127.0.0.5, where it was reached"
step "not too sticky: when that address goes away, $wg2 sends from one that exists"
# Deleting the primary takes 127.0.0.5 with it; 127.0.0.1/32 leaves the rest of 127/8
# unroutable, so 127.0.0.5 is not ours in any sense.
ip0 -4 addr del 127.0.0.1/8 dev lo
ip0 -4 addr add 127.0.0.1/32 dev lo
# $wg2 still sends to 127.0.0.1:11 from 127.0.0.5, which is no longer $ns0's.
n1 wg set $wg1 peer "$pub2" endpoint 127.0.0.1:20
ping_ok $ns2 192.168.241.1
endpoint_is $ns1 $wg1 "$pub2" 127.0.0.1:20 "$wg2 gave up 127.0.0.5 for 127.0.0.1"
ip0 -4 addr del 127.0.0.1/32 dev lo
ip0 -4 addr add 127.0.0.1/8 dev lo

step "a new private key on $wg1: a new handshake once $wg2 knows it"
n1 wg set $wg1 private-key "$W/k1b"
ping_fails $ns1 192.168.241.2 "$wg2 does not know $wg1's new key yet"
n2 wg set $wg2 peer "$pub1" remove peer "$pub1b" allowed-ips 192.168.241.1/32,fd00::1/128 endpoint 127.0.0.1:11
ping_ok $ns1 192.168.241.2
ping_ok $ns2 fd00::1
[ "$(dump_field $ns2 $wg2 "$pub1b" 5)" -gt 0 ] || fail "no handshake with $wg1's new key"
[ -z "$(dump_field $ns2 $wg2 "$pub1" 5)" ] || fail "$wg2 still has $wg1's old key"
ok "handshake done with $wg1's new key"

step "preshared key"
readd1() { # peer 2 on $wg1 from scratch: no session left, the next packet starts a handshake
	n1 wg set $wg1 peer "$pub2" remove
	n1 wg set $wg1 peer "$pub2" allowed-ips 192.168.241.2/32,fd00::2/128 endpoint 127.0.0.1:20 "$@"
}
readd1 preshared-key "$W/psk"
ping_fails $ns1 192.168.241.2 "only $wg1 has the preshared key"
n2 wg set $wg2 peer "$pub1b" preshared-key "$W/psk"
readd1 preshared-key "$W/psk"
ping_ok $ns1 192.168.241.2
ping_ok $ns2 fd00::1
[ "$(dump_field $ns1 $wg1 "$pub2" 2)" = "$(cat "$W/psk")" ] || fail "$wg1 does not show its preshared key"
ok "handshake with the same preshared key on both sides"

step "fwmark: $wg1's packets carry it in $ns0"
n0 iptables -w -A OUTPUT -p udp --sport 11 -m mark --mark 0x4c2 -j ACCEPT
marked() { ip netns exec $ns0 iptables -w -L OUTPUT -v -x -n | awk '/mark match 0x4c2/ { print $1 }'; }
n1 wg set $wg1 fwmark 0x4c2
[ "$(n1 wg show $wg1 fwmark)" = 0x4c2 ] || fail "fwmark not shown"
ping_ok $ns1 192.168.241.2
[ "$(marked)" -gt 0 ] || fail "no packet from port 11 carried mark 0x4c2"
ok "$(marked) packets from $wg1 carried mark 0x4c2"
n1 wg set $wg1 fwmark off
n0 iptables -w -Z OUTPUT
ping_ok $ns1 192.168.241.2
[ "$(marked)" = 0 ] || fail "packets still marked after fwmark off"
ok "no mark after fwmark off"
n0 iptables -w -F OUTPUT

step "MTU: lowered in the new namespace, the padding follows (paper §5.4.6)"
ip1 link set $wg1 mtu 1300
ip2 link set $wg2 mtu 1300
# An outer packet bigger than 1300 + 60 (IPv4 + UDP + WireGuard) means padding beyond the
# MTU; a datapath that still believed 1420 would pad 1297 bytes to 1312.
n0 iptables -w -A INPUT -p udp -m length --length 1361:65535 -j DROP
ping_ok $ns2 192.168.241.1 1269
ping_ok $ns1 192.168.241.2 1272
ping_ok $ns1 fd00::2 1249
! ip netns exec $ns1 ping -n -c 1 -W 1 -M do -s 1273 192.168.241.2 >/dev/null 2>&1 || fail "1301 bytes went through an MTU of 1300"
ok "[$ns1] 1301 bytes refused with DF at MTU 1300"
n0 iptables -w -F INPUT
ip1 link set $wg1 mtu 1420
ip2 link set $wg2 mtu 1420
ping_ok $ns1 192.168.241.2 1392

step "peers removed and re-added while traffic flows"
ip netns exec $ns2 ping -n -q -i 0.01 -w 4 192.168.241.1 >"$W/flood.out" 2>&1 &
flood=$!
for i in 1 2 3 4 5 6 7 8; do
	readd1 preshared-key "$W/psk" 2>/dev/null
	n2 wg set $wg2 peer "$pub1b" remove 2>/dev/null
	n2 wg set $wg2 peer "$pub1b" allowed-ips 192.168.241.1/32,fd00::1/128 endpoint 127.0.0.1:11 preshared-key "$W/psk" 2>/dev/null
	sleep 0.2
done
wait $flood
grep -o "[0-9]* received" "$W/flood.out" | sed 's/^/    while re-adding: /'
if userspace; then
	kill -0 "${pid[$wg1]}" && kill -0 "${pid[$wg2]}" || fail "$impl exited while peers were re-added"
fi
ping_ok $ns2 192.168.241.1
ping_ok $ns1 fd00::2

step "a device with no peers"
new_device $wg3
move $wg3 $ns0 $ns1
n1 wg set $wg3 private-key "$W/k2" listen-port 3
ip1 addr add 192.168.242.1/24 dev $wg3
ip1 link set $wg3 up
[ -z "$(n1 wg show $wg3 peers)" ] || fail "$wg3 has peers"
ping_fails $ns1 192.168.242.2 "no peer to send to"
[ "$(n1 wg show $wg3 listen-port)" = 3 ] && udp_listening $ns0 3 || fail "$wg3 without peers lost its port"
ok "$wg3 with no peers: up, listening in $ns0, nothing sent"
ip1 link del $wg3
gone $wg3
udp_closed $ns0 3 || fail "UDP port 3 still open after $wg3 was deleted"
ok "$wg3 deleted, its port closed"

step "the link down and up again"
ip1 link set $wg1 down
ping_fails $ns1 192.168.241.2 "$wg1 is down"
ip1 link set $wg1 up
v6addrs $ns1 $wg1 fd00::1/112
ping_ok $ns1 192.168.241.2
ping_ok $ns2 192.168.241.1
ping_ok $ns1 fd00::2
ping_ok $ns2 fd00::1

step "move $wg1 to $ns3 and back: peers kept, traffic each time, then delete it"
conf=$(peer_config $ns1 $wg1)
rx=$(dump_field $ns1 $wg1 "$pub2" 6)
move $wg1 $ns1 $ns3
ip3 addr add 192.168.241.1/24 dev $wg1
v6addrs $ns3 $wg1 fd00::1/112
ip3 link set $wg1 up
[ "$(peer_config $ns3 $wg1)" = "$conf" ] || fail "$wg1's peers changed in the move"
[ "$(dump_field $ns3 $wg1 "$pub2" 6)" -ge "$rx" ] || fail "$wg1's peer counters were reset by the move"
ok "$wg1 in $ns3 has the same peer, its counters kept"
ping_ok $ns3 192.168.241.2
ping_ok $ns2 fd00::1
tcp_ok $ns2 $ns3 192.168.241.2
move $wg1 $ns3 $ns1
ip1 addr add 192.168.241.1/24 dev $wg1
v6addrs $ns1 $wg1 fd00::1/112
ip1 link set $wg1 up
[ "$(peer_config $ns1 $wg1)" = "$conf" ] || fail "$wg1's peers changed in the move back"
ok "$wg1 back in $ns1 with the same peer"
ping_ok $ns1 192.168.241.2
ping_ok $ns2 fd00::1
ip1 link del $wg1
gone $wg1
udp_closed $ns0 11 || fail "UDP port 11 still open in $ns0 after $wg1 was deleted"
ok "$wg1 deleted in $ns1: its port in $ns0 closed"

step "bad input: $wg2 moved into $ns4, then $ns4 is deleted"
netns_add $ns4
move $wg2 $ns2 $ns4
echo "    ip netns del $ns4"
ip netns del $ns4
gone $wg2
udp_closed $ns0 20 || fail "UDP port 20 still open in $ns0 after $ns4 was deleted"
ok "$wg2 went with $ns4: its port in $ns0 closed"
for n in $ns0 $ns1 $ns2 $ns3; do
	! ip -n $n link show $wg2 >/dev/null 2>&1 || fail "$wg2 came back in $n"
done
ok "$wg2 is nowhere"

echo
echo "userspace_netns ($impl): $CHECKS checks passed"
