#!/bin/bash
# podwired on a file store that a hostile writer fills with things that are not records, and
# floods with writes:
#  - a FIFO named x.conf (it blocked every daemon's only thread in open(2) forever), a
#    directory named d.conf (it failed every listing), a symlink, and a record over 64 KiB:
#    each is skipped with one log line naming it, and a node that joins meanwhile is still
#    taken in by every node;
#  - a burst of 300 rewrites of one file: the store watch is coalesced, so each daemon runs
#    about one reconcile a second (counted by podwire_reconcile_total), not one per write.
T=s13b NET=235
source "$(dirname "$0")/lib/common.bash"
cluster_init

log "2 nodes"
for i in 1 2; do node_ns $i; daemon_start $i; done
for i in 1 2; do wait_until 15 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done

log "special files and an oversized record in the store directory"
mkfifo "$W/store/x.conf"
mkdir "$W/store/d.conf"
ln -s /etc/hostname "$W/store/l.conf"
head -c $((64 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$W/store/big.conf"
node_ns 3; daemon_start 3
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2 (blocked by the FIFO?)"; done
ok "n3 joined every node with a FIFO, a directory, a symlink and a 64 KiB + 1 file in the store"
reconciles() { # I: podwire_reconcile_total of node I
	ip netns exec "pn-$T-n$1" curl -sf http://127.0.0.1:9586/metrics | sed -n 's/^podwire_reconcile_total //p'
}
reconciled_to() { [ "$(reconciles "$1")" -ge "$2" ]; } # I N: node I has run N reconciles
r0=$(reconciles 1)
wait_until 15 reconciled_to 1 $((r0 + 2)) || fail "n1 stopped reconciling"
for i in 1 2 3; do
	for what in "x.conf skipped: a FIFO" "d.conf skipped: a directory" "l.conf skipped: a symbolic link" \
		"big.conf skipped: 65537 bytes, larger than 65536"; do
		n=$(grep -c "$what" "$W/n$i.log")
		[ "$n" -eq 1 ] || fail "n$i logged '$what' $n times, want once"
	done
done
ok "each node logged each skipped file once, while it kept reconciling"

log "a burst of 300 writes to one file"
for i in 1 2 3; do before[$i]=$(reconciles $i); done
t0=$(date +%s.%N)
for k in $(seq 300); do
	printf '[Peer]\n# Name = burst\n# write %s\n' "$k" >"$W/store/.burst.tmp"
	mv "$W/store/.burst.tmp" "$W/store/burst.conf"
done
t1=$(date +%s.%N)
# Settled: one more watch-driven reconcile at most one second after the last write.
last=$(reconciles 1)
wait_until 5 reconciled_to 1 $((last + 1)) || true
for i in 1 2 3; do
	after=$(reconciles $i)
	n=$((after - before[$i]))
	# One a second for the watch, one per --resync 5 s, and the ones at either end.
	allowed=$(echo "($t1 - $t0) * 1.2 + 4" | bc | cut -d. -f1)
	echo "n$i: $n reconciles for 300 writes in $(echo "$t1 - $t0" | bc) s (allowed $allowed)"
	[ "$n" -ge 1 ] || fail "n$i did not reconcile after the burst"
	[ "$n" -le "$allowed" ] || fail "n$i ran $n reconciles for one burst: the watch is not coalesced"
done
grep -q "burst skipped" "$W/n1.log" || fail "the burst's record was never looked at"
ok "the burst was coalesced on every node, and its record was read"
for i in 1 2 3; do has_peers $i 2 || fail "n$i lost peers during the burst"; done
echo "PASS ($CHECKS checks)"
