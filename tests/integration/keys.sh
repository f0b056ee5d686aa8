#!/bin/bash
# keys: podwirectl genkey/pubkey/genpsk behave as wg's.
#  - 1000 keys from `podwirectl genkey`: `podwirectl pubkey` prints what `wg pubkey` prints;
#  - 20 malformed private keys: both refuse with the same message and a non-zero exit;
#  - genkey/genpsk into a world-readable file warn exactly as wg does, and not under umask 077;
#  - genkey/genpsk into a full or closed stdout exit as wg does (0), and say on stderr why the
#    key went nowhere.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
ctl=$B/podwirectl
require_cmd wg
require_built podwirectl

# 1000 keys, one process per key and tool, no subshells, two workers per loop (the suite
# runs on 2 cores). Under ASan the leak check at exit (LeakSanitizer) is the slow part of each
# of these 2000 short runs, so it is off here only: the checks further down run with it.
t0=$SECONDS
genkeys() { local _; for _ in $(seq 500); do ASAN_OPTIONS=detect_leaks=0 "$ctl" genkey; done; }
pubkeys() { local k; while read -r k; do ASAN_OPTIONS=detect_leaks=0 "$ctl" pubkey <<<"$k"; done; }
(umask 077; genkeys >"$W/priv.0" & genkeys >"$W/priv.1"; wait $!) || fail "genkey failed"
cat "$W/priv.0" "$W/priv.1" >"$W/priv"
pubkeys <"$W/priv.0" >"$W/ours.0" &
w0=$!
pubkeys <"$W/priv.1" >"$W/ours.1" &
w1=$!
while read -r k; do wg pubkey <<<"$k"; done <"$W/priv" >"$W/theirs"
wait $w0 && wait $w1 || fail "podwirectl pubkey failed on a key from podwirectl genkey"
cat "$W/ours.0" "$W/ours.1" >"$W/ours"
[ "$(wc -l <"$W/priv")" -eq 1000 ] || fail "genkey did not print 1000 lines"
[ "$(sort -u "$W/priv" | wc -l)" -eq 1000 ] || fail "genkey repeated a key"
grep -qvE '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' "$W/priv" && fail "genkey printed a malformed key"
# Clamping (RFC 7748 §5) shows in the first and last base64 characters' bits; wg pubkey
# agreeing on all 1000 is the real check.
cmp -s "$W/ours" "$W/theirs" || { diff "$W/ours" "$W/theirs" | head; fail "pubkey differs from wg pubkey"; }
echo "1000 keys: podwirectl pubkey == wg pubkey ($((SECONDS - t0)) s)"

# 20 malformed inputs: same message (program name aside), both non-zero.
good=$(head -n 1 "$W/priv")
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
	printf '%s' "$b" | "$ctl" pubkey >"$W/o1" 2>"$W/e1"; rc1=$?
	printf '%s' "$b" | wg pubkey >"$W/o2" 2>"$W/e2"; rc2=$?
	set -e
	[ $rc1 -ne 0 ] || fail "malformed input $i accepted by podwirectl pubkey"
	[ $rc2 -ne 0 ] || fail "malformed input $i accepted by wg pubkey (test input is wrong)"
	[ ! -s "$W/o1" ] || fail "malformed input $i: podwirectl printed to stdout"
	sed "s|^$ctl:|wg:|; s|^podwirectl:|wg:|" "$W/e1" >"$W/e1n"
	cmp -s "$W/e1n" "$W/e2" || fail "malformed input $i: message '$(cat "$W/e1")' differs from wg's '$(cat "$W/e2")'"
done
echo "20 malformed keys refused with wg's messages"

# World-readable output file: the same warning as wg; none under umask 077.
for cmd in genkey genpsk; do
	rm -f "$W/k1" "$W/k2"
	(umask 022; "$ctl" $cmd >"$W/k1" 2>"$W/w1"; wg $cmd >"$W/k2" 2>"$W/w2")
	[ -s "$W/w2" ] || fail "wg $cmd did not warn (test setup is wrong)"
	cmp -s "$W/w1" "$W/w2" || fail "$cmd warning '$(cat "$W/w1")' differs from wg's '$(cat "$W/w2")'"
	"$ctl" pubkey <"$W/k1" >/dev/null || fail "$cmd wrote a key pubkey refuses"
	rm -f "$W/k1"
	(umask 077; "$ctl" $cmd >"$W/k1" 2>"$W/w1")
	[ ! -s "$W/w1" ] || fail "$cmd warned for a private file: $(cat "$W/w1")"
	[ "$(stat -c %a "$W/k1")" = 600 ] || fail "$cmd file mode is not 600 under umask 077"
done
echo "genkey/genpsk warn like wg on world-readable files"

# A full or closed stdout: wg exits 0 without a word; we exit the same, and say what failed.
for cmd in genkey genpsk; do
	for out in full closed; do
		set +e
		if [ $out = full ]; then
			"$ctl" $cmd >/dev/full 2>"$W/e1"; rc1=$?
			wg $cmd >/dev/full 2>/dev/null; rc2=$?
		else
			"$ctl" $cmd >&- 2>"$W/e1"; rc1=$?
			wg $cmd >&- 2>/dev/null; rc2=$?
		fi
		set -e
		[ $rc1 -eq $rc2 ] || fail "$cmd into a $out stdout exits $rc1, wg $cmd $rc2"
		grep -q "^podwirectl: $cmd: cannot write the key to stdout: " "$W/e1" ||
			fail "$cmd into a $out stdout did not say why: '$(cat "$W/e1")'"
	done
done
echo "genkey/genpsk into a full or closed stdout: wg's exit status ($rc2), and the reason on stderr"
