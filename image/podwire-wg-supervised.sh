#!/bin/bash
# podwire-wg-supervised NAME — the image's userspace datapath (its WG_QUICK_USERSPACE_IMPLEMENTATION,
# so every `podwirectl up` in the container starts it): podwire-wg NAME in the foreground under a
# small supervisor that writes how it ended to $PODWIRE_RUN_DIR/datapath/NAME.exit (its exit
# status; 128+N for signal N). The entry point tells by it a datapath that died (killed,
# crashed: not 0) from one that stopped (its interface deleted by `podwirectl down`, SIGTERM:
# 0); a stale UAPI socket cannot say it, since any wg client removes one. Like podwire-wg, it
# returns once the daemon runs, with nothing of the caller's stdio held open.
set -u
name=${1:?usage: podwire-wg-supervised INTERFACE}
dir=${PODWIRE_RUN_DIR:-/run/podwire}/datapath
mkdir -p "$dir" || exit 1
rm -f "$dir/$name.exit"
(
	podwire-wg -f "$name"
	echo $? >"$dir/$name.exit"
) </dev/null >/dev/null 2>&1 &
exit 0
