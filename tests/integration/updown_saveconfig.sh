#!/bin/bash
# updown_saveconfig.sh — SaveConfig (`podwirectl save` and `down`) writes key sources back as
# themselves: a config whose keys come from PrivateKeyFile, PresharedKeyFile and
# PresharedKeyCommand is rewritten with those same lines and no key text anywhere in it; the
# new file is mode 0600 even where the old one was 0640; a symlink left at a guessable
# temporary name is neither followed nor reused; a symlinked config keeps its link and has its
# target rewritten (wg-quick's readlink -f); the saved file brings the same keys up again.
set -uo pipefail
. "$(dirname "$0")/lib/common.bash"
require_root
require_cmd wg
require_built podwirectl
use_userspace_wg
IF=p13cs0 NS=p13c-save
track_wg $NS $IF
resolvconf_mock "$W/bin" "$W/rc"
export PATH="$W/bin:$PATH"
netns_add $NS
umask 077
make_key priv peer1 peer2 peer3
for k in psk1 psk2 psk3; do wg genpsk > "$W/$k"; done
D=$W/etc; mkdir -p -m 700 "$D/real"
cp "$W/priv.key" "$D/real/priv.key"; cp "$W/psk1" "$D/real/psk1.key"
CONF=$D/real/$IF.conf LINK=$D/$IF.conf
cat > "$CONF" <<C
[Interface]
PrivateKeyFile = priv.key
Address = 10.131.0.1/24
ListenPort = 40131
SaveConfig = true

[Peer]
PublicKey = $(cat "$W/peer1.pub")
PresharedKeyFile = $D/real/psk1.key
AllowedIPs = 10.131.1.0/24

[Peer]
PublicKey = $(cat "$W/peer2.pub")
PresharedKeyCommand = cat $W/psk2
AllowedIPs = 10.131.2.0/24

[Peer]
PublicKey = $(cat "$W/peer3.pub")
PresharedKey = $(cat "$W/psk3")
AllowedIPs = 10.131.3.0/24
C
chmod 640 "$CONF"
ln -s real/$IF.conf "$LINK"
# A symlink where the old code put its temporary file: it must not be followed.
echo victim > "$W/victim"; chmod 644 "$W/victim"
ln -s "$W/victim" "$CONF.tmp"

pc() { ip netns exec $NS "$B/podwirectl" "$@" > "$W/out" 2>&1 || { cat "$W/out"; fail "podwirectl $*"; }; }
no_secrets() { # FILE WHAT: no private key or file/command-sourced key text in FILE
	local k
	for k in "$W/priv.key" "$W/psk1" "$W/psk2"; do
		if grep -qF "$(cat "$k")" "$1"; then cat "$1"; fail "$2: the key of $k is written inline"; fi
	done
	ok "$2: no key from a file or command written inline"
}
check_saved() { # WHAT
	local f=$CONF mode
	[ -L "$LINK" ] && [ "$(readlink "$LINK")" = "real/$IF.conf" ] || fail "$1: the config symlink was replaced"
	ok "$1: the symlinked config is still a symlink to real/$IF.conf"
	mode=$(stat -c %a "$f")
	[ "$mode" = 600 ] || fail "$1: saved file has mode $mode, not 600"
	ok "$1: saved file is mode 600 (was 640)"
	grep -qx "PrivateKeyFile = priv.key" "$f" || { cat "$f"; fail "$1: PrivateKeyFile line missing"; }
	grep -qx "PresharedKeyFile = $D/real/psk1.key" "$f" || { cat "$f"; fail "$1: PresharedKeyFile line missing"; }
	grep -qx "PresharedKeyCommand = cat $W/psk2" "$f" || { cat "$f"; fail "$1: PresharedKeyCommand line missing"; }
	grep -qx "PresharedKey = $(cat "$W/psk3")" "$f" || { cat "$f"; fail "$1: the inline PresharedKey was lost"; }
	[ "$(grep -c '^PrivateKey = ' "$f")" = 0 ] || { cat "$f"; fail "$1: an inline PrivateKey line"; }
	[ "$(grep -c '^PresharedKey = ' "$f")" = 1 ] || { cat "$f"; fail "$1: more than one inline PresharedKey"; }
	ok "$1: PrivateKeyFile, PresharedKeyFile, PresharedKeyCommand written back as themselves; inline key kept"
	no_secrets "$f" "$1"
	[ "$(cat "$W/victim")" = victim ] && [ -L "$CONF.tmp" ] || fail "$1: the symlink at $CONF.tmp was followed or replaced"
	ok "$1: the symlink at FILE.tmp was left alone and its target untouched"
	[ -z "$(find "$D/real" -name "$IF.conf.??????")" ] || fail "$1: a temporary file was left behind"
	ok "$1: no temporary file left behind"
}

pc up "$LINK"
grep -q "world accessible" "$W/out" && fail "up warned about a 0640 file in a 0700 directory"
# A peer added while running is saved too (its PSK inline: it has no source).
ip netns exec $NS wg set $IF peer "$(wg genkey | wg pubkey)" allowed-ips 10.131.9.0/24
pc save "$LINK"
check_saved "save"
[ "$(grep -c '^\[Peer\]' "$CONF")" = 4 ] || { cat "$CONF"; fail "save: the peer added at run time is missing"; }
ok "save: the peer added at run time is in the file"
chmod 640 "$CONF"
pc down "$LINK"
wait_socket_gone $IF
check_saved "down"

# The saved file brings the same keys back.
pc up "$LINK"
[ "$(ip netns exec $NS wg show $IF private-key)" = "$(cat "$W/priv.key")" ] || fail "re-up: wrong private key"
ip netns exec $NS wg show $IF preshared-keys > "$W/psks"
for i in 1 2 3; do
	grep -qF "$(cat "$W/peer$i.pub")	$(cat "$W/psk$i")" "$W/psks" || { cat "$W/psks"; fail "re-up: peer$i's preshared key"; }
done
ok "re-up from the saved file: the private key and all three preshared keys are the configured ones"
pc down "$LINK"
wait_socket_gone $IF

echo "all $CHECKS checks passed"
