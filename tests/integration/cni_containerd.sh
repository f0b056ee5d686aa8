#!/bin/bash
# cni_containerd.sh — `ctr run --cni` (private containerd, recipe
# /work/shared/recipes/containerd-cni.sh) runs a locally imported busybox image (made with
# podman import/save from the busybox-static rootfs) on a podwire network: the container gets
# its address from podwire-ipam, a second one pings it and the host, and when the first one
# ends ctr's CNI DEL releases the address, veth and route.
# ctr --cni has no directory flags: it reads the FIRST conflist in /etc/cni/net.d and runs
# plugins from /opt/cni/bin, so this test installs 00-pc-podwire.conflist and links there and
# removes exactly what it installed. ctr itself runs in a private "host" network namespace
# (nsenter --net), so the pod wiring never touches the machine's own networking.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-cd-$$
require_cmd containerd ctr podman
[ -x /bin/busybox ] || skip "busybox-static not installed"
CONF=/etc/cni/net.d/00-pc-podwire.conflist
installed=()
cleanup() {
	[ -n "${ctrpid:-}" ] && kill "$ctrpid" 2>/dev/null
	if [ -f "$W/containerd.pid" ]; then
		# Tasks and containers first, so no shim outlives this test's containerd.
		for t in $(C tasks ls -q 2>/dev/null); do C tasks kill -s KILL "$t" >/dev/null 2>&1; done
		sleep 0.5
		for t in $(C tasks ls -q 2>/dev/null); do C tasks rm -f "$t" >/dev/null 2>&1; done
		for c in $(C containers ls -q 2>/dev/null); do C containers rm "$c" >/dev/null 2>&1; done
		kill "$(cat "$W/containerd.pid")" 2>/dev/null
		sleep 0.5
	fi
	umount -R "$W/root" 2>/dev/null
	for f in "${installed[@]}"; do rm -rf "$f"; done
}
at_exit cleanup
C() { nsenter --net=/var/run/netns/$HOST ctr -a "$W/containerd.sock" "$@"; }
cni_setup_host
net=pc-ctrd-$$

[ -e "$CONF" ] && { echo "$CONF exists (another run?)"; exit 1; }
first=$(ls /etc/cni/net.d/ 2>/dev/null | grep -E '\.(conf|conflist|json)$' | sort | head -1)
[ -z "$first" ] || [[ "$first" > "00-pc-podwire.conflist" ]] || skip "/etc/cni/net.d/$first sorts before ours; ctr would use it"
mkdir -p /etc/cni/net.d
# go-cni leaves a cni.lock next to the configs; remove it afterwards unless it was there.
[ -e /etc/cni/net.d/cni.lock ] || installed+=(/etc/cni/net.d/cni.lock)
if [ ! -d /opt/cni/bin ]; then
	[ -d /opt/cni ] || installed+=(/opt/cni)
	mkdir -p /opt/cni/bin && installed+=(/opt/cni/bin)
fi
for p in "$B/podwire" "$B/podwire-ipam" /usr/lib/cni/portmap /usr/lib/cni/loopback; do
	t=/opt/cni/bin/$(basename "$p")
	[ -e "$t" ] && skip "$t already exists; not replacing it"
	ln -s "$p" "$t" && installed+=("$t")
done
python3 - "$(dirname "$0")/../../manifests/10-podwire.conflist" "$W/conf" "$net" "$W" <<'PY'
import json, sys
src, out, name, w = sys.argv[1:5]
c = json.load(open(src))
c["name"] = name
# As shipped: cniVersion 1.0.0, which Debian 12's runtime (its libcni stops at 1.0.0) reads.
assert c["cniVersion"] == "1.0.0" and "1.1.0" in c["cniVersions"]
c["plugins"][0].update({"interface": "pcwg0", "vethPrefix": "pc", "logFile": w + "/cni.log"})
c["plugins"][0]["ipam"].update({"dataDir": w + "/ipam", "ranges": [[{"subnet": "10.218.0.0/24"}]],
                                "routes": [{"dst": "0.0.0.0/0"}]})
json.dump(c, open(out, "w"), indent=1)
PY
cp "$W/conf" "$CONF" && installed+=("$CONF")

containerd_start || { tail -5 "$W/containerd.log"; echo "containerd did not start: $(tail -1 "$W/containerd.log")"; exit 77; }

mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/etc"
cp /bin/busybox "$W/rootfs/bin/"
for c in sh ip ping cat sleep; do ln -sf busybox "$W/rootfs/bin/$c"; done
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
PM="podman --root $W/pstore --runroot $W/prun --storage-driver vfs"
$PM import -q "$W/rootfs.tar" localhost/pc-bb:1 >/dev/null || fail "podman import"
$PM save -q --format oci-archive -o "$W/bb.tar" localhost/pc-bb:1 || fail "podman save"
C images import --base-name localhost/pc-bb "$W/bb.tar" >/dev/null 2>&1 || fail "ctr images import"
IMG=localhost/pc-bb:1

# A runs in the background; ctr run --rm does CNI DEL when its task ends.
C run --cni --rm "$IMG" pca-$$ sleep 600 >"$W/a.out" 2>&1 &
ctrpid=$!
for i in $(seq 50); do C tasks ls 2>/dev/null | grep -q "pca-$$.*RUNNING" && break; sleep 0.2; done
a4=$(C tasks exec --exec-id ip1 pca-$$ ip -4 -o addr show eth0 | awk '{print $4}')
[[ $a4 == 10.218.0.*/32 ]] || { cat "$W/a.out" "$W/cni.log" 2>/dev/null; fail "ctr container got '$a4', not a /32 from podwire-ipam"; }
a4=${a4%/32}
[ -f "$W/ipam/$net/$a4" ] || fail "no reservation file for $a4"
echo "ok: ctr run --cni container A has $a4"

C run --cni --rm "$IMG" pcb-$$ sh -c "ping -c1 -W2 $a4 && ping -c1 -W2 10.210.0.1" >"$W/b.out" 2>&1 \
	|| { cat "$W/b.out"; fail "container B cannot ping A ($a4) and the host"; }
echo "ok: container B pinged A and the host"
[ "$(ls "$W/ipam/$net" | grep -c '^10\.')" = 1 ] || fail "B's reservation not released by ctr run --rm"

C tasks kill -s KILL pca-$$ >/dev/null || fail "ctr tasks kill"
wait "$ctrpid"
ctrpid=
[ ! -e "$W/ipam/$net/$a4" ] || fail "A's address $a4 not released when it ended"
[ -z "$(host_veths)" ] || fail "veth left: $(host_veths)"
ip -n "$HOST" route | grep -q "^$a4 " && fail "host route to $a4 left"
echo "ok: ending A released its address, veth and route"
echo "cni_containerd: passed"
