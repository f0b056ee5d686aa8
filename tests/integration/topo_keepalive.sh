#!/bin/bash
# PersistentKeepalive keeps a NAT mapping alive (the tutorial's "local node behind NAT, peer
# public: set PersistentKeepalive = 25"), end to end with `podwirectl up`. The NAT router's
# conntrack UDP timeouts are lowered to a few seconds (they are per-namespace sysctls), so the
# tutorial's 25 s against a typical 30 s timeout becomes 2 s against 4 s here.
#   without PersistentKeepalive: once the client is idle, its mapping expires and the
#     server can no longer reach it;
#   with it: the mapping outlives the timeout many times over and the server reaches it.
#
#   +------------------------- tp-k-inet --------------------------+
#   |                  br0  203.0.113.0/24                          |
#   +------+------------------------------------------------+------+
#          |                                                |
#   +-- tp-k-srv --------------+           +-- tp-k-nat -----+----------------------+
#   | eth0 203.0.113.1         |           | eth0 203.0.113.11  MASQUERADE          |
#   | tpks 192.0.2.1/24 :51820 |           | nf_conntrack_udp_timeout(_stream) = 4  |
#   | peer: cli, no endpoint   |           | eth1 192.168.1.1                       |
#   +--------------------------+           +-----------------+----------------------+
#                                                            |
#                                          +-- tp-k-cli -----+------+
#                                          | tpkc 192.0.2.2/32      |
#                                          +------------------------+
source "$(dirname "$0")/lib/topo.bash"
topo_init k iptables
timeout_s=4 keepalive=2

topo_step topology
topo_internet
topo_public srv 203.0.113.1
topo_nat nat 203.0.113.11
topo_lan_host cli nat
X nat sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$timeout_s net.netfilter.nf_conntrack_udp_timeout_stream=$timeout_s ||
	fail "cannot lower the NAT router's conntrack UDP timeouts"
topo_ok "nat: net.netfilter.nf_conntrack_udp_timeout=$(X nat sysctl -n net.netfilter.nf_conntrack_udp_timeout), _stream=$(X nat sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)"

topo_step configs
ks=$(topo_key srv) kc=$(topo_key cli)
cs=$(topo_conf tpks <<EOF
[Interface]
Address = 192.0.2.1/24
ListenPort = 51820
PrivateKey = $(topo_priv srv)

[Peer]
# Name = home-server.example-vpn.dev (behind NAT: no Endpoint)
PublicKey = $kc
AllowedIPs = 192.0.2.2/32
EOF
)
client() { # [PersistentKeepalive line]
	topo_conf tpkc <<EOF
[Interface]
Address = 192.0.2.2/32
PrivateKey = $(topo_priv cli)

[Peer]
# Name = public-server1.example-vpn.tld
PublicKey = $ks
Endpoint = 203.0.113.1:51820
AllowedIPs = 192.0.2.1/24
${1:-}
EOF
}
mappings() { X nat sysctl -n net.netfilter.nf_conntrack_count; }
no_mapping() { [ "$(mappings)" = 0 ]; }

topo_step without-keepalive
topo_up srv "$cs"
c=$(client)
topo_up cli "$c"
topo_ping_eventually cli 192.0.2.1 10 || fail "cli cannot reach the server"
topo_ping srv 192.0.2.2 2 || fail "the server cannot reach cli while the mapping is fresh"
topo_ok "fresh mapping: server -> cli works (cli at $(topo_endpoint srv tpks "$kc"))"
# The client's last word is WireGuard's passive keepalive, 10 s after it last received data.
t0=$SECONDS
wait_until 30 no_mapping || fail "nat still has $(mappings) conntrack entries after 30 s"
topo_ok "without PersistentKeepalive the idle mapping expired ($((SECONDS - t0)) s after the last ping)"
topo_ping srv 192.0.2.2 2 && fail "the server still reaches cli after its mapping expired"
topo_ok "the server can no longer reach cli: nat drops its packets"
topo_down cli "$c"

topo_step with-keepalive
wait_until 10 no_mapping || fail "nat still has $(mappings) conntrack entries"
c=$(client "PersistentKeepalive = $keepalive")
topo_up cli "$c"
# PersistentKeepalive alone opens the mapping: the client sends at once, without traffic.
wait_until 10 topo_has_handshake srv tpks "$kc" || fail "no handshake from cli's keepalive"
t0=$SECONDS
while [ $((SECONDS - t0)) -le $((2 * timeout_s + 1)) ]; do
	no_mapping && fail "the mapping expired after $((SECONDS - t0)) s despite PersistentKeepalive = $keepalive"
	sleep 0.2
done
topo_ok "with PersistentKeepalive = $keepalive the mapping stayed for $((SECONDS - t0)) s (> 2 x the $timeout_s s timeout) without any traffic"
topo_ping srv 192.0.2.2 3 || fail "the server cannot reach cli despite PersistentKeepalive"
topo_ok "the server reaches cli after the timeout (cli at $(topo_endpoint srv tpks "$kc"))"
echo "PASS"
