#!/bin/bash
# podwirectl install-cni (the DaemonSet's init container, manifests/podwire.yaml): both CNI
# plugins copied into a directory, byte for byte and executable, replaced by rename (a new
# inode, so a runtime running the old file keeps it whole), no temporary file left; a
# missing destination or a source without the plugins is refused, naming it, with nothing
# written. Bad hosts: a read-only CNI binary directory, and a config directory where another
# CNI's config sorts before podwire's (runtimes use the first), are refused naming which,
# nothing written; run as PID 1 (an init container) beside a temporary file a killed run left,
# install-cni still works (the names are unique, not the PID). The image's installer
# (image/install-cni.sh) refuses the same hosts.
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

# empty_dir NAME: a new empty directory $W/NAME
empty_dir() { mkdir "$W/$1" && echo "$W/$1"; }
is_empty() { [ -z "$(ls -A "$1")" ] || fail "$2 wrote into $1: $(ls -A "$1")"; }

echo "== a host whose CNI binary directory is read-only"
ro=$(empty_dir ro)
mount --bind "$ro" "$ro" && at_exit umount "$ro"
mount -o remount,bind,ro "$ro" || fail "cannot make $ro read-only"
out=$("$B/podwirectl" install-cni "$ro" 2>&1) && fail "a read-only destination was accepted"
grep -q "$ro: not writable" <<<"$out" || fail "the message does not say $ro is not writable: $out"
echo "refused: $out"

echo "== an old conflist of another CNI in the config directory"
conf=$(empty_dir net.d) dest=$(empty_dir bin2)
echo '{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel"},{"type":"portmap"}]}' >"$conf/10-flannel.conflist"
echo '{"cniVersion":"0.4.0","name":"k8s","type":"bridge"}' >"$conf/05-bridge.conf"
echo '{"cniVersion":"1.0.0","name":"podman","plugins":[{"type":"bridge"}]}' >"$conf/87-podman-bridge.conflist"
out=$("$B/podwirectl" install-cni --conf-dir "$conf" "$dest" 2>&1) && fail "another CNI's conflist was accepted"
grep -q "$conf/10-flannel.conflist: a CNI config of another network (network \"cbr0\", plugin flannel)" <<<"$out" ||
	fail "the message does not name 10-flannel.conflist and its plugin: $out"
grep -q "$conf/05-bridge.conf: .*plugin bridge" <<<"$out" || fail "the message does not name 05-bridge.conf: $out"
! grep -q 87-podman <<<"$out" || fail "a config that sorts after podwire's was named: $out"
is_empty "$dest" "a refused install"
echo "refused: $out"
rm "$conf/10-flannel.conflist" "$conf/05-bridge.conf"
echo '{"cniVersion":"1.0.0","name":"podwire","plugins":[{"type":"podwire"}]}' >"$conf/05-podwire-old.conflist"
"$B/podwirectl" install-cni --conf-dir "$conf" "$dest" >/dev/null ||
	fail "refused although only podwire's own config and one that sorts after it are there"
echo "accepted: podwire's own config, and 87-podman-bridge.conflist which runtimes load after podwire's"

echo "== as PID 1 (an init container), with a file a killed run left"
pid1=$(empty_dir pid1)
: >"$pid1/.podwire.podwire-install.1"
unshare --pid --fork "$B/podwirectl" install-cni "$pid1" >"$W/pid1.out" 2>&1 ||
	fail "install-cni as PID 1 failed on a leftover temporary file: $(cat "$W/pid1.out")"
[ "$(ls -A "$pid1" | tr '\n' ' ')" = "podwire podwire-ipam " ] || fail "left in $pid1: $(ls -A "$pid1")"
echo "installed as PID 1; the leftover was removed"

echo "== the image's podwire-install-cni: the same refusals"
script=$(dirname "$0")/../../image/install-cni.sh
export PODWIRE_INSTALL_CNI_FROM=$B PODWIRE_INSTALL_CNI_CONFLIST=$W/10-podwire.conflist
echo '{"cniVersion":"1.0.0","name":"podwire","plugins":[{"type":"podwire"}]}' >"$PODWIRE_INSTALL_CNI_CONFLIST"
out=$(bash "$script" "$ro" 2>&1) && fail "the image's installer accepted a read-only destination"
grep -q "$ro: not writable" <<<"$out" || fail "the image's installer does not say $ro is not writable: $out"
echo "refused: $out"
conf2=$(empty_dir net2.d) dest2=$(empty_dir bin3)
echo '{"cniVersion":"0.3.1","name":"k8s-pod-network","plugins":[{"type":"calico"}]}' >"$conf2/10-calico.conflist"
out=$(bash "$script" "$dest2" --conf-dir "$conf2" 2>&1) && fail "the image's installer accepted another CNI's conflist"
grep -q "$conf2/10-calico.conflist: a CNI config of another network" <<<"$out" || fail "10-calico.conflist not named: $out"
is_empty "$dest2" "the image's refused install"
echo "refused: $out"
rm "$conf2/10-calico.conflist"
: >"$dest2/.podwire.podwire-install.1"
bash "$script" "$dest2" --conf-dir "$conf2" >/dev/null || fail "the image's installer failed"
[ "$(ls -A "$dest2" | tr '\n' ' ')" = "podwire podwire-ipam " ] || fail "left in $dest2: $(ls -A "$dest2")"
[ "$(ls -A "$conf2")" = 10-podwire.conflist ] || fail "in $conf2: $(ls -A "$conf2")"
echo "the image's installer: plugins and conflist in place, no temporary file left"
echo "ok"
