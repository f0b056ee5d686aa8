#!/bin/bash
# podwire-install-cni — put the CNI plugins podwire and podwire-ipam into a CNI binary
# directory (the host's /opt/cni/bin, mounted into the container), and optionally the
# conflist into a CNI config directory. Each file is written beside its final name and then
# renamed over it, so a runtime that runs a plugin meanwhile sees the old or the new one,
# never half a file. Temporary names are unique (mktemp), never the PID: an init container is
# PID 1 every time, so a file left by a killed run would block every later one; leftovers of
# earlier runs are removed. Before anything is written: BIN_DIR must be writable, and a CNI
# config of another network that sorts before podwire's in --conf-dir is refused (runtimes
# use the first one, so pods would get the old network), naming it.
# Usage: podwire-install-cni [BIN_DIR] [--conf-dir DIR]   (BIN_DIR default /opt/cni/bin)
set -uo pipefail
export LC_ALL=C # byte order, as runtimes sort the config files
bin_dir=/opt/cni/bin
conf_dir=
# Where the image keeps the plugins and the conflist (other places for tests).
src=${PODWIRE_INSTALL_CNI_FROM:-/usr/local/lib/podwire/cni}
conflist_src=${PODWIRE_INSTALL_CNI_CONFLIST:-/usr/local/share/podwire/10-podwire.conflist}
while [ $# -gt 0 ]; do
	case $1 in
	--conf-dir) conf_dir=${2:-}; [ -n "$conf_dir" ] || { echo "podwire-install-cni: --conf-dir needs a directory" >&2; exit 1; }; shift 2 ;;
	-*) echo "podwire-install-cni: unknown option '$1'" >&2; exit 1 ;;
	*) bin_dir=$1; shift ;;
	esac
done
[ -d "$bin_dir" ] || { echo "podwire-install-cni: $bin_dir: not a directory (mount the host's CNI bin directory there)" >&2; exit 1; }
[ -w "$bin_dir" ] || { echo "podwire-install-cni: $bin_dir: not writable (mount the host's CNI bin directory read-write)" >&2; exit 1; }
conflist=10-podwire.conflist
if [ -n "$conf_dir" ]; then
	[ -d "$conf_dir" ] || { echo "podwire-install-cni: $conf_dir: not a directory" >&2; exit 1; }
	[ -w "$conf_dir" ] || { echo "podwire-install-cni: $conf_dir: not writable" >&2; exit 1; }
	# libcni (kubelet, containerd, CRI-O) loads *.conf, *.conflist, *.json in byte order.
	others=0
	for f in "$conf_dir"/* "$conf_dir"/.*; do
		f=${f##*/}
		case $f in *.conf | *.conflist | *.json) ;; *) continue ;; esac
		[[ $f < $conflist ]] || continue
		grep -Eq '"type"[[:space:]]*:[[:space:]]*"podwire"' "$conf_dir/$f" 2>/dev/null && continue
		echo "podwire-install-cni: $conf_dir/$f: a CNI config of another network that runtimes load before podwire's $conflist: remove it from $conf_dir first" >&2
		others=$((others + 1))
	done
	[ "$others" -eq 0 ] || exit 1
fi
for d in "$bin_dir" ${conf_dir:+"$conf_dir"}; do
	rm -f "$d"/.podwire.podwire-install.* "$d"/.podwire-ipam.podwire-install.* "$d"/.$conflist.podwire-install.*
done
install_atomic() { # SRC DEST MODE
	local tmp=
	if ! tmp=$(mktemp "$(dirname "$2")/.$(basename "$2").podwire-install.XXXXXX") ||
		! { cp "$1" "$tmp" && chmod "$3" "$tmp" && mv -f "$tmp" "$2"; }; then
		[ -n "$tmp" ] && rm -f "$tmp"
		echo "podwire-install-cni: $2: cannot install" >&2
		exit 1
	fi
	echo "podwire-install-cni: installed $2"
}
for p in podwire podwire-ipam; do
	install_atomic "$src/$p" "$bin_dir/$p" 0755
done
if [ -n "$conf_dir" ]; then
	install_atomic "$conflist_src" "$conf_dir/$conflist" 0644
fi
