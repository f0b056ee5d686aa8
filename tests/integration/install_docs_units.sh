#!/bin/bash
# make install's man pages and systemd units: every page is installed and renders with no
# groff/man warnings at 80 columns, "man NAME" finds it; every unit passes systemd-analyze
# verify (and a unit with a bad key is caught, so the check can fail); the units' assertions
# fail at once, naming the paths, on a host without /dev/net/tun and the WireGuard module
# (a private mount namespace hides /dev/net); podwirectl@'s ExecStart on a missing config
# names the config path. No systemd runs here as PID 1, so the units' commands are run
# as systemd would run them, with %i expanded.
source "$(dirname "$0")/lib/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
require_cmd scdoc man systemd-analyze unshare
require_root
P=$W/usr

echo "== make install-man install-completion install-systemd PREFIX=$P"
make -C "$top" -s BUILD="$B" PREFIX="$P" install-man install-completion install-systemd >"$W/make.log" 2>&1 ||
	{ cat "$W/make.log"; fail "make install-* failed"; }
# The units name $P/bin/...: put the binaries there, as "make install" would.
install -d "$P/bin"; cp "$B/podwirectl" "$B/podwire-wg" "$B/podwired" "$P/bin/"
(cd "$W" && find . -type f -o -type l | sort)
for f in share/man/man8/podwirectl.8 share/man/man8/podwire-wg.8 share/man/man8/podwired.8 share/man/man8/podwire.8 \
	share/man/man8/podwire-ipam.8 share/man/man5/podwire.conf.5 share/bash-completion/completions/podwirectl \
	lib/systemd/system/podwirectl@.service lib/systemd/system/podwired.service lib/systemd/system/podwire-wg@.service; do
	[ -e "$P/$f" ] || fail "make install did not install $f"
done

echo "== man pages render without warnings"
pages=0
for p in "$P"/share/man/man*/*; do
	out=$(MANWIDTH=80 man --warnings -l "$p" 2>"$W/man.err") || fail "man -l $p failed"
	[ -s "$W/man.err" ] && { cat "$W/man.err"; fail "warnings rendering $p"; }
	echo "$out" | grep -q '^NAME' || fail "$p has no NAME section"
	[ "$(echo "$out" | awk 'length > 80' | wc -l)" -eq 0 ] || fail "$p has lines over 80 columns"
	pages=$((pages + 1))
done
for name in podwirectl podwire-wg podwired podwire podwire-ipam podwire.conf; do
	MANPATH=$P/share/man man -w "$name" >/dev/null || fail "man $name does not find the page"
done
echo "$pages pages, no warnings; man finds each by name"

echo "== systemd-analyze verify"
U=$P/lib/systemd/system
verify() { # unit path (templates via an instance name next to them)
	MANPATH=$P/share/man systemd-analyze verify "$@" >"$W/verify.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] && [ ! -s "$W/verify.out" ]
}
for u in podwired.service podwirectl@wg0.service podwire-wg@wg0.service podwirectl.target; do
	verify "$U/$u" || { cat "$W/verify.out"; fail "systemd-analyze verify $u"; }
	echo "verify $u: clean"
done
sed 's/^\[Service\]$/[Service]\nRestartSecs=5/' "$U/podwired.service" >"$U/pw16bad.service"
verify "$U/pw16bad.service" && fail "verify did not catch an unknown key"
grep -q "Unknown key" "$W/verify.out" || fail "verify's complaint is not about the unknown key"
rm "$U/pw16bad.service"
echo "verify catches an unknown key: $(head -n 1 "$W/verify.out")"

echo "== assertions: no /dev/net/tun and no WireGuard module"
asserts() { sed -n 's/^\(Assert[A-Za-z]*=.*\)/\1/p' "$U/$1"; }
for u in podwired.service podwirectl@.service podwire-wg@.service; do
	mapfile -t a < <(asserts "$u")
	[ ${#a[@]} -gt 0 ] || fail "$u has no assertion"
	systemd-analyze condition "${a[@]}" >/dev/null 2>&1 || [ ! -e /dev/net/tun ] || fail "$u: assertions fail on this host"
	out=$(unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /dev/net && exec "$0" "$@"' \
		systemd-analyze condition "${a[@]}" 2>&1) && fail "$u: assertions pass without /dev/net/tun"
	echo "$out" | grep -q "/dev/net/tun failed" || { echo "$out"; fail "$u: the failure does not name /dev/net/tun"; }
	echo "$u without /dev/net/tun: $(echo "$out" | tr '\n' ' ')"
done

echo "== the units' commands on bad input"
execstart() { sed -n "s/^ExecStart=//p" "$U/$1" | sed "s/%i/$2/g"; }
cmd=$(execstart podwirectl@.service pw16nonexistent)
out=$(sh -c "$cmd" 2>&1) && fail "podwirectl@pw16nonexistent started"
echo "podwirectl@pw16nonexistent: $out"
echo "$out" | grep -q "/etc/wireguard/pw16nonexistent.conf" || fail "the error does not name the config path"
cmd=$(execstart podwire-wg@.service pw16notun)
out=$(unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /dev/net && exec sh -c "$0"' "$cmd" 2>&1) &&
	fail "podwire-wg@pw16notun started without /dev/net/tun"
echo "podwire-wg@pw16notun without /dev/net/tun: $out"
echo "$out" | grep -q "/dev/net/tun" || fail "the error does not name /dev/net/tun"
ip link show pw16notun >/dev/null 2>&1 && fail "pw16notun was left behind"
echo "ok"
