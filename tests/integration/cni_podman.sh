#!/bin/bash
# cni_podman.sh — podman (CNI backend, private config and storage, recipe
# /work/shared/recipes/podman-cni.sh) runs busybox containers on a podwire network built from
# manifests/10-podwire.conflist (portmap chained): a container gets its address from
# podwire-ipam, pings a second container and the host, `--network container:X` shares X's
# network, and removing the container releases its address, veth and route.
# podman runs inside a private "host" network namespace (nsenter --net, so cgroups and
# /run/netns stay the host's) so nothing of the machine's own networking changes.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-pm-$$
require_cmd podman
[ -x /bin/busybox ] || skip "busybox-static not installed"
[ -x /usr/lib/cni/portmap ] || skip "reference portmap plugin not installed"
net=pc-podman-$$
P() { nsenter --net=/var/run/netns/$HOST podman --root "$W/store" --runroot "$W/run" --storage-driver vfs "$@"; }
cleanup() {
	P rm -f -a -t 0 >/dev/null 2>&1
}
at_exit cleanup
cni_setup_host

mkdir -p "$W/net.d" "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/etc" "$W/rootfs/tmp"
cp /bin/busybox "$W/rootfs/bin/"
for c in sh ip ping cat sleep; do ln -sf busybox "$W/rootfs/bin/$c"; done
# The shipped manifest, pointed at this test's names and directories.
python3 - "$(dirname "$0")/../../manifests/10-podwire.conflist" "$W/net.d/$net.conflist" "$net" "$W" <<'PY'
import json, sys
src, out, name, w = sys.argv[1:5]
c = json.load(open(src))
c["name"] = name
# As shipped: cniVersion 1.0.0, which Debian 12's runtime (its libcni stops at 1.0.0) reads.
assert c["cniVersion"] == "1.0.0" and "1.1.0" in c["cniVersions"]
pw = c["plugins"][0]
assert pw["type"] == "podwire" and c["plugins"][1]["type"] == "portmap"
pw.update({"interface": "pcwg0", "vethPrefix": "pc", "logFile": w + "/cni.log"})
pw["ipam"].update({"dataDir": w + "/ipam", "ranges": [[{"subnet": "10.217.0.0/24"}]],
                   "routes": [{"dst": "0.0.0.0/0"}]})
json.dump(c, open(out, "w"), indent=1)
PY
podman_cni_conf "$W/net.d" "$CNI_BIN"
ROOTFS=(--rootfs "$W/rootfs")  # --rootfs takes the image position: last before the command

P "${RUN[@]}" -d --name pca-$$ --network "$net" "${ROOTFS[@]}" /bin/sleep 600 >"$W/a.id" 2>"$W/a.err" \
	|| { cat "$W/a.err" "$W/cni.log"; fail "podman run on the podwire network"; }
a4=$(P exec pca-$$ ip -4 -o addr show eth0 | awk '{print $4}')
[[ $a4 == 10.217.0.*/32 ]] || fail "container got '$a4', not a /32 from podwire-ipam"
a4=${a4%/32}
grep -q "$(cat "$W/a.id")" "$W/ipam/$net/$a4" || fail "reservation $a4 does not name the container"
P exec pca-$$ ip -o link show eth0 | grep -q 'mtu 1380' || fail "container MTU is not the node interface's"
echo "ok: container A has $a4 from podwire-ipam, MTU 1380"

P "${RUN[@]}" --rm --network "$net" "${ROOTFS[@]}" /bin/sh -c "ping -c1 -W2 $a4 && ping -c1 -W2 10.210.0.1" >"$W/b.out" 2>&1 \
	|| { cat "$W/b.out"; fail "container B cannot ping A ($a4) and the host"; }
echo "ok: container B pinged A and the host"

shared=$(P "${RUN[@]}" --rm --network container:pca-$$ "${ROOTFS[@]}" /bin/ip -4 -o addr show eth0 | awk '{print $4}')
[ "$shared" = "$a4/32" ] || fail "--network container:pca-$$ sees '$shared', not A's $a4/32"
echo "ok: --network container:A shares A's network"

[ "$(ls "$W/ipam/$net" | grep -c '^10\.')" = 1 ] || fail "B's reservation was not released by --rm"
P rm -f -t 0 pca-$$ >/dev/null || fail "podman rm"
[ ! -e "$W/ipam/$net/$a4" ] || fail "removing the container did not release $a4"
[ -z "$(host_veths)" ] || fail "veth left after podman rm: $(host_veths)"
ip -n "$HOST" route | grep -q "^$a4 " && fail "host route to $a4 left after podman rm"
echo "ok: podman rm released the address, veth and route"
echo "cni_podman: passed"
