#!/bin/bash
# config_apply (F2): what our parser makes of a config is what wg's parser makes of it. Each
# test config (no host-name endpoints) is stripped with wg-quick and applied twice, to two
# wireguard-go interfaces in two namespaces of ours: once by `wg setconf` (wg's parser), once
# by `podwirectl setconf` (lib/config.c + datapath/device_config.c + the UAPI backend).
# `wg showconf` of both must match: keys, ports, fwmark, peers, allowed IPs, endpoints,
# keepalives (a listen port the config leaves to chance is not compared).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODWIRE_BUILD:-$top/build}
ctl=$build/podwirectl
cd "$top"
for tool in wg wg-quick wireguard-go; do
	command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
[ -c /dev/net/tun ] || { echo "no /dev/net/tun for wireguard-go"; exit 77; }
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }

tmp=$(mktemp -d /tmp/pa-apply-XXXXXX)
pids=()
cleanup() {
	set +e # a step that fails must not skip the ones after it
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	ip netns del pa-apply1 2>/dev/null
	ip netns del pa-apply2 2>/dev/null
	rm -f /var/run/wireguard/paapply1.sock /var/run/wireguard/paapply2.sock
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

for i in 1 2; do
	ip netns add pa-apply$i
	ip netns exec pa-apply$i env WG_PROCESS_FOREGROUND=1 wireguard-go paapply$i >"$tmp/wg$i.log" 2>&1 &
	pids+=($!)
done
for i in 1 2; do
	for _ in $(seq 50); do [ -S /var/run/wireguard/paapply$i.sock ] && break; sleep 0.1; done
	[ -S /var/run/wireguard/paapply$i.sock ] || fail "wireguard-go paapply$i did not start: $(cat "$tmp/wg$i.log")"
done

# showconf with the peers sorted (the datapath's order is its own) and, when the config sets
# no port, without the port the datapath picked at random.
normalize() { # file, keep_port
	awk -v keep="$2" 'BEGIN { RS = "" } NR == 1 {
		n = split($0, l, "\n")
		for (i = 1; i <= n; i++) if (keep || l[i] !~ /^ListenPort/) print l[i]
		next
	} { gsub("\n", "\001"); print | "sort" }' "$1" | tr '\001' '\n'
}

n=0
for f in tests/configs/seed/*.conf tests/configs/valid/*.conf; do
	grep -qiE '^[[:space:]]*endpoint[[:space:]]*=[[:space:]]*[a-z]' "$f" && continue # would resolve
	wg-quick strip "$f" >"$tmp/stripped" 2>/dev/null
	ip netns exec pa-apply1 wg setconf paapply1 "$tmp/stripped" || fail "$f: wg setconf refused it"
	ip netns exec pa-apply2 "$ctl" setconf paapply2 "$tmp/stripped" 2>"$tmp/err" ||
		fail "$f: podwirectl setconf refused it: $(cat "$tmp/err")"
	keep_port=0
	grep -qiE '^[[:space:]]*listen[[:space:]]*port[[:space:]]*=[[:space:]]*[1-9a-z]' "$tmp/stripped" && keep_port=1
	ip netns exec pa-apply1 wg showconf paapply1 >"$tmp/theirs"
	ip netns exec pa-apply2 wg showconf paapply2 >"$tmp/ours"
	normalize "$tmp/theirs" $keep_port >"$tmp/theirs.n"
	normalize "$tmp/ours" $keep_port >"$tmp/ours.n"
	cmp -s "$tmp/theirs.n" "$tmp/ours.n" || { diff "$tmp/ours.n" "$tmp/theirs.n"; fail "$f: applied differently from wg setconf"; }
	n=$((n + 1))
done
[ $n -ge 40 ] || fail "only $n configs compared"
echo "$n configs: podwirectl setconf sets the same device as wg setconf"
