#!/bin/bash
# cni_bare_root.sh — the CNI plugins on a node that has none of podwire's libraries (kind's node
# image, Ubuntu, Flatcar, Talos): the runtime runs them in a root that holds nothing but the
# two binaries, plus /proc, /sys and the netns directory as a runtime gives them.
#
#   $HOST (netns, pcwg0 stands in for the node's WireGuard interface)
#     mount namespace, chroot $W/root:
#       /opt/cni/bin/podwire, /opt/cni/bin/podwire-ipam    the only files
#       /proc, /sys, /var/run/netns                         bind-mounted
#     pod netns pc-brp-$$ <--- veth ---> $HOST
#
# Checks: neither binary has a NEEDED entry or an ELF interpreter; a dynamic binary does not
# start in that root (so the root really lacks the libraries); VERSION, ADD (result valid,
# address on the pod's eth0, the pod answers), CHECK and DEL (veth and reservation gone), and
# DEL again, all from inside the root. Before the plugins were static every one of these
# failed with "error while loading shared libraries: libsodium.so.23".
set -u
. "$(dirname "$0")/lib/common.bash"
require_cmd readelf unshare chroot
HOST=pc-br-$$
cni_setup_host
# The ASan build's plugins are dynamic (ASan has no static runtime): the shipped, static ones
# are the plain build's, which "make check" builds first.
S=$B
top=$(cd "$(dirname "$0")/../.." && pwd)
if readelf -d "$S/podwire" | grep -q 'NEEDED.*libasan'; then
	[ -x "$top/build/podwire" ] || fail "$B is an ASan build and $top/build has no plugins: run 'make all' too"
	S=$top/build
fi
echo "plugins from $S"
for p in podwire podwire-ipam; do
	needed=$(readelf -d "$S/$p" | grep NEEDED)
	[ -z "$needed" ] || fail "$p needs shared libraries: $needed"
	! readelf -l "$S/$p" | grep -q 'program interpreter' || fail "$p asks for a dynamic loader"
done
ok "podwire and podwire-ipam: no NEEDED entry, no interpreter"

R=$W/root
mkdir -p "$R/opt/cni/bin" "$R/proc" "$R/sys" "$R/var/run/netns"
cp "$S/podwire" "$S/podwire-ipam" "$R/opt/cni/bin/"
netns_add pc-brp-$$
cat >"$W/net.json" <<EOF
{"cniVersion":"1.1.0","name":"pc-bare","type":"podwire","interface":"pcwg0","vethPrefix":"pc",
 "ipam":{"type":"podwire-ipam","ranges":[[{"subnet":"10.234.7.0/24"}]]}}
EOF
# in_root [VAR=VALUE...] CMD...: CMD in $HOST, chrooted into $R (a private mount namespace:
# what is mounted here goes when it exits), with nothing but the CNI variables set.
in_root() {
	local vars=()
	while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
	ip netns exec "$HOST" unshare --mount --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /var/run/netns "$r/var/run/netns" ||
			exit 125
		exec "$@"' sh "$R" env -i ${vars[@]+"${vars[@]}"} "$(command -v chroot)" "$R" "$@"
}
cni_bare() { # VERB OUT: the plugin in the root, the network config on stdin
	in_root CNI_COMMAND="$1" CNI_CONTAINERID=ctr-bare CNI_NETNS=/var/run/netns/pc-brp-$$ CNI_IFNAME=eth0 \
		CNI_PATH=/opt/cni/bin /opt/cni/bin/podwire <"$3" >"$2" 2>>"$W/stderr"
}

log "a dynamic binary cannot start there"
cp "$B/podwirectl" "$R/opt/cni/bin/dynamic"
readelf -d "$R/opt/cni/bin/dynamic" | grep -q NEEDED || fail "podwirectl is not dynamic: no control"
in_root /opt/cni/bin/dynamic --version >"$W/dyn.out" 2>&1 && fail "a dynamic binary ran in the root: it is not bare"
rc=$?
[ $rc -ne 125 ] || fail "could not mount into the root"
rm "$R/opt/cni/bin/dynamic"
ok "podwirectl (dynamic) does not start in the root (exit $rc: $(head -c 120 "$W/dyn.out"))"
left=$(cd "$R" && find . -mindepth 1 -not -path './opt*' -not -path './proc' -not -path './sys' -not -path './var' \
	-not -path './var/run' -not -path './var/run/netns')
[ -z "$left" ] || fail "the root holds more than the plugins: $left"

log "VERSION, ADD, CHECK, DEL inside the root"
printf '{"cniVersion":"1.1.0"}' >"$W/v.json"
cni_bare VERSION "$W/version.out" "$W/v.json" || { cat "$W/version.out" "$W/stderr"; fail "VERSION in the root"; }
shapes version "$W/version.out" || fail "VERSION result"
ok "VERSION"
cni_bare ADD "$W/add.out" "$W/net.json" || { cat "$W/add.out" "$W/stderr"; fail "ADD in the root"; }
shapes result 1.1.0 "$W/add.out" || { cat "$W/add.out"; fail "ADD result is not a CNI 1.1.0 result"; }
ip4=$(json_get "$W/add.out" 'r["ips"][0]["address"].split("/")[0]')
ip -n pc-brp-$$ -4 addr show eth0 | grep -q "inet $ip4/" || fail "the pod's eth0 lacks $ip4"
ns_ping "$HOST" "$ip4" 1 2 || fail "the pod does not answer at $ip4"
[ -f "$R/var/lib/cni/networks/pc-bare/$ip4" ] || fail "no reservation for $ip4 in the root's dataDir"
ok "ADD: $ip4 on the pod's eth0, the pod answers, reserved in the root"
with_prev "$W/net.json" "$W/add.out" "$W/prev.json"
cni_bare CHECK "$W/check.out" "$W/prev.json" || { cat "$W/check.out" "$W/stderr"; fail "CHECK in the root"; }
ok "CHECK"
cni_bare DEL "$W/del.out" "$W/prev.json" || { cat "$W/del.out" "$W/stderr"; fail "DEL in the root"; }
[ -z "$(host_veths)" ] || fail "DEL left a veth: $(host_veths)"
[ ! -e "$R/var/lib/cni/networks/pc-bare/$ip4" ] || fail "DEL left the reservation of $ip4"
cni_bare DEL "$W/del2.out" "$W/prev.json" || { cat "$W/del2.out" "$W/stderr"; fail "second DEL in the root"; }
ok "DEL, and DEL again: veth and reservation gone"
echo "cni_bare_root: passed ($CHECKS checks)"
