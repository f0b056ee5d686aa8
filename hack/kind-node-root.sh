#!/bin/bash
# kind-node-root.sh — a root filesystem that looks like kind's node image, for
# tests/integration/k8s_kind_nodes.sh: a minimal Debian 12 (debootstrap --variant=minbase from
# Debian's archive) with what kind's node image carries for pod networking and nothing of
# podwire's: containerd, runc, iptables, iproute2, conntrack, and the standard CNI plugins
# (containernetworking-plugins: loopback, portmap) in /opt/cni/bin, as kind puts them there.
# No libsodium, no libnl, no libcjson: a plugin that needs them fails on it as on a real node.
# Made once (a few minutes) and cached as a tarball; later runs print the cached path.
# Usage: hack/kind-node-root.sh [CACHE_DIR]   (default /var/cache/podwire-kind-node)
# Prints the tarball's path. Needs root and debootstrap; Debian's archive must be reachable
# the first time (KIND_NODE_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail
cache=${1:-/var/cache/podwire-kind-node}
mirror=${KIND_NODE_MIRROR:-http://deb.debian.org/debian}
# What is in it: a change of this list makes a new tarball.
packages=containerd,runc,iptables,iproute2,conntrack,containernetworking-plugins,ca-certificates
tar=$cache/bookworm-minbase-$(echo "$packages" | sha256sum | cut -c1-12).tar
[ "$(id -u)" = 0 ] || { echo "kind-node-root.sh: run as root (debootstrap)" >&2; exit 1; }
if [ -s "$tar" ]; then
	echo "$tar"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "kind-node-root.sh: debootstrap is not installed (hack/deps.sh)" >&2; exit 1; }
mkdir -p "$cache"
root=$(mktemp -d "$cache/root.XXXXXX")
trap 'rm -rf --one-file-system "$root" "$tar.part"' EXIT
echo "kind-node-root.sh: debootstrap --variant=minbase bookworm with $packages (once)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
	{ tail -20 "$cache/debootstrap.log" >&2; echo "kind-node-root.sh: debootstrap failed (log: $cache/debootstrap.log)" >&2; exit 1; }
# kind's node image keeps the CNI plugins in /opt/cni/bin, where kubelet's runtime looks.
mkdir -p "$root/opt/cni/bin" "$root/etc/cni/net.d"
cp -a "$root"/usr/lib/cni/. "$root/opt/cni/bin/"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
for lib in libsodium libnl-3 libnl-route-3 libcjson; do
	if find "$root/usr/lib" -name "$lib.so*" | grep . >/dev/null; then
		echo "kind-node-root.sh: $lib is in the node root: it must look like a node without podwire's libraries" >&2
		exit 1
	fi
done
tar -C "$root" -cf "$tar.part" .
mv "$tar.part" "$tar"
echo "$tar"
