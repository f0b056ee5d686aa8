#!/bin/bash
# containers_server.sh — the image's server mode (linuxserver/wireguard's PEERS=...), inside
# the private namespace pw18-host:
#
#   pw18-srv 10.89.120.0/24 ("the internet")
#     ├─ pw18-whoami .80         answers GET /cgi-bin/ip with the caller's address
#     └─ pw18-server             PEERS=2, 51820/udp published as pw18-host:51920
#   pw18-host 10.89.121.1 ── veth ── pw18-sc 10.89.121.2: a client namespace that runs
#                                    `podwirectl up` on the server's peer1.conf
#
# Checks: PEERS=2 makes the server config with two peers and two client configs (0600), each
# with a PNG and a terminal QR code; the client brought up from peer1's config reaches the
# server's tunnel address and the internet through it (the service sees the server); after a
# restart every key and config is the same, and a client brought up again from the same
# config still gets through.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
client_cleanup() {
	local pid
	[ -f "$W/pw18s1.conf" ] && ip netns exec pw18-sc podwirectl down "$W/pw18s1.conf" >/dev/null 2>&1
	# A podwire-wg that outlived its interface would keep pw18-sc alive after `ip netns del`
	# (and any file it inherited open): the client's is ours, by its interface name.
	for pid in $(pgrep -f '^[^ ]*podwire-wg pw18s1$'); do kill "$pid"; done
}
ct_setup
at_exit client_cleanup
ct_network pw18-srv 10.89.120.0/24
ct_whoami pw18-srv 10.89.120.80
url=http://10.89.120.80/cgi-bin/ip

ip netns del pw18-sc 2>/dev/null # left by a killed run
netns_add pw18-sc
ip link add pw18-sh netns "$HOSTNS" type veth peer name eth0 netns pw18-sc || fail "veth"
ip -n "$HOSTNS" addr add 10.89.121.1/24 dev pw18-sh
ip -n "$HOSTNS" link set pw18-sh up
ip -n pw18-sc addr add 10.89.121.2/24 dev eth0
ip -n pw18-sc link set eth0 up
ip -n pw18-sc link set lo up
ip -n pw18-sc route add default via 10.89.121.1

mkdir -m 700 "$W/config"
start_server() {
	P run -d --name pw18-server --network pw18-srv --cap-add NET_ADMIN --device /dev/net/tun \
		--sysctl net.ipv4.ip_forward=1 -p 51920:51820/udp -v "$W/config:/config" \
		-e PEERS=2 -e SERVERURL=10.89.121.1 -e SERVERPORT=51920 -e INTERNAL_SUBNET=10.13.13.0 \
		-e PERSISTENTKEEPALIVE_PEERS=all "$IMAGE" >/dev/null || fail "$CT_ENGINE run server"
	ct_wait_log pw18-server "podwire: up:" || { P logs pw18-server; fail "server did not come up"; }
}
start_server

# What PEERS=2 made.
c=$W/config
[ "$(grep -c '^\[Peer\]' "$c/wg_confs/wg0.conf")" = 2 ] || fail "server wg0.conf has not 2 peers"
server_pub=$(cat "$c/server/publickey-server")
for p in peer1 peer2; do
	f=$c/$p/$p.conf
	[ -f "$f" ] || fail "$f missing"
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
	grep -qx "PublicKey = $server_pub" "$f" || fail "$f: not the server's public key"
	grep -qx "Endpoint = 10.89.121.1:51920" "$f" || fail "$f: not the SERVERURL:SERVERPORT endpoint"
	podwirectl strip "$f" >/dev/null || fail "$f is not a valid config"
	[ "$(head -c 8 "$c/$p/$p.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$c/$p/$p.png is not a PNG"
	grep -q '▄' "$c/$p/$p.qr.txt" || fail "$c/$p/$p.qr.txt is not a terminal QR code"
	pub=$(cat "$c/$p/publickey-$p")
	grep -qx "PublicKey = $pub" "$c/wg_confs/wg0.conf" || fail "server config lacks $p's key"
done
[ "$(grep -c '^PersistentKeepalive = 25' "$c/wg_confs/wg0.conf")" = 2 ] || fail "PERSISTENTKEEPALIVE_PEERS=all not applied"
P exec pw18-server podwire-entrypoint show-peer 1 | grep '▄' >/dev/null || fail "show-peer 1 draws no QR code"
ok "PEERS=2: server config with 2 peers, peer1 and peer2 configs (0600), PNG and terminal QR codes"
ct_health pw18-server >/dev/null || fail "HEALTHCHECK of a running server fails"
ok "HEALTHCHECK passes while wg0 is up"

# A client from peer1's config, in its own namespace: the tunnel and the internet through it.
# (without its DNS line: PEERDNS=auto gave the container's resolver, and the client runs in a
# namespace that shares the machine's /etc/resolv.conf)
install -m 600 /dev/null "$W/pw18s1.conf"
grep -v '^DNS = ' "$c/peer1/peer1.conf" >"$W/pw18s1.conf"
client_through() {
	ip netns exec pw18-sc podwirectl up "$W/pw18s1.conf" >"$W/up.log" 2>&1 || { cat "$W/up.log"; fail "client up"; }
	ip netns exec pw18-sc ping -c 1 -W 5 10.13.13.1 >/dev/null || fail "client cannot reach the server's 10.13.13.1"
	server4=$(ct_addr pw18-server pw18-srv)
	answer=$(ip netns exec pw18-sc curl -s --max-time 5 "$url")
	[ "$answer" = "$server4" ] || fail "through the server the service saw '$answer', want the server's $server4"
	ip netns exec pw18-sc podwirectl down "$W/pw18s1.conf" >/dev/null 2>&1 || fail "client down"
}
client_through
ok "client from peer1.conf reaches 10.13.13.1 and the internet as the server ($server4)"

# Restart: the same keys, the same configs, and the same client config still works.
before=$(cd "$c" && find . -type f ! -name '*.png' | sort | xargs sha256sum)
P stop -t 10 pw18-server >/dev/null || fail "$CT_ENGINE stop server"
[ "$(P inspect pw18-server --format '{{.State.ExitCode}}')" = 0 ] || fail "server did not exit 0 on SIGTERM"
ct_rm pw18-server >/dev/null
start_server
after=$(cd "$c" && find . -type f ! -name '*.png' | sort | xargs sha256sum)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "a restart changed keys or configs"; }
client_through
ok "a new server container on the same /config keeps every key; the client gets through again"

# PEERS as names: linuxserver's peer_NAME directories, the addresses in PEERS order.
mkdir -m 700 "$W/named"
P run --rm --no-healthcheck --network pw18-srv -v "$W/named:/config" -e PEERS=laptop,phone \
	"$IMAGE" podwire-server-config >/dev/null 2>&1 || fail "server config for PEERS=laptop,phone"
grep -qx 'Address = 10.13.13.2' "$W/named/peer_laptop/peer_laptop.conf" &&
	grep -qx 'Address = 10.13.13.3' "$W/named/peer_phone/peer_phone.conf" ||
	fail "PEERS=laptop,phone: no peer_laptop (.2) and peer_phone (.3) configs"
ok "PEERS=laptop,phone: peer_laptop/peer_laptop.conf (.2) and peer_phone/peer_phone.conf (.3)"

# The same image's other commands: the CNI installer and podwired.
mkdir "$W/cni"
P run --rm --no-healthcheck --network none -v "$W/cni:/opt/cni/bin" "$IMAGE" install-cni >/dev/null || fail "install-cni"
for b in podwire podwire-ipam; do
	[ -x "$W/cni/$b" ] && cmp -s "$W/cni/$b" "$TOP/build/$b" || fail "install-cni did not install $b"
done
[ -z "$(find "$W/cni" -name '.*')" ] || fail "install-cni left temporary files"
P run --rm --no-healthcheck --network none "$IMAGE" podwired --help >/dev/null 2>&1 || fail "podwired --help in the image"
ok "the image's install-cni puts both plugins into a mounted /opt/cni/bin; podwired runs from it"
echo "containers_server: passed"
