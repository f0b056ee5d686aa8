#!/bin/bash
# keys (F1): podwirectl genkey/pubkey/genpsk behave as wg's.
#  - 1000 keys from `podwirectl genkey`: `podwirectl pubkey` prints what `wg pubkey` prints;
#  - 20 malformed private keys: both refuse with the same message and a non-zero exit;
#  - genkey/genpsk into a world-readable file warn exactly as wg does, and not under umask 077.
set -euo pipefail
build=${PODWIRE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
ctl=$build/podwirectl
command -v wg >/dev/null || { echo "wg (wireguard-tools) is not installed"; exit 77; }
[ -x "$ctl" ] || { echo "FAIL: $ctl not built"; exit 1; }

tmp=$(mktemp -d /tmp/pa-keys-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1000 keys, one process per key and tool, no subshells, two workers per loop (the suite
# runs on 2 cores). Under ASan the leak check at exit (LeakSanitizer) is the slow part of each
# of these 2000 short runs, so it is off here only: the checks further down run with it.
t0=$SECONDS
genkeys() { local _; for _ in $(seq 500); do ASAN_OPTIONS=detect_leaks=0 "$ctl" genkey; done; }
pubkeys() { local k; while read -r k; do ASAN_OPTIONS=detect_leaks=0 "$ctl" pubkey <<<"$k"; done; }
(umask 077; genkeys >"$tmp/priv.0" & genkeys >"$tmp/priv.1"; wait $!) || fail "genkey failed"
cat "$tmp/priv.0" "$tmp/priv.1" >"$tmp/priv"
pubkeys <"$tmp/priv.0" >"$tmp/ours.0" &
w0=$!
pubkeys <"$tmp/priv.1" >"$tmp/ours.1" &
w1=$!
while read -r k; do wg pubkey <<<"$k"; done <"$tmp/priv" >"$tmp/theirs"
wait $w0 && wait $w1 || fail "podwirectl pubkey failed on a key from podwirectl genkey"
cat "$tmp/ours.0" "$tmp/ours.1" >"$tmp/ours"
[ "$(wc -l <"$tmp/priv")" -eq 1000 ] || fail "genkey did not print 1000 lines"
[ "$(sort -u "$tmp/priv" | wc -l)" -eq 1000 ] || fail "genkey repeated a key"
grep -qvE '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' "$tmp/priv" && fail "genkey printed a malformed key"
# Clamping (RFC 7748 §5) shows in the first and last base64 characters' bits; wg pubkey
# agreeing on all 1000 is the real check.
cmp -s "$tmp/ours" "$tmp/theirs" || { diff "$tmp/ours" "$tmp/theirs" | head; fail "pubkey differs from wg pubkey"; }
echo "1000 keys: podwirectl pubkey == wg pubkey ($((SECONDS - t0)) s)"

# 20 malformed inputs: same message (program name aside), both non-zero.
good=$(head -n 1 "$tmp/priv")
bad=(
	""						# empty
	"${good:0:43}"					# short, no padding
	"${good:0:40}"					# short
	"${good}A"					# long
	"${good}="					# long, extra padding
	"${good:0:43}A"					# no padding
	"${good:0:42}=="				# bad padding
	"${good:0:10}!${good:11}"			# not base64
	"${good:0:10}-${good:11}"			# base64url, not base64
	"${good:0:10} ${good:11}"			# space inside
	"${good:0:20}=${good:21}"			# '=' inside
	"${good:0:42}B="				# unused bits set
	"$good trailing"				# trailing characters
	"$good"$'\n'"$good"				# two keys
	"$(printf '%064x' 0)"				# hex, not base64
	"============================================"	# only padding
	"   "						# only spaces
	$'\n'						# only a newline
	"${good:0:22}"$'\n'"${good:22}"			# newline inside
	"x$good"					# leading garbage
)
[ ${#bad[@]} -eq 20 ] || fail "expected 20 malformed inputs, have ${#bad[@]}"
i=0
for b in "${bad[@]}"; do
	i=$((i + 1))
	set +e
	printf '%s' "$b" | "$ctl" pubkey >"$tmp/o1" 2>"$tmp/e1"; rc1=$?
	printf '%s' "$b" | wg pubkey >"$tmp/o2" 2>"$tmp/e2"; rc2=$?
	set -e
	[ $rc1 -ne 0 ] || fail "malformed input $i accepted by podwirectl pubkey"
	[ $rc2 -ne 0 ] || fail "malformed input $i accepted by wg pubkey (test input is wrong)"
	[ ! -s "$tmp/o1" ] || fail "malformed input $i: podwirectl printed to stdout"
	sed "s|^$ctl:|wg:|; s|^podwirectl:|wg:|" "$tmp/e1" >"$tmp/e1n"
	cmp -s "$tmp/e1n" "$tmp/e2" || fail "malformed input $i: message '$(cat "$tmp/e1")' differs from wg's '$(cat "$tmp/e2")'"
done
echo "20 malformed keys refused with wg's messages"

# World-readable output file: the same warning as wg; none under umask 077.
for cmd in genkey genpsk; do
	rm -f "$tmp/k1" "$tmp/k2"
	(umask 022; "$ctl" $cmd >"$tmp/k1" 2>"$tmp/w1"; wg $cmd >"$tmp/k2" 2>"$tmp/w2")
	[ -s "$tmp/w2" ] || fail "wg $cmd did not warn (test setup is wrong)"
	cmp -s "$tmp/w1" "$tmp/w2" || fail "$cmd warning '$(cat "$tmp/w1")' differs from wg's '$(cat "$tmp/w2")'"
	"$ctl" pubkey <"$tmp/k1" >/dev/null || fail "$cmd wrote a key pubkey refuses"
	rm -f "$tmp/k1"
	(umask 077; "$ctl" $cmd >"$tmp/k1" 2>"$tmp/w1")
	[ ! -s "$tmp/w1" ] || fail "$cmd warned for a private file: $(cat "$tmp/w1")"
	[ "$(stat -c %a "$tmp/k1")" = 600 ] || fail "$cmd file mode is not 600 under umask 077"
done
echo "genkey/genpsk warn like wg on world-readable files"
