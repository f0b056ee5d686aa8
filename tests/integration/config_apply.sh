#!/bin/bash
# config_apply: what our parser makes of a config is what wg's parser makes of it. Each
# test config (no host-name endpoints) is stripped with wg-quick and applied twice, to two
# wireguard-go interfaces in two namespaces of ours: once by `wg setconf` (wg's parser), once
# by `podwirectl setconf` (lib/config.c + datapath/device_config.c + the UAPI backend).
# `wg showconf` of both must match: keys, ports, fwmark, peers, allowed IPs, endpoints,
# keepalives (a listen port the config leaves to chance is not compared).
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
cd "$(dirname "$0")/../.."
ctl=$B/podwirectl
require_cmd wg wg-quick wireguard-go
require_root
require_tun
require_built podwirectl

for i in 1 2; do
	netns_add pa-apply$i
	wg_start wireguard-go pa-apply$i paapply$i
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
	wg-quick strip "$f" >"$W/stripped" 2>/dev/null
	ip netns exec pa-apply1 wg setconf paapply1 "$W/stripped" || fail "$f: wg setconf refused it"
	ip netns exec pa-apply2 "$ctl" setconf paapply2 "$W/stripped" 2>"$W/err" ||
		fail "$f: podwirectl setconf refused it: $(cat "$W/err")"
	keep_port=0
	grep -qiE '^[[:space:]]*listen[[:space:]]*port[[:space:]]*=[[:space:]]*[1-9a-z]' "$W/stripped" && keep_port=1
	ip netns exec pa-apply1 wg showconf paapply1 >"$W/theirs"
	ip netns exec pa-apply2 wg showconf paapply2 >"$W/ours"
	normalize "$W/theirs" $keep_port >"$W/theirs.n"
	normalize "$W/ours" $keep_port >"$W/ours.n"
	cmp -s "$W/theirs.n" "$W/ours.n" || { diff "$W/ours.n" "$W/theirs.n"; fail "$f: applied differently from wg setconf"; }
	n=$((n + 1))
done
[ $n -ge 40 ] || fail "only $n configs compared"
echo "$n configs: podwirectl setconf sets the same device as wg setconf"
