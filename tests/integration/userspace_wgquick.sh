#!/bin/bash
# userspace_wgquick.sh — stock wg-quick and wg drive podwire-wg as they drive wireguard-go:
# WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick up CONF brings the tunnel up
# (talking to a wireguard-go peer); wg show / show dump report exactly what was configured;
# wg set, wg syncconf and wg showconf work; wg-quick down removes the interface and
# podwire-wg exits and removes its socket.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_cmd wg-quick wireguard-go
export PATH=$B:$PATH

two_wg_hosts pu-wq-a pu-wq-b
make_key c
wg genpsk >"$W/psk"
PUB_A=$(cat "$W/a.pub") PUB_B=$(cat "$W/b.pub") PUB_C=$(cat "$W/c.pub")
PSK=$(cat "$W/psk")
track_wg "$NA" puwq0

cat >"$W/puwq0.conf" <<CONF
[Interface]
PrivateKey = $(cat "$W/a.key")
ListenPort = 51830
Address = 10.79.0.1/24, fd79::1/64

[Peer]
PublicKey = $PUB_B
PresharedKey = $PSK
Endpoint = 10.77.0.2:51831
AllowedIPs = 10.79.0.2/32, fd79::2/128
CONF

wg_start wireguard-go $NB puwq1
ip netns exec $NB wg set puwq1 private-key "$W/b.key" listen-port 51831 \
	peer "$PUB_A" preshared-key "$W/psk" allowed-ips 10.79.0.1/32,fd79::1/128 || fail "configure wireguard-go"
ip -n $NB addr add 10.79.0.2/24 dev puwq1
ip -n $NB addr add fd79::2/64 dev puwq1 nodad
ip -n $NB link set puwq1 up

log "wg-quick up with podwire-wg"
ip netns exec $NA env WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick up "$W/puwq0.conf" ||
	fail "wg-quick up"
[ -S /var/run/wireguard/puwq0.sock ] || fail "no UAPI socket after wg-quick up"
ip -n $NA -o link show puwq0 | grep -q "mtu 1420" || fail "MTU not 1420: $(ip -n $NA -o link show puwq0)"
ns_ping $NA 10.79.0.2 2 || fail "ping over wg-quick tunnel (v4)"
ns_ping $NA fd79::2 2 || fail "ping over wg-quick tunnel (v6)"

log "wg show dump matches the configuration"
dump=$(ip netns exec $NA wg show puwq0 dump)
echo "$dump"
read -r priv pub port fwmark <<<"$(echo "$dump" | head -1)"
[ "$priv" = "$(cat "$W/a.key")" ] || fail "dump private key"
[ "$pub" = "$PUB_A" ] || fail "dump public key"
[ "$port" = 51830 ] || fail "dump listen port $port"
[ "$fwmark" = off ] || fail "dump fwmark $fwmark"
read -r ppub ppsk pep paips phs prx ptx pka <<<"$(echo "$dump" | sed -n 2p)"
[ "$ppub" = "$PUB_B" ] || fail "dump peer key"
[ "$ppsk" = "$PSK" ] || fail "dump preshared key"
[ "$pep" = 10.77.0.2:51831 ] || fail "dump endpoint $pep"
[ "$paips" = "10.79.0.2/32,fd79::2/128" ] || fail "dump allowed ips $paips"
[ "$phs" -gt 0 ] || fail "dump latest handshake $phs"
[ "$prx" -gt 0 ] && [ "$ptx" -gt 0 ] || fail "dump transfer $prx/$ptx"
[ "$pka" = off ] || fail "dump keepalive $pka"
[ "$(ip netns exec $NA wg show puwq0 latest-handshakes | awk '{print $2}')" = "$phs" ] || fail "wg show latest-handshakes"

log "wg set changes fields"
ip netns exec $NA wg set puwq0 fwmark 0x1234 listen-port 51832 \
	peer "$PUB_B" persistent-keepalive 25 \
	peer "$PUB_C" endpoint [fd77::9]:4444 allowed-ips 10.79.5.0/24,fd79:5::/64 || fail "wg set"
dump=$(ip netns exec $NA wg show puwq0 dump)
echo "$dump"
[ "$(echo "$dump" | head -1 | cut -f3,4)" = "$(printf '51832\t0x1234')" ] || fail "port/fwmark after wg set"
[ "$(echo "$dump" | awk -v k="$PUB_B" '$1 == k {print $8}')" = 25 ] || fail "keepalive after wg set"
line_c=$(echo "$dump" | awk -v k="$PUB_C" '$1 == k')
[ "$(echo "$line_c" | cut -f2-4)" = "$(printf '(none)\t[fd77::9]:4444\t10.79.5.0/24,fd79:5::/64')" ] ||
	fail "new peer fields: $line_c"
# The tunnel still works on the new port (the peer roams to it on our next packet).
ns_ping $NA 10.79.0.2 2 || fail "ping after port change"

log "wg syncconf back to the file"
ip netns exec $NA bash -c "wg syncconf puwq0 <(wg-quick strip '$W/puwq0.conf')" || fail "wg syncconf"
dump=$(ip netns exec $NA wg show puwq0 dump)
[ "$(echo "$dump" | wc -l)" = 2 ] || fail "syncconf did not remove the extra peer: $dump"
[ "$(echo "$dump" | head -1 | cut -f3)" = 51830 ] || fail "syncconf did not restore the port"
ip netns exec $NA wg showconf puwq0 >"$W/showconf"
grep -q "^PrivateKey = $(cat "$W/a.key")" "$W/showconf" &&
	grep -q "^PresharedKey = $PSK" "$W/showconf" &&
	grep -q "^AllowedIPs = 10.79.0.2/32, fd79::2/128" "$W/showconf" || {
	cat "$W/showconf"
	fail "wg showconf"
}
ns_ping $NA 10.79.0.2 2 || fail "ping after syncconf"

log "bad input through wg: refused, nothing changed"
before=$(ip netns exec $NA wg show puwq0 dump | cut -f1-4,8)
# Hold a UDP port in namespace A, then ask podwire-wg to move onto it along with a peer
# change: the whole set must fail (EADDRINUSE) and leave everything as it was.
ip netns exec $NA python3 -c "import socket,time,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',51899)); print('bound', flush=True); time.sleep(10)" >"$W/busy" &
track_pid $!
for _ in $(seq 50); do [ -s "$W/busy" ] && break; sleep 0.1; done
ip netns exec $NA wg set puwq0 listen-port 51899 peer "$PUB_B" remove 2>"$W/err" && fail "port in use accepted"
cat "$W/err"
grep -qi "in use" "$W/err" || fail "wg did not report the port in use"
[ "$(ip netns exec $NA wg show puwq0 dump | cut -f1-4,8)" = "$before" ] || fail "failed set changed the device"
ns_ping $NA 10.79.0.2 2 || fail "ping after refused set"

log "wg-quick down: interface removed, podwire-wg exits, socket removed"
ip netns exec $NA env WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick down "$W/puwq0.conf" || fail "wg-quick down"
for _ in $(seq 50); do [ -S /var/run/wireguard/puwq0.sock ] || break; sleep 0.1; done
[ -S /var/run/wireguard/puwq0.sock ] && fail "socket still there after wg-quick down"
ip -n $NA link show puwq0 >/dev/null 2>&1 && fail "interface still there"
echo "PASS: wg-quick/wg drive podwire-wg"
