#!/bin/bash
# podwired with the file store: a 3-node mesh (every pod reaches every pod, the underlay
# carries only WireGuard UDP), metrics, a 4th node joining within 2 s and leaving,
# kill -9 + restart without resetting any peer, key rotation without resetting other
# sessions, and hostile store records skipped by name.
T=m NET=211
source "$(dirname "$0")/lib/common.bash"
require_cmd tcpdump
cluster_init

log "3 nodes, 2 pods each"
for i in 1 2 3; do node_ns $i; daemon_start $i; done
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
for i in 1 2 3; do pod_add $i 1; pod_add $i 2; done

log "underlay capture while every pod pings every pod"
ip netns exec "pn-$T-r" tcpdump -Z root -i any -n -U --immediate-mode -w "$W/underlay.pcap" ip >"$W/tcpdump.log" 2>&1 &
TCPDUMP=$!; track_pid $TCPDUMP
wait_until 5 grep -q listening "$W/tcpdump.log" || fail "tcpdump did not start"
all_pods_reach || fail "pods cannot all reach each other"
sleep 1; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
tcpdump -n -r "$W/underlay.pcap" "not (udp port 51820) and not igmp" 2>/dev/null | head -5
wg_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'udp port 51820' 2>/dev/null | wc -l)
# Anything else (IGMP membership reports from new interfaces aside) would be traffic in clear.
clear_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'not (udp port 51820) and not igmp' 2>/dev/null | wc -l)
pod_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'net 10.244.0.0/16 or net 10.99.0.0/16' 2>/dev/null | wc -l)
icmp_pkts=$(tcpdump -n -r "$W/underlay.pcap" 'icmp or tcp' 2>/dev/null | wc -l)
echo "underlay: $wg_pkts WireGuard UDP packets, $clear_pkts other IPv4 packets, $icmp_pkts ICMP/TCP"
[ "$wg_pkts" -gt 30 ] || fail "too few WireGuard packets on the underlay"
[ "$clear_pkts" -eq 0 ] && [ "$pod_pkts" -eq 0 ] || fail "packets in clear on the underlay"

log "metrics"
m=$(ip netns exec "pn-$T-n1" curl -sf http://127.0.0.1:9586/metrics) || fail "no metrics"
echo "$m" | grep -E "^podwire_(peer_last|reconcile_total|datapath)"
echo "$m" | grep -q '^podwire_peer_receive_bytes_total{interface="pnmw1",node="n2",public_key=".*"} [1-9]' ||
	fail "no rx bytes for n2 in metrics"
echo "$m" | grep -q '^podwire_reconcile_total [1-9]' || fail "no reconcile count"
echo "$m" | grep -q '^podwire_datapath_info{interface="pnmw1",datapath="userspace"} 1' || fail "no datapath info"
echo "$m" | grep -q '^podwire_peer_last_handshake_timestamp_seconds{.*node="n3".*} [1-9]' || fail "no handshake time"

log "podwirectl status"
st=$(ip netns exec "pn-$T-n1" "$B/podwirectl" status -i pnmw1 --store-dir "$W/store") || fail "status failed"
echo "$st"
echo "$st" | grep -q "^n1 .* this node" || fail "status: no row for this node"
for i in 2 3; do
	echo "$st" | grep -Eq "^n$i +192\.168\.$NET\.$i:51820 +$(pod_cidr_of $i) +10\.99\.0\.[0-9]+ +[0-9]+s ago .* up$" ||
		fail "status: row for n$i wrong"
done

log "4th node joins: all nodes have it within 2 s of its record"
node_ns 4; daemon_start 4
wait_until 10 test -f "$W/store/n4.conf" || fail "n4 did not publish"
t0=$(date +%s.%N)
for i in 1 2 3; do wait_until 2 has_peers $i 3 || fail "n$i did not get n4 within 2 s"; done
echo "joined everywhere after $(echo "$(date +%s.%N) - $t0" | bc) s"
wait_until 5 has_peers 4 3 || fail "n4 has $(peers_of 4) peers"
pod_add 4 1; pod_add 4 2
all_pods_reach || fail "pods cannot reach n4's pods"

peer_field() { # I KEY transfer|latest-handshakes: the first number node I shows for peer KEY
	wg_ns "$1" show "pn${T}w$1" "$3" | awk -v k="$2" '$1 == k {print $2}'
}
rotate_key() { # I: a new private key file for node I, as an operator rotates it; prints the public key
	(umask 077; wg genkey >"$W/n$1/private.key.new"); mv "$W/n$1/private.key.new" "$W/n$1/private.key"
	wg pubkey <"$W/n$1/private.key"
}
has_peer_key() { wg_ns "$1" show "pn${T}w$1" peers | grep -qF "$2"; } # I KEY
rx_kept() { # I KEY BEFORE WHAT: node I's rx from peer KEY did not go back (WHAT did not reset it)
	local now; now=$(peer_field "$1" "$2" transfer)
	echo "n$1 rx from that peer across $4: $3 -> $now"
	[ "$now" -ge "$3" ] || fail "n$1's peer was reset by $4"
}

log "kill -9 n2's daemon: pods keep working, restart resets no peer"
key1=$(wg_ns 1 show pnmw1 public-key)
rx_before=$(peer_field 2 "$key1" transfer)
hs_before=$(peer_field 2 "$key1" latest-handshakes)
daemon_stop 2 KILL
pod_ping 1 1 "$(pod_ip 2 1)" 3 || fail "pods lost connectivity while n2's daemon was down"
pod_ping 2 1 "$(pod_ip 3 1)" 3 || fail "n2's pods lost connectivity while its daemon was down"
lines=$(wc -l <"$W/n2.log")
daemon_start 2
restarted() { tail -n +$((lines + 1)) "$W/n2.log" | grep -q "node n2: public key"; }
wait_until 10 restarted || fail "n2 did not restart"
sleep 2 # at least one reconcile pass after the restart
tail -n +$((lines + 1)) "$W/n2.log" | grep -E "peers: [0-9]+ added" && fail "restart changed peers"
rx_after=$(peer_field 2 "$key1" transfer)
hs_after=$(peer_field 2 "$key1" latest-handshakes)
echo "n2 <- n1: rx $rx_before -> $rx_after bytes, handshake $hs_before -> $hs_after"
[ "$rx_after" -ge "$rx_before" ] && [ "$rx_before" -gt 0 ] || fail "counters reset: peer was re-added"
[ "$hs_after" -ge "$hs_before" ] && [ "$hs_before" -gt 0 ] || fail "handshake time went back"
all_pods_reach || fail "pods after restart"

log "key rotation on n3: mesh re-converges, n1<->n2 session untouched"
key2=$(wg_ns 2 show pnmw2 public-key)
old3=$(wg_ns 3 show pnmw3 public-key)
rx12=$(peer_field 1 "$key2" transfer)
daemon_stop 3
new3=$(rotate_key 3)
daemon_start 3
for i in 1 2 4; do
	wait_until 5 has_peer_key $i "$new3" || fail "n$i did not learn n3's new key"
	has_peer_key $i "$old3" && fail "n$i still has n3's old key"
done
all_pods_reach || fail "pods after key rotation"
rx_kept 1 "$key2" "$rx12" "n3's rotation"

log "key rotation on n2 without a restart (SIGHUP re-reads the key)"
key3=$(wg_ns 3 show pnmw3 public-key)
rx13=$(peer_field 1 "$key3" transfer)
new2=$(rotate_key 2)
kill -HUP "$(daemon_pid 2)"
own_key_is() { [ "$(wg_ns 2 show pnmw2 public-key)" = "$1" ]; }
wait_until 5 own_key_is "$new2" || fail "n2's device kept the old key"
for i in 1 3 4; do
	wait_until 5 has_peer_key $i "$new2" || fail "n$i did not learn n2's new key"
done
# n2's own sessions are new (its key changed); give each a handshake round (REKEY_TIMEOUT 5 s).
t0=$SECONDS
for i in 1 3 4; do wait_until 15 pod_ping 2 1 "$(pod_ip $i 1)" || fail "n2's pod cannot reach n$i after the rotation"; done
echo "n2's pods reach every node $((SECONDS - t0)) s after the rotation"
all_pods_reach || fail "pods after n2's rotation"
rx_kept 1 "$key3" "$rx13" "n2's rotation"

log "hostile records are skipped by name, the mesh stays"
k1=$(wg_ns 1 show pnmw1 public-key)
printf '[Peer]\n# Name = evil-key\n# TunnelIP = 10.99.1.1\nPublicKey = not-a-key\n' >"$W/store/evil-key.conf"
printf '[Peer]\n# Name = evil-overlap\n# TunnelIP = 10.99.1.2\n# PodCIDRs = %s\nPublicKey = %s\n' \
	"$(pod_cidr_of 2)" "$(wg genkey | wg pubkey)" >"$W/store/evil-overlap.conf"
printf '[Peer]\n# Name = evil-self\n# TunnelIP = 10.99.1.3\nPublicKey = %s\n' "$k1" >"$W/store/evil-self.conf"
{ printf '[Peer]\n# Name = evil-big\n# TunnelIP = 10.99.1.4\nPublicKey = %s\n' "$(wg genkey | wg pubkey)"
  head -c 700000 /dev/zero | tr '\0' '#' | fold -w 100; } >"$W/store/evil-big.conf"
# Polled, not a fixed sleep: under load (ASan, a busy machine) a reconcile can take a while.
wait_until 15 grep -q "store record nodes/evil-key skipped: .*PublicKey" "$W/n1.log" || fail "bad key not logged"
wait_until 15 grep -Eq "store record nodes/evil-overlap skipped: .*(overlaps|is claimed by node n2)" "$W/n1.log" ||
	fail "overlap not logged"
wait_until 15 grep -q "store record nodes/evil-self skipped: it claims this node's public key" "$W/n1.log" ||
	fail "own key not logged"
# Over 64 KiB: the store itself skips the file, before it is read (store.h STORE_VALUE_MAX).
wait_until 15 grep -q "store file .*/evil-big.conf skipped: [0-9]* bytes, larger than 65536" "$W/n1.log" ||
	fail "oversized record not logged"
for i in 1 2 3 4; do has_peers $i 3 || fail "n$i has $(peers_of $i) peers after hostile records"; done
all_pods_reach || fail "pods with hostile records in the store"
rm -f "$W"/store/evil-*.conf

log "n4 leaves: its peer and routes disappear everywhere"
no_route() { ! ip -n "pn-$T-n$1" route | grep -q "^$2 "; }
cidr4=$(pod_cidr_of 4)
daemon_stop 4
ip netns exec "pn-$T-n4" "$B/podwired" --name n4 -i pnmw4 "${STORE_ARGS[@]}" --cleanup || fail "cleanup failed"
[ -f "$W/store/n4.conf" ] && fail "n4's record is still there"
ip -n "pn-$T-n4" link show pnmw4 >/dev/null 2>&1 && fail "cleanup left pnmw4"
for i in 1 2 3; do
	wait_until 2 has_peers $i 2 || fail "n$i still has $(peers_of $i) peers after n4 left"
	# The same pass removes the routes after the peer: poll for them too.
	wait_until 2 no_route $i "$cidr4" || fail "n$i still routes $cidr4"
done
log "peer add: a client gets a config, a QR code, and joins the mesh"
conf=$(ip netns exec "pn-$T-n1" "$B/podwirectl" peer add pnmc --store-dir "$W/store" --no-qr) || fail "peer add failed"
echo "$conf" | grep -v PrivateKey
[ "$(echo "$conf" | grep -c '^\[Peer\]')" -eq 3 ] || fail "client config should list 3 nodes"
ip netns exec "pn-$T-n1" "$B/podwirectl" peer add pnmc --store-dir "$W/store" --no-qr 2>&1 | grep -q "already exists" ||
	fail "duplicate peer name not refused"
# The QR code goes to a terminal only (script(1) gives the command one), never into a pipe.
command -v script >/dev/null || fail "script (util-linux) is missing"
ip netns exec "pn-$T-n1" script -qec "'$B/podwirectl' peer add pnmq --store-dir '$W/store'" /dev/null |
	grep -q $'\xe2\x96\x80' || fail "no QR code on a terminal"
for i in 1 2 3; do wait_until 2 has_peers $i 4 || fail "n$i did not add the clients"; done
netns_add "pn-$T-c"
track_wg "pn-$T-c" pnmc
lan_join "pn-$T-r" br0 "pn-$T-c" pnmcu "192.168.$NET.100/24"
(umask 077; echo "$conf" >"$W/pnmc.conf")
ip netns exec "pn-$T-c" wg-quick up "$W/pnmc.conf" >"$W/client.log" 2>&1 || { cat "$W/client.log"; fail "client wg-quick up failed"; }
wait_until 5 ns_ping "pn-$T-c" "$(pod_ip 2 1)" || fail "client cannot reach a pod on n2"
wait_until 5 ns_ping "pn-$T-c" "$(pod_ip 3 2)" || fail "client cannot reach a pod on n3"
echo "client pnmc reaches pods on n2 and n3"
ip netns exec "pn-$T-c" wg-quick down "$W/pnmc.conf" >/dev/null 2>&1

for i in 1 2 3; do grep -E "(error|ASAN|runtime error)" "$W/n$i.log" && fail "errors in n$i's log"; done
echo "PASS"
