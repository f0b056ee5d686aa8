#!/bin/bash
# userspace_security.sh — what podwire-wg must refuse, against a wireguard-go peer:
#  - an initiator whose static key it does not know never gets a session;
#  - a wrong preshared key never yields a session, whichever side initiates;
#  - a genuine initiation captured with tcpdump and replayed later gets no response;
#  - malformed, truncated, oversized and wrong-type UDP datagrams are dropped and counted,
#    the daemon keeps running and the session keeps working;
#  - bad UAPI lines get the same errno= as wireguard-go gives, and change nothing.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_cmd wireguard-go tcpdump

two_wg_hosts pu-sc-a pu-sc-b
make_key c
wg genpsk >"$W/psk1"
wg genpsk >"$W/psk2"
PUB_A=$(cat "$W/a.pub") PUB_B=$(cat "$W/b.pub") PUB_C=$(cat "$W/c.pub")

wg_start podwire-wg $NA pusc0
wg_start wireguard-go $NB pusc1
ip -n $NA addr add 10.81.0.1/24 dev pusc0
ip -n $NB addr add 10.81.0.2/24 dev pusc1
ip -n $NA link set pusc0 up
ip -n $NB link set pusc1 up
ip netns exec $NB wg set pusc1 private-key "$W/b.key" listen-port 51851 \
	peer "$PUB_A" preshared-key "$W/psk1" endpoint 10.77.0.1:51850 allowed-ips 10.81.0.1/32 || fail "configure wireguard-go"
hs() { ip netns exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k {print $2}'; }

log "unknown initiator: podwire-wg knows only C, B initiates"
ip netns exec $NA wg set pusc0 private-key "$W/a.key" listen-port 51850 \
	peer "$PUB_C" allowed-ips 10.81.0.3/32 || fail "configure podwire-wg"
ns_ping $NB 10.81.0.1 1 && fail "session with an unknown key"
[ "$(hs $NA pusc0 "$PUB_C")" = 0 ] && [ "$(hs $NB pusc1 "$PUB_A")" = 0 ] || fail "handshake recorded with unknown key"

log "wrong preshared key, both directions"
ip netns exec $NA wg set pusc0 peer "$PUB_B" preshared-key "$W/psk2" endpoint 10.77.0.2:51851 allowed-ips 10.81.0.2/32
ns_ping $NA 10.81.0.2 1 && fail "session with a wrong psk (podwire-wg initiating)"
sleep 5.2 # REKEY_TIMEOUT: let a new initiation from B through
ns_ping $NB 10.81.0.1 1 && fail "session with a wrong psk (wireguard-go initiating)"
[ "$(hs $NA pusc0 "$PUB_B")" = 0 ] && [ "$(hs $NB pusc1 "$PUB_A")" = 0 ] || fail "handshake recorded with wrong psk"

log "right preshared key: session, with the handshake captured"
capture() { # file: start tcpdump in A, wait until it listens
	: >"$W/tcpdump.err"
	ip netns exec $NA tcpdump -Z root -i pu-v0 -U -w "$1" udp port 51850 2>"$W/tcpdump.err" &
	tcpd=$!
	track_pid $tcpd
	for _ in $(seq 50); do grep -q listening "$W/tcpdump.err" && return 0; sleep 0.1; done
	cat "$W/tcpdump.err"
	fail "tcpdump did not start"
}
capture "$W/hs.pcap"
# Re-create the peer so that podwire-wg's own pending retries stop: B initiates.
ip netns exec $NA wg set pusc0 peer "$PUB_B" remove
ip netns exec $NA wg set pusc0 peer "$PUB_B" preshared-key "$W/psk1" endpoint 10.77.0.2:51851 allowed-ips 10.81.0.2/32
ok=
for _ in 1 2 3 4; do ns_ping $NB 10.81.0.1 1 && ok=1 && break; done
[ -n "$ok" ] || fail "no session with the right psk"

cat >"$W/pcap.py" <<'PY'
# pcap.py FILE TYPE [SPORT]: print hex UDP payloads of WireGuard message TYPE (pcap, Ethernet).
import struct, sys
data = open(sys.argv[1], "rb").read()
want, sport = int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None
off = 24
while off + 16 <= len(data):
	incl = struct.unpack("<I", data[off + 8:off + 12])[0]
	pkt = data[off + 16:off + 16 + incl]
	off += 16 + incl
	if len(pkt) < 14 or struct.unpack("!H", pkt[12:14])[0] != 0x0800:
		continue
	ihl = (pkt[14] & 15) * 4
	udp = pkt[14 + ihl:]
	if pkt[23] != 17 or len(udp) < 9:
		continue
	payload = udp[8:]
	if payload[0] == want and (sport is None or struct.unpack("!H", udp[:2])[0] == sport):
		print(payload.hex())
PY
# tcpdump writes each packet as it reads it (-U); on a loaded machine that can lag.
for _ in $(seq 50); do
	init=$(python3 "$W/pcap.py" "$W/hs.pcap" 1 51851 | tail -1)
	resps=$(python3 "$W/pcap.py" "$W/hs.pcap" 2 51850 | wc -l)
	[ -n "$init" ] && [ "$resps" -ge 1 ] && break
	sleep 0.2
done
kill $tcpd
wait $tcpd 2>/dev/null
[ -n "$init" ] && [ "$resps" -ge 1 ] || {
	tcpdump -nr "$W/hs.pcap" 2>&1 | head -20
	cat "$W/tcpdump.err"; ls -la "$W"
	ip netns exec $NA wg show pusc0; ip netns exec $NB wg show pusc1
	fail "did not capture the genuine handshake ($resps responses)"
}
echo "captured initiation: ${init:0:32}... and $resps response(s) from podwire-wg"

log "replayed initiation is ignored"
capture "$W/replay.pcap"
ip netns exec $NB python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.77.0.2', 51852))
for _ in range(3):
	s.sendto(bytes.fromhex('$init'), ('10.77.0.1', 51850))
"
for _ in $(seq 50); do
	[ "$(python3 "$W/pcap.py" "$W/replay.pcap" 1 51852 | wc -l)" = 3 ] && break
	sleep 0.2
done
sleep 1.5 # time for an (unwanted) response to show up
kill $tcpd
wait $tcpd 2>/dev/null
[ "$(python3 "$W/pcap.py" "$W/replay.pcap" 1 51852 | wc -l)" = 3 ] || fail "replay not sent/captured"
[ "$(python3 "$W/pcap.py" "$W/replay.pcap" 2 | wc -l)" = 0 ] || fail "podwire-wg answered a replayed initiation"
ns_ping $NB 10.81.0.1 2 || fail "session broken after replay"

log "malformed datagrams are dropped and counted"
sent=$(ip netns exec $NB python3 - <<'PY'
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
dst = ("10.77.0.1", 51850)
n = 0
def send(b):
	global n
	s.sendto(b, dst); n += 1
for size in (0, 1, 2, 3, 4, 5, 16, 31, 63, 147, 149, 1000, 9000, 65507):
	send(os.urandom(size))                              # garbage of every size
for t in (1, 2, 3, 4):
	for size in (4, 8, 31, 91, 93, 147, 149, 63, 65):
		send(bytes([t, 0, 0, 0]) + os.urandom(size - 4))  # right type, wrong size
for t in (0, 5, 255):
	send(bytes([t, 0, 0, 0]) + os.urandom(144))         # unknown types
for _ in range(200):
	send(bytes([1, 0, 0, 0]) + os.urandom(144))         # initiations with bad mac1
	send(bytes([4, 0, 0, 0]) + os.urandom(60))          # data for unknown indices
	send(bytes([3, 0, 0, 0]) + os.urandom(60))          # cookies for unknown indices
send(b"\x04" + b"\0" * 3 + b"\xff" * 65503)             # oversized data message
print(n)
PY
)
echo "sent $sent malformed datagrams"
sleep 0.5
ns_ping $NB 10.81.0.1 2 || fail "session broken by malformed input"
kill -0 "${PIDS[0]}" || fail "podwire-wg died"

log "bad UAPI lines: same errno as wireguard-go, nothing changed"
cat >"$W/uapi.py" <<'PY'
import socket, sys
def ask(path, req):
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(path)
	s.sendall(req.encode())
	out = b""
	while not out.endswith(b"\n\n"):
		d = s.recv(65536)
		if not d:
			break
		out += d
	s.close()
	return out.decode()
path = sys.argv[1]
reqs = [
	"set=1\nlisten_port=abc\n\n",
	"set=1\nlisten_port=70000\n\n",
	"set=1\nfwmark=-1\n\n",
	"set=1\nprivate_key=00\n\n",
	"set=1\nbogus_key=1\n\n",
	"set=1\npublic_key=zz\n\n",
	"set=1\npublic_key=" + "ab" * 32 + "\nendpoint=nohost\n\n",
	"set=1\npublic_key=" + "ab" * 32 + "\nallowed_ip=1.2.3.4/40\n\n",
	"set=1\npublic_key=" + "ab" * 32 + "\nprotocol_version=2\n\n",
	"set=1\npublic_key=" + "ab" * 32 + "\nreplace_allowed_ips=false\n\n",
	"set=1\nno equals here\n\n",
	"get=1\n\n",
]
for r in reqs:
	out = ask(path, r)
	print(out.strip().splitlines()[-1])
PY
snap() { ip netns exec $NA wg show pusc0 dump | cut -f1-4; ip netns exec $NA wg show pusc0 dump | tail -n +2 | cut -f1-4,8; }
before=$(snap)
ours=$(python3 "$W/uapi.py" /var/run/wireguard/pusc0.sock)
theirs=$(python3 "$W/uapi.py" /var/run/wireguard/pusc1.sock)
paste <(echo "$ours") <(echo "$theirs")
[ "$ours" = "$theirs" ] || fail "errno differs from wireguard-go"
[ "$(echo "$ours" | grep -c '^errno=-')" = 11 ] || fail "not every bad request was refused"
[ "$(snap)" = "$before" ] || fail "a refused request changed podwire-wg"

log "drop counters"
stop_pid "${PIDS[0]}"
grep "dropped:" "$W/pusc0.log" || fail "no drop counters logged"
python3 - "$W/pusc0.log" "$sent" <<'PY' || fail "drops not counted"
import re, sys
line = [l for l in open(sys.argv[1]) if "dropped:" in l][-1]
c = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
total = c["malformed"] + c["invalid_mac"] + c["bad_handshake"] + c["bad_data"]
# Every malformed datagram plus the replays and rejected handshakes earlier.
# 47 of them have a wrong size or type; the rest fail mac1, index or decryption.
sys.exit(0 if total >= int(sys.argv[2]) and c["malformed"] >= 40 else 1)
PY
[ -S /var/run/wireguard/pusc0.sock ] && fail "socket left after SIGTERM"
echo "PASS: podwire-wg refuses what it must"
