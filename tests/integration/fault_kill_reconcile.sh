#!/bin/bash
# Faults: podwired killed with SIGKILL in the middle of a reconcile, twice, and restarted:
# the restart loses nothing and resets no session.
# Two nodes (file store) whose pods talk; then a batch of $PN_FAKE_PEERS records (each with
# its address claims) lands in the store while n1's daemon is stopped, and strace, attached
# to its main thread, slows one kind of system call down so that the kill lands at a known
# point of the pass that applies the batch:
#   1. write(2) delayed: killed once the first 4 KiB chunk of the UAPI "set" request (the
#      batch of peers) is written and the rest is not: a half-sent batch, no route yet;
#   2. sendmsg(2) (netlink) delayed: killed while the routes of a second batch are being
#      added: every peer applied, some routes.
# After each restart: every peer and route of the store is there, and the session between
# n1 and n2 is the same one (same device, latest handshake unchanged, counters not reset),
# and the restart's pass removed nothing.
T=f13k NET=232
source "$(dirname "$0")/lib/common.bash"
require_cmd strace
N=${PN_FAKE_PEERS:-60}
cluster_init
node_ns 1; node_ns 2
daemon_start 1; daemon_start 2
for i in 1 2; do wait_until 15 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do pod_add $i 1; done
pods_talk() { pod_ping 1 1 "$(pod_ip 2 1)" && pod_ping 2 1 "$(pod_ip 1 1)"; }
wait_until 10 pods_talk || fail "pods cannot reach each other"
ok "n1's and n2's pods talk through the tunnel"

routes_of() { ip -n "pn-$T-n$1" route show dev "pn${T}w$1" | grep -c '^10\.244\.'; } # I
has_routes() { [ "$(routes_of "$1")" -eq "$2" ]; } # I COUNT
# fake_batch FIRST LAST: records fK (K = FIRST..LAST) with their claims, each written by
# rename as podwired writes them. Their endpoint is n2's address on a port nobody serves.
fake_batch() {
	local k key now; now=$(date +%s)
	mkdir -p "$W/store/.podwire/alloc"
	for k in $(seq "$1" "$2"); do
		key=$(wg genkey | wg pubkey)
		printf 'f%s' "$k" >"$W/store/.podwire/alloc/10.244.$((50 + k)).0_24"
		printf 'f%s' "$k" >"$W/store/.podwire/alloc/10.99.1.${k}_32"
		printf '[Peer]\n# Name = f%s\n# TunnelIP = 10.99.1.%s\n# PodCIDRs = 10.244.%s.0/24\n# Heartbeat = %s\nPublicKey = %s\nEndpoint = 192.168.%s.2:51899\nAllowedIPs = 10.99.1.%s/32, 10.244.%s.0/24\n' \
			"$k" "$k" $((50 + k)) "$now" "$key" "$NET" "$k" $((50 + k)) >"$W/store/.f$k.tmp"
		mv "$W/store/.f$k.tmp" "$W/store/f$k.conf"
	done
}
key2=$(wg_ns 2 show "pn${T}w2" public-key)
peer_field() { wg_ns 1 show "pn${T}w1" "$1" | awk -v k="$key2" '$1 == k {print $2}'; } # transfer|latest-handshakes
ifindex() { ip -n "pn-$T-n1" -o link show "pn${T}w1" | cut -d: -f1; }
IDX=$(ifindex)
STRACE=
# traced NAME SYSCALL DELAY_US: attach strace to n1's stopped daemon, delaying each SYSCALL
# by DELAY_US microseconds, and let the daemon go on (strace logs to $W/strace-NAME.log).
traced() {
	local pid; pid=$(daemon_pid 1)
	strace -p "$pid" -o "$W/strace-$1.log" -s 48 -e trace="$2" -e inject="$2:delay_enter=$3" 2>"$W/strace-$1.err" &
	STRACE=$!; track_pid $STRACE
	wait_until 10 grep -q "attached" "$W/strace-$1.err" || fail "strace did not attach"
	kill -CONT "$pid"
}
restart_checks() { # WHAT TOTAL: after the restart, everything is there and the session kept
	local lines rx hs idx
	lines=$(wc -l <"$W/n1.log")
	daemon_start 1
	wait_until 60 has_peers 1 $((1 + $2)) || fail "n1 has $(peers_of 1) peers after the restart ($1), want $((1 + $2))"
	wait_until 60 has_routes 1 $((1 + $2)) || fail "n1 has $(routes_of 1) pod routes after the restart ($1), want $((1 + $2))"
	ok "after the restart ($1): n1 has all $((1 + $2)) peers and pod CIDR routes"
	rx=$(peer_field transfer) hs=$(peer_field latest-handshakes) idx=$(ifindex)
	echo "n1's session with n2: handshake $HS -> $hs, rx $RX -> $rx bytes; device index $IDX -> $idx"
	[ "$idx" = "$IDX" ] || fail "n1's WireGuard device was recreated ($1)"
	[ "$hs" = "$HS" ] || fail "n1's session with n2 made a new handshake ($1)"
	[ "$rx" -ge "$RX" ] || fail "n1's peer n2 was re-added: its counters went back ($1)"
	ok "the session with n2 is the one from before ($1): same device, no new handshake, counters kept"
	tail -n +$((lines + 1)) "$W/n1.log" | grep -E "peers: " | tee "$W/restart.passes"
	grep -Ev "peers: [0-9]+ added, 0 removed, [0-9]+ updated, [0-9]+ unchanged; routes: [0-9]+ added, 0 removed" \
		"$W/restart.passes" && fail "the restart's pass removed or changed something ($1)"
	ok "the restart's passes only added what was missing ($1)"
}

log "kill 1: while the UAPI request carrying a batch of $N peers is half written"
HS=$(peer_field latest-handshakes) RX=$(peer_field transfer)
[ "$HS" -gt 0 ] && [ "$RX" -gt 0 ] || fail "no session between n1 and n2 yet"
kill -STOP "$(daemon_pid 1)"
fake_batch 1 "$N"
traced a write 2000000
# strace prints a delayed call when it enters it, and its result once it ran: wait for the
# result of the write that starts the request.
wait_until 60 grep -Eq '^write\(.*"set=1.*\) += [0-9]+' "$W/strace-a.log" || fail "n1 did not start applying the batch"
daemon_stop 1 KILL
wait "$STRACE" 2>/dev/null
chunks=$(awk '/"set=1/ {on = 1} on && /^write\(.*\) += [0-9]+/ {n++} END {print n + 0}' "$W/strace-a.log")
echo "killed after these writes of its last pass (strace):"; grep '^write' "$W/strace-a.log" | tail -n 3
tail -n 1 "$W/strace-a.log" | grep -q "killed by SIGKILL" || fail "strace did not see the SIGKILL"
echo "at the kill: n1 had $(peers_of 1) peers and $(routes_of 1) pod routes (of $((1 + N)))"
has_routes 1 1 || fail "the kill came after the batch's routes: not in the middle of the pass"
ok "n1's daemon killed in the middle of applying the batch ($chunks 4 KiB chunk(s) of the request written, the next one not, no route of the batch yet)"
restart_checks "kill during the peers" "$N"

log "kill 2: while the routes of a second batch of $N peers are being added"
kill -STOP "$(daemon_pid 1)"
fake_batch $((N + 1)) $((2 * N))
traced b sendmsg 200000
partial() { local r; r=$(routes_of 1); [ "$r" -gt $((1 + N)) ] && [ "$r" -lt $((1 + 2 * N)) ]; }
wait_until 60 partial || fail "n1 never had part of the second batch's routes"
daemon_stop 1 KILL
wait "$STRACE" 2>/dev/null
echo "at the kill: n1 had $(peers_of 1) peers and $(routes_of 1) pod routes (of $((1 + 2 * N)))"
has_peers 1 $((1 + 2 * N)) || fail "the kill came before the second batch's peers were applied"
ok "n1's daemon killed half way through the second batch's routes"
restart_checks "kill during the routes" $((2 * N))

log "n2 has the whole mesh too, and the pods still talk"
wait_until 30 has_peers 2 $((1 + 2 * N)) || fail "n2 has $(peers_of 2) peers"
wait_until 30 has_routes 2 $((1 + 2 * N)) || fail "n2 has $(routes_of 2) routes"
pods_talk || fail "pods cannot reach each other after the restarts"
ok "pods talk after both kills"
echo "PASS ($CHECKS checks)"
