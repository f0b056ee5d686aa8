#!/bin/bash
# updown_errors.sh — bad input to `podwirectl up/down` applies nothing and says why; the key
# sources (PrivateKeyFile / PrivateKeyCommand / PresharedKeyFile) work and a key file that
# group or others can read is refused.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root
require_cmd wg nft
require_built podwirectl
use_userspace_wg
IF=pqe0 NS=pq-err
for i in $IF pqf0 pqf1; do track_wg $NS $i; done
conf_keys "$W/keys"
resolvconf_mock "$W/bin" "$W/rc"
export PATH="$W/bin:$PATH"
stable_ns $NS
ns_snapshot $NS $IF > "$W/pre"

conf() { # name: write $W/run/pqe0.conf from stdin (with @...@ placeholders)
	mkdir -p -m 700 "$W/run"; cat > "$W/tmpl"; conf_render "$W/tmpl" "$W/run/$IF.conf" "$W/keys" "$W/run"
}
up() { ip netns exec $NS "$B/podwirectl" up "$W/run/$IF.conf" > "$W/out" 2>&1; }
down() { ip netns exec $NS "$B/podwirectl" down "$W/run/$IF.conf" > "$W/out" 2>&1; }
expect_fail() { # what pattern
	if up; then down; fail "$1: up succeeded"; fi
	grep -q -- "$2" "$W/out" || { cat "$W/out"; fail "$1: message lacks '$2'"; }
	wait_socket_gone $IF
	ns_snapshot $NS $IF > "$W/now"
	diff -u "$W/pre" "$W/now" > "$W/diff" || { cat "$W/diff"; fail "$1: namespace changed"; }
	echo "ok   $1: $(grep -v '^\[#\]' "$W/out" | tail -n 1)"
}

# expect_no_preup WHAT PATTERN PEER-LINES: a config whose [Interface] has a PreUp that
# leaves a trace and whose [Peer] (line 6) ends with PEER-LINES (from line 8) fails as
# expect_fail says, and PreUp never ran.
expect_no_preup() {
	printf '[Interface]\nPrivateKey = @PRIV@\nAddress = 10.30.0.1/24\nPreUp = echo ran >> @DIR@/hooks.log\n\n[Peer]\nPublicKey = @PUB1@\n%s\n' "$3" | conf
	expect_fail "$1" "$2"
	[ ! -e "$W/run/hooks.log" ] || fail "$1: PreUp ran"
}

# 1. A config error: nothing runs, not even PreUp.
expect_no_preup "bad AllowedIPs" "$IF.conf:8" "AllowedIPs = 10.30.1.0/33"

# 2. An endpoint that does not resolve: nothing applied.
expect_no_preup "unresolvable endpoint" "pq-no-such-host.invalid" \
	"Endpoint = pq-no-such-host.invalid:51820"$'\n'"AllowedIPs = 10.30.1.0/24"

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
expect_fail "failing PostUp" "PostUp hook \`echo second >> $W/run/hooks.log; exit 3' failed with exit status 3"
grep -q 'resolvconf -d pqe0 -f' "$W/rc/log" 2>/dev/null || fail "failing PostUp: DNS not removed again"
rm -f "$W/run/hooks.log"

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
grep -q "\`$IF' is not a WireGuard interface" "$W/out" || { cat "$W/out"; fail "down message"; }
echo "ok   down when not up: $(tail -n 1 "$W/out")"

# 6. Key files and commands: PrivateKeyFile readable by others is refused; 0600 works; PrivateKeyCommand works.
cp "$W/keys/priv" "$W/run/priv.key"; chmod 644 "$W/run/priv.key"
cp "$W/keys/psk" "$W/run/psk.key"; chmod 600 "$W/run/psk.key"
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
chmod 600 "$W/run/priv.key"
if up; then
	[ "$(ip netns exec $NS wg show $IF private-key)" = "$(cat "$W/keys/priv")" ] || fail "PrivateKeyFile: wrong private key"
	[ "$(ip netns exec $NS wg show $IF preshared-keys | cut -f2)" = "$(cat "$W/keys/psk")" ] || fail "PresharedKeyFile: wrong key"
	# 7. up of an interface that already exists.
	if up; then fail "second up succeeded"; fi
	grep -q "\`$IF' already exists" "$W/out" || { cat "$W/out"; fail "already-exists message"; }
	down || { cat "$W/out"; fail "down after PrivateKeyFile up"; }
	echo "ok   PrivateKeyFile/PresharedKeyFile (0600) applied; second up refused"
else
	cat "$W/out"; fail "PrivateKeyFile 0600 up failed"
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
	[ "$(ip netns exec $NS wg show $IF private-key)" = "$(cat "$W/keys/priv")" ] || fail "PrivateKeyCommand: wrong private key"
	down || fail "down after PrivateKeyCommand"
	echo "ok   PrivateKeyCommand applied"
else
	cat "$W/out"; fail "PrivateKeyCommand up failed"
fi
# 8. Two full tunnels side by side: taking one down keeps the other's rules (wg-quick's
#    del_if would delete both "suppress_prefixlength 0" rules).
for n in 0 1; do
	mkdir -p -m 700 "$W/two"
	sed "s/@N@/$n/" > "$W/two/pqf$n.tmpl" <<'C'
[Interface]
PrivateKey = @PRIV@
Address = 10.31.@N@.1/32

[Peer]
PublicKey = @PUB1@
Endpoint = 10.77.0.2:5182@N@
AllowedIPs = 0.0.0.0/0
C
	conf_render "$W/two/pqf$n.tmpl" "$W/two/pqf$n.conf" "$W/keys" "$W/two"
	ip netns exec $NS "$B/podwirectl" up "$W/two/pqf$n.conf" > "$W/out" 2>&1 || { cat "$W/out"; fail "up pqf$n"; }
done
ip -n $NS rule > "$W/rules.both"
ip netns exec $NS "$B/podwirectl" down "$W/two/pqf1.conf" > "$W/out" 2>&1 || { cat "$W/out"; fail "down pqf1"; }
ip -n $NS rule > "$W/rules.one"
if grep -q 'lookup 51820' "$W/rules.one" && grep -q 'suppress_prefixlength 0' "$W/rules.one" &&
   ! grep -q 'lookup 51821' "$W/rules.one" && [ "$(grep -c suppress "$W/rules.both")" = 2 ]; then
	echo "ok   two full tunnels (tables 51820, 51821): down of one keeps the other's rules"
else
	cat "$W/rules.both" "$W/rules.one"; fail "rules after taking down the second full tunnel"
fi
ip netns exec $NS "$B/podwirectl" down "$W/two/pqf0.conf" > "$W/out" 2>&1 || { cat "$W/out"; fail "down pqf0"; }
wait_socket_gone pqf0; wait_socket_gone pqf1

wait_socket_gone $IF
ns_snapshot $NS $IF > "$W/now"
diff -u "$W/pre" "$W/now" || fail "namespace not back to its first state"
echo "all error cases behave"
