#!/bin/bash
# podwirectl install-cni (the DaemonSet's init container, manifests/podwire.yaml): both CNI
# plugins copied into a directory, byte for byte and executable, replaced by rename (a new
# inode, so a runtime running the old file keeps it whole), no temporary file left; a
# missing destination or a source without the plugins is refused, naming it, with nothing
# written. An installed podwirectl (BINDIR, away from the plugins) finds them where
# `make install` put them (/opt/cni/bin, a private tmpfs here) without --from.
source "$(dirname "$0")/lib/common.bash"
require_built podwirectl podwire podwire-ipam
mkdir "$W/bin" "$W/empty"

echo "== install into an empty directory"
"$B/podwirectl" install-cni "$W/bin" || fail "install-cni failed"
for p in podwire podwire-ipam; do
	cmp -s "$B/$p" "$W/bin/$p" || fail "$p differs from the build's"
	[ -x "$W/bin/$p" ] || fail "$p is not executable"
done
[ -z "$(find "$W/bin" -name '.*' -type f)" ] || fail "temporary files left: $(ls -A "$W/bin")"
"$W/bin/podwire" --version 2>&1 | head -1

echo "== again: the plugins are replaced by rename"
before=$(stat -c %i "$W/bin/podwire")
exec 3<"$W/bin/podwire" # a runtime in the middle of reading the old plugin
"$B/podwirectl" install-cni --from "$B" "$W/bin" >/dev/null || fail "second install failed"
after=$(stat -c %i "$W/bin/podwire")
[ "$before" != "$after" ] || fail "podwire was rewritten in place (inode $before)"
cmp -s "$B/podwire" /proc/self/fd/3 || fail "the old file a reader held changed under it"
exec 3<&-
echo "inode $before -> $after; the reader's old file stayed whole"

echo "== bad input"
out=$("$B/podwirectl" install-cni "$W/missing" 2>&1) && fail "a missing destination was accepted"
grep -q "$W/missing" <<<"$out" || fail "the message does not name the destination: $out"
echo "refused: $out"
out=$("$B/podwirectl" install-cni --from "$W/empty" "$W/bin" 2>&1) && fail "a source without plugins was accepted"
grep -q "$W/empty" <<<"$out" || fail "the message does not name the source: $out"
echo "refused: $out"
[ "$(ls -A "$W/bin" | sort | tr '\n' ' ')" = "podwire podwire-ipam " ] || fail "the refused runs wrote into $W/bin"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	echo "== installed layout: podwirectl in BINDIR, the plugins in /opt/cni/bin, no --from"
	mkdir -p "$W/usr/local/bin" "$W/dest"
	cp "$B/podwirectl" "$W/usr/local/bin/"
	unshare --mount --propagation private bash -c '
		set -e
		mount -t tmpfs tmpfs /opt # the host'"'"'s /opt stays as it is
		mkdir -p /opt/cni/bin
		cp "$1/podwire" "$1/podwire-ipam" /opt/cni/bin/
		"$2/usr/local/bin/podwirectl" install-cni "$2/dest" >"$2/installed.out" 2>&1
		"$2/usr/local/bin/podwirectl" install-cni >"$2/again.out" 2>&1
		cmp -s "$1/podwire" /opt/cni/bin/podwire
	' install_cni "$B" "$W" || fail "installed podwirectl install-cni without --from: $(cat "$W/installed.out" "$W/again.out" 2>/dev/null)"
	for p in podwire podwire-ipam; do
		cmp -s "$B/$p" "$W/dest/$p" || fail "$p was not installed from /opt/cni/bin"
	done
	cat "$W/installed.out" "$W/again.out"
	grep -qx "podwire and podwire-ipam are already in /opt/cni/bin" "$W/again.out" ||
		fail "install-cni into the directory it installs from did not say they are already there"
	echo "ok: an installed podwirectl finds the plugins in /opt/cni/bin; into /opt/cni/bin itself: already there"
fi
echo "ok"
