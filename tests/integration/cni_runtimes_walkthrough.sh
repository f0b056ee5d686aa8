#!/bin/bash
# cni_runtimes_walkthrough: the README's two-node walk-through done with Debian 12's own
# container runtimes and the conflist podwired writes by default (issue 29, item 1):
#   node 1 runs podman 4.3 (CNI backend: containers.conf network_backend = "cni",
#     cni_plugin_dirs, network_config_dir = the directory podwired writes into), node 2 runs
#     `ctr run --cni` (containerd 1.6, which reads only /etc/cni/net.d and /opt/cni/bin), so
#     node 2's podwired runs with the README's literal --cni-conf-dir /etc/cni/net.d;
#   the conflists are used as podwired wrote them (built-in template, nothing edited);
#   a podman container on node 1 and a ctr container on node 2 ping each other and fetch a
#     page from each other over HTTP, across the WireGuard mesh;
#   the podman container publishes a port (-p, Debian's portmap chained in the conflist) that
#     node 2 reaches on node 1's address. (A pod on node 2 does not: without ipMasq its request
#     leaves node 2 with the pod's address, and the reply, from node 1's address, comes back
#     through the tunnel, whose allowed IPs refuse that source.)
# On the code before issue 29 the conflist said cniVersion 1.1.0: podman warns "plugin portmap
# does not support config version" and has no network "podwire", ctr fails with "unsupported
# CNI result version". What the test installs in shared places (/etc/cni/net.d, /opt/cni/bin,
# /var/lib/cni/networks/podwire, /var/log/podwire) it removes again; it skips when a file
# of the same name is already there.
#
#   crw-a 192.168.229.1 --+-- br0 in crw-r --+-- crw-b 192.168.229.2
#   podwired n1, crwd1                       podwired n2, crwd2
#   podman: container A (httpd, -p 8080:80)  ctr: container B (httpd)
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
source "$(dirname "$0")/lib/common.bash"
require_root
require_built podwired podwirectl podwire podwire-ipam
require_cmd podman containerd ctr runc iptables
[ -x /bin/busybox ] || skip "busybox-static not installed"
for p in portmap loopback; do [ -x /usr/lib/cni/$p ] || skip "Debian's /usr/lib/cni/$p not installed"; done
use_userspace_wg
# As installed: the runtimes' plugins log where the conflist says (/var/log/podwire/cni.log).
unset PODWIRE_CNI_LOG_DIR
NETD=/etc/cni/net.d CONF=10-podwire.conflist
[ -d "$NETD" ] || skip "$NETD does not exist (containerd's CNI directory)"
[ -e "$NETD/$CONF" ] && skip "$NETD/$CONF exists (a real podwire node, or another run)"
first=$(ls "$NETD" | grep -E '\.(conf|conflist|json)$' | sort | head -1)
[ -z "$first" ] || [[ "$first" > "$CONF" ]] || skip "$NETD/$first sorts before $CONF; ctr would use it"

installed=()  # shared paths this test made, removed last first
made() { installed+=("$1"); }
for d in /var/lib/cni/networks/podwire /var/log/podwire; do [ -e "$d" ] || made "$d"; done
[ -e /var/lib/cni/networks ] || made /var/lib/cni/networks
[ -e "$NETD/cni.lock" ] || made "$NETD/cni.lock"
if [ ! -d /opt/cni/bin ]; then
	[ -d /opt/cni ] || made /opt/cni
	mkdir -p /opt/cni/bin && made /opt/cni/bin
fi
for p in "$B/podwire" "$B/podwire-ipam" /usr/lib/cni/portmap /usr/lib/cni/loopback; do
	t=/opt/cni/bin/$(basename "$p")
	[ -e "$t" ] && skip "$t already exists; not replacing it"
	ln -s "$p" "$t" && made "$t"
done

C() { nsenter --net=/var/run/netns/crw-b ctr -a "$W/containerd.sock" "$@"; }
P() { nsenter --net=/var/run/netns/crw-a podman --root "$W/pstore" --runroot "$W/prun" --storage-driver vfs "$@"; }
walk_cleanup() {
	local t c i
	P rm -f -a -t 0 >/dev/null 2>&1
	if [ -f "$W/containerd.pid" ]; then
		for t in $(C tasks ls -q 2>/dev/null); do C tasks kill -s KILL "$t" >/dev/null 2>&1; done
		for t in $(seq 20); do [ -z "$(C tasks ls -q 2>/dev/null)" ] && break; sleep 0.2; done
		for c in $(C containers ls -q 2>/dev/null); do C containers rm "$c" >/dev/null 2>&1; done
		kill "$(cat "$W/containerd.pid")" 2>/dev/null
		wait_until 5 sh -c "! kill -0 $(cat "$W/containerd.pid")"
	fi
	umount -R "$W/root" 2>/dev/null
	stop_pids
	[ -n "${conf_ours:-}" ] && rm -f "$NETD/$CONF" # n2's podwired wrote it; its --cleanup did not run
	for ((i = ${#installed[@]} - 1; i >= 0; i--)); do rm -rf "${installed[i]}"; done
	track_wg crw-a crwd1
	track_wg crw-b crwd2
}
at_exit walk_cleanup

for ns in crw-r crw-a crw-b; do ip netns del "$ns" 2>/dev/null; done # a killed run's
lan_create crw-r br0
i=0
for ns in crw-a crw-b; do
	i=$((i + 1))
	netns_add "$ns"
	lan_join crw-r br0 "$ns" eth0 "192.168.229.$i/24"
done

log "podwired on both nodes, as the README's walk-through starts them"
mkdir -p "$W/shared" "$W/n1/net.d" "$W/n2"
# -i, --state-dir, --endpoint: what two nodes on one host need; --resync: a short test.
ip netns exec crw-a "$B/podwired" --name n1 --store-dir "$W/shared" --cni-conf-dir "$W/n1/net.d" \
	-i crwd1 --state-dir "$W/n1" --endpoint 192.168.229.1:51820 --resync 2 >>"$W/n1.log" 2>&1 &
track_pid $!
conf_ours=1
ip netns exec crw-b "$B/podwired" --name n2 --store-dir "$W/shared" --cni-conf-dir "$NETD" \
	-i crwd2 --state-dir "$W/n2" --endpoint 192.168.229.2:51820 --resync 2 >>"$W/n2.log" 2>&1 &
track_pid $!
wait_until 20 test -f "$W/n1/net.d/$CONF" || fail "n1 wrote no $CONF"
wait_until 20 test -f "$NETD/$CONF" || fail "n2 wrote no $NETD/$CONF"
peers() { ip netns exec "$1" wg show "$2" peers 2>/dev/null | wc -l; }
has_peer() { [ "$(peers "$1" "$2")" -eq 1 ]; }
wait_until 20 has_peer crw-a crwd1 || fail "n1 has no peer"
wait_until 20 has_peer crw-b crwd2 || fail "n2 has no peer"
for f in "$W/n1/net.d/$CONF" "$NETD/$CONF"; do
	python3 - "$f" <<'PY' || fail "$f is not the built-in conflist with cniVersion 1.0.0 and portmap"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["cniVersion"] == "1.0.0" and c["cniVersions"] == ["1.0.0", "1.1.0"], c
assert [p["type"] for p in c["plugins"]] == ["podwire", "portmap"], c
PY
done
ok "n1 and n2 are peers; each wrote its conflist (cniVersion 1.0.0, cniVersions 1.0.0 1.1.0, portmap chained)"

# One busybox tree for both runtimes: a page that names the node, served by httpd.
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/etc" "$W/rootfs/tmp" "$W/rootfs/www"
cp /bin/busybox "$W/rootfs/bin/"
for c in sh ip ping cat sleep nc httpd; do ln -sf busybox "$W/rootfs/bin/$c"; done

log "node 1: podman, CNI backend, the network podwired wrote"
podman_cni_conf "$W/n1/net.d" /opt/cni/bin
P "${RUN[@]}" -d --name crwa-$$ --network podwire -p 8080:80 --rootfs "$W/rootfs" \
	/bin/sh -c 'echo pod-on-n1 > /www/index.html; exec httpd -f -p 80 -h /www' >"$W/a.id" 2>"$W/a.err" ||
	{ cat "$W/a.err"; fail "podman run --network podwire -p 8080:80 on n1"; }
grep -i "does not support config version\|unsupported" "$W/a.err" && fail "podman warned about the conflist's version"
a=$(P exec crwa-$$ ip -4 -o addr show eth0 | awk '{print $4}')
c1=$(sed -n 's/^# PodCIDRs = \([^,]*\).*/\1/p' "$W/shared/n1.conf")
python3 -c 'import ipaddress,sys; assert ipaddress.ip_interface(sys.argv[1]).ip in ipaddress.ip_network(sys.argv[2])' "$a" "$c1" ||
	fail "podman's container got '$a', not an address of n1's pod CIDR $c1"
a=${a%/32}
ok "podman container A on n1: $a from n1's pod CIDR $c1"

log "node 2: ctr run --cni, the conflist in /etc/cni/net.d"
containerd_start || fail "containerd did not start: $(tail -1 "$W/containerd.log")"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
PM="podman --root $W/pstore --runroot $W/prun --storage-driver vfs"
$PM import -q "$W/rootfs.tar" localhost/crw-bb:1 >/dev/null || fail "podman import"
$PM save -q --format oci-archive -o "$W/bb.tar" localhost/crw-bb:1 || fail "podman save"
C images import --base-name localhost/crw-bb "$W/bb.tar" >/dev/null 2>&1 || fail "ctr images import"
C run --cni --rm localhost/crw-bb:1 crwb-$$ sh -c 'echo pod-on-n2 > /www/index.html; exec httpd -f -p 80 -h /www' \
	>"$W/b.out" 2>&1 &
track_pid $!
running() { C tasks ls 2>/dev/null | grep -q "crwb-$$.*RUNNING"; }
wait_until 20 running || { cat "$W/b.out"; fail "ctr run --cni on n2 did not start (conflist $NETD/$CONF)"; }
b=$(C tasks exec --exec-id ip1 crwb-$$ ip -4 -o addr show eth0 | awk '{print $4}')
c2=$(sed -n 's/^# PodCIDRs = \([^,]*\).*/\1/p' "$W/shared/n2.conf")
python3 -c 'import ipaddress,sys; assert ipaddress.ip_interface(sys.argv[1]).ip in ipaddress.ip_network(sys.argv[2])' "$b" "$c2" ||
	{ cat "$W/b.out"; fail "ctr's container got '$b', not an address of n2's pod CIDR $c2"; }
b=${b%/32}
ok "ctr container B on n2: $b from n2's pod CIDR $c2"

log "across the nodes: ping and HTTP both ways, and the published port"
pa() { P exec crwa-$$ "$@"; }
pb() { C tasks exec --exec-id "x$RANDOM" crwb-$$ "$@"; }
wait_until 15 pa ping -c1 -W1 "$b" || fail "A (podman, n1) cannot ping B (ctr, n2) at $b"
wait_until 15 pb ping -c1 -W1 "$a" || fail "B (ctr, n2) cannot ping A (podman, n1) at $a"
ok "A $a and B $b ping each other through the mesh"
# busybox-static's wget crashes in a container without NSS files: a plain GET through nc.
get='printf "GET / HTTP/1.0\r\n\r\n" | nc -w 5 "$0" "$1" | tail -n 1'
got=$(pa sh -c "$get" "$b" 80 2>&1)
[ "$got" = pod-on-n2 ] || fail "A cannot fetch B's page over HTTP: '$got'"
got=$(pb sh -c "$get" "$a" 80 2>&1)
[ "$got" = pod-on-n1 ] || fail "B cannot fetch A's page over HTTP: '$got'"
ok "A and B fetch each other's page over HTTP"
got=$(ip netns exec crw-b wget -qO- -T 5 http://192.168.229.1:8080/ 2>&1)
[ "$got" = pod-on-n1 ] || fail "n2 cannot reach A through n1's published port 8080: '$got'"
ok "portmap: n2 reaches A's httpd at n1's published 192.168.229.1:8080"

log "the runtimes release what they took"
P rm -f -t 0 crwa-$$ >/dev/null || fail "podman rm"
C tasks kill -s KILL crwb-$$ >/dev/null || fail "ctr tasks kill"
gone() { ! ls /var/lib/cni/networks/podwire 2>/dev/null | grep -qx "$1"; }
wait_until 10 gone "$a" || fail "podman rm left A's reservation $a"
wait_until 10 gone "$b" || fail "ctr left B's reservation $b"
ok "podman rm and ctr's --rm gave back $a and $b (CNI DEL through the same conflists)"
stop_pids
ip netns exec crw-b "$B/podwired" --name n2 --store-dir "$W/shared" --cni-conf-dir "$NETD" -i crwd2 --state-dir "$W/n2" \
	--cleanup >"$W/out" 2>&1 || { cat "$W/out"; fail "podwired --cleanup on n2"; }
[ -e "$NETD/$CONF" ] && fail "--cleanup left $NETD/$CONF"
conf_ours=
ok "podwired --cleanup on n2 removed $NETD/$CONF"
echo "cni_runtimes_walkthrough: $CHECKS checks passed"
