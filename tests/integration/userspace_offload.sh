#!/bin/bash
# userspace_offload.sh — podwire-wg's segmentation offload, on and forced off
# (PODWIRE_WG_OFFLOAD=0), between two podwire-wg over a veth:
#  - the start-up log says which offloads are on (TUN TSO/checksum, UDP GSO/GRO), or off;
#  - 16 MiB of random bytes cross the tunnel over TCP in each direction, IPv4 and IPv6
#    inner, and arrive intact (sha256): TSO super-packets cut in userspace, UDP GSO/GRO,
#    coalesced TUN writes must keep every byte and checksum right; again at MTU 900, where
#    a super-packet holds more segments than one batch (it is cut a batch at a time);
#  - a UDP_SEGMENT train of 6 forged initiations and a 10-byte runt sent to the listen
#    port is dropped one datagram at a time (invalid_mac=6, malformed=1), never as a
#    whole, and the tunnel keeps working;
#  - no super-packet from TUN was refused (bad_tun_gso=0), no write failed (tx_errors=0).
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"

two_wg_hosts pu-of-a pu-of-b
head -c $((16 << 20)) /dev/urandom >"$W/blob"
want=$(sha256sum <"$W/blob" | cut -d' ' -f1)

# transfer FROM_NS TO_NS ADDR: send the blob over TCP; the receiver prints its sha256.
transfer() {
	local from=$1 to=$2 addr=$3 port=$((6100 + RANDOM % 500)) spid got
	ip netns exec "$to" timeout 60 python3 -c '
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
c, _ = s.accept(); h = hashlib.sha256()
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b)
print(h.hexdigest())' "$addr" $port >"$W/recv.out" 2>&1 &
	spid=$!
	wait_until 5 port_listening "$to" $port || { kill $spid 2>/dev/null; return 1; }
	ip netns exec "$from" timeout 60 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
with open(sys.argv[3], "rb") as f:
    while True:
        b = f.read(1 << 16)
        if not b: break
        s.sendall(b)
s.close()' "$addr" $port "$W/blob" || { kill $spid 2>/dev/null; return 1; }
	wait $spid || return 1
	got=$(cat "$W/recv.out")
	[ "$got" = "$want" ] || { echo "sha256 $got, sent $want"; return 1; }
}

port_listening() { ip netns exec "$1" ss -ltn | grep -q ":$2 "; } # NS PORT

# junk_train NS DST PORT: one sendmsg with UDP_SEGMENT: 6 x 148-byte forged initiations
# (type 1, random MACs) and a 10-byte last segment.
junk_train() {
	ip netns exec "$1" python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
msgs = [b"\x01\x00\x00\x00" + os.urandom(144) for _ in range(6)] + [b"\x01" + bytes(9)]
s.sendmsg([b"".join(msgs)], [(socket.SOL_UDP, 103, struct.pack("H", 148))], 0, (sys.argv[1], int(sys.argv[2])))
' "$2" "$3"
}

# counter LOG NAME: the last value of NAME=N in a "dropped:" line.
counter() { grep "dropped:" "$1" | tail -n 1 | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }

run_case() { # offload: 1 or 0
	local o=$1 state
	[ "$o" = 1 ] && state=on || state=off
	log "PODWIRE_WG_OFFLOAD=$o"
	: >"$W/puof0.log"; : >"$W/puof1.log"
	export PODWIRE_WG_OFFLOAD=$o
	wg_start podwire-wg $NA puof0
	wg_start podwire-wg $NB puof1
	unset PODWIRE_WG_OFFLOAD
	ip netns exec $NA wg set puof0 private-key "$W/a.key" listen-port 51870 \
		peer "$(cat "$W/b.pub")" endpoint 10.77.0.2:51871 allowed-ips 10.87.0.2/32,fd87::2/128 || fail "wg set A"
	ip netns exec $NB wg set puof1 private-key "$W/b.key" listen-port 51871 \
		peer "$(cat "$W/a.pub")" endpoint 10.77.0.1:51870 allowed-ips 10.87.0.1/32,fd87::1/128 || fail "wg set B"
	ip -n $NA addr add 10.87.0.1/24 dev puof0; ip -n $NB addr add 10.87.0.2/24 dev puof1
	ip -n $NA addr add fd87::1/64 dev puof0 nodad; ip -n $NB addr add fd87::2/64 dev puof1 nodad
	ip -n $NA link set puof0 up; ip -n $NB link set puof1 up
	for f in puof0 puof1; do
		grep -q "offload: TUN TSO4/TSO6 and checksum $state" "$W/$f.log" || { cat "$W/$f.log"; fail "$f: TUN offload not $state"; }
		grep -q "offload: UDP GSO $state, UDP GRO $state" "$W/$f.log" || { cat "$W/$f.log"; fail "$f: UDP offload not $state"; }
	done
	echo "start-up log: TUN and UDP offload $state on both sides"
	ns_ping $NA 10.87.0.2 2 || fail "ping v4 through the tunnel"
	transfer $NA $NB 10.87.0.2 || fail "16 MiB A -> B over IPv4 inner (offload $state)"
	transfer $NB $NA 10.87.0.1 || fail "16 MiB B -> A over IPv4 inner (offload $state)"
	transfer $NA $NB fd87::2 || fail "16 MiB A -> B over IPv6 inner (offload $state)"
	transfer $NB $NA fd87::1 || fail "16 MiB B -> A over IPv6 inner (offload $state)"
	echo "16 MiB intact each way, IPv4 and IPv6 inner (offload $state)"
	# MTU 900: a 64 KB TSO super-packet is ~77 segments, more than one batch holds.
	ip -n $NA link set puof0 mtu 900; ip -n $NB link set puof1 mtu 900
	transfer $NA $NB 10.87.0.2 || fail "16 MiB A -> B over IPv4 inner at MTU 900 (offload $state)"
	echo "16 MiB intact at MTU 900, super-packets of more segments than a batch (offload $state)"
	junk_train $NA 10.77.0.2 51871 || fail "cannot send the UDP_SEGMENT train"
	ns_ping $NA 10.87.0.2 2 || fail "tunnel broken after the junk train"
	stop_pids
	[ "$(counter "$W/puof1.log" invalid_mac)" = 6 ] && [ "$(counter "$W/puof1.log" malformed)" = 1 ] || {
		grep "dropped:" "$W/puof1.log"
		fail "junk train not dropped datagram by datagram (want invalid_mac=6 malformed=1)"
	}
	echo "junk train: 6 forged initiations and 1 runt dropped one by one (offload $state)"
	for f in puof0 puof1; do
		[ "$(counter "$W/$f.log" bad_tun_gso)" = 0 ] && [ "$(counter "$W/$f.log" tx_errors)" = 0 ] || {
			grep "dropped:" "$W/$f.log"
			fail "$f: refused super-packets or failed writes"
		}
	done
	echo "bad_tun_gso=0 tx_errors=0 on both sides"
	ip netns exec $NA true
}

run_case 1
run_case 0
echo "PASS: offload on and forced off carry TCP intact and drop a junk train datagram by datagram"
