#!/bin/bash
# readme_walkthrough: the README followed command by command, as a newcomer does, on two
# "machines" (network namespaces on one bridge) and a laptop. The commands are the README's,
# changed in names and paths (interfaces, directories, addresses of this test) and given what
# several daemons on one host need (-i, --state-dir, --endpoint, a short --resync); the nodes
# also get a tunnel pool other than the default, so that `peer add` has to learn it from the
# store. Each step checks the result the README promises. Beside them, the places where a newcomer got
# stuck or was silently wrong (issue 19) are each reproduced:
#   1. every node's CNI conflist has that node's own pod CIDR (podwired --cni-conf-dir), and
#      pods wired with them on two nodes get different addresses and reach each other;
#   2. peer add takes the client address from the cluster's pools in the store (a client that
#      really connects), --tunnel-cidr that is not the pool is refused; peer remove;
#   3. syncconf <(strip) on a PrivateKeyFile config keeps the private key;
#   4. peer add > file: no QR code in the file; the QR code on a terminal;
#   5. podwired --store-dir with a missing directory: refused, not created; --store-dir-create;
#   6. DNS = without resolvconf: up fails and leaves nothing, as wg-quick;
#   7. messages: busy port names the port (nothing about a "restored" device), strip/showconf
#      --help, PrivateKeyFile and syncconf errors with file:line, the UAPI socket shared by two
#      namespaces named, reresolve's hint for peers from a PostUp addconf, the CNI about text;
#   8. the shipped conflist says cniVersion 1.0.0 (Debian 12's runtimes) with cniVersions
#      listing 1.1.0, and STATUS answers with 1.1.0 (what a runtime of spec 1.1 picks);
#   9. genkey > /dev/full exits 0 as wg genkey does, and says what failed.
#
#   prw-a 192.168.71.1 ---+
#   prw-b 192.168.71.2 ---+-- br0 in prw-r
#   prw-l 192.168.71.3 ---+   (the laptop)
set -uo pipefail
source "$(dirname "$0")/lib/common.bash"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ctl=$B/podwirectl
IFS_ALL=(prwq1 prwq2 prwq3 prwd1 prwd2 prwd3 prwlap)

require_root
require_built podwirectl podwired podwire podwire-ipam podwire-wg
require_cmd wg script
QR=$'\xe2\x96\x80' # U+2580, the upper half block every QR code row pair is drawn with
# This host has no WireGuard module (the kernel datapath is tested in the VM): podwire-wg.
use_userspace_wg

# Before the test base's cleanup: nothing of ours may outlive the test (a podwired left
# behind re-creates its interface), and every interface name in every namespace goes.
walk_cleanup() {
	local ns i
	stop_pids
	pgrep -f "$B/podwired .*$W/" >/dev/null &&
		cleanup_fail "a podwired of this test is still running: $(pgrep -af "$B/podwired .*$W/")"
	for ns in "${NETNS[@]}"; do
		for i in "${IFS_ALL[@]}"; do track_wg "$ns" "$i"; done
	done
	for i in "${IFS_ALL[@]}"; do rm -f "/run/podwire/$i.endpoints"; done
}
at_exit walk_cleanup
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
pings() { ns_ping "$1" "$2" 1 1 >/dev/null; }
# expect_fail WHAT PATTERN CMD...: non-zero exit and PATTERN (grep -E) in what it printed.
expect_fail() {
	local what=$1 pat=$2; shift 2
	"$@" >"$W/out" 2>&1 && { cat "$W/out"; fail "$what: exit 0"; }
	grep -qE -- "$pat" "$W/out" || { cat "$W/out"; fail "$what: no '$pat' in the message"; }
}

for ns in prw-r prw-a prw-b prw-l prw-x prw-p1 prw-p2; do ip netns del "$ns" 2>/dev/null; done # a killed run's
lan_create prw-r br0
i=0
for ns in prw-a prw-b prw-l; do
	i=$((i + 1))
	netns_add "$ns"
	lan_join prw-r br0 "$ns" eth0 "192.168.71.$i/24"
	in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
done

echo "== Keys"
cd "$W" || fail "cd $W"
(
	umask 077
	"$ctl" genkey > privatekey
	"$ctl" pubkey < privatekey > publickey
	"$ctl" genpsk > presharedkey
) || fail "the README's key commands failed"
[ "$(wg pubkey < privatekey)" = "$(cat publickey)" ] || fail "pubkey differs from wg pubkey"
[ "$(stat -c %a privatekey)" = 600 ] || fail "privatekey is not 0600 under umask 077"
ok "genkey/pubkey/genpsk as in the README (pubkey == wg pubkey, files 0600)"
"$ctl" genkey >/dev/full 2>"$W/out" || fail "genkey > /dev/full: exit $?, wg genkey exits 0"
grep -q "podwirectl: genkey: cannot write the key to stdout: No space left on device" "$W/out" ||
	{ cat "$W/out"; fail "genkey > /dev/full did not say why"; }
ok "genkey > /dev/full: exit 0 as wg, 'cannot write the key to stdout: No space left on device'"

echo "== wg-quick configs: strip, errors with file and line, key files"
mkdir -p site
for n in 1 2; do
	(umask 077; "$ctl" genkey > "site/prwq$n.key")
done
pub1=$("$ctl" pubkey < site/prwq1.key) pub2=$("$ctl" pubkey < site/prwq2.key)
cat > site/prwq1.conf <<EOF
[Interface]
PrivateKeyFile = prwq1.key
Address = 10.71.0.1/24
ListenPort = 51830

[Peer]
PublicKey = $pub2
Endpoint = 192.168.71.2:51830
AllowedIPs = 10.71.0.2/32
EOF
cat > site/prwq2.conf <<EOF
[Interface]
PrivateKeyFile = $W/site/prwq2.key
Address = 10.71.0.2/24
ListenPort = 51830
PostUp = $ctl addconf %i $W/site/peers.conf
EOF
cat > site/peers.conf <<EOF
[Peer]
PublicKey = $pub1
Endpoint = 192.168.71.1:51830
AllowedIPs = 10.71.0.1/32
EOF
"$ctl" strip ./site/prwq1.conf > "$W/stripped" || fail "strip ./site/prwq1.conf failed"
grep -qx "PrivateKeyFile = $W/site/prwq1.key" "$W/stripped" ||
	{ cat "$W/stripped"; fail "strip dropped PrivateKeyFile or left it relative"; }
grep -q '^Address' "$W/stripped" && fail "strip kept Address"
ok "strip keeps PrivateKeyFile (made absolute: $W/site/prwq1.key), drops Address"
for c in strip showconf; do
	"$ctl" $c --help > "$W/out" 2>&1 || fail "$c --help: exit $?"
	grep -q "^Usage: podwirectl $c" "$W/out" || { cat "$W/out"; fail "$c --help shows no usage"; }
done
ok "strip --help, showconf --help: usage, exit 0"
chmod 644 site/prwq1.key
expect_fail "world-readable PrivateKeyFile" "site/prwq1.conf:2: PrivateKeyFile 'prwq1.key': readable by group or others \(mode 0644\)" \
	in_ns prw-a "$ctl" up ./site/prwq1.conf
ip -n prw-a link show prwq1 >/dev/null 2>&1 && fail "a refused up left prwq1 behind"
chmod 600 site/prwq1.key
ok "PrivateKeyFile error names file:line ($(grep -o 'site/prwq1.conf:2: [^(]*' "$W/out"))"

echo "== up, down, syncconf"
in_ns prw-a "$ctl" up ./site/prwq1.conf > "$W/up1.log" 2>&1 || { cat "$W/up1.log"; fail "up prwq1"; }
in_ns prw-b "$ctl" up ./site/prwq2.conf > "$W/up2.log" 2>&1 || { cat "$W/up2.log"; fail "up prwq2"; }
wait_until 10 pings prw-a 10.71.0.2 || fail "no ping through the tunnel prwq1 -> prwq2"
ok "up on both hosts (peers of prwq2 from PostUp addconf): ping 10.71.0.2 through the tunnel"
key_before=$(in_ns prw-a wg show prwq1 private-key)
in_ns prw-a bash -c "'$ctl' syncconf prwq1 <('$ctl' strip ./site/prwq1.conf)" ||
	fail "syncconf prwq1 <(strip) failed"
[ "$(in_ns prw-a wg show prwq1 private-key)" = "$key_before" ] ||
	fail "syncconf <(strip) changed the private key (wiped: '$(in_ns prw-a wg show prwq1 private-key)')"
[ "$key_before" = "$(cat site/prwq1.key)" ] || fail "prwq1 does not have its key file's key"
wait_until 10 pings prw-a 10.71.0.2 || fail "tunnel dead after syncconf <(strip)"
ok "syncconf prwq1 <(strip ...) keeps the private key; the tunnel still carries pings"
printf '[Interface]\nListenPort = 51830\nAddress = 10.71.0.1/24\n' > "$W/wq.conf"
expect_fail "syncconf with a wg-quick key" "wq.conf:3: \`Address' is a wg-quick key" in_ns prw-a "$ctl" syncconf prwq1 "$W/wq.conf"
ok "syncconf error names file:line ($(head -n 1 "$W/out"))"

# A busy port: another config on the same host asks for 51830.
(umask 077; "$ctl" genkey > site/prwq3.key)
printf '[Interface]\nPrivateKeyFile = prwq3.key\nListenPort = 51830\nAddress = 10.72.0.1/24\n' > site/prwq3.conf
expect_fail "up on a busy port" "listen port 51830 is already in use" in_ns prw-a "$ctl" up ./site/prwq3.conf
grep -q "restored" "$W/out" && { cat "$W/out"; fail "busy port: speaks of a restored device it then deleted"; }
ip -n prw-a link show prwq3 >/dev/null 2>&1 && fail "busy port: prwq3 left behind"
ok "busy port: '$(grep -o 'cannot set the configuration: .*' "$W/out" | head -n 1)'; prwq3 removed"

# The same interface name in another namespace: the UAPI socket is shared.
netns_add prw-x
cp site/prwq3.key site/prwq1x.key
printf '[Interface]\nPrivateKeyFile = prwq1x.key\nAddress = 10.73.0.1/24\n' > site/prwq1x.conf
mkdir -p site/x && cp site/prwq1x.key site/x/prwq1.key && cp site/prwq1x.conf site/x/prwq1.conf
sed -i 's/prwq1x.key/prwq1.key/' site/x/prwq1.conf
expect_fail "same name in two namespaces" "UAPI socket /var/run/wireguard/prwq1.sock is in use .*network namespace" \
	in_ns prw-x "$ctl" up ./site/x/prwq1.conf
[ "$(in_ns prw-a wg show prwq1 private-key)" = "$key_before" ] || fail "the other namespace's prwq1 was touched"
ok "same interface name in a second namespace: refused, the socket named, prwq1 in prw-a untouched"

# reresolve on a host whose peers came from a PostUp addconf.
expect_fail "reresolve without recorded endpoints" "PostUp addconf.*--config FILE" in_ns prw-b "$ctl" reresolve prwq2
in_ns prw-b "$ctl" reresolve prwq2 --config "$W/site/peers.conf" > "$W/out" 2>&1 ||
	{ cat "$W/out"; fail "reresolve --config peers.conf"; }
ok "reresolve: the hint points at PostUp addconf and --config; with --config it works"

# DNS without resolvconf: as wg-quick, up fails and leaves nothing.
printf '[Interface]\nPrivateKeyFile = prwq3.key\nAddress = 10.72.0.1/24\nDNS = 10.72.0.53\n' > site/prwq3.conf
nobin=/usr/bin:/bin
PATH=$nobin command -v resolvconf >/dev/null && fail "resolvconf in $nobin: cannot test its absence here"
expect_fail "DNS without resolvconf" "resolvconf is not installed" in_ns prw-a env PATH=$nobin "$ctl" up ./site/prwq3.conf
ip -n prw-a link show prwq3 >/dev/null 2>&1 && fail "DNS without resolvconf: prwq3 left up"
ip -n prw-a addr show | grep -q 10.72.0.1 && fail "DNS without resolvconf: address left"
ok "DNS = without resolvconf: up fails ('resolvconf is not installed'), interface and address gone"

in_ns prw-a "$ctl" down ./site/prwq1.conf > "$W/out" 2>&1 || { cat "$W/out"; fail "down prwq1"; }
in_ns prw-b "$ctl" down ./site/prwq2.conf > "$W/out" 2>&1 || { cat "$W/out"; fail "down prwq2"; }
ok "down on both hosts"

echo "== CNI plugins"
for p in podwire podwire-ipam; do
	"$B/$p" --version > "$W/out" 2>&1 || fail "$p --version: exit $?"
	grep -q "^CNI $p plugin v" "$W/out" && grep -q "CNI protocol versions supported: .*1.1.0" "$W/out" ||
		{ cat "$W/out"; fail "$p --version: no about text"; }
done
ok "podwire/podwire-ipam --version: '$(head -n 1 "$W/out")'"
[ "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["cniVersion"], *c["cniVersions"])' "$TOP/manifests/10-podwire.conflist")" = "1.0.0 1.0.0 1.1.0" ] ||
	fail "the shipped conflist is not cniVersion 1.0.0 with cniVersions 1.0.0, 1.1.0"
ok "manifests/10-podwire.conflist: cniVersion 1.0.0, cniVersions [1.0.0, 1.1.0]"

echo "== Node daemon: store directory"
expect_fail "podwired with a missing store dir" "--store-dir: '$W/shraed': No such file or directory.*--store-dir-create" \
	in_ns prw-a "$B/podwired" --name n1 -i prwd1 --store-dir "$W/shraed" --state-dir "$W/n1"
[ -e "$W/shraed" ] && fail "podwired created the mistyped store directory"
expect_fail "status on a missing store dir" "store file $W/shraed: No such file or directory.*--store-dir-create" \
	"$ctl" status --store-dir "$W/shraed"
[ -e "$W/shraed" ] && fail "status created the mistyped store directory"
ok "a missing --store-dir is refused by podwired and status, and not created"

echo "== Node daemon: two nodes, step by step"
# The README: /shared/podwire is one directory both nodes see; /etc/cni/net.d per node.
shared=$W/shared
mkdir -p "$shared" "$W/n1/net.d" "$W/n2/net.d"
daemon() { # NS NAME IFACE NETDIR [extra...]
	local ns=$1 name=$2 ifc=$3 net=$4 i=${2#n}; shift 4
	# Not through in_ns: a backgrounded function is a subshell, and $! would be its pid, not
	# podwired's (`ip netns exec` execs the daemon, so here $! is podwired).
	ip netns exec "$ns" "$B/podwired" --name "$name" --store-dir "$shared" --cni-conf-dir "$net" \
		-i "$ifc" --state-dir "$W/$name" --endpoint "192.168.71.$i:51820" --resync 2 "$@" >>"$W/$name.log" 2>&1 &
	track_pid $!
}
# Pools other than the defaults: peer add must learn them from the store (item 2).
daemon prw-a n1 prwd1 "$W/n1/net.d" --tunnel-cidr 10.98.0.0/16
wait_until 20 test -f "$W/n1/net.d/10-podwire.conflist" || fail "n1 wrote no conflist"
daemon prw-b n2 prwd2 "$W/n2/net.d" --tunnel-cidr 10.98.0.0/16
wait_until 20 test -f "$W/n2/net.d/10-podwire.conflist" || fail "n2 wrote no conflist"
peers() { in_ns "$1" wg show "$2" peers 2>/dev/null | wc -l; }
# NS IFACE N: a command wait_until runs anew at each poll (a "$(...)" argument would be
# expanded once, before the first poll).
has_peers() { test "$(peers "$1" "$2")" -eq "$3"; }
wait_until 20 has_peers prw-a prwd1 1 || fail "n1 did not add n2 as a peer"
wait_until 20 has_peers prw-b prwd2 1 || fail "n2 did not add n1 as a peer"
in_ns prw-a "$ctl" status -i prwd1 --store-dir "$shared" > "$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -qE '^n1 .*this node' "$W/status" && grep -qE '^n2 ' "$W/status" || { cat "$W/status"; fail "status lacks n1/n2"; }
grep -q "cluster pools --cluster-cidr 10.244.0.0/16 --block-size 24 --tunnel-cidr 10.98.0.0/16" "$W/status" ||
	{ cat "$W/status"; fail "status does not show the cluster's pools"; }
ok "two podwired on one shared store: peers of each other; status shows both and the pools"

cidr_of() { sed -n 's/^# PodCIDRs = \([^,]*\).*/\1/p' "$shared/$1.conf"; }
c1=$(cidr_of n1) c2=$(cidr_of n2)
[ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ] || fail "pod CIDRs n1='$c1' n2='$c2'"
subnets() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); p=c["plugins"][0]
print(c["cniVersion"], p["interface"], ",".join(r[0]["subnet"] for r in p["ipam"]["ranges"]))' "$1"; }
[ "$(subnets "$W/n1/net.d/10-podwire.conflist")" = "1.0.0 prwd1 $c1" ] ||
	fail "n1's conflist: $(subnets "$W/n1/net.d/10-podwire.conflist"), want 1.0.0 prwd1 $c1"
[ "$(subnets "$W/n2/net.d/10-podwire.conflist")" = "1.0.0 prwd2 $c2" ] ||
	fail "n2's conflist: $(subnets "$W/n2/net.d/10-podwire.conflist"), want 1.0.0 prwd2 $c2"
ok "each node's conflist has its own pod CIDR (n1 $c1, n2 $c2), its interface, cniVersion 1.0.0"

# A pod on each node, wired by the plugin with the conflist its node's podwired wrote, as a
# runtime hands it over (the podwire entry with the network's name and cniVersion).
mkdir -p "$W/cni-bin"
ln -sf "$B/podwire" "$B/podwire-ipam" "$W/cni-bin/"
pod_ip=()
for i in 1 2; do
	python3 - "$W/n$i/net.d/10-podwire.conflist" "$W/n$i" > "$W/n$i/pod.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["plugins"][0]
p.update(cniVersion=c["cniVersion"], name=c["name"], vethPrefix="prwp", logFile=sys.argv[2] + "/cni.log")
p["ipam"]["dataDir"] = sys.argv[2] + "/ipam"  # both "nodes" share this machine's disk
print(json.dumps(p))
PY
	ns=prw-$([ $i = 1 ] && echo a || echo b)
	netns_add "prw-p$i"
	in_ns "$ns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PODWIRE_CNI_LOG_DIR="$W" ASAN_OPTIONS="${ASAN_OPTIONS:-}" CNI_COMMAND=ADD \
		CNI_CONTAINERID="prw-pod$i" CNI_NETNS="/var/run/netns/prw-p$i" CNI_IFNAME=eth0 CNI_PATH="$W/cni-bin" \
		"$B/podwire" < "$W/n$i/pod.json" > "$W/n$i/add.json" || { cat "$W/n$i/add.json"; fail "CNI ADD on n$i"; }
	pod_ip[$i]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$W/n$i/add.json")
	# STATUS as a runtime of spec 1.1 sends it: the highest of the conflist's cniVersions.
	sed 's/"cniVersion": "1.0.0"/"cniVersion": "1.1.0"/' "$W/n$i/pod.json" > "$W/n$i/status.json"
	in_ns "$ns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PODWIRE_CNI_LOG_DIR="$W" CNI_COMMAND=STATUS CNI_PATH="$W/cni-bin" \
		"$B/podwire" < "$W/n$i/status.json" > "$W/out" || { cat "$W/out"; fail "CNI STATUS on n$i (cniVersion 1.1.0)"; }
done
python3 - "${pod_ip[1]}" "$c1" "${pod_ip[2]}" "$c2" <<'PY' || fail "pod addresses ${pod_ip[1]} ${pod_ip[2]} not in their node's CIDR"
import ipaddress, sys
a, ca, b, cb = sys.argv[1:5]
assert ipaddress.ip_address(a) in ipaddress.ip_network(ca) and ipaddress.ip_address(b) in ipaddress.ip_network(cb)
PY
wait_until 15 pings prw-p1 "${pod_ip[2]}" || fail "pod on n1 cannot reach the pod on n2"
ok "pods: n1 ${pod_ip[1]} in $c1, n2 ${pod_ip[2]} in $c2 (STATUS answers); they ping each other"

echo "== peer add, peer remove"
"$ctl" peer add laptop --store-dir "$shared" > "$W/prwlap.conf" 2> "$W/out" || { cat "$W/out"; fail "peer add laptop"; }
grep -q "$QR" "$W/prwlap.conf" && fail "peer add > file: the QR code went into the file"
"$ctl" strip "$W/prwlap.conf" > /dev/null 2> "$W/out" || { cat "$W/out"; fail "the laptop's config does not parse"; }
laddr=$(sed -n 's/^Address = \(.*\)\/32$/\1/p' "$W/prwlap.conf")
case $laddr in 10.98.*) ;; *) cat "$W/prwlap.conf"; fail "laptop address '$laddr' is not in the cluster's tunnel pool 10.98.0.0/16" ;; esac
ok "peer add > file: a config that parses, no QR code in it, address $laddr from the cluster's pool"
wait_until 20 has_peers prw-a prwd1 2 || fail "n1 did not add the laptop"
in_ns prw-a "$ctl" status -i prwd1 --store-dir "$shared" > "$W/status" 2>&1
grep -E '^laptop ' "$W/status" | grep -q "not applied" && { cat "$W/status"; fail "the laptop is 'not applied'"; }
grep -q "skipped record nodes/laptop" "$W/status" && { cat "$W/status"; fail "nodes skip the laptop's record"; }
sed -i 's/^\[Interface\]/[Interface]\nListenPort = 51899/' "$W/prwlap.conf"
chmod 600 "$W/prwlap.conf"
in_ns prw-l "$ctl" up "$W/prwlap.conf" > "$W/out" 2>&1 || { cat "$W/out"; fail "up the laptop's config"; }
t1=$(sed -n 's/^# TunnelIP = \([^,]*\).*/\1/p' "$shared/n1.conf")
wait_until 15 pings prw-l "$t1" || fail "the laptop cannot reach n1's tunnel address $t1"
wait_until 15 pings prw-l "${pod_ip[2]}" || fail "the laptop cannot reach the pod on n2"
ok "the laptop, brought up with that file, reaches n1 ($t1) and the pod on n2"
in_ns prw-l "$ctl" down "$W/prwlap.conf" > /dev/null 2>&1

expect_fail "peer add outside the pool" "--tunnel-cidr '10.99.0.0/16' is not the cluster's tunnel pool 10.98.0.0/16" \
	"$ctl" peer add phone --store-dir "$shared" --tunnel-cidr 10.99.0.0/16
[ -e "$shared/phone.conf" ] && fail "a refused peer add left a record"
ok "peer add --tunnel-cidr other than the pool: refused, nothing written"
script -qec "'$ctl' peer add phone --store-dir '$shared'" /dev/null > "$W/tty" 2>&1 ||
	{ cat "$W/tty"; fail "peer add on a terminal"; }
grep -q "$QR" "$W/tty" || fail "no QR code on a terminal"
ok "peer add on a terminal draws the QR code"
"$ctl" peer remove phone --store-dir "$shared" > "$W/out" 2>&1 || { cat "$W/out"; fail "peer remove phone"; }
"$ctl" peer remove laptop --store-dir "$shared" > "$W/out" 2>&1 || { cat "$W/out"; fail "peer remove laptop"; }
grep -q "peer laptop removed (1 address released)" "$W/out" || { cat "$W/out"; fail "peer remove: '$(cat "$W/out")'"; }
[ -e "$shared/laptop.conf" ] && fail "peer remove left the record"
wait_until 20 has_peers prw-a prwd1 1 || fail "n1 still has the laptop as a peer"
expect_fail "peer remove of a node" "'n2' is a node, not a client" "$ctl" peer remove n2 --store-dir "$shared"
expect_fail "peer remove of nothing" "'nobody': no such peer in the store" "$ctl" peer remove nobody --store-dir "$shared"
ok "peer remove: the record and its address go, nodes drop the peer; nodes and unknown names refused"

echo "== the cluster's pools are one"
mkdir -p "$W/n3/net.d"
expect_fail "a node with other pools" "the cluster's pools are --cluster-cidr 10.244.0.0/16 --block-size 24 --tunnel-cidr 10.98.0.0/16, but this node was started with .*--tunnel-cidr 10.99.0.0/16" \
	in_ns prw-l "$B/podwired" --name n3 -i prwd3 --store-dir "$shared" --state-dir "$W/n3" --endpoint 192.168.71.3:51820 \
	--cni-conf-dir "$W/n3/net.d" --metrics off
[ -e "$shared/n3.conf" ] && fail "a refused node published a record"
[ -e "$W/n3/net.d/10-podwire.conflist" ] && fail "a refused node wrote a conflist"
ok "podwired with other pools than the store's: refused naming both, nothing published"

echo "== --store-dir-create, --cleanup"
ip netns exec prw-l "$B/podwired" --name n3 -i prwd3 --store-dir "$W/new/store" --store-dir-create --state-dir "$W/n3" \
	--endpoint 192.168.71.3:51820 --cni-conf-dir "$W/n3/net.d" --metrics off > "$W/n3.log" 2>&1 &
n3=$!; track_pid "$n3"
wait_until 20 test -f "$W/n3/net.d/10-podwire.conflist" || fail "n3 with --store-dir-create did not start"
grep -q "store directory $W/new/store did not exist: created it (--store-dir-create)" "$W/n3.log" ||
	fail "--store-dir-create: the log does not say the directory was created"
kill "$n3"; wait "$n3" 2>/dev/null
grep -q "signal 15: exiting, prwd3 and its routes stay up" "$W/n3.log" || fail "podwired n3 did not get SIGTERM"
[ -f "$W/n3/net.d/10-podwire.conflist" ] || fail "SIGTERM removed the conflist (pods need it while podwired restarts)"
in_ns prw-l "$B/podwired" --name n3 -i prwd3 --store-dir "$W/new/store" --state-dir "$W/n3" \
	--cni-conf-dir "$W/n3/net.d" --cleanup > "$W/out" 2>&1 || { cat "$W/out"; fail "podwired --cleanup"; }
[ -e "$W/n3/net.d/10-podwire.conflist" ] && fail "--cleanup left the conflist"
ok "--store-dir-create makes the directory and logs it; SIGTERM keeps the conflist, --cleanup removes it"
echo "readme walkthrough: all steps as documented"
