#!/bin/bash
# bash completion of podwirectl, driven the way bash drives it (COMP_WORDS/COMP_CWORD, then
# the function "complete -p podwirectl" names): subcommands, interface names (a real
# podwire-wg interface in a namespace of this test), show fields, config names from the
# config directory (PODWIRECTL_CONFIG_DIR stands in for /etc/wireguard, which is shared), and
# loading through bash-completion's on-demand loader from the installed location.
source "$(dirname "$0")/lib/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
require_root
require_built podwire-wg
ns=pw16comp ifc=pw16c0

netns_add "$ns"
track_wg "$ns" "$ifc"
ip netns exec "$ns" "$B/podwire-wg" "$ifc" || fail "podwire-wg $ifc"
mkdir -p "$W/wireguard"
touch "$W/wireguard/pw16a.conf" "$W/wireguard/pw16b.conf" "$W/wireguard/notes.txt"
mkdir "$W/wireguard/sub" # a directory for install-cni's DEST_DIR

# complete_words WORD...: what completing the last word offers, one per line, sorted.
cat >"$W/drive.bash" <<'DRIVE'
source "$COMPLETION"
spec=$(complete -p podwirectl) || exit 1
fn=$(echo "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
complete_words() {
	COMP_WORDS=(podwirectl "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
	"$fn" podwirectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
echo "spec: $spec"
echo "sub_s: $(complete_words s)"
echo "all_subs: $(complete_words '' | wc -w)"
echo "show_iface: $(complete_words show pw16)"
echo "show_all: $(complete_words show '')"
echo "show_fields: $(complete_words show pw16c0 '')"
echo "show_l: $(complete_words show pw16c0 l)"
echo "up: $(complete_words up '')"
echo "down_pw16b: $(complete_words down pw16b)"
echo "syncconf_iface: $(complete_words syncconf pw)"
echo "status_store: $(complete_words status --store '')"
echo "peer: $(complete_words peer '')"
echo "peer_r: $(complete_words peer r)"
echo "peer_remove_opts: $(complete_words peer remove laptop --store)"
echo "peer_config_opts: $(complete_words peer config laptop --f)"
echo "peer_config_from: $(complete_words peer config laptop --from "$CONFIGS/pw16")"
echo "sub_i: $(complete_words i)"
echo "install_cni_opts: $(complete_words install-cni --)"
echo "install_cni_dir: $(complete_words install-cni "$CONFIGS/")"
DRIVE
out=$(ip netns exec "$ns" env PATH="$B:$PATH" COMPLETION="$top/contrib/completion/podwirectl.bash" \
	PODWIRECTL_CONFIG_DIR="$W/wireguard" CONFIGS="$W/wireguard" bash "$W/drive.bash") || fail "driver failed: $out"
echo "$out"
want() { # key expected
	local got; got=$(echo "$out" | sed -n "s/^$1: //p")
	[ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
}
want spec "complete -F _podwirectl podwirectl"
want sub_s "save set setconf show showconf status strip syncconf"
want all_subs 18
echo "$out" | grep "^show_iface: " | grep -qw "$ifc" || fail "show: interface $ifc not offered"
echo "$out" | grep "^show_all: " | grep -qw all || fail "show: 'all' not offered"
echo "$out" | grep "^show_all: " | grep -qw interfaces || fail "show: 'interfaces' not offered"
want show_fields "allowed-ips dump endpoints fwmark latest-handshakes listen-port peers persistent-keepalive preshared-keys private-key public-key transfer"
want show_l "latest-handshakes listen-port"
want up "pw16a pw16b"
want down_pw16b "pw16b"
echo "$out" | grep "^syncconf_iface: " | grep -qw "$ifc" || fail "syncconf: interface $ifc not offered"
want status_store "etcd file"
want peer "add config remove"
want peer_r "remove"
want peer_remove_opts "--store --store-dir"
want peer_config_opts "--from"
want peer_config_from "$W/wireguard/pw16a.conf $W/wireguard/pw16b.conf"
want sub_i "install-cni"
want install_cni_opts "--from"
want install_cni_dir "$W/wireguard/sub"

if [ -f /usr/share/bash-completion/bash_completion ]; then
	echo "== loaded on demand by bash-completion from an installed tree"
	make -C "$top" -s PREFIX="$W/usr" install-completion >/dev/null || fail "make install-completion"
	spec=$(XDG_DATA_DIRS="$W/usr/share" BASH_COMPLETION_USER_DIR=/nonexistent bash -c \
		'source /usr/share/bash-completion/bash_completion; _completion_loader podwirectl; complete -p podwirectl' 2>&1)
	echo "$spec"
	[ "$spec" = "complete -F _podwirectl podwirectl" ] || fail "bash-completion did not load podwirectl's completion"
fi
echo "ok"
