#!/bin/bash
# podwire-install-cni — put the CNI plugins podwire and podwire-ipam into a CNI binary
# directory (the host's /opt/cni/bin, mounted into the container), and optionally the
# conflist into a CNI config directory. Each file is written beside its final name and then
# renamed over it, so a runtime that runs a plugin meanwhile sees the old or the new one,
# never half a file.
# Usage: podwire-install-cni [BIN_DIR] [--conf-dir DIR]   (BIN_DIR default /opt/cni/bin)
set -uo pipefail
bin_dir=/opt/cni/bin
conf_dir=
src=/usr/local/lib/podwire/cni
while [ $# -gt 0 ]; do
	case $1 in
	--conf-dir) conf_dir=${2:-}; [ -n "$conf_dir" ] || { echo "podwire-install-cni: --conf-dir needs a directory" >&2; exit 1; }; shift 2 ;;
	-*) echo "podwire-install-cni: unknown option '$1'" >&2; exit 1 ;;
	*) bin_dir=$1; shift ;;
	esac
done
[ -d "$bin_dir" ] || { echo "podwire-install-cni: $bin_dir: not a directory (mount the host's CNI bin directory there)" >&2; exit 1; }
install_atomic() { # SRC DEST MODE
	local tmp
	tmp=$(dirname "$2")/.$(basename "$2").podwire-tmp
	if ! { cp "$1" "$tmp" && chmod "$3" "$tmp" && mv -f "$tmp" "$2"; }; then
		rm -f "$tmp"
		echo "podwire-install-cni: $2: cannot install" >&2
		exit 1
	fi
	echo "podwire-install-cni: installed $2"
}
for p in podwire podwire-ipam; do
	install_atomic "$src/$p" "$bin_dir/$p" 0755
done
if [ -n "$conf_dir" ]; then
	[ -d "$conf_dir" ] || { echo "podwire-install-cni: $conf_dir: not a directory" >&2; exit 1; }
	install_atomic /usr/local/share/podwire/10-podwire.conflist "$conf_dir/10-podwire.conflist" 0644
fi
