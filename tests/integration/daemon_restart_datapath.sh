#!/bin/bash
# podwired restarted (a liveness probe, a DaemonSet rolling update) while pods ping each other
# every 10 ms, on the userspace datapath: no ping may be lost. Each "container" of the
# DaemonSet pod is a PID namespace here (unshare --pid --fork --kill-child), so that, as in a
# container, everything started inside dies when its main process does:
#
#   node nI:  [datapath container: podwired --datapath-only -> podwire-wg pnurwI]
#             [podwired container: podwired --datapath external]  (restarted, SIGKILL)
#      pods pn-ur-nI-p1 ---- pnurwI ==== WireGuard over br0 ==== pnurwJ ---- pods
#
# Checked: with the datapath in its own container, podwired on both nodes killed and started
# again under a 10 ms ping: 0 of the pings lost, the interface and its peer stay. Then the
# datapath container itself replaced (an upgrade): podwired gives the new interface its key
# and peers, pods reach each other again, and the loss is printed (the README's cost). Then the
# old layout for contrast, where podwired starts podwire-wg inside its own container: the
# same restart kills the datapath and pings are lost (the number is printed; if none were,
# this test could not tell the two apart, so that fails too).
T=ur NET=245
source "$(dirname "$0")/lib/common.bash"
require_cmd unshare
require_tun
cluster_init
CONTAINER=(unshare --pid --fork --kill-child)
DAEMON_WRAP=("${CONTAINER[@]}")
datapath_start() { # I: the datapath container of node I
	ip netns exec "pn-$T-n$1" env LOG_LEVEL=info "${CONTAINER[@]}" "$B/podwired" --datapath-only -i "pn${T}w$1" --datapath userspace \
		>>"$W/datapath-n$1.log" 2>&1 &
	eval "DP_$1=$!"
	track_pid $!
}
ping_run() { # SECONDS OUT: a 10 ms ping from n1's pod to n2's pod, in the background
	ip netns exec "pn-$T-n1-p1" ping -i 0.01 -w "$1" "$(pod_ip 2 1)" >"$2" 2>&1 &
	PING=$!
	track_pid $PING
}
ping_counts() { # OUT: "SENT RECEIVED"
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"
}
started_again() { [ "$(grep -c "node n$1: public key" "$W/n$1.log")" -gt "$2" ]; }
restart_podwired() { # I [args]: kill podwired's container, start it again, wait until it reconciled
	local n; n=$(grep -c "node n$1: public key" "$W/n$1.log")
	daemon_stop "$1" KILL
	daemon_start "$1" "${@:2}"
	wait_until 20 started_again "$1" "$n" || fail "n$1's podwired did not start again"
	wait_until 20 ready "$1" || { ls -la /var/run/wireguard/ | grep "pn${T}"; ps -ef | grep "[p]odwire-wg pn${T}";
		wg_ns "$1" show "pn${T}w$1"; fail "n$1's podwired is not ready after its restart"; }
}
ready() { [ "$(ip netns exec "pn-$T-n$1" curl -s http://127.0.0.1:9586/readyz)" = ok ]; }

log "2 nodes, each with a datapath container and a podwired container (--datapath external)"
for i in 1 2; do node_ns $i; daemon_start $i --datapath external; done
wait_until 15 grep -q "waiting for the datapath" "$W/n1.log" || fail "n1's podwired did not wait for its datapath"
echo "n1 before its datapath runs: $(grep -h "waiting for the datapath" "$W/n1.log" | head -1)"
for i in 1 2; do datapath_start $i; done
for i in 1 2; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do pod_add $i 1; done
wait_until 20 pod_ping 1 1 "$(pod_ip 2 1)" || fail "n1's pod cannot reach n2's pod"
ip -d -n "pn-$T-n1" link show "pn${T}w1" | grep -q tun || fail "n1's interface is not the userspace (tun) datapath"

log "podwired killed and started again on n1 and n2 under a 10 ms ping"
ping_run 12 "$W/ping.out"
sleep 2
restart_podwired 1 --datapath external
sleep 1
restart_podwired 2 --datapath external
for i in 1 2; do wait_until 15 ready $i || fail "n$i is not ready after its restart"; done
wait "$PING"
read -r sent got < <(ping_counts "$W/ping.out")
echo "10 ms ping across both restarts: $sent sent, $got received, $((sent - got)) lost"
[ "${sent:-0}" -ge 500 ] || { cat "$W/ping.out"; fail "the ping sent ${sent:-0} packets, want at least 500"; }
diag() { ls -la /var/run/wireguard/ | grep "pn${T}"; ps -eo pid,ppid,args | grep "[p]odwire-wg pn${T}"
	for i in 1 2; do timeout 3 ip netns exec "pn-$T-n$i" wg show "pn${T}w$i" || echo "n$i: wg show failed"; done; }
[ "$sent" = "$got" ] || { diag; fail "$((sent - got)) of $sent pings lost while podwired restarted"; }
for i in 1 2; do has_peers $i 1 || fail "n$i lost its peer"; done
grep -q "gone" "$W/datapath-n1.log" "$W/datapath-n2.log" && fail "a datapath container had to make its interface again"

log "the datapath container of n1 replaced (an upgrade of the datapath itself): what it costs"
ping_run 20 "$W/ping-dp.out"
sleep 2
kill -KILL "$DP_1"; wait "$DP_1" 2>/dev/null
wait_until 10 eval "! ip -n pn-$T-n1 link show pn${T}w1 >/dev/null 2>&1" || fail "n1's interface outlived its datapath container"
t0=$(date +%s.%N)
datapath_start 1
wait_until 30 pod_ping 1 1 "$(pod_ip 2 1)" || fail "n1's pod cannot reach n2's pod after the datapath was replaced"
echo "pods reach each other again $(echo "$(date +%s.%N) - $t0" | bc) s after the new datapath started"
grep -h "made again" "$W/n1.log" | head -1
wait "$PING"
read -r sent got < <(ping_counts "$W/ping-dp.out")
echo "10 ms ping across the datapath's replacement: $sent sent, $got received, $((sent - got)) lost"

log "contrast: podwired starting podwire-wg in its own container, the same restart"
for i in 1 2; do daemon_stop $i KILL; stop_pid "$(eval echo "\$DP_$i")"; done
for i in 1 2; do wait_until 10 eval "! ip -n pn-$T-n$i link show pn${T}w$i >/dev/null 2>&1" || fail "n$i's interface outlived its datapath"; done
for i in 1 2; do daemon_start $i --datapath userspace; done
for i in 1 2; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
for i in 1 2; do # the pods' host sides went with the interfaces' namespace routes; wire them again
	ip -n "pn-$T-n$i" route replace "$(pod_ip $i 1)/32" dev "pn${T}p${i}1"
done
wait_until 20 pod_ping 1 1 "$(pod_ip 2 1)" || fail "n1's pod cannot reach n2's pod (old layout)"
ping_run 12 "$W/ping-old.out"
sleep 2
restart_podwired 1 --datapath userspace
wait "$PING"
read -r sent got < <(ping_counts "$W/ping-old.out")
echo "old layout, one restart: $sent sent, $got received, $((sent - got)) lost"
[ "${sent:-0}" -gt "${got:-0}" ] || fail "the old layout lost no ping: this test cannot tell the layouts apart"
log "ok"
