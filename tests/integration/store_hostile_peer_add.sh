#!/bin/bash
# store_hostile_peer_add.sh — `podwirectl peer add` puts into a client's config only what the
# nodes themselves accept. A hostile writer of the store adds records listing 8.0.0.0/8 and
# TunnelIP 1.1.1.1 (claimed in the registry, so only the pools keep them out), a pod CIDR of
# the pool that no claim gives it, and another node's claimed block; none of it reaches the
# generated config, each one is named on stderr, and the config still lists every real
# node. A gateway node's LAN (--gateway-ranges on podwired) goes in only when the same
# option is given to peer add.
T=h13a2 NET=234
source "$(dirname "$0")/lib/common.bash"
cluster_init
A=$W/store/.podwire/alloc
GW=192.168.77.0/24

hostile_record() { # NAME TUNNELIP PODCIDRS: a well-formed record with a fresh key
	printf '[Peer]\n# Name = %s\n# TunnelIP = %s\n# PodCIDRs = %s\n# Heartbeat = %s\nPublicKey = %s\nEndpoint = 192.168.%s.9:51820\nAllowedIPs = %s/32, %s\n' \
		"$1" "$2" "$3" "$(date +%s)" "$(wg genkey | wg pubkey)" "$NET" "$2" "$3" >"$W/store/$1.conf"
}
claim() { printf '%s' "$2" >"$A/.$1.tmp" && mv "$A/.$1.tmp" "$A/$1"; }
peer_add() { # NAME [ARGS...]: the client config in $W/NAME.conf, stderr in $W/NAME.err
	local name=$1; shift
	ip netns exec "pn-$T-n1" "$B/podwirectl" peer add "$name" --no-qr "${STORE_ARGS[@]}" "$@" \
		>"$W/$name.conf" 2>"$W/$name.err"
}
allowed_ips() { sed -n 's/^AllowedIPs = //p' "$1" | tr ',' '\n' | xargs -n1; } # CONF: one prefix a line

log "2 nodes; n2 is a gateway for $GW"
node_ns 1; node_ns 2
daemon_start 1 --gateway-ranges "$GW"
daemon_start 2 --gateway-ranges "$GW" --pod-cidr "$GW"
for i in 1 2; do wait_until 15 has_peers "$i" 1 || fail "n$i has $(peers_of "$i") peers, want 1"; done
cidr1=$(pod_cidr_of 1)
[ "$(pod_cidr_of 2)" = "$GW" ] || fail "n2 publishes $(pod_cidr_of 2), want $GW"
ok "n1 and n2 are peers, n2 routes its LAN $GW"

log "a hostile writer adds records"
claim 8.0.0.0_8 evil-wide; claim 1.1.1.1_32 evil-wide
hostile_record evil-wide 1.1.1.1 8.0.0.0/8
claim 10.99.0.210_32 evil-unclaimed
hostile_record evil-unclaimed 10.99.0.210 10.244.250.0/24
claim 10.99.0.211_32 evil-steal
hostile_record evil-steal 10.99.0.211 "$cidr1"
for r in evil-wide evil-unclaimed evil-steal; do
	wait_until 15 grep -q "store record nodes/$r skipped" "$W/n1.log" || fail "n1 did not skip $r"
done
has_peers 1 1 || fail "n1 has $(peers_of 1) peers with hostile records in the store"
ok "the daemons skip the hostile records"

log "peer add with the gateway range"
peer_add laptop --gateway-ranges "$GW" || { cat "$W/laptop.err"; fail "peer add failed"; }
cat "$W/laptop.err" | sed 's/^/  stderr: /'
got=$(allowed_ips "$W/laptop.conf" | sort | xargs)
want=$(for i in 1 2; do sed -n 's/^AllowedIPs = //p' "$W/store/n$i.conf"; done | tr ',' '\n' | xargs -n1 | sort | xargs)
echo "laptop AllowedIPs: $got"
[ "$got" = "$want" ] || fail "laptop's AllowedIPs are '$got', want the two nodes' '$want'"
grep -Eq '(^|[ ,=])(8\.0\.0\.0/8|1\.1\.1\.1/32|10\.244\.250\.0/24|10\.99\.0\.21[01]/32)' "$W/laptop.conf" &&
	fail "a hostile prefix is in the client config"
[ "$(grep -c '^\[Peer\]' "$W/laptop.conf")" -eq 2 ] || fail "laptop config does not have exactly the 2 nodes"
grep -q "nodes/evil-wide skipped: pod CIDR 8.0.0.0/8 is outside the cluster CIDR" "$W/laptop.err" ||
	fail "peer add did not name evil-wide and why"
grep -q "alloc/8.0.0.0_8 skipped: the block is outside the cluster and tunnel pools" "$W/laptop.err" ||
	fail "peer add did not name the claim of 8.0.0.0/8"
grep -q "nodes/evil-unclaimed skipped: pod CIDR 10.244.250.0/24 is not given to it by the allocation registry" \
	"$W/laptop.err" || fail "peer add did not name evil-unclaimed and why"
grep -q "nodes/evil-steal skipped: pod CIDR $cidr1 is claimed by node n1" "$W/laptop.err" ||
	fail "peer add did not name evil-steal and why"
ok "laptop's config lists n1 and n2 only ($got); each hostile record named on stderr"

log "peer add without the gateway range: the gateway's LAN stays out too"
peer_add phone || { cat "$W/phone.err"; fail "peer add failed"; }
grep -q "$GW" "$W/phone.conf" && fail "the gateway's LAN is in a config made without --gateway-ranges"
grep -q "nodes/n2 skipped: pod CIDR $GW is outside the cluster CIDR and the gateway ranges" "$W/phone.err" ||
	fail "peer add did not name n2 and why"
allowed_ips "$W/phone.conf" | grep -qx "$cidr1" || fail "phone's config lacks n1's pod CIDR"
ok "without --gateway-ranges only n1 ($cidr1) is in the phone's config"

log "the client made while the hostile records were there works"
netns_add "pn-$T-c"
lan_join "pn-$T-r" br0 "pn-$T-c" eth0 "192.168.$NET.50/24"
grep -v '^DNS' "$W/laptop.conf" >"$W/h13a2lap.conf"; chmod 600 "$W/h13a2lap.conf"
track_wg "pn-$T-c" h13a2lap
ip netns exec "pn-$T-c" "$B/podwirectl" up "$W/h13a2lap.conf" >"$W/up.log" 2>&1 || { cat "$W/up.log"; fail "up the laptop"; }
t1=$(sed -n 's/^# TunnelIP = //p' "$W/store/n1.conf")
wait_until 15 ns_ping "pn-$T-c" "$t1" >/dev/null || fail "the laptop cannot reach n1's tunnel address $t1"
ip -n "pn-$T-c" route show table all | grep -Eq '^(8\.0\.0\.0/8|1\.1\.1\.1)' && fail "the laptop routes a hostile prefix"
ok "the laptop reaches n1 at $t1 and routes no hostile prefix"
echo "PASS ($CHECKS checks)"
