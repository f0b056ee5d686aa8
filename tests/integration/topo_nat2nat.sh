#!/bin/bash
# The tutorial's NAT-to-NAT, end to end with `podwirectl up`: two peers behind their own
# NAT routers, each with ListenPort = 12000, PersistentKeepalive = 25 and the other's public
# NAT address as Endpoint. Their first packets punch the holes; no relay is involved.
# Variant: one NAT randomizes source ports (--random-fully), punching fails, and the same
# peers reach each other through a relay that their configs also list.
#
#                 +--------------------------- tp-n-inet ----------------------------+
#                 |                     br0  203.0.113.0/24                          |
#                 +---+-------------+----------------+----------------+---------+----+
#                     |             |                |                |         |
#   port kept:  +-- nat1 .11 --+ +-- nat2 .12 --+  random-fully:  +-- nat3 .13 --+ +-- nat4 .14 --+
#               | MASQUERADE   | | MASQUERADE   |  | MASQUERADE   | | MASQUERADE   |
#               +------+-------+ +------+-------+  | --random-fully| +------+------+
#                      |                |          +------+-------+        |
#               +-- p1 ----------+ +-- p2 -------+ +-- p3 --------+ +-- p4 --------+
#               | tpn1 192.0.2.8 | | tpn2 .2.9   | | tpn3 .2.10   | | tpn4 .2.11   |
#               +----------------+ +-------------+ +--------------+ +--------------+
#                                                       +-- relay 203.0.113.1 --+
#                                                       | tpnrelay 192.0.2.1/24 |
#                                                       +-----------------------+
source "$(dirname "$0")/lib/topo.bash"
topo_init n iptables

topo_step topology
topo_internet v4
topo_nat nat1 203.0.113.11
topo_lan_host p1 nat1
topo_nat nat2 203.0.113.12
topo_lan_host p2 nat2
topo_ping p1 203.0.113.12 1 && fail "p1 reaches nat2 itself: its firewall is open"
topo_ping p1 203.0.113.254 1 || fail "p1 cannot reach the internet"
ok "p1 and p2 sit behind NATs whose firewalls drop unsolicited packets"

topo_step configs
k1=$(topo_key p1) k2=$(topo_key p2)
peer_conf() { # IFACE ME ADDR PEERKEY PEERADDR PEERNAT [extra [Peer] text]
	topo_conf "$1" <<EOF
[Interface]
# Name = $2.example-vpn.dev
Address = $3/32
PrivateKey = $(topo_priv "$2")
ListenPort = 12000

[Peer]
PublicKey = $4
AllowedIPs = $5/32
Endpoint = $6:12000
PersistentKeepalive = 25
${7:-}
EOF
}
c1=$(peer_conf tpn1 p1 192.0.2.8 "$k2" 192.0.2.9 203.0.113.12)
c2=$(peer_conf tpn2 p2 192.0.2.9 "$k1" 192.0.2.8 203.0.113.11)

topo_step punch
topo_up p1 "$c1"
topo_up p2 "$c2"
# PersistentKeepalive sends at once on both sides: p1's first packet dies at nat2 but opens
# nat1 for p2's, and so on (the tutorial's three steps); retries come every 5 s.
wait_until 20 topo_has_handshake p1 tpn1 "$k2" || fail "no handshake between p1 and p2 (hole punching failed)"
e12=$(topo_endpoint p1 tpn1 "$k2") e21=$(topo_endpoint p2 tpn2 "$k1")
[ "$e12" = 203.0.113.12:12000 ] || fail "p1 talks to p2 at $e12, not nat2's 203.0.113.12:12000"
[ "$e21" = 203.0.113.11:12000 ] || fail "p2 talks to p1 at $e21, not nat1's 203.0.113.11:12000"
ok "holes punched: p1 -> $e12, p2 -> $e21 (both NATs kept port 12000)"
topo_ping p1 192.0.2.9 3 || fail "p1 -> p2: no ping through the punched holes"
topo_ping p2 192.0.2.8 3 || fail "p2 -> p1: no ping through the punched holes"
ok "p1 <-> p2 ping directly, NAT to NAT, with no relay"
topo_down p1 "$c1"
topo_down p2 "$c2"

topo_step random-fully
topo_public relay 203.0.113.1
X relay sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.proxy_arp=1
topo_nat nat3 203.0.113.13 "" random-fully
topo_lan_host p3 nat3
topo_nat nat4 203.0.113.14
topo_lan_host p4 nat4
kr=$(topo_key relay) k3=$(topo_key p3) k4=$(topo_key p4)
fw="iptables -A FORWARD -i %i -o %i -j ACCEPT"
cr=$({ topo_peer "$k3" 192.0.2.10/32; topo_peer "$k4" 192.0.2.11/32; } |
	topo_relay_conf relay tpnrelay 192.0.2.1/24 "$fw")
fallback="[Peer]
# Name = public-server1.example-vpn.tld (the relay: the rest of the VPN)
PublicKey = $kr
AllowedIPs = 192.0.2.1/24
Endpoint = 203.0.113.1:51820
PersistentKeepalive = 25"
c3=$(peer_conf tpn3 p3 192.0.2.10 "$k4" 192.0.2.11 203.0.113.14 "$fallback")
c4=$(peer_conf tpn4 p4 192.0.2.11 "$k3" 192.0.2.10 203.0.113.13 "$fallback")
topo_up relay "$cr"
topo_up p3 "$c3"
topo_up p4 "$c4"
wait_until 15 topo_has_handshake relay tpnrelay "$k3" || fail "p3 has no session with the relay"
wait_until 15 topo_has_handshake relay tpnrelay "$k4" || fail "p4 has no session with the relay"
e3=$(topo_endpoint relay tpnrelay "$k3")
[ "${e3%:*}" = 203.0.113.13 ] && [ "${e3#*:}" != 12000 ] || fail "nat3 kept p3's port: the relay sees $e3"
ok "nat3 randomizes: the relay sees p3 at $e3, not :12000; p4 at $(topo_endpoint relay tpnrelay "$k4")"
# Give the direct peers two handshake attempts each (REKEY_TIMEOUT is 5 s): none may succeed.
t0=$SECONDS
wait_until 11 topo_has_handshake p3 tpn3 "$k4" && fail "p3 and p4 punched through a randomizing NAT?"
topo_ping p3 192.0.2.11 1 && fail "p3 -> p4 answered without a handshake"
ok "no direct handshake p3 <-> p4 in $((SECONDS - t0)) s: p3 leaves nat3 from a random port, so neither hole matches the other side's packets"

topo_step fallback
# WireGuard picks a peer by longest prefix: the failed direct peer still owns p4's /32. Drop
# it on both sides and the relay's /24 carries the traffic.
wgx p3 set tpn3 peer "$k4" remove
wgx p4 set tpn4 peer "$k3" remove
rx0=$(topo_rx relay tpnrelay "$k3")
topo_ping_eventually p3 192.0.2.11 10 || fail "p3 -> p4 through the relay: no ping"
topo_ping p3 192.0.2.11 3 || fail "p3 -> p4 through the relay: pings lost"
topo_ping p4 192.0.2.10 3 || fail "p4 -> p3 through the relay: pings lost"
rx1=$(topo_rx relay tpnrelay "$k3")
[ "$rx1" -gt "$rx0" ] || fail "the relay saw nothing from p3"
ok "with the direct peer withdrawn, p3 <-> p4 ping through the relay ($((rx1 - rx0)) bytes from p3 at the relay)"
echo "PASS"
