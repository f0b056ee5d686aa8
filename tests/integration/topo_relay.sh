#!/bin/bash
# The tutorial's relay ("bounce server"), end to end with `podwirectl up`:
#
#                     +---------------- tp-r-inet -----------------+
#                     |            br0  203.0.113.0/24             |
#                     +-----+-------------------+-------------+----+
#                           |                   |             |
#   +-- tp-r-relay ---------+--+   +-- tp-r-nata -+--+   +-- tp-r-natb -+--+
#   | eth0 203.0.113.1         |   | eth0 .113.11    |   | eth0 .113.12    |
#   | tprelay 192.0.2.1/24     |   | MASQUERADE      |   | MASQUERADE      |
#   | ip_forward, proxy_arp,   |   | eth1 192.168.1.1|   | eth1 192.168.2.1|
#   | the tutorial's iptables  |   +--------+--------+   +--------+--------+
#   +--------------------------+            |                     |
#                                  +-- tp-r-a ---------+ +-- tp-r-b ---------+
#                                  | tpra 192.0.2.2/32 | | tprb 192.0.2.3/32 |
#                                  +-------------------+ +-------------------+
#
# A and B each know only the relay (AllowedIPs = the VPN /24, PersistentKeepalive 25); the
# relay knows both. A pings B and runs iperf3 to it through the relay, while a capture on the
# relay's uplink proves that only WireGuard UDP crossed the internet.
source "$(dirname "$0")/lib/topo.bash"
topo_init r iptables tcpdump iperf3 python3

topo_step topology
topo_internet v4
topo_public relay 203.0.113.1
topo_nat nata 203.0.113.11
topo_lan_host a nata
topo_nat natb 203.0.113.12
topo_lan_host b natb
# The tutorial's relay settings; FORWARD's policy is DROP so that its rules are what forwards.
X relay sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.proxy_arp=1
X relay iptables -P FORWARD DROP
topo_ping a 203.0.113.1 1 || fail "A cannot reach the relay through its NAT"
topo_ping relay 192.168.1.2 1 && fail "A's private address is reachable from the internet"
ok "A and B reach the relay's public address only through their NATs"

topo_step configs
kr=$(topo_key relay) ka=$(topo_key a) kb=$(topo_key b)
fw="iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT; iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT; iptables -A FORWARD -i %i -o %i -m conntrack --ctstate NEW -j ACCEPT; iptables -t nat -A POSTROUTING -s 192.0.2.0/24 -o eth0 -j MASQUERADE"
relay_conf=$({ topo_peer "$ka" 192.0.2.2/32 home-server.example-vpn.dev; topo_peer "$kb" 192.0.2.3/32 laptop.example-vpn.dev; } |
	topo_relay_conf relay tprelay 192.0.2.1/24 "$fw" public-server1.example-vpn.tld)
client_conf() { # IFACE NAME ADDR
	topo_conf "$1" <<EOF
[Interface]
# Name = $2.example-vpn.dev
Address = $3/32
PrivateKey = $(topo_priv "$2")

[Peer]
# Name = public-server1.example-vpn.tld
Endpoint = 203.0.113.1:51820
PublicKey = $kr
# 路由整个 VPN 子网的流量
AllowedIPs = 192.0.2.1/24
PersistentKeepalive = 25
EOF
}
a_conf=$(client_conf tpra a 192.0.2.2)
b_conf=$(client_conf tprb b 192.0.2.3)

topo_step up
topo_up relay "$relay_conf"
topo_up a "$a_conf"
topo_up b "$b_conf"
X relay iptables -S FORWARD | grep -q -- "-i tprelay -o tprelay -m conntrack --ctstate NEW -j ACCEPT" ||
	fail "the relay's PostUp did not add the tutorial's FORWARD rule"
X relay iptables -t nat -S POSTROUTING | grep -q -- "-s 192.0.2.0/24 -o eth0 -j MASQUERADE" ||
	fail "the relay's PostUp did not add the tutorial's MASQUERADE rule"
ok "relay: ip_forward=$(X relay sysctl -n net.ipv4.ip_forward) proxy_arp=$(X relay sysctl -n net.ipv4.conf.all.proxy_arp), the tutorial's 4 iptables rules (PostUp)"
# PersistentKeepalive makes both clients handshake with the relay at once.
wait_until 15 topo_has_handshake relay tprelay "$ka" || fail "no handshake relay <-> A"
wait_until 15 topo_has_handshake relay tprelay "$kb" || fail "no handshake relay <-> B"
ok "both clients handshook with the relay from behind NAT: A at $(topo_endpoint relay tprelay "$ka"), B at $(topo_endpoint relay tprelay "$kb")"
[ "$(wgx a show tpra peers)" = "$kr" ] || fail "A has peers other than the relay"
[ "$(wgx b show tprb peers)" = "$kr" ] || fail "B has peers other than the relay"

topo_step traffic
topo_capture relay eth0 uplink
rx0=$(topo_rx relay tprelay "$ka")
topo_ping_eventually a 192.0.2.3 10 || fail "A cannot ping B through the relay"
topo_ping a 192.0.2.3 5 || fail "A -> B: pings lost"
topo_ping b 192.0.2.2 3 || fail "B -> A: pings lost"
ok "A -> B and B -> A ping through the relay (A and B are not each other's peers)"
topo_iperf b a 192.0.2.3
rx1=$(topo_rx relay tprelay "$ka")
topo_capture_stop
[ $((rx1 - rx0)) -ge "$TOPO_IPERF_BYTES" ] ||
	fail "the relay received $((rx1 - rx0)) bytes from A, less than the $TOPO_IPERF_BYTES iperf3 delivered to B"
ok "the relay received $((rx1 - rx0)) bytes from A for the $TOPO_IPERF_BYTES bytes iperf3 delivered to B"
wg_pkts=$(topo_capture_count uplink "udp port 51820")
# Link-local control (ARP, and the internet bridge's IGMP membership reports after it comes
# up) is not traffic of the relay.
not_wg="not arp and not igmp and not udp port 51820"
other=$(topo_capture_count uplink "$not_wg")
clear=$(topo_capture_count uplink "net 192.0.2.0/24")
echo "   relay uplink: $wg_pkts WireGuard UDP packets, $other other IP packets, $clear with VPN addresses in clear"
[ "$wg_pkts" -gt 100 ] || fail "the capture saw only $wg_pkts WireGuard packets"
[ "$other" -eq 0 ] || { tcpdump -n -r "$W/uplink.pcap" "$not_wg" | head; fail "non-WireGuard traffic on the relay's uplink"; }
[ "$clear" -eq 0 ] || fail "VPN addresses in clear on the relay's uplink"
ok "the relay's uplink carried only WireGuard UDP (port 51820)"

topo_step down
topo_down a "$a_conf"
topo_down b "$b_conf"
topo_down relay "$relay_conf"
X relay iptables -S FORWARD | grep -q tprelay && fail "the relay's PostDown left its FORWARD rule"
ok "podwirectl down removed the interfaces and the relay's rules (PostDown)"
echo "PASS"
