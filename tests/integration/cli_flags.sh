#!/bin/bash
# cli_flags: the habits users bring from wg and wireguard-go, on all five binaries.
#  - `--version` prints the version and exits 0 (podwire-wg in wireguard-go's shape);
#  - `--help` (and -h) prints usage on stdout and exits 0, on every podwirectl subcommand too;
#  - `podwirectl` with no arguments is `podwirectl show`, as `wg` with none is `wg show`;
#  - podwirectl run by the name `wg' offers exactly wg(8)'s subcommands, and by `wg-quick' is
#    wg-quick(8) (up, down, save, strip; its usage otherwise), as the image links them;
#  - the CNI plugins run by hand (CNI_COMMAND unset) print an about text and exit 0, as the
#    reference plugins do, instead of a JSON error; they do not wait for stdin.
set -euo pipefail
source "$(dirname "$0")/lib/common.bash"
build=$B
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' "$(dirname "$0")/../../lib/version.h")
[ -n "$version" ] || fail "no PODWIRE_VERSION in lib/version.h"

for b in podwirectl podwired podwire-wg; do
	"$build/$b" --version >"$W/out" 2>&1 || fail "$b --version exited $?"
	v=$(head -n 1 "$W/out")
	[[ $v =~ ^$b\ v?$version$ ]] || fail "$b --version printed: $v"
	for h in --help -h; do
		"$build/$b" "$h" >"$W/out" 2>"$W/err" || fail "$b $h exited $?"
		grep -q '^Usage: ' "$W/out" || fail "$b $h printed no usage on stdout: $(head -c 200 "$W/out" "$W/err")"
	done
	echo "ok: $b --version ($v), --help and -h exit 0"
done
# podwirectl by the names the image gives it: wg and wg-quick.
mkdir "$W/names"
ln -s "$build/podwirectl" "$W/names/wg"
ln -s "$build/podwirectl" "$W/names/wg-quick"
wg_subs=$("$W/names/wg" --help | sed -n 's/^  \([a-z]*\): .*/\1/p' | sort | tr '\n' ' ')
[ "$wg_subs" = "addconf genkey genpsk pubkey set setconf show showconf syncconf " ] ||
	fail "podwirectl as wg lists: $wg_subs (want wg(8)'s nine)"
"$W/names/wg" up x >/dev/null 2>"$W/err" && fail "podwirectl as wg accepted up"
grep -q "^Invalid subcommand: \`up'" "$W/err" || fail "podwirectl as wg up: $(head -n 1 "$W/err")"
[ "$("$W/names/wg" genkey | "$W/names/wg" pubkey | wc -c)" = 45 ] || fail "wg genkey | wg pubkey"
"$W/names/wg-quick" >/dev/null 2>"$W/err" && fail "wg-quick with no arguments exited 0"
grep -qx 'Usage: wg-quick \[ up | down | save | strip \] \[ CONFIG_FILE | INTERFACE \]' "$W/err" ||
	fail "wg-quick's usage: $(cat "$W/err")"
"$W/names/wg-quick" show >/dev/null 2>&1 && fail "wg-quick accepted show"
printf '[Interface]\nPrivateKey = %s\nAddress = 10.9.0.1/24\n' "$("$build/podwirectl" genkey)" >"$W/pwfl.conf"
"$W/names/wg-quick" strip "$W/pwfl.conf" >"$W/strip.q" || fail "wg-quick strip exited $?"
"$build/podwirectl" strip "$W/pwfl.conf" >"$W/strip.p"
cmp -s "$W/strip.q" "$W/strip.p" && grep -q '^PrivateKey' "$W/strip.q" || fail "wg-quick strip differs from podwirectl strip"
echo "ok: podwirectl as wg offers wg(8)'s nine subcommands, as wg-quick is up/down/save/strip with wg-quick's usage"
# Every podwirectl subcommand, as listed by the main help (which promises `--help' for each).
subs=$("$build/podwirectl" --help | sed -n 's/^  \([a-z]*\): .*/\1/p')
[ "$(wc -w <<<"$subs")" -ge 16 ] || fail "podwirectl --help lists too few subcommands: $subs"
for s in $subs; do
	for h in --help -h; do
		"$build/podwirectl" "$s" "$h" </dev/null >"$W/out" 2>"$W/err" || fail "podwirectl $s $h exited $?: $(cat "$W/err")"
		grep -q "^Usage: podwirectl $s" "$W/out" || fail "podwirectl $s $h printed no usage on stdout: $(cat "$W/out" "$W/err")"
	done
done
# A wrong command line still gets usage on stderr and exit 1.
"$build/podwirectl" genkey extra >"$W/out" 2>"$W/err" && fail "podwirectl genkey extra exited 0"
grep -q '^Usage: podwirectl genkey' "$W/err" || fail "podwirectl genkey extra: no usage on stderr"
echo "ok: all $(wc -w <<<"$subs") podwirectl subcommands answer --help and -h with usage on stdout, exit 0"
head -n 3 <("$build/podwire-wg" --version) | sed -n 2p | grep -q '^$' || fail "podwire-wg --version is not in wireguard-go's shape"

# stdin for the plugins: a pipe that never closes and never brings data (a FIFO held open for
# reading and writing), so a plugin that waited for a config would hang until the timeout.
mkfifo "$W/stdin"
exec 3<>"$W/stdin"
for p in podwire podwire-ipam; do
	for a in --version --help ""; do
		timeout 5 env -u CNI_COMMAND "$build/$p" $a <&3 >"$W/out" 2>"$W/err" || fail "$p $a exited $? (or waited for stdin)"
		# Asked for (--help, --version) the text goes to stdout, as any program's; run bare it
		# goes to stderr, as the reference plugins print it.
		if [ -n "$a" ]; then where=$W/out; else where=$W/err; fi
		grep -qx "CNI $p plugin v$version" "$where" || fail "$p $a: no about line: $(cat "$W/out" "$W/err")"
		grep -qx "CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0" "$where" ||
			fail "$p $a: no protocol versions line: $(cat "$W/out" "$W/err")"
	done
	# A runtime's VERSION call still gets JSON.
	CNI_COMMAND=VERSION "$build/$p" </dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["cniVersion"]=="1.1.0", d' ||
		fail "$p: CNI_COMMAND=VERSION no longer answers JSON"
	echo "ok: $p by hand prints the about text; VERSION still answers JSON"
done
exec 3>&-

# podwirectl with no arguments == podwirectl show: one userspace interface in a namespace of
# our own, with a private /run/wireguard so that other tests' sockets are not listed.
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	ns=pw-flags-$$
	netns_add "$ns"
	# The namespace's own shell polls with the test base's wait (a private /run/wireguard).
	export -f wait_until socket_up uapi_sock
	mkdir -p /run/wireguard
	ip netns exec "$ns" unshare --mount --propagation private bash -c '
		set -e
		mount -t tmpfs tmpfs /run/wireguard
		"$1/podwire-wg" -f pwfl0 >"$2/wg.log" 2>&1 &
		wait_until 5 socket_up pwfl0
		"$1/podwirectl" set pwfl0 listen-port 51999 private-key <("$1/podwirectl" genkey)
		"$1/podwirectl" show >"$2/show"
		"$1/podwirectl" >"$2/bare"
		# Daemonized, as wireguard-go, it keeps none of its parent'"'"'s descriptors (fd 9 here: a
		# lock or a pipe held open for the interface'"'"'s whole life would hang its parent'"'"'s caller).
		"$1/podwire-wg" pwfl1 9>"$2/held"
		pids=$(pgrep -f "podwire-wg pwfl1\$")
		[ -n "$pids" ] || { echo "daemonized podwire-wg pwfl1 is not running"; exit 1; }
		for pid in $pids; do # the daemon, and its parent if it has not exited yet
			if ls -l /proc/$pid/fd 2>/dev/null | grep -q "$2/held"; then
				echo "podwire-wg ($pid) kept an inherited descriptor"; exit 1
			fi
		done
		ip link del pwfl1
		ip link del pwfl0
		wait
	' cli_flags "$build" "$W" || fail "podwirectl show / bare podwirectl / podwire-wg daemon in a namespace: exit $? ($(cat "$W/wg.log" 2>/dev/null))"
	grep -q '^interface: pwfl0$' "$W/show" || fail "podwirectl show did not list pwfl0: $(cat "$W/show")"
	cmp -s "$W/show" "$W/bare" || fail "podwirectl with no arguments differs from show: $(diff "$W/show" "$W/bare")"
	echo "ok: podwirectl with no arguments prints what podwirectl show prints (interface pwfl0)"
	echo "ok: a daemonized podwire-wg keeps none of its parent's file descriptors"
fi
