#!/bin/bash
# With several interfaces, podwirectl lists them in wg(8)'s order, not sorted: kernel links
# in the link dump's order, then UAPI sockets in the order readdir gives them. Three userspace
# interfaces (wireguard-go and podwire-wg) whose names sort otherwise than they were created:
# `show`, `show all`, `show interfaces`, `show all dump`, `show all KEYWORD` and bare
# podwirectl are byte-identical to the real wg, and stay so after one goes and another comes.
# A private /run/wireguard (mount namespace) keeps other tests' sockets out of the listing.
set -euo pipefail
umask 077
. "$(dirname "$0")/lib/common.bash"
require_root
require_tun
require_cmd wg wireguard-go unshare
require_built podwirectl podwire-wg

ns=pw-ord-$$
netns_add "$ns"
export -f wait_until socket_up uapi_sock
mkdir -p /run/wireguard

cat >"$W/inner.sh" <<'INNER'
set -eu
B=$1 W=$2
mount -t tmpfs -o mode=0700 tmpfs /run/wireguard
ifaces=()
trap 'for i in "${ifaces[@]}"; do ip link del "$i" 2>/dev/null || true; done' EXIT
# new IMPL NAME PORT: a userspace interface with a key, a port and one peer (one, so that
# wireguard-go's map order cannot reorder peers between the two reads).
new() {
	"$1" "$2" >"$W/$2.log" 2>&1
	ifaces+=("$2")
	wait_until 5 socket_up "$2"
	"$B/podwirectl" genkey >"$W/$2.key"
	"$B/podwirectl" set "$2" listen-port "$3" private-key "$W/$2.key" \
		peer "$("$B/podwirectl" genkey | "$B/podwirectl" pubkey)" allowed-ips "10.$(($3 - 40000)).0.0/24" \
		endpoint "127.0.0.1:$(($3 + 1))" persistent-keepalive 0
}
# same ARGS...: `podwirectl ARGS` and `wg ARGS` print the same and exit the same way.
same() {
	local rc1=0 rc2=0
	"$B/podwirectl" "$@" >"$W/ours" 2>&1 || rc1=$?
	wg "$@" >"$W/theirs" 2>&1 || rc2=$?
	if ! cmp -s "$W/ours" "$W/theirs" || [ $rc1 -ne $rc2 ]; then
		echo "--- wg $* (rc $rc2)"; cat "$W/theirs"
		echo "--- podwirectl $* (rc $rc1)"; cat "$W/ours"
		echo "FAIL: podwirectl $* differs from wg"
		exit 1
	fi
	echo "ok: podwirectl $* is byte-identical to wg ($(wc -l <"$W/ours") lines)"
}
compare() {
	local kw
	same
	same show
	same show all
	same show interfaces
	same show all dump
	for kw in public-key private-key listen-port fwmark peers preshared-keys endpoints \
		allowed-ips latest-handshakes transfer persistent-keepalive; do
		same show all "$kw"
	done
	WG_HIDE_KEYS=never same show all
}
new wireguard-go pwoz 40101
new "$B/podwire-wg" pwoa0 40102
new wireguard-go pwom 40103
order=$(wg show interfaces)
echo "wg lists: $order"
# The point of the test: an order that sorting would change.
[ "$order" != "$(echo "$order" | tr ' ' '\n' | sort | paste -sd' ')" ] || {
	echo "FAIL: wg lists the interfaces sorted here ($order); the test shows nothing"
	exit 1
}
compare
ip link del pwoa0
wait_until 5 test ! -e /run/wireguard/pwoa0.sock
new "$B/podwire-wg" pwob 40104
echo "wg lists after pwoa0 went and pwob came: $(wg show interfaces)"
compare
INNER

ip netns exec "$ns" unshare --mount --propagation private bash "$W/inner.sh" "$B" "$W" \
	>"$W/inner.out" 2>&1 || { cat "$W/inner.out"; fail "podwirectl's interface order differs from wg"; }
cat "$W/inner.out"
n=$(grep -c '^ok:' "$W/inner.out")
[ "$n" -eq 34 ] || fail "expected 34 comparisons, ran $n"
echo "ok: $n comparisons with three interfaces, byte-identical to wg"
