#!/bin/bash
# updown_errors.sh — bad input to `podwirectl up/down` applies nothing and says why; F14 key
# sources (PrivateKeyFile / PrivateKeyCommand / PresharedKeyFile) work and a key file that
# group or others can read is refused.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/updown.bash"
pq_need_root
B=$(pq_build)
[ -x "$B/podwirectl" ] || { echo "no $B/podwirectl (build first)"; exit 77; }
IF=pqe0 NS=pq-err
T=$(mktemp -d /tmp/pq-errors.XXXXXX)
cleanup() {
	for i in $IF pqf0 pqf1; do ip -n $NS link del $i 2>/dev/null; done
	ip netns del $NS 2>/dev/null
	for i in $IF pqf0 pqf1; do pq_wait_socket_gone $i; done
	rm -rf "$T"
}
trap cleanup EXIT
export WG_QUICK_USERSPACE_IMPLEMENTATION=$(pq_pick_userspace "$B")
pq_make_keys "$T/keys"
pq_resolvconf_mock "$T/bin" "$T/rc"
export PATH="$T/bin:$PATH"
pq_ns_setup $NS
pq_snapshot $NS $IF > "$T/pre"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

conf() { # name: write $T/run/pqe0.conf from stdin (with @...@ placeholders)
	mkdir -p -m 700 "$T/run"; cat > "$T/tmpl"; pq_render "$T/tmpl" "$T/run/$IF.conf" "$T/keys" "$T/run"
}
up() { ip netns exec $NS "$B/podwirectl" up "$T/run/$IF.conf" > "$T/out" 2>&1; }
down() { ip netns exec $NS "$B/podwirectl" down "$T/run/$IF.conf" > "$T/out" 2>&1; }
expect_fail() { # what pattern
	if up; then fail "$1: up succeeded"; down; return; fi
	grep -q -- "$2" "$T/out" || { fail "$1: message lacks '$2':"; cat "$T/out"; }
	pq_wait_socket_gone $IF
	pq_snapshot $NS $IF > "$T/now"
	diff -u "$T/pre" "$T/now" > "$T/diff" || { fail "$1: namespace changed:"; cat "$T/diff"; }
	echo "ok   $1: $(grep -v '^\[#\]' "$T/out" | tail -n 1)"
}

# 1. A config error: nothing runs, not even PreUp.
conf <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.30.0.1/24
PreUp = echo ran >> @DIR@/hooks.log

[Peer]
PublicKey = @PUB1@
AllowedIPs = 10.30.1.0/33
C
expect_fail "bad AllowedIPs" "$IF.conf:8"
[ -e "$T/run/hooks.log" ] && fail "bad AllowedIPs: PreUp ran"

# 2. An endpoint that does not resolve: nothing applied.
conf <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.30.0.1/24
PreUp = echo ran >> @DIR@/hooks.log

[Peer]
PublicKey = @PUB1@
Endpoint = pq-no-such-host.invalid:51820
AllowedIPs = 10.30.1.0/24
C
expect_fail "unresolvable endpoint" "pq-no-such-host.invalid"
[ -e "$T/run/hooks.log" ] && fail "unresolvable endpoint: PreUp ran"

# 3. A failing PostUp after a full tunnel with DNS: everything rolled back, hook named.
conf <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.30.0.1/24, fd30::1/64
DNS = 10.30.0.53
PostUp = echo first >> @DIR@/hooks.log
PostUp = echo second >> @DIR@/hooks.log; exit 3

[Peer]
PublicKey = @PUB1@
Endpoint = 10.77.0.2:51820
AllowedIPs = 0.0.0.0/0, ::/0
C
expect_fail "failing PostUp" "PostUp hook \`echo second >> $T/run/hooks.log; exit 3' failed with exit status 3"
grep -q 'resolvconf -d pqe0 -f' "$T/rc/log" 2>/dev/null || fail "failing PostUp: DNS not removed again"
rm -f "$T/run/hooks.log"

# 4. A failing PreUp: the interface is never created.
conf <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.30.0.1/24
PreUp = false

[Peer]
PublicKey = @PUB1@
AllowedIPs = 10.30.1.0/24
C
expect_fail "failing PreUp" "PreUp hook \`false' failed with exit status 1"

# 5. down of an interface that is not up.
if down; then fail "down of a missing interface succeeded"; fi
grep -q "\`$IF' is not a WireGuard interface" "$T/out" || { fail "down message:"; cat "$T/out"; }
echo "ok   down when not up: $(tail -n 1 "$T/out")"

# 6. F14: PrivateKeyFile readable by others is refused; 0600 works; PrivateKeyCommand works.
cp "$T/keys/priv" "$T/run/priv.key"; chmod 644 "$T/run/priv.key"
cp "$T/keys/psk" "$T/run/psk.key"; chmod 600 "$T/run/psk.key"
conf <<'C'
[Interface]
PrivateKeyFile = @DIR@/priv.key
Address = 10.30.0.1/24
ListenPort = 40100

[Peer]
PublicKey = @PUB1@
PresharedKeyFile = @DIR@/psk.key
AllowedIPs = 10.30.1.0/24
C
expect_fail "world-readable PrivateKeyFile" "priv.key"
chmod 600 "$T/run/priv.key"
if up; then
	[ "$(ip netns exec $NS wg show $IF private-key)" = "$(cat "$T/keys/priv")" ] || fail "PrivateKeyFile: wrong private key"
	[ "$(ip netns exec $NS wg show $IF preshared-keys | cut -f2)" = "$(cat "$T/keys/psk")" ] || fail "PresharedKeyFile: wrong key"
	# 7. up of an interface that already exists.
	if up; then fail "second up succeeded"; fi
	grep -q "\`$IF' already exists" "$T/out" || { fail "already-exists message:"; cat "$T/out"; }
	down || { fail "down after PrivateKeyFile up:"; cat "$T/out"; }
	echo "ok   PrivateKeyFile/PresharedKeyFile (0600) applied; second up refused"
else
	fail "PrivateKeyFile 0600 up failed:"; cat "$T/out"
fi
conf <<'C'
[Interface]
PrivateKeyCommand = cat @DIR@/priv.key
Address = 10.30.0.1/24

[Peer]
PublicKey = @PUB1@
AllowedIPs = 10.30.1.0/24
C
if up; then
	[ "$(ip netns exec $NS wg show $IF private-key)" = "$(cat "$T/keys/priv")" ] || fail "PrivateKeyCommand: wrong private key"
	down || fail "down after PrivateKeyCommand"
	echo "ok   PrivateKeyCommand applied"
else
	fail "PrivateKeyCommand up failed:"; cat "$T/out"
fi
# 8. Two full tunnels side by side: taking one down keeps the other's rules (wg-quick's
#    del_if would delete both "suppress_prefixlength 0" rules).
for n in 0 1; do
	mkdir -p -m 700 "$T/two"
	sed "s/@N@/$n/" > "$T/two/pqf$n.tmpl" <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.31.@N@.1/32

[Peer]
PublicKey = @PUB1@
Endpoint = 10.77.0.2:5182@N@
AllowedIPs = 0.0.0.0/0
C
	pq_render "$T/two/pqf$n.tmpl" "$T/two/pqf$n.conf" "$T/keys" "$T/two"
	ip netns exec $NS "$B/podwirectl" up "$T/two/pqf$n.conf" > "$T/out" 2>&1 || { fail "up pqf$n:"; cat "$T/out"; }
done
ip -n $NS rule > "$T/rules.both"
ip netns exec $NS "$B/podwirectl" down "$T/two/pqf1.conf" > "$T/out" 2>&1 || { fail "down pqf1:"; cat "$T/out"; }
ip -n $NS rule > "$T/rules.one"
if grep -q 'lookup 51820' "$T/rules.one" && grep -q 'suppress_prefixlength 0' "$T/rules.one" &&
   ! grep -q 'lookup 51821' "$T/rules.one" && [ "$(grep -c suppress "$T/rules.both")" = 2 ]; then
	echo "ok   two full tunnels (tables 51820, 51821): down of one keeps the other's rules"
else
	fail "rules after taking down the second full tunnel:"; cat "$T/rules.both" "$T/rules.one"
fi
ip netns exec $NS "$B/podwirectl" down "$T/two/pqf0.conf" > "$T/out" 2>&1 || { fail "down pqf0:"; cat "$T/out"; }
pq_wait_socket_gone pqf0; pq_wait_socket_gone pqf1

pq_wait_socket_gone $IF
pq_snapshot $NS $IF > "$T/now"
diff -u "$T/pre" "$T/now" || fail "namespace not back to its first state"
[ $fails = 0 ] && echo "all error cases behave"
[ $fails = 0 ]
