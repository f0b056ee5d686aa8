#!/bin/bash
# The tunnel MTU comes from the underlay, as wg-quick computes it: the MTU of the interface
# holding the node's address minus 80 (IPv6 + UDP + WireGuard overhead), and --mtu overrides
# it. The pods get it: the CNI conflist podwired writes carries it, and so does the record.
#
#   n1 (eth0 mtu 1400) ---- br0 ---- n2 (eth0 mtu 1400, --mtu 1300)
#
# Checked: n1's interface, record and conflist say 1320 (= 1400 - 80), n2's say 1300; a
# 1300-byte packet that must not be fragmented crosses n1 -> n2 pod to pod; after n1's
# restart on an underlay of 9001 (jumbo frames) the interface takes 8921.
T=mt NET=244
source "$(dirname "$0")/lib/common.bash"
cluster_init
mtu_of() { ip -n "pn-$T-n$1" -o link show "pn${T}w$1" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
conf_mtu() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print([p for p in c["plugins"] if p["type"]=="podwire"][0]["mtu"])' "$W/cni-n$1/10-podwire.conflist"; }
for i in 1 2; do
	node_ns $i
	ip -n "pn-$T-n$i" link set eth0 mtu 1400
	ip -n "pn-$T-r" link set "lp$i" mtu 1400
	mkdir -p "$W/cni-n$i"
done

log "n1 on a 1400-byte underlay without --mtu, n2 with --mtu 1300"
daemon_start 1 --cni-conf-dir "$W/cni-n1"
daemon_start 2 --cni-conf-dir "$W/cni-n2" --mtu 1300
for i in 1 2; do wait_until 15 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
echo "n1: interface $(mtu_of 1), conflist $(conf_mtu 1), record $(sed -n 's/^# MTU = //p' "$W/store/n1.conf")"
echo "n2: interface $(mtu_of 2), conflist $(conf_mtu 2), record $(sed -n 's/^# MTU = //p' "$W/store/n2.conf")"
grep -h "MTU" "$W/n1.log" | head -1
[ "$(mtu_of 1)" = 1320 ] || fail "n1's interface MTU is $(mtu_of 1), want 1400 - 80 = 1320"
[ "$(conf_mtu 1)" = 1320 ] || fail "n1's conflist gives pods MTU $(conf_mtu 1), want 1320"
grep -q "^# MTU = 1320$" "$W/store/n1.conf" || fail "n1's record does not publish MTU 1320"
[ "$(mtu_of 2)" = 1300 ] || fail "n2's interface MTU is $(mtu_of 2), want --mtu's 1300"
[ "$(conf_mtu 2)" = 1300 ] || fail "n2's conflist gives pods MTU $(conf_mtu 2), want 1300"

log "a full-size packet pod to pod, not fragmented (DF)"
for i in 1 2; do pod_add $i 1; ip -n "pn-$T-n$i-p1" link set eth0 mtu "$(mtu_of $i)"; done
wait_until 15 pod_ping 1 1 "$(pod_ip 2 1)" || fail "n1's pod cannot reach n2's pod"
ip netns exec "pn-$T-n1-p1" ping -c 2 -W 2 -M do -s $((1300 - 28)) "$(pod_ip 2 1)" >/dev/null ||
	fail "a 1300-byte DF packet does not cross n1 -> n2"
echo "1300-byte DF packets cross pod to pod"

log "n1 restarted on a jumbo-frame underlay (9001): 8921"
daemon_stop 1
ip -n "pn-$T-r" link set "lp1" mtu 9001
ip -n "pn-$T-n1" link set eth0 mtu 9001
daemon_start 1 --cni-conf-dir "$W/cni-n1"
wait_until 15 eval '[ "$(mtu_of 1)" = 8921 ]' || fail "n1's interface MTU is $(mtu_of 1) on a 9001 underlay, want 8921"
wait_until 15 eval '[ "$(conf_mtu 1)" = 8921 ]' || fail "n1's conflist says $(conf_mtu 1), want 8921"
echo "n1: interface $(mtu_of 1), conflist $(conf_mtu 1)"
log "ok"
