#!/bin/bash
# Mixed datapaths in one podwired cluster (run inside the VM, which has wireguard.ko): n1
# and n2 use the kernel module, n3 podwire-wg; every pod reaches every pod, and each node's
# interface is the datapath it asked for (`ip -d link`: wireguard vs tun).
T=v NET=214
export WG_QUICK_USERSPACE_IMPLEMENTATION=${WG_QUICK_USERSPACE_IMPLEMENTATION:-${PODWIRE_BUILD:-$PWD/build}/podwire-wg}
modprobe wireguard 2>/dev/null; modprobe tun 2>/dev/null
source "$(dirname "$0")/../../integration/lib/common.bash"
cluster_init
for i in 1 2 3; do node_ns $i; done
daemon_start 1 --datapath kernel
daemon_start 2 --datapath kernel
daemon_start 3 --datapath userspace
for i in 1 2 3; do wait_until 20 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
for i in 1 2; do
	ip -d -n "pn-$T-n$i" link show "pnvw$i" | grep -q wireguard || fail "n$i is not on the kernel datapath"
done
ip -d -n "pn-$T-n3" link show pnvw3 | grep -q tun || fail "n3 is not on the userspace datapath"
for i in 1 2 3; do pod_add $i 1; pod_add $i 2; done
all_pods_reach || fail "pods cannot all reach each other across kernel and userspace nodes"
for i in 1 2 3; do
	ip netns exec "pn-$T-n$i" curl -sf http://127.0.0.1:9586/metrics | grep '^podwire_datapath_info'
done
echo "PASS"
