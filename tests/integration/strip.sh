#!/bin/bash
# strip (F2): `podwirectl strip` prints exactly what `wg-quick strip` prints (stdout and
# stderr) for every config from the tutorial (tests/configs/seed/) and tests/configs/valid/;
# every config in tests/configs/invalid/ is refused with "podwirectl: PATH:LINE: reason" as
# its first line "# expect: LINE: reason" says. Then real wg(8) judges the same files: the
# stripped valid configs are accepted by `wg setconf` on a wireguard-go interface in a
# private namespace, and the broken ones that wg itself can judge are refused by it too.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODWIRE_BUILD:-$top/build}
ctl=$build/podwirectl
cd "$top"
command -v wg-quick >/dev/null || { echo "wg-quick (wireguard-tools) is not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "needs root: wg-quick strip re-executes itself with sudo"; exit 77; }
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }

ns=pa-strip ifname=pastrip0 wgpid=
tmp=$(mktemp -d /tmp/pa-strip-XXXXXX)
cleanup() {
	set +e # a step that fails must not skip the ones after it
	[ -n "$wgpid" ] && kill "$wgpid" 2>/dev/null && wait "$wgpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "/var/run/wireguard/$ifname.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

valid=(tests/configs/seed/*.conf tests/configs/valid/*.conf)
invalid=(tests/configs/invalid/*.conf)
[ ${#valid[@]} -ge 46 ] || fail "expected the seed configs and at least 30 valid configs, found ${#valid[@]}"
[ ${#invalid[@]} -ge 30 ] || fail "expected at least 30 invalid configs, found ${#invalid[@]}"

n=0
for f in "${valid[@]}"; do
	"$ctl" strip "$f" >"$tmp/ours" 2>"$tmp/ours.err" || fail "podwirectl strip $f: $(cat "$tmp/ours.err")"
	wg-quick strip "$f" >"$tmp/theirs" 2>"$tmp/theirs.err" || fail "wg-quick strip $f failed: $(cat "$tmp/theirs.err")"
	cmp -s "$tmp/ours" "$tmp/theirs" || { diff "$tmp/ours" "$tmp/theirs" | head -20; fail "$f: stdout differs from wg-quick strip"; }
	cmp -s "$tmp/ours.err" "$tmp/theirs.err" || fail "$f: stderr '$(cat "$tmp/ours.err")' differs from wg-quick's '$(cat "$tmp/theirs.err")'"
	n=$((n + 1))
done
echo "$n configs: podwirectl strip == wg-quick strip"

n=0
for f in "${invalid[@]}"; do
	expect=$(head -n 1 "$f" | sed -n 's/^# expect: //p')
	[ -n "$expect" ] || fail "$f has no '# expect: LINE: reason' first line"
	if "$ctl" strip "$f" >"$tmp/ours" 2>"$tmp/ours.err"; then
		fail "$f: accepted"
	fi
	[ ! -s "$tmp/ours" ] || fail "$f: printed something to stdout although refused"
	got=$(grep -v '^Warning: ' "$tmp/ours.err")
	[ "$got" = "podwirectl: $f:$expect" ] || fail "$f: got '$got', want 'podwirectl: $f:$expect'"
	n=$((n + 1))
done
echo "$n broken configs refused with line and reason"

# strip reads no secret and resolves nothing: the podwire key sources (F14) stay in the output
# (as wg-quick keeps the lines it does not own, so `syncconf IF <(strip IF)` keeps the keys; a
# relative key file made absolute) without being opened or run, and a host name endpoint stays text.
cat >"$tmp/pasecret.conf" <<EOF
[Interface]
PrivateKeyFile = no-such.key
Address = 10.0.0.1/24
[Peer]
PublicKey = RaqJRGbSmH67wov05zxx6uRbJJk3w3CU42pcQew7OHA=
PresharedKeyCommand = touch $tmp/command-ran
Endpoint = host-that-must-not-be-resolved.example:51820
EOF
printf '[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\nPresharedKeyCommand = %s\nEndpoint = %s\n\n' \
	"$(cd "$tmp" && pwd -P)/no-such.key" RaqJRGbSmH67wov05zxx6uRbJJk3w3CU42pcQew7OHA= "touch $tmp/command-ran" \
	host-that-must-not-be-resolved.example:51820 >"$tmp/want"
strace_run=()
# LeakSanitizer cannot run under ptrace: leaks are checked in the runs above, not this one.
command -v strace >/dev/null &&
	strace_run=(env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$tmp/strace" -e trace=socket,openat)
"${strace_run[@]}" "$ctl" strip "$tmp/pasecret.conf" >"$tmp/ours" 2>"$tmp/ours.err" ||
	fail "strip with key sources: $(cat "$tmp/ours.err")"
cmp -s "$tmp/ours" "$tmp/want" || { diff "$tmp/ours" "$tmp/want"; fail "strip did not keep the key source lines (absolute)"; }
[ ! -e "$tmp/command-ran" ] || fail "strip ran PresharedKeyCommand"
if [ ${#strace_run[@]} -gt 0 ]; then
	grep -q 'no-such.key' "$tmp/strace" && fail "strip tried to open PrivateKeyFile"
	grep -qE 'socket\(AF_INET6?,' "$tmp/strace" && fail "strip opened a network socket (resolved the endpoint?)"
	echo "strip: key sources kept (relative file made absolute), not read or run, nothing resolved (checked with strace)"
else
	echo "strip: key sources kept (relative file made absolute), not read or run (strace not installed: resolution not traced)"
fi

# The same files before real wg(8), on a wireguard-go interface in a namespace of ours.
command -v wireguard-go >/dev/null || { echo "wireguard-go is not installed: cannot cross-check with wg setconf"; exit 77; }
[ -c /dev/net/tun ] || { echo "no /dev/net/tun: cannot cross-check with wg setconf"; exit 77; }
ip netns add "$ns"
ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go "$ifname" >"$tmp/wireguard-go.log" 2>&1 &
wgpid=$!
for _ in $(seq 50); do [ -S "/var/run/wireguard/$ifname.sock" ] && break; sleep 0.1; done
[ -S "/var/run/wireguard/$ifname.sock" ] || fail "wireguard-go did not start: $(cat "$tmp/wireguard-go.log")"

# Host names would make wg resolve them (traffic leaving this machine): those files are
# checked above only.
has_hostname() { grep -qiE '^[[:space:]]*endpoint[[:space:]]*=[[:space:]]*[a-z]' "$1"; }
n=0
for f in "${valid[@]}"; do
	has_hostname "$f" && continue
	wg-quick strip "$f" >"$tmp/stripped" 2>/dev/null
	ip netns exec "$ns" wg setconf "$ifname" "$tmp/stripped" 2>"$tmp/wg.err" ||
		fail "$f: we accept it but wg setconf refuses it: $(cat "$tmp/wg.err")"
	n=$((n + 1))
done
echo "$n valid configs (no host names) accepted by wg setconf"

# Refused by us but not by wg setconf, on purpose: wg-quick leaves Address, DNS, MTU and
# Table to ip(8)/resolvconf at `up` (we refuse them before anything is applied); a bare
# IPv6 endpoint without brackets (lib/ipaddr requires them); a port out of range on a host
# name (would resolve); ListenPort 70000 (glibc's getaddrinfo truncates it: wg sets 4464);
# a NUL byte (bash drops it silently).
not_wg="addr-cidr addr-word dns-bad mtu-word mtu-small table-bad ep-v6-nobr ep-port port-range nul"
n=0
for f in "${invalid[@]}"; do
	[[ " $not_wg " == *" $(basename "$f" .conf) "* ]] && continue
	if ! wg-quick strip "$f" >"$tmp/stripped" 2>/dev/null; then
		n=$((n + 1)) # wg-quick itself refuses it (SaveConfig)
		continue
	fi
	if ip netns exec "$ns" wg setconf "$ifname" "$tmp/stripped" 2>/dev/null; then
		fail "$f: we refuse it but wg-quick strip | wg setconf accepts it"
	fi
	n=$((n + 1))
done
echo "$n broken configs refused by wg-quick/wg setconf as well"
