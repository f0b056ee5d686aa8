#!/bin/bash
# Faults: the store is down for $PN_STORE_OUTAGE seconds (default 300, five minutes), for both
# store kinds in the same window: two small clusters side by side on one underlay.
#   n1, n2 on the file store $W/fstore. For the first half its directory is moved away (gone,
#   as an unmounted share), for the second half it is back but mode 000; these two daemons run
#   without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (root on a root-squashed share), so the
#   mode really makes it unreadable.
#   n3, n4 on etcd (their own pools), which is stopped.
# Each node's pod pings the other node's pod all along, across the sessions' rekey at 120 s
# (a handshake made while the store is down), and no node's peers, allowed IPs or routes
# change, neither during the outage nor once the store is back. Each daemon logs the outage
# and the recovery once.
T=f13s NET=231
PORT=23831
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd capsh curl
OUTAGE=${PN_STORE_OUTAGE:-300}
cluster_init
for i in 1 2 3 4; do node_ns $i; done
etcd_start $PORT
ETCD_ARGS=("${STORE_ARGS[@]}")
mkdir -p "$W/fstore"

log "n1, n2 on the file store (no DAC capabilities); n3, n4 on etcd"
STORE_ARGS=(--store-dir "$W/fstore")
DAEMON_WRAP=(capsh --drop=cap_dac_override,cap_dac_read_search -- -c 'exec "$@"' podwired)
daemon_start 1; daemon_start 2
DAEMON_WRAP=()
STORE_ARGS=("${ETCD_ARGS[@]}")
daemon_start 3 --cluster-cidr 10.245.0.0/16 --tunnel-cidr 10.98.0.0/16
daemon_start 4 --cluster-cidr 10.245.0.0/16 --tunnel-cidr 10.98.0.0/16
for i in 1 2 3 4; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do
	caps=$(capsh --decode="$(awk '/^CapEff/ {print $2}' "/proc/$(daemon_pid $i)/status")")
	[[ $caps == *cap_net_admin* && $caps != *cap_dac_* ]] || fail "n$i's podwired runs with $caps"
done
ok "n1's and n2's podwired run without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH"
# pod_add reads the pod CIDR from $W/store/nI.conf: here a stub made from the daemon's log.
for i in 1 2 3 4; do
	cidr=$(sed -n 's/.*node n'$i': .* pod CIDR \([^ ,]*\),.*/\1/p' "$W/n$i.log" | head -n 1)
	[ -n "$cidr" ] || fail "n$i logged no pod CIDR"
	printf '# PodCIDRs = %s\n' "$cidr" >"$W/store/n$i.conf"
	pod_add $i 1
done
PAIRS="1:2 2:1 3:4 4:3"
for p in $PAIRS; do
	wait_until 10 pod_ping "${p%:*}" 1 "$(pod_ip "${p#*:}" 1)" || fail "n${p%:*}'s pod cannot reach n${p#*:}'s pod"
done
ok "both clusters carry pod traffic"

state_of() { # I: node I's peers with their allowed IPs, and its routes into the tunnel
	wg_ns "$1" show "pn${T}w$1" allowed-ips | sort
	ip -n "pn-$T-n$1" route show dev "pn${T}w$1" | sort
}
for i in 1 2 3 4; do state_of $i >"$W/state-$i.before"; done
handshake_of() { wg_ns "$1" show "pn${T}w$1" latest-handshakes | awk '{print $2}'; } # I
for i in 1 3; do eval "HS_$i=$(handshake_of $i)"; done
unchanged() { # WHEN: every node's peers and routes are what they were before the outage
	local i
	for i in 1 2 3 4; do
		state_of $i >"$W/state-$i.now"
		cmp -s "$W/state-$i.before" "$W/state-$i.now" ||
			{ diff "$W/state-$i.before" "$W/state-$i.now"; fail "n$i's peers or routes changed $1"; }
	done
}
ping_round() { # WHEN: every pod pings its peer pod (2 echo requests, one answer is enough)
	local p
	for p in $PAIRS; do
		pod_ping "${p%:*}" 1 "$(pod_ip "${p#*:}" 1)" 2 || fail "n${p%:*}'s pod lost n${p#*:}'s pod $1"
	done
}

log "store outage for $OUTAGE s: etcd stopped, the file store moved away, then mode 000"
etcd_stop
mv "$W/fstore" "$W/fstore.away"
start=$SECONDS half=$((SECONDS + OUTAGE / 2)) end=$((SECONDS + OUTAGE)) rounds=0 phase=gone
while [ $SECONDS -lt $end ]; do
	if [ $phase = gone ] && [ $SECONDS -ge $half ]; then
		chmod 000 "$W/fstore.away"
		mv "$W/fstore.away" "$W/fstore"
		phase=unreadable
		echo "$((SECONDS - start)) s: the file store is back in place, mode 000"
	fi
	ping_round "during the outage ($((SECONDS - start)) s in, store $phase)"
	unchanged "during the outage ($((SECONDS - start)) s in)"
	rounds=$((rounds + 1))
	sleep 2
done
ok "$rounds rounds over $OUTAGE s: every pod pair answered, no peer or route changed"
for i in 1 3; do
	hs=$(handshake_of $i) hs0=$(eval "echo \$HS_$i")
	echo "n$i's session: handshake at $hs0 before the outage, $hs at its end"
	if [ "$OUTAGE" -ge 150 ]; then
		[ "$hs" -gt "$hs0" ] || fail "n$i's session made no new handshake (rekey) during the outage"
		ok "n$i's session was rekeyed while the store was down, and kept carrying pings"
	fi
done
for i in 1 2 3 4; do
	grep -q "store .* unreachable" "$W/n$i.log" || fail "n$i did not log the store outage"
done

log "the store is back: nothing removed, each daemon logs the outage once"
chmod 755 "$W/fstore"
etcd_run $PORT
back() { grep -q "store .* reachable again" "$W/n$1.log"; }
for i in 1 2 3 4; do wait_until 40 back $i || fail "n$i did not find the store again"; done
# Two resync periods (5 s each) after the last node found the store again, checked all along.
t1=$((SECONDS + 12))
while [ $SECONDS -lt $t1 ]; do ping_round "after the outage"; unchanged "after the outage"; sleep 1; done
ok "no peer or route changed once the store was back"
for i in 1 2 3 4; do
	down=$(grep -c "store .* unreachable" "$W/n$i.log") up=$(grep -c "store .* reachable again" "$W/n$i.log")
	echo "n$i: logged unreachable $down time(s), reachable again $up time(s)"
	[ "$down" -eq 1 ] && [ "$up" -eq 1 ] || fail "n$i did not log the outage exactly once"
	grep -E "peers: .*removed" "$W/n$i.log" | grep -Ev ", 0 removed, .*routes: [0-9]+ added, 0 removed" &&
		fail "n$i removed a peer or route"
done
ok "the outage and the recovery logged once by each daemon, nothing removed"
echo "PASS ($CHECKS checks)"
