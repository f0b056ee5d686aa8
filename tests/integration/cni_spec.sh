#!/bin/bash
# cni_spec.sh — podwire and podwire-ipam driven by hand through CNI_* variables, as a runtime
# (or cnitool) would: every verb in every cniVersion, results checked against the spec's JSON
# shapes, CHECK catching a deleted route and address, STATUS/CHECK without the node interface,
# GC, chaining, idempotent DEL, and each kind of bad input answered with the right code and a
# clear msg while leaving no veth, route or reservation behind.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-sh-$$
cni_setup_host
DATA=$W/ipam
ok=0
pass() { ok=$((ok + 1)); echo "ok: $*"; }

# expect_err CODE PATTERN VERSION OUT — the plugin failed with CODE and a msg matching PATTERN
expect_err() {
	local code=$1 pat=$2 ver=$3 out=$4
	shapes error "$ver" "$out" "$code" "$pat" || { cat "$out"; fail "error shape/code/msg ($pat)"; }
}
# nothing_left NETWORK — no host veth, no reservation, no host route to a pod
nothing_left() {
	[ -z "$(host_veths)" ] || fail "veth left behind: $(host_veths)"
	local files
	files=$(ls "$DATA/$1" 2>/dev/null | grep -v -e '^lock$' -e '^last_reserved_ip' || true)
	[ -z "$files" ] || fail "reservations left in $1: $files"
	! ip -n "$HOST" route | grep -q ' dev pc' || fail "host route left: $(ip -n "$HOST" route)"
}

RANGES='[[{"subnet":"10.211.0.0/24"}],[{"subnet":"fd00:211::/64"}]]'

# --- every verb x every version -----------------------------------------------------------
for ver in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	net=pc-spec-${ver//./}
	conf=$W/$net.json
	conf_make "$conf" "$ver" "$net" "$RANGES"
	pod=pc-sp-${ver//./}-$$
	netns_add "$pod"

	cni_run VERSION "" "" "" "$conf" "$W/out" || fail "$ver VERSION"
	shapes version "$W/out" || fail "$ver VERSION shape"

	cni_run ADD ctr-$ver "$pod" eth0 "$conf" "$W/add-$ver.json" || { cat "$W/add-$ver.json"; fail "$ver ADD"; }
	shapes result "$ver" "$W/add-$ver.json" || { cat "$W/add-$ver.json"; fail "$ver ADD shape"; }
	addr4=$(json_get "$W/add-$ver.json" '[i["address"] for i in r["ips"] if ":" not in i["address"]][0]')
	[[ $addr4 == 10.211.0.*/32 ]] || fail "$ver ADD address $addr4 not a /32 of the range"
	ip -n "$pod" -o addr show eth0 | grep -q "inet ${addr4} " || fail "$ver: $addr4 not on eth0"
	ip -n "$pod" -o -6 addr show eth0 | grep -q "inet6 fd00:211::" || { ip -n "$pod" addr; cat "$W/add-$ver.json"; fail "$ver: no IPv6 address on eth0"; }
	[ "$(ip -n "$pod" -o link show eth0 | grep -o 'mtu [0-9]*')" = "mtu 1380" ] || fail "$ver: pod MTU is not pcwg0's 1380"
	ip -n "$pod" route | grep -q '^default via 169.254.1.1 dev eth0' || fail "$ver: no v4 default route"
	ip -n "$pod" -6 route | grep -q '^default via fe80::1 dev eth0' || fail "$ver: no v6 default route"
	ip -n "$HOST" route | grep -q "^${addr4%/32} dev pc" || fail "$ver: no host route to pod"
	pass "$ver ADD"

	with_prev "$conf" "$W/add-$ver.json" "$W/prev.json"
	if [[ $ver == 0.3.* ]]; then
		cni_run CHECK ctr-$ver "$pod" eth0 "$W/prev.json" "$W/out" && fail "$ver CHECK must fail"
		expect_err 1 "0.4.0" "$ver" "$W/out"
	else
		cni_run CHECK ctr-$ver "$pod" eth0 "$W/prev.json" "$W/out" || { cat "$W/out"; fail "$ver CHECK"; }
		[ ! -s "$W/out" ] || fail "$ver CHECK printed output"
	fi
	pass "$ver CHECK"

	# GC keeps what "cni.dev/valid-attachments" lists: this very attachment.
	shapes valid "$W/prev.json" "$W/gcv.json" ctr-$ver
	for verb in STATUS GC; do
		if [ "$ver" = 1.1.0 ]; then
			cni_run $verb "" "" "" "$W/gcv.json" "$W/out" || { cat "$W/out"; fail "$ver $verb"; }
			[ -f "$DATA/$net/${addr4%/32}" ] || fail "$ver $verb released a valid attachment"
			[ ! -s "$W/out" ] || fail "$ver $verb printed output"
		else
			cni_run $verb "" "" "" "$W/gcv.json" "$W/out" && fail "$ver $verb must fail"
			expect_err 1 "1.1.0" "$ver" "$W/out"
		fi
		pass "$ver $verb"
	done

	cni_run DEL ctr-$ver "$pod" eth0 "$W/prev.json" "$W/out" || { cat "$W/out"; fail "$ver DEL"; }
	[ ! -s "$W/out" ] || fail "$ver DEL printed output"
	nothing_left "$net"
	! ip -n "$pod" link show eth0 >/dev/null 2>&1 || fail "$ver: eth0 still in pod"
	cni_run DEL ctr-$ver "$pod" eth0 "$W/prev.json" "$W/out" || fail "$ver second DEL must succeed"
	pass "$ver DEL (twice)"
done

# --- connectivity, CHECK catching damage ---------------------------------------------------
net=pc-spec-main
conf=$W/main.json
conf_make "$conf" 1.1.0 "$net" "$RANGES"
for p in a b; do netns_add pc-sp$p-$$; done
cni_run ADD ctr-a pc-spa-$$ eth0 "$conf" "$W/a.json" || fail "ADD a"
cni_run ADD ctr-b pc-spb-$$ eth0 "$conf" "$W/b.json" || fail "ADD b"
b4=$(json_get "$W/b.json" 'r["ips"][0]["address"].split("/")[0]')
b6=$(json_get "$W/b.json" 'r["ips"][1]["address"].split("/")[0]')
ip netns exec pc-spa-$$ busybox ping -c1 -W2 "$b4" >/dev/null || fail "pod a cannot ping pod b $b4"
ip netns exec pc-spa-$$ busybox ping -c1 -W2 10.210.0.1 >/dev/null || fail "pod a cannot ping the host"
ip netns exec pc-spa-$$ busybox ping -6 -c1 -W2 "$b6" >/dev/null || fail "pod a cannot ping pod b $b6"
pass "pod-to-pod v4+v6 and pod-to-host"
# A repeated ADD for a live pod (same container ID and ifname, no DEL between): refused
# before IPAM, so the pod keeps its address and its reservation, and a new pod cannot get it.
a4=$(json_get "$W/a.json" 'r["ips"][0]["address"]')
cni_run ADD ctr-a pc-spa-$$ eth0 "$conf" "$W/out" && fail "a second ADD for live pod a succeeded"
expect_err 101 "already exists on the host" 1.1.0 "$W/out"
[ -f "$DATA/$net/${a4%/32}" ] || fail "a second ADD released pod a's address ${a4%/32}"
grep -q "^ctr-a" "$DATA/$net/${a4%/32}" || fail "pod a's reservation changed owner"
ip -n pc-spa-$$ -o addr show eth0 | grep -q "inet $a4 " || fail "pod a lost $a4"
ip netns exec pc-spa-$$ busybox ping -c1 -W2 "$b4" >/dev/null || fail "pod a cannot ping pod b after a second ADD"
netns_add pc-spg-$$
cni_run ADD ctr-g pc-spg-$$ eth0 "$conf" "$W/g.json" || { cat "$W/g.json"; fail "ADD g"; }
[ "$(json_get "$W/g.json" 'r["ips"][0]["address"]')" != "$a4" ] || fail "pod g was given live pod a's address $a4"
cni_run DEL ctr-g pc-spg-$$ eth0 "$conf" "$W/out" || fail "DEL g"
pass "repeated ADD for a live pod: 101, its address kept (reservation, interface, traffic), not handed out again"

with_prev "$conf" "$W/a.json" "$W/preva.json"
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" || fail "CHECK a healthy"
ip -n pc-spa-$$ route del default
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" && fail "CHECK missed a deleted route"
expect_err 103 "route to 0.0.0.0/0 is missing" 1.1.0 "$W/out"
ip -n pc-spa-$$ route add default via 169.254.1.1 dev eth0 onlink
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" || fail "CHECK after restoring the route"
a4=$(json_get "$W/a.json" 'r["ips"][0]["address"]')
ip -n pc-spa-$$ addr del "$a4" dev eth0
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" && fail "CHECK missed a deleted address"
expect_err 103 "address $a4 is missing" 1.1.0 "$W/out"
ip -n "$HOST" route del "${a4%/32}" 2>/dev/null
ip -n pc-spa-$$ addr add "$a4" dev eth0
ip -n pc-spa-$$ route add default via 169.254.1.1 dev eth0 onlink   # went with the last v4 address
ip -n "$HOST" route add "${a4%/32}" dev "$(json_get "$W/a.json" 'r["interfaces"][0]["name"]')" scope link
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" || { cat "$W/out"; fail "CHECK after restoring the address"; }
ip -n pc-spa-$$ link set eth0 mtu 1500
cni_run CHECK ctr-a pc-spa-$$ eth0 "$W/preva.json" "$W/out" && fail "CHECK missed a changed MTU"
expect_err 103 "MTU is 1500, ADD set 1380" 1.1.0 "$W/out"
pass "CHECK detects deleted route, deleted address, changed MTU"

# Node interface missing: STATUS 50, CHECK 100, ADD still works with the configured MTU.
conf_make "$W/noif.json" 1.1.0 "$net" "$RANGES" '{"interface":"pcnone0","mtu":1400}'
cni_run STATUS "" "" "" "$W/noif.json" "$W/out" && fail "STATUS without node interface"
expect_err 50 "pcnone0 does not exist" 1.1.0 "$W/out"
with_prev "$W/noif.json" "$W/b.json" "$W/prevb.json"
cni_run CHECK ctr-b pc-spb-$$ eth0 "$W/prevb.json" "$W/out" && fail "CHECK without node interface"
expect_err 100 "pcnone0 does not exist" 1.1.0 "$W/out"
netns_add pc-spc-$$
cni_run ADD ctr-c pc-spc-$$ eth0 "$W/noif.json" "$W/c.json" || fail "ADD without node interface"
[ "$(ip -n pc-spc-$$ -o link show eth0 | grep -o 'mtu [0-9]*')" = "mtu 1400" ] || fail "configured MTU not used"
pass "STATUS 50 / CHECK 100 without node interface; ADD uses configured mtu"

# GC releases what is not a valid attachment (c), keeps a and b.
shapes valid "$conf" "$W/gc.json" ctr-a ctr-b
c4=$(json_get "$W/c.json" 'r["ips"][0]["address"].split("/")[0]')
[ -f "$DATA/$net/$c4" ] || fail "no reservation file for c"
cni_run GC "" "" "" "$conf" "$W/out" && fail "GC without cni.dev/valid-attachments must refuse"
expect_err 7 "valid-attachments" 1.1.0 "$W/out"
[ -f "$DATA/$net/$c4" ] && [ -f "$DATA/$net/$b4" ] || fail "GC without a list released addresses"
cni_run GC "" "" "" "$W/gc.json" "$W/out" || { cat "$W/out"; fail "GC"; }
[ ! -f "$DATA/$net/$c4" ] || fail "GC kept c's reservation"
[ -f "$DATA/$net/$b4" ] || fail "GC released valid attachment b"
pass "GC"

# IPAM: a repeated ADD for the same container+ifname returns the same address.
PLUGIN=$B/podwire-ipam cni_run ADD ctr-b pc-spb-$$ eth0 "$conf" "$W/ipam1.json" || fail "ipam ADD repeat"
[ "$(json_get "$W/ipam1.json" 'r["ips"][0]["address"].split("/")[0]')" = "$b4" ] || fail "ipam ADD repeat gave another address"
pass "IPAM ADD repeat returns the same address"

# DEL with the netns already gone: succeeds, releases, leaves nothing.
ip netns del pc-spc-$$
cni_run DEL ctr-c pc-spc-$$ eth0 "$conf" "$W/out" || { cat "$W/out"; fail "DEL with missing netns"; }
cni_run DEL ctr-a pc-spa-$$ eth0 "$conf" "$W/out" || fail "DEL a"
ip -n pc-spb-$$ link del eth0   # veth already gone: DEL must still succeed and release
cni_run DEL ctr-b pc-spb-$$ eth0 "$conf" "$W/out" || fail "DEL b with veth gone"
nothing_left "$net"
pass "DEL idempotent (missing netns, missing veth)"

# Chaining: prevResult from an earlier plugin is kept, our interfaces appended.
python3 - "$conf" "$W/chain.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["prevResult"] = {"cniVersion": "1.1.0", "interfaces": [{"name": "pcfake0", "mac": "02:00:00:00:00:01"}],
                   "ips": [{"address": "192.0.2.10/24", "interface": 0}], "dns": {}}
json.dump(c, open(sys.argv[2], "w"))
PY
netns_add pc-spd-$$
cni_run ADD ctr-d pc-spd-$$ eth0 "$W/chain.json" "$W/d.json" || fail "chained ADD"
shapes result 1.1.0 "$W/d.json" || fail "chained ADD shape"
[ "$(json_get "$W/d.json" 'len(r["interfaces"]), r["interfaces"][0]["name"], r["ips"][1]["interface"], r["interfaces"][r["ips"][1]["interface"]]["name"]')" = "(3, 'pcfake0', 2, 'eth0')" ] || fail "prevResult not merged"
cni_run DEL ctr-d pc-spd-$$ eth0 "$conf" "$W/out" || fail "DEL d"
pass "prevResult chaining"

# --- bad input: right code, clear msg, nothing half-created --------------------------------
netns_add pc-spe-$$
bad() { # CODE PATTERN CONF [VAR=VALUE...] — ADD must fail so
	local code=$1 pat=$2 cf=$3; shift 3
	cni_run ADD ctr-e pc-spe-$$ eth0 "$cf" "$W/out" "$@" && fail "bad input accepted ($pat)"
	expect_err "$code" "$pat" 1.1.0 "$W/out"
	nothing_left "$net"
	! ip -n pc-spe-$$ link show eth0 >/dev/null 2>&1 || fail "eth0 created despite error ($pat)"
	pass "bad input: $pat -> $code"
}
printf '{"cniVersion":"1.1.0","name":' >"$W/malformed.json"
bad 6 "malformed JSON" "$W/malformed.json"
conf_make "$W/t1.json" 1.1.0 "$net" "$RANGES" '{"mtu":"big"}'
bad 7 '"mtu" must be' "$W/t1.json"
conf_make "$W/t2.json" 1.1.0 "$net" "$RANGES" '{"ipam":[]}'
bad 7 '"ipam" must be an object' "$W/t2.json"
conf_make "$W/t3.json" 1.1.0 "$net" '[[{"subnet":17}]]'
bad 7 '"subnet" must be a string' "$W/t3.json"
conf_make "$W/t4.json" 1.1.0 "$net" "$RANGES" '{"interface":5}'
bad 7 '"interface" must be a string' "$W/t4.json"
conf_make "$W/v.json" 0.9.9 "$net" "$RANGES"
bad 1 'cniVersion "0.9.9" is not supported' "$W/v.json"
conf_make "$W/m.json" 1.1.0 "$net" "$RANGES" '{"ipMasq":"yes"}'
bad 7 '"ipMasq" must be true or false' "$W/m.json"
conf_make "$W/cc.json" 1.1.0 "$net" "$RANGES" '{"ipMasq":true,"clusterCIDRs":["10.0.0.0"]}'
bad 7 'clusterCIDRs[0] is not address/prefix' "$W/cc.json"
conf_make "$W/ni.json" 1.1.0 "$net" "$RANGES" '{"ipam":{"type":"pc-no-such-ipam"}}'
bad 7 'not found in CNI_PATH' "$W/ni.json"
bad 4 'CNI_COMMAND' "$conf" CNI_COMMAND=
bad 4 'CNI_COMMAND=FROB' "$conf" CNI_COMMAND=FROB
bad 4 'CNI_CONTAINERID' "$conf" CNI_CONTAINERID=
bad 4 'CNI_NETNS' "$conf" CNI_NETNS=
bad 4 'CNI_IFNAME' "$conf" CNI_IFNAME=
bad 4 'CNI_IFNAME=a/b' "$conf" CNI_IFNAME=a/b
bad 4 'CNI_PATH' "$conf" CNI_PATH=
# logFile comes from a config a tenant may write (Multus) and is opened as root: only a
# regular file below /var/log (here PODWIRE_CNI_LOG_DIR=$W, as an administrator would set
# for the runtime), reached without symlinks, is appended to; anything else is code 7.
echo victim > "$W/victim"
logbad() { # PATH PATTERN [VAR=VALUE...]
	local lf=$1 pat=$2 n; shift 2
	conf_make "$W/lf.json" 1.1.0 "$net" "$RANGES" "{\"logFile\":\"$lf\"}"
	touch "$W/stderr"; n=$(stat -c %s "$W/stderr")
	bad 7 "$pat" "$W/lf.json" "$@"
	# With no log file the error goes to stderr (the spec allows it); the check at the end
	# is about the log file the other cases have.
	tail -c +$((n + 1)) "$W/stderr" | grep -qF "logFile" || fail "stderr does not say why logFile $lf was refused"
	truncate -s "$n" "$W/stderr"
	grep -qF "logFile \\\"$lf\\\"" "$W/out" || { cat "$W/out"; fail "the error does not name logFile $lf"; }
}
logbad /etc/pc-spec-$$.log "must be a file below $W"
[ ! -e /etc/pc-spec-$$.log ] || { rm -f /etc/pc-spec-$$.log; fail "a log file was created in /etc"; }
logbad cni.log "must be an absolute path"
logbad "$W/x/../cni.log" '".." components'
logbad "$W/cni.log" "must be a file below /var/log" PODWIRE_CNI_LOG_DIR=
ln -s "$W/victim" "$W/link.log"
logbad "$W/link.log" "the log file is a symbolic link"
mkdir "$W/realdir"; ln -s "$W/realdir" "$W/linkdir"
logbad "$W/linkdir/cni.log" "linkdir is a symbolic link"
mkfifo "$W/fifo.log"
logbad "$W/fifo.log" "not a regular file"
ln "$W/victim" "$W/hard.log"
logbad "$W/hard.log" "more than one hard link"
[ "$(cat "$W/victim")" = victim ] && [ -z "$(ls -A "$W/realdir")" ] || fail "a refused logFile was written to"
# Not left for the cleanup's scan of $W/*.log (reading a FIFO would wait for a writer).
rm -f "$W/fifo.log" "$W/link.log" "$W/hard.log"
# Only ADD is refused: a DEL must still release what a pod holds, so it runs, logging to stderr.
conf_make "$W/lf.json" 1.1.0 "$net" "$RANGES" "{\"logFile\":\"/etc/pc-spec-$$.log\"}"
touch "$W/stderr"; n=$(stat -c %s "$W/stderr")
cni_run DEL ctr-e pc-spe-$$ eth0 "$W/lf.json" "$W/out" || { cat "$W/out"; fail "DEL refused because of its logFile"; }
tail -c +$((n + 1)) "$W/stderr" | grep -q 'logFile ".*" not used' || fail "DEL did not say why its logFile was not used"
truncate -s "$n" "$W/stderr"
[ ! -e /etc/pc-spec-$$.log ] || { rm -f /etc/pc-spec-$$.log; fail "DEL created a log file in /etc"; }
pass "DEL with a refused logFile still runs, its logs on stderr"
pass "logFile outside the log directory, with '..', through a symlink, a FIFO or a hard link: refused (7), nothing written"
# A good logFile in directories that do not exist yet: made, the file 0600; a config value
# with a newline and ESC is logged as one line with both escaped.
conf_make "$W/lf.json" 1.1.0 "$net" "$RANGES" "{\"logFile\":\"$W/logs/sub/cni.log\",\"interface\":\"pc\\nforged\\u001b[2J\"}"
bad 7 'is not a valid interface name' "$W/lf.json"
[ "$(stat -c %a "$W/logs/sub/cni.log")" = 600 ] || fail "logFile not created 0600: $(stat -c %a "$W/logs/sub/cni.log")"
[ "$(grep -c . "$W/logs/sub/cni.log")" = 1 ] || { cat -A "$W/logs/sub/cni.log"; fail "one error, not one log line"; }
grep -qF 'interface "pc\nforged\x1b[2J" is not' "$W/logs/sub/cni.log" || { cat -A "$W/logs/sub/cni.log"; fail "control characters not escaped in the log"; }
! grep -q $'\x1b' "$W/logs/sub/cni.log" || fail "a raw ESC in the log"
pass "logFile made below new directories with mode 0600; newline and ESC escaped, one line per message"
touch "$W/notns"
bad 4 'not a network namespace' "$conf" CNI_NETNS="$W/notns"
# CNI_IFNAME taken in the pod: the veth cannot be made and the address goes back.
ip -n pc-spe-$$ link add eth0 type veth peer name eth0p
cni_run ADD ctr-e pc-spe-$$ eth0 "$conf" "$W/out" && fail "ADD over an existing eth0"
expect_err 101 'eth0 already exists' 1.1.0 "$W/out"
nothing_left "$net"
ip -n pc-spe-$$ link del eth0
pass "bad input: CNI_IFNAME already in the pod -> 101, address released"
# Another plugin holds the network's IPAM lock past lockTimeout: 11, try again later.
conf_make "$W/lock.json" 1.1.0 "$net" "$RANGES" '{"ipam+":{"lockTimeout":1}}'
mkdir -p "$DATA/$net"
exec {lockfd}>"$DATA/$net/lock"
flock -x "$lockfd"	# this shell is the other plugin
bad 11 "try again later" "$W/lock.json"
exec {lockfd}>&-
# Exhausted range: a /30 has one usable address.
conf_make "$W/small.json" 1.1.0 pc-spec-small '[[{"subnet":"10.212.0.0/30"}]]'
netns_add pc-spf-$$
cni_run ADD ctr-f pc-spf-$$ eth0 "$W/small.json" "$W/f.json" || fail "ADD f in /30"
cni_run ADD ctr-e pc-spe-$$ eth0 "$W/small.json" "$W/out" && fail "ADD in exhausted range"
expect_err 102 "no free address left" 1.1.0 "$W/out"
[ "$(host_veths | wc -l)" = 1 ] || fail "veth left after exhausted ADD"
[ "$(ls "$DATA/pc-spec-small" | grep -c '^10\.')" = 1 ] || fail "extra reservation after exhausted ADD"
cni_run STATUS "" "" "" "$W/small.json" "$W/out" && fail "STATUS with an exhausted range"
expect_err 50 "has no free address" 1.1.0 "$W/out"
cni_run DEL ctr-f pc-spf-$$ eth0 "$W/small.json" "$W/out" || fail "DEL f"
cni_run STATUS "" "" "" "$W/small.json" "$W/out" || { cat "$W/out"; fail "STATUS after the range has room again"; }
pass "bad input: exhausted range -> 102, STATUS 50 (via podwire-ipam) until an address is free"

grep -q 'ADD ctr-e/eth0: code 102' "$W/cni.log" || fail "errors are not logged to logFile"
! grep -q . "$W/stderr" || { cat "$W/stderr"; fail "plugin wrote to stderr"; }
echo "cni_spec: $ok checks passed"
