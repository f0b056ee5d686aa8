#!/bin/bash
# image.sh — build the podwire container image offline: no registry, no base image. The root
# filesystem is this host's Debian 12 files (installed by hack/deps.sh): the five podwire
# binaries, bash (the hooks' shell), busybox (the small tools), iproute2, nftables, iptables
# (the tutorial's hooks call it), qrencode, curl and the time zones (TZ), plus exactly the
# shared libraries their ELF files need. image/Containerfile (FROM scratch, so no registry either) puts it into the
# engine this machine has as podwire:VERSION and podwire:latest: podman when installed (in
# docker format, so HEALTHCHECK is kept), else a Docker engine that answers (`docker build`);
# PODWIRE_IMAGE_ENGINE=podman|docker chooses. Then BUILD_DIR/image/podwire-VERSION.tar is the
# image as a docker-archive naming podwire:VERSION and podwire:latest, which `docker load` and
# `podman load` both take (podman itself would name them localhost/podwire:...).
# The image is rebuilt only when an input changed: the sha256 of every file that goes in is a
# label of the image, compared before anything is built.
# With a registry at hand, image/Containerfile.debian builds the image from Debian's packages
# and the source instead: docker build -f image/Containerfile.debian .
# Usage: hack/image.sh [BUILD_DIR]    (default: build; `make image` passes $(BUILD))
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' lib/version.h)
[ -n "$version" ] || { echo "image.sh: lib/version.h: no PODWIRE_VERSION" >&2; exit 1; }
tag=podwire:$version
case ${PODWIRE_IMAGE_ENGINE:-} in
podman | docker) engine=$PODWIRE_IMAGE_ENGINE ;;
"")
	if command -v podman >/dev/null; then
		engine=podman
	elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
		engine=docker
	else
		echo "image.sh: neither podman nor a Docker engine that answers (docker info): install podman, or start dockerd" >&2
		exit 1
	fi
	;;
*) echo "image.sh: PODWIRE_IMAGE_ENGINE='$PODWIRE_IMAGE_ENGINE': not podman or docker" >&2; exit 1 ;;
esac
archive=$build/image/podwire-$version.tar

bins=(podwirectl podwire-wg podwired)
cni_plugins=(podwire podwire-ipam)
for b in "${bins[@]}" "${cni_plugins[@]}"; do
	[ -x "$build/$b" ] || { echo "image.sh: $build/$b: not built (run make)" >&2; exit 1; }
done
# dnsmasq: server mode's PEERDNS=auto forwarder on the tunnel address (linuxserver's CoreDNS).
host_programs=(/usr/bin/bash /usr/bin/busybox /usr/sbin/ip /usr/sbin/nft /usr/sbin/xtables-nft-multi
	/usr/bin/qrencode /usr/bin/curl /usr/sbin/dnsmasq)
for p in "${host_programs[@]}"; do
	[ -x "$p" ] || { echo "image.sh: $p: missing (run hack/deps.sh)" >&2; exit 1; }
done
xtables=/usr/lib/x86_64-linux-gnu/xtables

# What goes in, as one digest: our files, and the Debian packages the host files come from.
inputs_digest() {
	{
		sha256sum "${bins[@]/#/$build/}" "${cni_plugins[@]/#/$build/}" image/* hack/image.sh manifests/10-podwire.conflist
		dpkg-query -W -f='${Package} ${Version}\n' bash busybox-static iproute2 nftables iptables qrencode curl dnsmasq-base libc6 \
			libsodium23 libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libcjson1 libmicrohttpd12 libqrencode4 \
			libcurl4 libnftables1 libxtables12 libpng16-16 tzdata 2>/dev/null || true
	} | sha256sum | cut -d' ' -f1
}
digest=$(inputs_digest)
# save_archive: the docker-archive of both tags. podman writes localhost/podwire:...; the names
# become the short ones, as `docker save` writes them, so that either engine loads podwire:*.
save_archive() {
	mkdir -p "$(dirname "$archive")"
	"$engine" save -o "$archive.part" "$tag" podwire:latest \
		2> >(grep -v -e systemd -e '^Writing manifest' -e '^Storing signatures' -e '^Copying' >&2) ||
		{ echo "image.sh: $engine save $tag failed" >&2; exit 1; }
	python3 - "$archive.part" "$tag" <<-'EOF' || { echo "image.sh: $archive: cannot name the tags" >&2; exit 1; }
		import io, json, sys, tarfile
		path, tag = sys.argv[1:]
		with tarfile.open(path) as t:
		    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
		with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as out:
		    for m, data in members:
		        if m.name == "manifest.json":
		            manifest = json.loads(data)
		            assert len(manifest) == 1, "one image in the archive"
		            manifest[0]["RepoTags"] = [tag, "podwire:latest"]
		            data = json.dumps(manifest).encode()
		        elif m.name == "repositories":
		            layer = next(iter(next(iter(json.loads(data).values())).values()))
		            data = json.dumps({"podwire": {tag.split(":", 1)[1]: layer, "latest": layer}}).encode()
		        if data is not None:
		            m.size = len(data)
		            out.addfile(m, io.BytesIO(data))
		        else:
		            out.addfile(m)
	EOF
	mv -f "$archive.part" "$archive"
}

have=$("$engine" image inspect "$tag" --format '{{index .Config.Labels "io.podwire.inputs"}}' 2>/dev/null || true)
if [ "$have" = "$digest" ]; then
	[ -s "$archive" ] || save_archive
	echo "image.sh: $tag ($engine) is up to date; archive $archive"
	exit 0
fi

stage=$build/image
rootfs=$stage/rootfs
rm -rf "$stage"
mkdir -p "$rootfs"
# Debian 12 is merged-/usr: the top-level directories are links into /usr.
mkdir -p "$rootfs"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,local/bin,local/lib/podwire/cni,local/share/podwire}
for d in bin sbin lib lib64; do ln -s usr/$d "$rootfs/$d"; done
mkdir -p "$rootfs"/{etc,config,dev,proc,sys,root,tmp,run,var/lib/podwire,etc/wireguard}
ln -s ../run "$rootfs/var/run"
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root" "$rootfs/etc/wireguard"

# copy_path SRC: the file SRC resolves to, at its place in the root, and SRC's own name as a
# link to it when SRC is a link (libfoo.so.1 -> libfoo.so.1.2.3, /lib64/ld-linux-x86-64.so.2).
copy_path() {
	local src=$1 real dir
	real=$(readlink -f "$src")
	mkdir -p "$rootfs$(dirname "$real")"
	[ -e "$rootfs$real" ] || cp -p "$real" "$rootfs$real"
	if [ ! -e "$rootfs$src" ]; then
		dir=$(readlink -f "$(dirname "$src")")
		mkdir -p "$rootfs$dir"
		ln -s "$real" "$rootfs$dir/$(basename "$src")"
	fi
}
# The libraries an ELF file needs, as the dynamic loader finds them on this host.
copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
		copy_path "$lib"
	done
}

for b in "${bins[@]}"; do
	install -m 0755 "$build/$b" "$rootfs/usr/local/bin/$b"
	copy_libs "$build/$b"
done
# podwirectl answers as wg(8) and wg-quick(8) by those names: `docker exec wireguard wg show`.
ln -s podwirectl "$rootfs/usr/local/bin/wg"
ln -s podwirectl "$rootfs/usr/local/bin/wg-quick"
for p in "${cni_plugins[@]}"; do
	install -m 0755 "$build/$p" "$rootfs/usr/local/lib/podwire/cni/$p"
	copy_libs "$build/$p"
done
for p in "${host_programs[@]}"; do
	copy_path "$p"
	copy_libs "$p"
done
# iptables' matches and targets are plugins loaded by name (-m mark, -j MASQUERADE).
mkdir -p "$rootfs$xtables"
for x in "$xtables"/*.so; do
	copy_path "$x"
	copy_libs "$x"
done
# podwired loads libcurl when it opens an etcd store; curl's own libcurl.so.4 serves it.
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s xtables-nft-multi "$rootfs/usr/sbin/$name"
done
# /bin/sh is bash (the HEALTHCHECK and the hooks); busybox provides the rest of the small tools.
ln -s bash "$rootfs/usr/bin/sh"
for applet in $(/usr/bin/busybox --list); do
	[ -e "$rootfs/usr/bin/$applet" ] || [ -e "$rootfs/usr/sbin/$applet" ] && continue
	case $applet in ip | iptables* | ip6tables* | sh | bash) continue ;; esac
	ln -s busybox "$rootfs/usr/bin/$applet"
done
cp -r /etc/iproute2 "$rootfs/etc/"
# TZ=Europe/London, as linuxserver's: glibc reads the zone from /usr/share/zoneinfo.
mkdir -p "$rootfs/usr/share"
cp -a /usr/share/zoneinfo "$rootfs/usr/share/"
for f in /etc/protocols /etc/services /etc/ethertypes; do
	[ -f "$f" ] && cp "$f" "$rootfs/etc/"
done
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"

install -m 0755 image/entrypoint.sh "$rootfs/usr/local/bin/podwire-entrypoint"
install -m 0755 image/server-config.sh "$rootfs/usr/local/bin/podwire-server-config"
# linuxserver's `docker exec wireguard /app/show-peer NAME`
mkdir -p "$rootfs/app"
ln -s ../usr/local/bin/podwire-server-config "$rootfs/app/show-peer"
install -m 0755 image/podwire-wg-supervised.sh "$rootfs/usr/local/bin/podwire-wg-supervised"
install -m 0755 image/install-cni.sh "$rootfs/usr/local/bin/podwire-install-cni"
install -m 0755 image/resolvconf.sh "$rootfs/usr/sbin/resolvconf"
install -m 0644 manifests/10-podwire.conflist "$rootfs/usr/local/share/podwire/10-podwire.conflist"

# Fixed owner and times: the same inputs give the same layer.
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$rootfs" -cf "$stage/rootfs.tar" .
cp image/Containerfile "$stage/"
build_args=(--quiet --file "$stage/Containerfile" --label "io.podwire.inputs=$digest"
	--label "org.opencontainers.image.version=$version" --tag "$tag" --tag podwire:latest)
[ "$engine" = podman ] && build_args+=(--format docker)
"$engine" build "${build_args[@]}" "$stage" >/dev/null || { echo "image.sh: $engine build failed" >&2; exit 1; }
rm -rf "$rootfs" "$stage/rootfs.tar"
save_archive
size=$("$engine" image inspect "$tag" --format '{{.Size}}')
echo "image.sh: built $tag and podwire:latest ($engine), $((size / 1000000)) MB uncompressed; archive $archive"
