#!/bin/bash
# The tutorial's IPv6, end to end with `podwirectl up`: an IPv6-only underlay (no IPv4
# address on either host's uplink), endpoints written [2001:db8::1]:51820, dual-stack tunnel
# addresses and IPv6 AllowedIPs. ping6, ping and iperf3 over IPv6 inside the tunnel.
#
#   +-------------------------- tp-6-inet ---------------------------+
#   |                    br0  2001:db8::/64                          |
#   +------+------------------------------------------------+--------+
#          |                                                |
#   +-- tp-6-srv -----------------------+   +-- tp-6-cli -----------------------+
#   | eth0 2001:db8::1 (no IPv4)        |   | eth0 2001:db8::2 (no IPv4)        |
#   | tp6s 192.0.2.1/24 fd00:2::1/64    |   | tp6c 192.0.2.3/24 fd00:2::3/64    |
#   |      ListenPort 51820             |   |      Endpoint [2001:db8::1]:51820 |
#   +-----------------------------------+   +-----------------------------------+
source "$(dirname "$0")/lib/topo.bash"
topo_init 6 iperf3

topo_step topology
topo_internet
topo_public srv "" 2001:db8::1
topo_public cli "" 2001:db8::2
for h in srv cli; do
	[ -z "$(ip -n "$(topo_ns_name $h)" -4 addr show dev eth0)" ] || fail "$h has an IPv4 address on its uplink"
done
ns_ping "$(topo_ns_name cli)" 2001:db8::1 1 2 >/dev/null || fail "cli cannot reach 2001:db8::1"
ok "underlay: IPv6 only (2001:db8::1, 2001:db8::2), no IPv4 address on either uplink"

topo_step configs
ks=$(topo_key srv) kc=$(topo_key cli)
cs=$(topo_conf tp6s <<EOF
[Interface]
Address = 192.0.2.1/24, fd00:2::1/64
ListenPort = 51820
PrivateKey = $(topo_priv srv)

[Peer]
PublicKey = $kc
AllowedIPs = 192.0.2.3/32, fd00:2::3/128
EOF
)
# The tutorial's IPv6 example (its AllowedIps line moved from [Interface] to the peer, where
# wg accepts it), with the VPN's prefixes instead of 0.0.0.0/0, ::/0.
cc=$(topo_conf tp6c <<EOF
[Interface]
Address = 192.0.2.3/24, fd00:2::3/64
PrivateKey = $(topo_priv cli)

[Peer]
PublicKey = $ks
Endpoint = [2001:db8::1]:51820
AllowedIPs = 192.0.2.0/24, fd00:2::/64
EOF
)

topo_step up
topo_up srv "$cs"
topo_up cli "$cc"
[ "$(topo_endpoint cli tp6c "$ks")" = "[2001:db8::1]:51820" ] ||
	fail "cli's endpoint is $(topo_endpoint cli tp6c "$ks"), not [2001:db8::1]:51820"
mtu=$(ip -n "$(topo_ns_name cli)" link show tp6c | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
[ "$mtu" -ge 1280 ] || fail "tp6c's MTU $mtu is below IPv6's 1280"
ok "cli: endpoint [2001:db8::1]:51820, MTU $mtu"

topo_step traffic
topo_ping_eventually cli fd00:2::1 10 || fail "ping6 cli -> fd00:2::1 over the tunnel"
e=$(topo_endpoint srv tp6s "$kc")
[[ $e == "[2001:db8::2]:"* ]] || fail "srv sees cli at '$e', not at [2001:db8::2]"
topo_ping cli fd00:2::1 3 || fail "ping6 cli -> srv lost packets"
topo_ping srv fd00:2::3 3 || fail "ping6 srv -> cli lost packets"
topo_ping cli 192.0.2.1 3 || fail "ping cli -> srv (IPv4 inside the IPv6 underlay) lost packets"
ok "ping6 both ways over the tunnel; srv sees cli at $e; IPv4 rides the same tunnel"
topo_iperf srv cli fd00:2::1 -6
ok "iperf3 over IPv6 inside a tunnel over IPv6"
echo "PASS"
