#!/bin/bash
# userspace_wgquick.sh — stock wg-quick and wg drive podwire-wg as they drive wireguard-go:
# WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick up CONF brings the tunnel up
# (talking to a wireguard-go peer); wg show / show dump report exactly what was configured;
# wg set, wg syncconf and wg showconf work; wg-quick down removes the interface and
# podwire-wg exits and removes its socket.
set -uo pipefail
. "$(dirname "$0")/pu_common.bash"
command -v wg-quick >/dev/null || skip "wg-quick not installed"
command -v wireguard-go >/dev/null || skip "wireguard-go not installed"
export PATH=$BUILD_DIR:$PATH

A=pu-wq-a B=pu-wq-b
pu_netns $A $B
pu_key a
pu_key b
pu_key c
wg genpsk >"$PU_TMP/psk"
PUB_A=$(cat "$PU_TMP/a.pub") PUB_B=$(cat "$PU_TMP/b.pub") PUB_C=$(cat "$PU_TMP/c.pub")
PSK=$(cat "$PU_TMP/psk")
PU_IFACES+=(puwq0)

cat >"$PU_TMP/puwq0.conf" <<CONF
[Interface]
PrivateKey = $(cat "$PU_TMP/a.key")
ListenPort = 51830
Address = 10.79.0.1/24, fd79::1/64

[Peer]
PublicKey = $PUB_B
PresharedKey = $PSK
Endpoint = 10.77.0.2:51831
AllowedIPs = 10.79.0.2/32, fd79::2/128
CONF

pu_start wireguard-go $B puwq1
ip netns exec $B wg set puwq1 private-key "$PU_TMP/b.key" listen-port 51831 \
	peer "$PUB_A" preshared-key "$PU_TMP/psk" allowed-ips 10.79.0.1/32,fd79::1/128 || fail "configure wireguard-go"
ip -n $B addr add 10.79.0.2/24 dev puwq1
ip -n $B addr add fd79::2/64 dev puwq1 nodad
ip -n $B link set puwq1 up

log "wg-quick up with podwire-wg"
ip netns exec $A env WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick up "$PU_TMP/puwq0.conf" ||
	fail "wg-quick up"
[ -S /var/run/wireguard/puwq0.sock ] || fail "no UAPI socket after wg-quick up"
ip -n $A -o link show puwq0 | grep -q "mtu 1420" || fail "MTU not 1420: $(ip -n $A -o link show puwq0)"
pu_ping $A 10.79.0.2 || fail "ping over wg-quick tunnel (v4)"
pu_ping $A fd79::2 || fail "ping over wg-quick tunnel (v6)"

log "wg show dump matches the configuration"
dump=$(ip netns exec $A wg show puwq0 dump)
echo "$dump"
read -r priv pub port fwmark <<<"$(echo "$dump" | head -1)"
[ "$priv" = "$(cat "$PU_TMP/a.key")" ] || fail "dump private key"
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
[ "$(ip netns exec $A wg show puwq0 latest-handshakes | awk '{print $2}')" = "$phs" ] || fail "wg show latest-handshakes"

log "wg set changes fields"
ip netns exec $A wg set puwq0 fwmark 0x1234 listen-port 51832 \
	peer "$PUB_B" persistent-keepalive 25 \
	peer "$PUB_C" endpoint [fd77::9]:4444 allowed-ips 10.79.5.0/24,fd79:5::/64 || fail "wg set"
dump=$(ip netns exec $A wg show puwq0 dump)
echo "$dump"
[ "$(echo "$dump" | head -1 | cut -f3,4)" = "$(printf '51832\t0x1234')" ] || fail "port/fwmark after wg set"
[ "$(echo "$dump" | awk -v k="$PUB_B" '$1 == k {print $8}')" = 25 ] || fail "keepalive after wg set"
line_c=$(echo "$dump" | awk -v k="$PUB_C" '$1 == k')
[ "$(echo "$line_c" | cut -f2-4)" = "$(printf '(none)\t[fd77::9]:4444\t10.79.5.0/24,fd79:5::/64')" ] ||
	fail "new peer fields: $line_c"
# The tunnel still works on the new port (the peer roams to it on our next packet).
pu_ping $A 10.79.0.2 || fail "ping after port change"

log "wg syncconf back to the file"
ip netns exec $A bash -c "wg syncconf puwq0 <(wg-quick strip '$PU_TMP/puwq0.conf')" || fail "wg syncconf"
dump=$(ip netns exec $A wg show puwq0 dump)
[ "$(echo "$dump" | wc -l)" = 2 ] || fail "syncconf did not remove the extra peer: $dump"
[ "$(echo "$dump" | head -1 | cut -f3)" = 51830 ] || fail "syncconf did not restore the port"
ip netns exec $A wg showconf puwq0 >"$PU_TMP/showconf"
grep -q "^PrivateKey = $(cat "$PU_TMP/a.key")" "$PU_TMP/showconf" &&
	grep -q "^PresharedKey = $PSK" "$PU_TMP/showconf" &&
	grep -q "^AllowedIPs = 10.79.0.2/32, fd79::2/128" "$PU_TMP/showconf" || {
	cat "$PU_TMP/showconf"
	fail "wg showconf"
}
pu_ping $A 10.79.0.2 || fail "ping after syncconf"

log "bad input through wg: refused, nothing changed"
before=$(ip netns exec $A wg show puwq0 dump | cut -f1-4,8)
# Hold a UDP port in namespace A, then ask podwire-wg to move onto it along with a peer
# change: the whole set must fail (EADDRINUSE) and leave everything as it was.
ip netns exec $A python3 -c "import socket,time,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',51899)); print('bound', flush=True); time.sleep(10)" >"$PU_TMP/busy" &
PU_PIDS+=($!)
for _ in $(seq 50); do [ -s "$PU_TMP/busy" ] && break; sleep 0.1; done
ip netns exec $A wg set puwq0 listen-port 51899 peer "$PUB_B" remove 2>"$PU_TMP/err" && fail "port in use accepted"
cat "$PU_TMP/err"
grep -qi "in use" "$PU_TMP/err" || fail "wg did not report the port in use"
[ "$(ip netns exec $A wg show puwq0 dump | cut -f1-4,8)" = "$before" ] || fail "failed set changed the device"
pu_ping $A 10.79.0.2 || fail "ping after refused set"

log "wg-quick down: interface removed, podwire-wg exits, socket removed"
ip netns exec $A env WG_QUICK_USERSPACE_IMPLEMENTATION=podwire-wg wg-quick down "$PU_TMP/puwq0.conf" || fail "wg-quick down"
for _ in $(seq 50); do [ -S /var/run/wireguard/puwq0.sock ] || break; sleep 0.1; done
[ -S /var/run/wireguard/puwq0.sock ] && fail "socket still there after wg-quick down"
ip -n $A link show puwq0 >/dev/null 2>&1 && fail "interface still there"
echo "PASS: wg-quick/wg drive podwire-wg"
