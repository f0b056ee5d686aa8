#!/bin/bash
# podwirectl show/showconf/set/setconf/addconf/syncconf print and do exactly what wg(8) does,
# on userspace devices (wireguard-go, and podwire-wg when built): after every step the
# output of each `show` keyword, `showconf`, and the human view (plain, colored, keys shown)
# is compared byte for byte with the real wg on the same interface.
set -euo pipefail
umask 077
. "$(dirname "$0")/lib/common.bash"
ctl=$B/podwirectl
require_root
require_cmd wg wireguard-go
require_built podwirectl

id=$$
nsa=pd-cli-a-$id nsb=pd-cli-b-$id

# A and B run a command in namespace a or b (the function B, not the build directory $B).
A() { ip netns exec $nsa "$@"; }
B() { ip netns exec $nsb "$@"; }
# same NS DESCRIPTION ARGS...: `podwirectl ARGS` and `wg ARGS` in netns NS print the same
# stdout and exit the same way.
same() {
	local ns=$1 what=$2 rc1=0 rc2=0
	shift 2
	ip netns exec "$ns" "$ctl" "$@" >"$W/ours" 2>"$W/ours.err" || rc1=$?
	ip netns exec "$ns" wg "$@" >"$W/theirs" 2>"$W/theirs.err" || rc2=$?
	if [ "$unordered" = 1 ]; then
		# wireguard-go lists peers in Go map order, which changes from call to call.
		sort -o "$W/ours" "$W/ours"
		sort -o "$W/theirs" "$W/theirs"
	fi
	if ! cmp -s "$W/ours" "$W/theirs" || [ $rc1 -ne $rc2 ]; then
		echo "--- wg $* (rc $rc2)"; cat "$W/theirs" "$W/theirs.err"
		echo "--- podwirectl $* (rc $rc1)"; cat "$W/ours" "$W/ours.err"
		fail "$what: podwirectl $* differs from wg"
	fi
}
keywords=(public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips
	latest-handshakes transfer persistent-keepalive dump)
# live CHECK ARGS...: CHECK (`same`, same_all_dump) on a device that may carry a session, whose
# counters and handshake time move when a keepalive or a rekey goes out between the two
# reads (in the emulated VM one run can take seconds): one exact match out of three passes.
tries() {
	local try
	for try in 1 2 3; do
		("$@") >"$W/retry.log" && return 0
	done
	return 1
}
live() {
	tries "$@" && return 0
	cat "$W/retry.log"
	exit 1
}
# same_retry: the same for the human view, whose handshake age ("1 minute, 3 seconds ago")
# can tick between the two runs: after three misses, ages may differ by at most 3 seconds.
same_retry() {
	tries same "$@" && return 0
	python3 - "$W/theirs" "$W/ours" <<-'PY' && return 0
	import re, sys
	units = {"year": 31536000, "day": 86400, "hour": 3600, "minute": 60, "second": 1}
	def split(path):
	    text, ages = [], []
	    for line in open(path, encoding="utf-8"):
	        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
	        if "latest handshake:" in plain and plain.rstrip().endswith(" ago"):
	            ages.append(sum(int(n) * units[u] for n, u in re.findall(r"(\d+) (year|day|hour|minute|second)", plain)))
	            line = "<age>"
	        text.append(line)
	    return text, ages
	(t1, a1), (t2, a2) = split(sys.argv[1]), split(sys.argv[2])
	sys.exit(0 if t1 == t2 and len(a1) == len(a2) and all(abs(x - y) <= 3 for x, y in zip(a1, a2)) else 1)
	PY
	cat "$W/retry.log"
	exit 1
}
# same_all_dump NS IFACE DESCRIPTION: the `show all dump` lines for IFACE are the same.
same_all_dump() {
	ip netns exec "$1" "$ctl" show all dump | grep -P "^$2\t" | sort >"$W/ours" || true
	ip netns exec "$1" wg show all dump | grep -P "^$2\t" | sort >"$W/theirs" || true
	cmp -s "$W/ours" "$W/theirs" || { diff "$W/theirs" "$W/ours"; fail "$3: show all dump"; }
}
# What every step checks: dump, showconf and the `show all dump` lines for IFACE.
compare_dump() {
	local ns=$1 ifc=$2 what=$3
	live same "$ns" "$what" show "$ifc" dump
	[ "$quick" = 1 ] && return 0
	same "$ns" "$what" showconf "$ifc"
	live same_all_dump "$ns" "$ifc" "$what"
	[ -s "$W/ours" ] || fail "$what: $ifc missing from show all dump"
}
# At checkpoints: every keyword and the human views too (plain, colored, keys shown).
compare_all() {
	local ns=$1 ifc=$2 what=$3 kw
	compare_dump "$@"
	for kw in "${keywords[@]}"; do
		live same "$ns" "$what" show "$ifc" "$kw"
	done
	same_retry "$ns" "$what" show "$ifc"
	WG_COLOR_MODE=always same_retry "$ns" "$what (color)" show "$ifc"
	WG_HIDE_KEYS=never same_retry "$ns" "$what (keys)" show "$ifc"
}

# A secondary checkpoint: everything on the host, the dump only in quick mode.
compare_checkpoint() {
	if [ "$quick" = 1 ]; then compare_dump "$@"; else compare_all "$@"; fi
}
# PODWIRE_TEST_QUICK=1 (the VM suite, where every process start is slow): the operation
# sequence, the checkpoints and syncconf only; bad input and the setconf matrix run on the host.
quick=${PODWIRE_TEST_QUICK:-0}

netns_add $nsa $nsb
veth_pair $nsa pdv$id $nsb pdw$id
A ip addr add 192.168.77.1/24 dev pdv$id
B ip addr add 192.168.77.2/24 dev pdw$id
A ip link set pdv$id up
B ip link set pdw$id up

for f in ka kb kc psk1; do "$ctl" genkey >"$W/$f"; done
chmod 600 "$W"/k* "$W"/psk1
pubb=$("$ctl" pubkey <"$W/kb")
pubx=$("$ctl" pubkey <"$W/kc")
puby=$("$ctl" genkey | "$ctl" pubkey)
pubz=$("$ctl" genkey | "$ctl" pubkey)

# PODWIRE_TEST_IMPLS: which datapaths to compare on ("kernel" = the module; the VM suite
# sets "kernel podwire-wg"); default: the userspace ones this host has.
impls=()
for impl in ${PODWIRE_TEST_IMPLS:-wireguard-go podwire-wg}; do
	case $impl in
	podwire-wg) [ -x "$B/podwire-wg" ] && impls+=("$B/podwire-wg") ;;
	*) impls+=("$impl") ;;
	esac
done
# new_device NS IFACE: create IFACE in NS with the implementation under test.
new_device() {
	if [ "$impl" = kernel ]; then
		ip netns exec "$1" ip link add "$2" type wireguard
	else
		ip netns exec "$1" "$impl" "$2" >/dev/null 2>&1
	fi
}
n=0
for impl in "${impls[@]}"; do
	n=$((n + 1))
	ia=pda$n$id ib=pdb$n$id ic=pdc$n$id
	track_wg $nsa $ia; track_wg $nsb $ib; track_wg $nsa $ic
	name=$(basename "$impl")
	unordered=0
	[ "$name" = wireguard-go ] && unordered=1
	echo "== $name"
	new_device $nsa $ia
	new_device $nsb $ib
	new_device $nsa $ic
	if [ "$impl" != kernel ]; then
		wait_socket $ia && wait_socket $ib && wait_socket $ic || fail "$name did not start"
	fi
	if [ "$impl" = kernel ]; then
		[ "$(A "$ctl" show interfaces)" = "$ia $ic" ] || fail "kernel: show interfaces"
	fi
	compare_dump $nsa $ia "$name: fresh device"

	# The operation sequence of issue 5, each step through podwirectl set.
	A "$ctl" set $ia private-key "$W/ka" listen-port 51001 fwmark 0x1234
	compare_dump $nsa $ia "$name: keys/port/fwmark"
	A "$ctl" set $ia peer "$pubb" endpoint 192.168.77.2:51002 allowed-ips 10.9.0.2/32,fd09::2/128 \
		peer "$puby" preshared-key "$W/psk1" endpoint [fd00::99]:7 persistent-keepalive 25 \
		allowed-ips "10.20.0.0/16, fd20::/48" \
		peer "$pubz" endpoint 10.1.2.3:4 persistent-keepalive off allowed-ips 10.30.0.0/24
	compare_checkpoint $nsa $ia "$name: three peers"
	A "$ctl" set $ia peer "$puby" update-only persistent-keepalive 60 peer "$pubx" update-only allowed-ips 10.40.0.0/16
	compare_dump $nsa $ia "$name: update-only"
	A wg show $ia peers | grep -qx "$pubx" && fail "$name: update-only created a peer"
	A "$ctl" set $ia peer "$pubz" remove
	compare_dump $nsa $ia "$name: remove"
	A "$ctl" set $ia peer "$puby" allowed-ips 10.21.0.0/16,fd21::/48
	compare_dump $nsa $ia "$name: replace allowed-ips"
	A "$ctl" set $ia peer "$puby" allowed-ips ""
	A "$ctl" set $ia fwmark off
	compare_dump $nsa $ia "$name: empty allowed-ips, fwmark off"

	if [ "$quick" = 0 ]; then
	# Bad input changes nothing and names the culprit.
	A wg show $ia dump >"$W/before"
	for bad in "listen-port 70000" "fwmark -1" "peer abc" "peer $pubb allowed-ips 10.0.0.1/33" \
		"peer $pubb persistent-keepalive 70000" "peer $pubb endpoint 1.2.3.4" "private-key $W/nonexistent" \
		"peer $pubb remove bogus"; do
		# shellcheck disable=SC2086
		if A "$ctl" set $ia listen-port 51009 $bad 2>"$W/err"; then
			fail "$name: set accepted bad input: $bad"
		fi
		[ -s "$W/err" ] || fail "$name: no error message for: $bad"
		A wg show $ia dump | sort | cmp -s - <(sort "$W/before") || { A wg show $ia dump | diff "$W/before" -; fail "$name: failed set '$bad' changed the device"; }
	done
	fi

	# A set the datapath refuses halfway (the port is taken after the key and fwmark were
	# accepted) is rolled back.
	# (The kernel binds only when the interface is up.)
	A ip link set $ia up
	A ip link set $ic up
	A "$ctl" set $ic listen-port 51003
	A wg show $ia dump | sort >"$W/before"
	if A "$ctl" set $ia fwmark 0x77 private-key "$W/kc" listen-port 51003 peer "$pubz" 2>"$W/err"; then
		fail "$name: taking a used port succeeded"
	fi
	grep -q "the device was restored" "$W/err" || { cat "$W/err"; fail "$name: no rollback reported"; }
	A wg show $ia dump | sort | cmp -s - "$W/before" || { A wg show $ia dump | diff "$W/before" -; fail "$name: refused set not rolled back"; }
	A "$ctl" show pdnonexist$id dump 2>"$W/err" && fail "show of a missing interface succeeded"
	grep -q "Unable to access interface" "$W/err" || fail "no message for a missing interface"

	# Traffic: a handshake, transfer counters and handshake age in the human view.
	A ip addr add 10.9.0.1/24 dev $ia
	B ip addr add 10.9.0.2/24 dev $ib
	A ip link set $ia up
	B ip link set $ib up
	puba=$("$ctl" pubkey <"$W/ka")
	B "$ctl" set $ib private-key "$W/kb" listen-port 51002 peer "$puba" allowed-ips 10.9.0.1/32
	A "$ctl" set $ia peer "$pubb" allowed-ips 10.9.0.2/32
	A busybox ping -c 2 -W 2 10.9.0.2 >/dev/null || fail "$name: no ping through the tunnel"
	compare_all $nsa $ia "$name: after handshake"
	compare_checkpoint $nsb $ib "$name: responder after handshake"

	if [ "$quick" = 0 ]; then
	# setconf / addconf / syncconf: the same file through podwirectl on $ia's twin $ic and
	# through wg on a fresh copy must leave identical devices.
	cat >"$W/conf1" <<-EOF
	[Interface]
	PrivateKey = $(cat "$W/kc")
	ListenPort = 51003
	FwMark = 7

	[Peer]
	PublicKey = $pubb
	PresharedKey = $(cat "$W/psk1")
	AllowedIPs = 10.50.0.0/16, fd50::/64
	Endpoint = 192.168.77.2:51002
	PersistentKeepalive = 15

	[Peer]
	PublicKey = $puby
	AllowedIPs = 10.51.0.0/16
	EOF
	cat >"$W/conf2" <<-EOF
	[Peer]
	PublicKey = $pubz
	AllowedIPs = 10.52.0.0/16
	Endpoint = [fd00::52]:52
	EOF
	for step in "setconf conf1" "addconf conf2" "setconf conf2" "addconf conf1" "syncconf conf2"; do
		set -- $step
		A "$ctl" "$1" $ic "$W/$2" || fail "$name: podwirectl $step"
		A wg showconf $ic >"$W/ours.conf"
		A wg show $ic dump | cut -f1-4,8 | sed 1s/.*// >"$W/ours.dump"
		A wg "$1" $ic "$W/$2" || fail "$name: wg $step"
		A wg showconf $ic >"$W/theirs.conf"
		A wg show $ic dump | cut -f1-4,8 | sed 1s/.*// >"$W/theirs.dump"
		if [ "$unordered" = 1 ]; then
			for f in ours.conf theirs.conf ours.dump theirs.dump; do sort -o "$W/$f" "$W/$f"; done
		fi
		if [ "$step" = "setconf conf2" ] || [ "$step" = "syncconf conf2" ]; then
			# Without ListenPort both pick a random port: compare all but that line.
			sed -i /^ListenPort/d "$W/ours.conf" "$W/theirs.conf"
		fi
		cmp -s "$W/ours.conf" "$W/theirs.conf" || { diff "$W/theirs.conf" "$W/ours.conf"; fail "$name: $step differs from wg"; }
		cmp -s "$W/ours.dump" "$W/theirs.dump" || fail "$name: $step dump differs from wg"
		compare_dump $nsa $ic "$name: after $step"
	done
	fi

	# syncconf keeps live sessions: $ia's session with $ib survives a sync that drops the
	# other peers and changes $ib's allowed IPs; setconf (replace-peers) would reset it.
	A "$ctl" set $ia peer "$puby" allowed-ips 10.21.0.0/16
	hs=$(A wg show $ia latest-handshakes | awk -v k="$pubb" '$1 == k { print $2 }')
	[ "${hs:-0}" -gt 0 ] || fail "$name: no handshake to start from"
	cat >"$W/sync" <<-EOF
	[Interface]
	PrivateKey = $(cat "$W/ka")
	ListenPort = 51001

	[Peer]
	PublicKey = $pubb
	AllowedIPs = 10.9.0.2/32, 10.9.1.0/24
	EOF
	A "$ctl" syncconf $ia "$W/sync"
	[ "$(A wg show $ia peers)" = "$pubb" ] || fail "$name: syncconf did not remove the other peers"
	[ "$(A wg show $ia allowed-ips)" = "$pubb	10.9.0.2/32 10.9.1.0/24" ] || fail "$name: syncconf allowed IPs"
	hs2=$(A wg show $ia latest-handshakes | awk -v k="$pubb" '$1 == k { print $2 }')
	[ "$hs2" = "$hs" ] || fail "$name: syncconf reset the session (handshake $hs -> $hs2)"
	A busybox ping -c 1 -W 2 10.9.0.2 >/dev/null || fail "$name: tunnel broken after syncconf"
	compare_checkpoint $nsa $ia "$name: after syncconf"

	if [ "$quick" = 0 ]; then
	# A bad file changes nothing.
	A wg show $ia dump >"$W/before"
	printf '[Interface]\nListenPort = 1\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/99\n' "$pubz" >"$W/bad.conf"
	A "$ctl" setconf $ia "$W/bad.conf" 2>"$W/err" && fail "$name: setconf accepted a bad file"
	grep -q bad.conf "$W/err" || { cat "$W/err"; fail "$name: setconf error does not name the file"; }
	A wg show $ia dump | sort | cmp -s - <(sort "$W/before") || fail "$name: failed setconf changed the device"
	fi

	echo "$name: all outputs identical to wg"
	# Free the ports for the next implementation.
	A ip link del $ia
	B ip link del $ib
	A ip link del $ic
done
echo "ok: ${#impls[@]} datapaths: ${impls[*]}"
