#!/bin/bash
# A `peer add` client's config and its private key.
#  - `peer add NAME > file` into a file others may read warns as `wg genkey` does (exactly its
#    two lines); into a 0600 file (umask 077) or a pipe it says nothing.
#  - `peer config NAME --from OLD.conf`: a client made while only n1 was up gets, after n2
#    joins, a config that lists n2 too, with the same private key and address (the store keeps
#    only the public key); the regenerated client then reaches n2's tunnel address. A config
#    holding another key, a name not in the store, a node's name and a missing --from are
#    each refused with one line naming the cause.
T=c29b NET=229
source "$(dirname "$0")/lib/common.bash"
require_cmd wg-quick
cluster_init
ctl=$B/podwirectl
node_ns 1; node_ns 2
tunnel_ip_of() { sed -n 's/^# TunnelIP = \([^,]*\).*/\1/p' "$W/store/n$1.conf" 2>/dev/null; }
in_n1() { ip netns exec "pn-$T-n1" "$@"; }

log "n1 alone; peer add into files of each mode"
daemon_start 1
wait_until 15 test -s "$W/store/n1.conf" || fail "n1 published no record"
wait_until 15 grep -q '^Endpoint' "$W/store/n1.conf" || fail "n1's record has no endpoint"
(umask 022; wg genkey >"$W/wg-open.key" 2>"$W/wg.warn")
[ -s "$W/wg.warn" ] || fail "wg genkey did not warn for a 0644 file (test setup is wrong)"
(umask 022; in_n1 "$ctl" peer add pcl-open --no-qr "${STORE_ARGS[@]}" >"$W/pcl-open.conf" 2>"$W/open.err") ||
	{ cat "$W/open.err"; fail "peer add into a 0644 file failed"; }
[ "$(stat -c %a "$W/pcl-open.conf")" = 644 ] || fail "test setup: the file is not 0644"
grep -q '^PrivateKey = ' "$W/pcl-open.conf" || fail "no private key in the config"
cmp -s "$W/open.err" "$W/wg.warn" ||
	fail "peer add into a 0644 file said '$(cat "$W/open.err")', want wg genkey's '$(cat "$W/wg.warn")'"
ok "peer add > 0644 file: wg genkey's warning ($(head -n 1 "$W/wg.warn"))"
(umask 077; in_n1 "$ctl" peer add pcl-lap --no-qr "${STORE_ARGS[@]}" >"$W/pcl-lap.conf" 2>"$W/lap.err") ||
	{ cat "$W/lap.err"; fail "peer add into a 0600 file failed"; }
[ ! -s "$W/lap.err" ] || fail "peer add into a 0600 file warned: $(cat "$W/lap.err")"
in_n1 "$ctl" peer add pcl-pipe --no-qr "${STORE_ARGS[@]}" 2>"$W/pipe.err" | cat >/dev/null
[ ! -s "$W/pipe.err" ] || fail "peer add into a pipe warned: $(cat "$W/pipe.err")"
ok "peer add > 0600 file and | pipe: no warning"
[ "$(grep -c '^\[Peer\]' "$W/pcl-lap.conf")" -eq 1 ] || fail "the first client config should list n1 only"

log "n2 joins; peer config regenerates the laptop's config"
daemon_start 2
wait_until 15 test -s "$W/store/n2.conf" || fail "n2 published no record"
wait_until 15 grep -q '^Endpoint' "$W/store/n2.conf" || fail "n2's record has no endpoint"
(umask 077; in_n1 "$ctl" peer config pcl-lap --from "$W/pcl-lap.conf" --no-qr "${STORE_ARGS[@]}" \
	>"$W/pcl-lap2.conf" 2>"$W/cfg.err") || { cat "$W/cfg.err"; fail "peer config failed"; }
[ ! -s "$W/cfg.err" ] || fail "peer config into a 0600 file said: $(cat "$W/cfg.err")"
[ "$(grep -c '^\[Peer\]' "$W/pcl-lap2.conf")" -eq 2 ] || { cat "$W/pcl-lap2.conf"; fail "the new config should list n1 and n2"; }
grep -q '^# Name = n2$' "$W/pcl-lap2.conf" || fail "n2 is not in the new config"
for k in PrivateKey Address; do
	[ "$(grep "^$k = " "$W/pcl-lap.conf")" = "$(grep "^$k = " "$W/pcl-lap2.conf")" ] ||
		fail "peer config changed the client's $k"
done
ok "peer config: n1 and n2 listed, PrivateKey and Address kept"
(umask 022; in_n1 "$ctl" peer config pcl-lap --from "$W/pcl-lap.conf" --no-qr "${STORE_ARGS[@]}" \
	>"$W/pcl-lap3.conf" 2>"$W/cfg3.err") || fail "peer config into a 0644 file failed"
cmp -s "$W/cfg3.err" "$W/wg.warn" || fail "peer config into a 0644 file did not warn as wg genkey: $(cat "$W/cfg3.err")"
rm -f "$W/pcl-lap3.conf"
ok "peer config > 0644 file: wg genkey's warning"

log "bad input to peer config"
bad() { # WHAT PATTERN ARGS...
	local what=$1 pat=$2; shift 2
	in_n1 "$ctl" peer config "$@" "${STORE_ARGS[@]}" >"$W/bad.out" 2>"$W/bad.err" &&
		fail "peer config $what: exit 0"
	[ ! -s "$W/bad.out" ] || fail "peer config $what printed a config"
	[ "$(wc -l <"$W/bad.err")" -eq 1 ] || fail "peer config $what: not one line: $(cat "$W/bad.err")"
	grep -qE -- "$pat" "$W/bad.err" || fail "peer config $what: '$(cat "$W/bad.err")' lacks '$pat'"
	ok "peer config $what: $(cat "$W/bad.err")"
}
bad "with another client's config" "its PrivateKey is not pcl-lap's" pcl-lap --from "$W/pcl-open.conf"
bad "of a name not in the store" "'pcl-none': no such peer in the store" pcl-none --from "$W/pcl-lap.conf"
bad "of a node" "'n2' is a node, not a client" n2 --from "$W/pcl-lap.conf"
bad "without --from" "--from OLD.conf is missing" pcl-lap
bad "from a file that is not there" "--from $W/nothere.conf" pcl-lap --from "$W/nothere.conf"

log "the regenerated client reaches n2"
wait_until 15 has_peers 2 4 || fail "n2 has $(peers_of 2) peers, want n1 and the 3 clients"
netns_add "pn-$T-c"
lan_join "pn-$T-r" br0 "pn-$T-c" eth0 "192.168.$NET.50/24"
grep -v '^DNS' "$W/pcl-lap2.conf" >"$W/pclap.conf"
track_wg "pn-$T-c" pclap
ip netns exec "pn-$T-c" wg-quick up "$W/pclap.conf" \
	>"$W/client.log" 2>&1 || { cat "$W/client.log"; fail "wg-quick up of the regenerated config failed"; }
wait_until 10 ns_ping "pn-$T-c" "$(tunnel_ip_of 2)" || fail "the client cannot reach n2's tunnel address $(tunnel_ip_of 2)"
ok "the regenerated client pings n2's tunnel address $(tunnel_ip_of 2)"
