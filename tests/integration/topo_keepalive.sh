#!/bin/bash
# PersistentKeepalive keeps a NAT mapping alive (the tutorial's "local node behind NAT, peer
# public: set PersistentKeepalive = 25"), end to end with `podwirectl up`. The NAT routers'
# conntrack UDP timeouts are lowered to a few seconds (they are per-namespace sysctls), so the
# tutorial's 25 s against a typical 30 s timeout becomes 2 s against 4 s here. Two clients,
# side by side, each behind its own NAT:
#   cli1 without PersistentKeepalive: once idle, its mapping expires and the server can no
#     longer reach it;
#   cli2 with it: over the same time its mapping stays, and the server reaches it.
#
#   +--------------------------- tp-k-inet ----------------------------+
#   |                     br0  203.0.113.0/24                          |
#   +------+----------------------------+-------------------------+----+
#          |                            |                         |
#   +-- tp-k-srv ------------+  +-- tp-k-nat1 -------------+  +-- tp-k-nat2 -------------+
#   | eth0 203.0.113.1       |  | eth0 203.0.113.11 MASQ.  |  | eth0 203.0.113.12 MASQ.  |
#   | tpks 192.0.2.1/24      |  | udp_timeout(_stream) = 4 |  | udp_timeout(_stream) = 4 |
#   | peers: cli1, cli2,     |  +------------+-------------+  +------------+-------------+
#   |   no endpoints         |               |                             |
#   +------------------------+  +-- tp-k-cli1 ------------+  +-- tp-k-cli2 ------------+
#                               | tpk1 192.0.2.2/32       |  | tpk2 192.0.2.3/32       |
#                               | no PersistentKeepalive  |  | PersistentKeepalive = 2 |
#                               +-------------------------+  +-------------------------+
source "$(dirname "$0")/lib/topo.bash"
topo_init k iptables
timeout_s=4 keepalive=2

topo_step topology
topo_internet v4
topo_public srv 203.0.113.1
for i in 1 2; do
	topo_nat nat$i 203.0.113.1$i
	topo_lan_host cli$i nat$i
	X nat$i sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$timeout_s net.netfilter.nf_conntrack_udp_timeout_stream=$timeout_s ||
		fail "cannot lower nat$i's conntrack UDP timeouts"
done
ok "nat1, nat2: net.netfilter.nf_conntrack_udp_timeout=$(X nat1 sysctl -n net.netfilter.nf_conntrack_udp_timeout), _stream=$(X nat1 sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)"

topo_step configs
ks=$(topo_key srv) k1=$(topo_key cli1) k2=$(topo_key cli2)
cs=$({ topo_peer "$k1" 192.0.2.2/32 "home-server.example-vpn.dev (behind NAT: no Endpoint)"
	topo_peer "$k2" 192.0.2.3/32 "laptop.example-vpn.dev (behind NAT: no Endpoint)"; } |
	topo_relay_conf srv tpks 192.0.2.1/24)
client() { # IFACE NAME ADDR [PersistentKeepalive line]
	topo_conf "$1" <<EOF
[Interface]
Address = $3/32
PrivateKey = $(topo_priv "$2")

[Peer]
# Name = public-server1.example-vpn.tld
PublicKey = $ks
Endpoint = 203.0.113.1:51820
AllowedIPs = 192.0.2.1/24
${4:-}
EOF
}
c1=$(client tpk1 cli1 192.0.2.2)
c2=$(client tpk2 cli2 192.0.2.3 "PersistentKeepalive = $keepalive")
mappings() { X "$1" sysctl -n net.netfilter.nf_conntrack_count; }
no_mapping() { [ "$(mappings "$1")" = 0 ]; }
show_mappings() { X "$1" cat /proc/net/nf_conntrack 2>/dev/null || echo "(no /proc/net/nf_conntrack)"; }

topo_step up
topo_up srv "$cs"
topo_up cli1 "$c1"
topo_up cli2 "$c2"
# cli2's PersistentKeepalive alone opens its mapping: it sends at once, without traffic.
wait_until 20 topo_has_handshake srv tpks "$k2" || fail "no handshake from cli2's keepalive"
topo_ping_eventually cli1 192.0.2.1 20 || fail "cli1 cannot reach the server"
topo_ping srv 192.0.2.2 2 || fail "the server cannot reach cli1 while its mapping is fresh"
topo_ping srv 192.0.2.3 2 || fail "the server cannot reach cli2 while its mapping is fresh"
ok "fresh mappings: the server reaches cli1 at $(topo_endpoint srv tpks "$k1") and cli2 at $(topo_endpoint srv tpks "$k2")"

topo_step idle
# Both clients are now idle. cli1's mapping must expire (the server's reach is checked at
# once, before any WireGuard timer of cli1 could open a new one); cli2's must outlive that
# and at least twice the timeout.
t0=$SECONDS
expired=
while [ -z "$expired" ] || [ $((SECONDS - t0)) -le $((2 * timeout_s)) ]; do
	if [ -z "$expired" ] && no_mapping nat1; then
		expired=$((SECONDS - t0))
		ok "without PersistentKeepalive cli1's idle mapping expired after $expired s"
		topo_ping srv 192.0.2.2 1 && fail "the server still reaches cli1 after its mapping expired"
		ok "the server can no longer reach cli1: nat1 drops its packets"
	fi
	no_mapping nat2 && { show_mappings nat2; fail "cli2's mapping expired after $((SECONDS - t0)) s despite PersistentKeepalive = $keepalive"; }
	[ -n "$expired" ] || [ $((SECONDS - t0)) -lt 30 ] || { show_mappings nat1; fail "cli1's mapping did not expire in 30 s"; }
	sleep 0.2
done
ok "with PersistentKeepalive = $keepalive cli2's mapping stayed all along, $((SECONDS - t0)) s (> 2 x the $timeout_s s timeout)"
topo_ping srv 192.0.2.3 2 || fail "the server cannot reach cli2 despite PersistentKeepalive"
ok "the server still reaches cli2 (at $(topo_endpoint srv tpks "$k2"))"
echo "PASS"
