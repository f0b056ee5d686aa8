#!/bin/bash
# podwirectl install-cni (the DaemonSet's init container, manifests/podwire.yaml): both CNI
# plugins copied into a directory, byte for byte and executable, replaced by rename (a new
# inode, so a runtime running the old file keeps it whole), no temporary file left; a
# missing destination or a source without the plugins is refused, naming it, with nothing
# written.
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
echo "ok"
