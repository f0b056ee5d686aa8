#!/bin/bash
# strip: `podwirectl strip` prints exactly what `wg-quick strip` prints (stdout and
# stderr) for every config from the tutorial (tests/configs/seed/) and tests/configs/valid/;
# every config in tests/configs/invalid/ is refused with "podwirectl: PATH:LINE: reason" as
# its first line "# expect: LINE: reason" says. Then real wg(8) judges the same files: the
# stripped valid configs are accepted by `wg setconf` on a wireguard-go interface in a
# private namespace, and the broken ones that wg itself can judge are refused by it too.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
cd "$(dirname "$0")/../.."
ctl=$B/podwirectl
require_cmd wg-quick
[ "$(id -u)" -eq 0 ] || skip "needs root: wg-quick strip re-executes itself with sudo"
require_built podwirectl

ns=pa-strip ifname=pastrip0

valid=(tests/configs/seed/*.conf tests/configs/valid/*.conf)
invalid=(tests/configs/invalid/*.conf)
[ ${#valid[@]} -ge 46 ] || fail "expected the seed configs and at least 30 valid configs, found ${#valid[@]}"
[ ${#invalid[@]} -ge 30 ] || fail "expected at least 30 invalid configs, found ${#invalid[@]}"

n=0
for f in "${valid[@]}"; do
	"$ctl" strip "$f" >"$W/ours" 2>"$W/ours.err" || fail "podwirectl strip $f: $(cat "$W/ours.err")"
	wg-quick strip "$f" >"$W/theirs" 2>"$W/theirs.err" || fail "wg-quick strip $f failed: $(cat "$W/theirs.err")"
	cmp -s "$W/ours" "$W/theirs" || { diff "$W/ours" "$W/theirs" | head -20; fail "$f: stdout differs from wg-quick strip"; }
	cmp -s "$W/ours.err" "$W/theirs.err" || fail "$f: stderr '$(cat "$W/ours.err")' differs from wg-quick's '$(cat "$W/theirs.err")'"
	n=$((n + 1))
done
echo "$n configs: podwirectl strip == wg-quick strip"

n=0
for f in "${invalid[@]}"; do
	expect=$(head -n 1 "$f" | sed -n 's/^# expect: //p')
	[ -n "$expect" ] || fail "$f has no '# expect: LINE: reason' first line"
	if "$ctl" strip "$f" >"$W/ours" 2>"$W/ours.err"; then
		fail "$f: accepted"
	fi
	[ ! -s "$W/ours" ] || fail "$f: printed something to stdout although refused"
	got=$(grep -v '^Warning: ' "$W/ours.err")
	[ "$got" = "podwirectl: $f:$expect" ] || fail "$f: got '$got', want 'podwirectl: $f:$expect'"
	n=$((n + 1))
done
echo "$n broken configs refused with line and reason"

# strip reads no secret and resolves nothing: the podwire key sources (key files and commands) stay in the output
# (as wg-quick keeps the lines it does not own, so `syncconf IF <(strip IF)` keeps the keys; a
# relative key file made absolute) without being opened or run, and a host name endpoint stays text.
cat >"$W/pasecret.conf" <<EOF
[Interface]
PrivateKeyFile = no-such.key
Address = 10.0.0.1/24
[Peer]
PublicKey = RaqJRGbSmH67wov05zxx6uRbJJk3w3CU42pcQew7OHA=
PresharedKeyCommand = touch $W/command-ran
Endpoint = host-that-must-not-be-resolved.example:51820
EOF
printf '[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\nPresharedKeyCommand = %s\nEndpoint = %s\n\n' \
	"$(cd "$W" && pwd -P)/no-such.key" RaqJRGbSmH67wov05zxx6uRbJJk3w3CU42pcQew7OHA= "touch $W/command-ran" \
	host-that-must-not-be-resolved.example:51820 >"$W/want"
strace_run=()
# LeakSanitizer cannot run under ptrace: leaks are checked in the runs above, not this one.
command -v strace >/dev/null &&
	strace_run=(env ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$W/strace" -e trace=socket,openat)
"${strace_run[@]}" "$ctl" strip "$W/pasecret.conf" >"$W/ours" 2>"$W/ours.err" ||
	fail "strip with key sources: $(cat "$W/ours.err")"
cmp -s "$W/ours" "$W/want" || { diff "$W/ours" "$W/want"; fail "strip did not keep the key source lines (absolute)"; }
[ ! -e "$W/command-ran" ] || fail "strip ran PresharedKeyCommand"
if [ ${#strace_run[@]} -gt 0 ]; then
	grep -q 'no-such.key' "$W/strace" && fail "strip tried to open PrivateKeyFile"
	grep -qE 'socket\(AF_INET6?,' "$W/strace" && fail "strip opened a network socket (resolved the endpoint?)"
	echo "strip: key sources kept (relative file made absolute), not read or run, nothing resolved (checked with strace)"
else
	echo "strip: key sources kept (relative file made absolute), not read or run (strace not installed: resolution not traced)"
fi

# The same files before real wg(8), on a wireguard-go interface in a namespace of ours.
command -v wireguard-go >/dev/null || skip "wireguard-go is not installed: cannot cross-check with wg setconf"
[ -c /dev/net/tun ] || skip "no /dev/net/tun: cannot cross-check with wg setconf"
netns_add "$ns"
wg_start wireguard-go "$ns" "$ifname"

# Host names would make wg resolve them (traffic leaving this machine): those files are
# checked above only.
has_hostname() { grep -qiE '^[[:space:]]*endpoint[[:space:]]*=[[:space:]]*[a-z]' "$1"; }
n=0
for f in "${valid[@]}"; do
	has_hostname "$f" && continue
	wg-quick strip "$f" >"$W/stripped" 2>/dev/null
	ip netns exec "$ns" wg setconf "$ifname" "$W/stripped" 2>"$W/wg.err" ||
		fail "$f: we accept it but wg setconf refuses it: $(cat "$W/wg.err")"
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
	if ! wg-quick strip "$f" >"$W/stripped" 2>/dev/null; then
		n=$((n + 1)) # wg-quick itself refuses it (SaveConfig)
		continue
	fi
	if ip netns exec "$ns" wg setconf "$ifname" "$W/stripped" 2>/dev/null; then
		fail "$f: we refuse it but wg-quick strip | wg setconf accepts it"
	fi
	n=$((n + 1))
done
echo "$n broken configs refused by wg-quick/wg setconf as well"
