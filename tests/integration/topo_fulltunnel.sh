#!/bin/bash
# The tutorial's full tunnel, end to end with `podwirectl up`: a client behind a
# dual-stack home NAT sends everything (AllowedIPs = 0.0.0.0/0, ::/0) through the relay, and
# a whatismyip server on the internet sees the relay's public addresses, v4 and v6. Then the
# IPv6 leak the tutorial warns about: with the ::/0 route gone, or with the tutorial's
# IPv4-only AllowedIPs, IPv6 leaves by the home NAT; podwire's full-tunnel config does not.
#
#   +----------------------------- tp-f-inet ------------------------------+
#   | br0 203.0.113.254 2001:db8::fe     whatismyip :80 (answers the       |
#   |                                    caller's source address)          |
#   +-------+-----------------------------------------------+--------------+
#           |                                               |
#   +-- tp-f-relay --------------------+   +-- tp-f-home -----------------------+
#   | eth0 203.0.113.1 2001:db8::1     |   | eth0 203.0.113.11 2001:db8::11     |
#   | tpfrelay 192.0.2.1 fd00:2::1     |   | MASQUERADE v4 and v6               |
#   | forwarding, MASQUERADE (PostUp)  |   | eth1 192.168.1.1 2001:db8:1::1     |
#   +----------------------------------+   +-----------------+------------------+
#                                                            |
#                                          +-- tp-f-cli -----+------------------+
#                                          | eth0 192.168.1.2 2001:db8:1::2     |
#                                          | tpfc 192.0.2.2 fd00:2::2           |
#                                          | AllowedIPs = 0.0.0.0/0, ::/0       |
#                                          +------------------------------------+
source "$(dirname "$0")/lib/topo.bash"
topo_init f iptables ip6tables curl python3

topo_step topology
topo_internet
topo_web
topo_public relay 203.0.113.1 2001:db8::1
X relay sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
topo_nat home 203.0.113.11 2001:db8::11
topo_lan_host cli home
[ "$(topo_whatismyip cli -4)" = 203.0.113.11 ] || fail "without the tunnel, whatismyip says $(topo_whatismyip cli -4), not the home NAT's 203.0.113.11"
[ "$(topo_whatismyip cli -6)" = 2001:db8::11 ] || fail "without the tunnel, whatismyip -6 says $(topo_whatismyip cli -6), not 2001:db8::11"
ok "before the tunnel the internet sees the home NAT: 203.0.113.11 and 2001:db8::11"

topo_step configs
kr=$(topo_key relay) kc=$(topo_key cli)
# The tutorial's relay (its container example), %i for wg0.
fw="iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE; ip6tables -A FORWARD -i %i -j ACCEPT; ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE"
cr=$(topo_peer "$kc" "192.0.2.2/32, fd00:2::2/128" peer1.wg.example.com |
	topo_relay_conf relay tpfrelay "192.0.2.1/24, fd00:2::1/64" "$fw" relay1.wg.example.com)
client() { # ALLOWEDIPS: the tutorial's phone config with these AllowedIPs
	topo_conf tpfc <<EOF
[Interface]
# Name = phone.example-vpn.dev
Address = 192.0.2.2/32, fd00:2::2/128
PrivateKey = $(topo_priv cli)

[Peer]
# Name = public-server1.example-vpn.dev
PublicKey = $kr
Endpoint = 203.0.113.1:51820
AllowedIPs = $1
EOF
}
cfull=$(client "0.0.0.0/0, ::/0")

topo_step full-tunnel
topo_up relay "$cr"
topo_up cli "$cfull"
ip4=$(topo_whatismyip cli -4) ip6=$(topo_whatismyip cli -6)
[ "$ip4" = 203.0.113.1 ] || fail "full tunnel: whatismyip says '$ip4', not the relay's 203.0.113.1"
[ "$ip6" = 2001:db8::1 ] || fail "full tunnel: whatismyip -6 says '$ip6', not the relay's 2001:db8::1"
ok "AllowedIPs = 0.0.0.0/0, ::/0: the internet sees the relay, $ip4 and $ip6"

topo_step leak
table=$(ip -n "$(topo_ns_name cli)" -6 route show table all default dev tpfc | sed -n 's/.* table \([0-9]*\).*/\1/p')
[ -n "$table" ] || fail "no IPv6 default route through tpfc in any table"
X cli ip -6 route del default dev tpfc table "$table" || fail "cannot delete the ::/0 route (table $table)"
ip6=$(topo_whatismyip cli -6)
[ "$ip6" = 2001:db8::11 ] || fail "with the ::/0 route removed, whatismyip -6 says '$ip6', not the home NAT's 2001:db8::11"
[ "$(topo_whatismyip cli -4)" = 203.0.113.1 ] || fail "IPv4 left the tunnel too"
ok "the leak: ::/0 route removed from table $table -> IPv6 leaves by the home NAT ($ip6), IPv4 still by the relay"
topo_down cli "$cfull"
c4=$(client "192.0.2.1/24,0.0.0.0/0")
topo_up cli "$c4"
ip4=$(topo_whatismyip cli -4) ip6=$(topo_whatismyip cli -6)
[ "$ip4" = 203.0.113.1 ] && [ "$ip6" = 2001:db8::11 ] ||
	fail "IPv4-only full tunnel: expected 203.0.113.1 and the leak 2001:db8::11, got '$ip4' and '$ip6'"
ok "the tutorial's IPv4-only AllowedIPs = 192.0.2.1/24,0.0.0.0/0 leaks IPv6 the same way ($ip6)"
topo_down cli "$c4"

topo_step no-leak
cfull=$(client "0.0.0.0/0, ::/0")
topo_up cli "$cfull"
ip4=$(topo_whatismyip cli -4) ip6=$(topo_whatismyip cli -6)
[ "$ip4" = 203.0.113.1 ] && [ "$ip6" = 2001:db8::1 ] ||
	fail "podwire's full tunnel leaks: whatismyip says '$ip4' and '$ip6'"
X cli ip -6 rule show | grep -q "not from all fwmark $(printf 0x%x "$table") lookup $table" ||
	fail "no IPv6 fwmark rule for table $table"
ok "podwirectl up with 0.0.0.0/0, ::/0 (route and fwmark rule for both families): no leak, $ip4 and $ip6"
topo_down cli "$cfull"
[ "$(topo_whatismyip cli -6)" = 2001:db8::11 ] || fail "after down, IPv6 does not leave by the home NAT again"
ok "after podwirectl down the client is back on the home NAT"
echo "PASS"
