#!/bin/bash
# Large devices over netlink: 1000 peers x 8 allowed IPs in one `podwirectl setconf` (the
# request is split over many messages, and so is the dump that reads it back), and one peer
# with 3000 allowed IPs (split inside a peer: later chunks must append, not replace).
# Read back through podwirectl and wg, both must equal the file. Prints the times.
set -euo pipefail
umask 077
here=$(cd "$(dirname "$0")" && pwd)
build=${PODWIRE_BUILD:-$here/../../../build}
ctl=$build/podwirectl
ns=pd-bulk-$$ ifc=pdbulk$$
tmp=$(mktemp -d /tmp/pd-bulk.XXXXXX)
cleanup() { set +e; ip netns del $ns 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
N() { ip netns exec $ns "$@"; }
ip netns add $ns
N ip link add $ifc type wireguard

gen() { python3 "$here/../lib/gen_peers.py" "$@"; }
# expected CONF: "pubkey<TAB>sorted allowed IPs" per peer, sorted, from the file.
expected() {
	awk '/^PublicKey/ { k = $3 } /^AllowedIPs/ { sub(/^AllowedIPs = /, ""); gsub(/, /, " "); print k "\t" $0 }' "$1" |
		normalize
}
normalize() { # sort the IPs within each line, then the lines
	python3 -c 'import sys
for l in sys.stdin:
    k, _, ips = l.rstrip("\n").partition("\t")
    print(k + "\t" + " ".join(sorted(ips.split())))' | sort
}
check() { # CONF WHAT
	local t0 t1
	t0=$(date +%s.%N)
	N "$ctl" setconf $ifc "$1" || fail "$2: podwirectl setconf"
	t1=$(date +%s.%N)
	printf '%s: podwirectl setconf %.3f s\n' "$2" "$(echo "$t1 - $t0" | bc)"
	expected "$1" >"$tmp/want"
	N "$ctl" show $ifc allowed-ips | normalize >"$tmp/ours"
	N wg show $ifc allowed-ips | normalize >"$tmp/theirs"
	cmp -s "$tmp/want" "$tmp/ours" || { diff "$tmp/want" "$tmp/ours" | head -5 || true; fail "$2: podwirectl reads back something else"; }
	cmp -s "$tmp/want" "$tmp/theirs" || { diff "$tmp/want" "$tmp/theirs" | head -5 || true; fail "$2: wg reads back something else"; }
	[ "$(N "$ctl" show $ifc dump)" = "$(N wg show $ifc dump)" ] || fail "$2: dump differs from wg"
	[ "$(N "$ctl" showconf $ifc)" = "$(N wg showconf $ifc)" ] || fail "$2: showconf differs from wg"
	echo "$2: $(wc -l <"$tmp/want") peers, $(awk -F'\t' '{ n += split($2, a, " ") } END { print n }' "$tmp/ours") allowed IPs read back identically"
}
gen 1000 8 >"$tmp/big.conf"
check "$tmp/big.conf" "1000 peers x 8 allowed IPs"
gen 1 3000 >"$tmp/wide.conf"
check "$tmp/wide.conf" "1 peer x 3000 allowed IPs"
# Back to the big one: replace-peers across many messages leaves exactly the file.
check "$tmp/big.conf" "1000 peers again (replacing)"
