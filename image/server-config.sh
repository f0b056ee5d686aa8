#!/bin/bash
# podwire-server-config — linuxserver/wireguard's server mode: from the environment, the
# server's /config/wg_confs/wg0.conf and, per peer, /config/PEER/PEER.conf (the client's
# config), PEER.png (its QR code) and PEER.qr.txt (the same QR code for a terminal: `cat` it,
# or `podwire-entrypoint show-peer PEER`). Keys are made once and kept in /config, so a
# restart writes the same configs with the same keys; the configs follow the environment.
#   PEERS                      a number (peers peer1..peerN) or names "laptop,phone" (peer_laptop...)
#   SERVERURL                  what clients dial (default: auto = this container's first IPv4)
#   SERVERPORT                 the port clients dial (default 51820; the server listens on 51820)
#   INTERNAL_SUBNET            the tunnel's /24 (default 10.13.13.0): server .1, peers .2 on
#   ALLOWEDIPS                 the clients' AllowedIPs (default 0.0.0.0/0, ::/0)
#   PEERDNS                    the clients' DNS (default none: this image runs no resolver)
#   PERSISTENTKEEPALIVE_PEERS  "all" or peers (as named in PEERS) the server keeps alive (25 s)
# Every variable is checked before any file is written; --check stops there.
set -uo pipefail
config=${PODWIRE_CONFIG_DIR:-/config}
listen_port=51820

log() { echo "podwire: $*" >&2; }
die() { log "$@"; exit 1; }

if [ "${1:-}" = "--show" ]; then
	shift
	[ $# -gt 0 ] || die "show-peer: name a peer (as in PEERS)"
	for p in "$@"; do
		[[ $p =~ ^[0-9]+$ ]] && id=peer$p || id=peer_$p
		[ -f "$config/$id/$id.conf" ] || die "$config/$id/$id.conf: no such peer config"
		echo "PEER $p"
		qrencode -t ansiutf8 <"$config/$id/$id.conf"
	done
	exit 0
fi

# PEERS: the peers' names as given, and the ids that name their files.
names=()
if [[ $PEERS =~ ^[0-9]+$ ]]; then
	((10#$PEERS >= 1 && 10#$PEERS <= 253)) || die "PEERS=$PEERS: a number of peers must be 1 to 253"
	for ((i = 1; i <= 10#$PEERS; i++)); do names+=("$i"); done
elif [[ $PEERS =~ ^[A-Za-z0-9]+(,[A-Za-z0-9]+)*$ ]]; then
	IFS=, read -r -a names <<<"$PEERS"
	((${#names[@]} <= 253)) || die "PEERS: more than 253 peers do not fit in INTERNAL_SUBNET's /24"
	dup=$(printf '%s\n' "${names[@]}" | sort | uniq -d | head -n 1)
	[ -z "$dup" ] || die "PEERS=$PEERS: peer '$dup' is listed twice"
else
	die "PEERS='$PEERS': neither a number nor a comma-separated list of names (letters and digits)"
fi
peer_id() { [[ $1 =~ ^[0-9]+$ ]] && echo "peer$1" || echo "peer_$1"; }

port=${SERVERPORT:-51820}
[[ $port =~ ^[0-9]{1,5}$ ]] && ((10#$port >= 1 && 10#$port <= 65535)) ||
	die "SERVERPORT='$port': not a port number (1-65535)"
port=$((10#$port))

subnet=${INTERNAL_SUBNET:-10.13.13.0}
subnet=${subnet%/24}
[[ $subnet =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.0$ ]] &&
	((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 255)) ||
	die "INTERNAL_SUBNET='${INTERNAL_SUBNET}': not an IPv4 /24 network such as 10.13.13.0"
base=${subnet%.0}

url=${SERVERURL:-auto}
if [ "$url" = auto ]; then
	url=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
	[ -n "$url" ] || die "SERVERURL=auto: this container has no IPv4 address; set SERVERURL"
	[ "${1:-}" = "--check" ] || log "SERVERURL=auto: clients will dial $url (set SERVERURL to the address they reach)"
fi
[[ $url =~ ^[A-Za-z0-9.:-]+$ ]] || die "SERVERURL='$url': not a host name or address"
[[ $url == *:* ]] && endpoint="[$url]:$port" || endpoint="$url:$port"

allowed=${ALLOWEDIPS:-0.0.0.0/0, ::/0}
[[ $allowed =~ ^[0-9A-Fa-f.:/,\ ]+$ ]] || die "ALLOWEDIPS='$allowed': not a list of prefixes"
dns=${PEERDNS:-}
[ "$dns" = auto ] && dns=
[[ $dns =~ ^[0-9A-Fa-f.:,\ ]*$ ]] || die "PEERDNS='$dns': not a list of addresses"

keepalive=()
ka=${PERSISTENTKEEPALIVE_PEERS:-}
if [ "$ka" = all ]; then
	keepalive=("${names[@]}")
elif [ -n "$ka" ]; then
	[[ $ka =~ ^[A-Za-z0-9]+(,[A-Za-z0-9]+)*$ ]] ||
		die "PERSISTENTKEEPALIVE_PEERS='$ka': neither 'all' nor a comma-separated list of peers"
	IFS=, read -r -a keepalive <<<"$ka"
	for k in "${keepalive[@]}"; do
		[[ " ${names[*]} " == *" $k "* ]] || die "PERSISTENTKEEPALIVE_PEERS: '$k' is not one of PEERS"
	done
fi

[ "${1:-}" = "--check" ] && exit 0

umask 077
# key FILE COMMAND...: the key in FILE, made by COMMAND the first time.
key() {
	local file=$1 tmp
	shift
	if [ ! -s "$file" ]; then
		tmp=$file.tmp
		"$@" >"$tmp" && mv -f "$tmp" "$file" || { rm -f "$tmp"; die "$file: cannot make the key"; }
	fi
	cat "$file"
}
# write FILE: stdin to FILE through a temporary file, so a reader never sees half a config.
write() {
	cat >"$1.tmp" && mv -f "$1.tmp" "$1" || { rm -f "$1.tmp"; die "$1: cannot write"; }
}

mkdir -p "$config/server" "$config/wg_confs" || die "$config: cannot create directories"
server_priv=$(key "$config/server/privatekey-server" podwirectl genkey) || exit 1
server_pub=$(podwirectl pubkey <<<"$server_priv")
echo "$server_pub" | write "$config/server/publickey-server"

server_conf="[Interface]
Address = $base.1
ListenPort = $listen_port
PrivateKey = $server_priv
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth+ -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth+ -j MASQUERADE
"
n=1
for name in "${names[@]}"; do
	n=$((n + 1))
	id=$(peer_id "$name")
	dir=$config/$id
	mkdir -p "$dir" || die "$dir: cannot create"
	priv=$(key "$dir/privatekey-$id" podwirectl genkey) || exit 1
	pub=$(podwirectl pubkey <<<"$priv")
	echo "$pub" | write "$dir/publickey-$id"
	psk=$(key "$dir/presharedkey-$id" podwirectl genpsk) || exit 1
	server_conf+="
[Peer]
# $id
PublicKey = $pub
PresharedKey = $psk
AllowedIPs = $base.$n/32
"
	[[ " ${keepalive[*]} " == *" $name "* ]] && server_conf+="PersistentKeepalive = 25
"
	{
		echo "[Interface]"
		echo "Address = $base.$n"
		echo "PrivateKey = $priv"
		[ -n "$dns" ] && echo "DNS = $dns"
		echo
		echo "[Peer]"
		echo "PublicKey = $server_pub"
		echo "PresharedKey = $psk"
		echo "Endpoint = $endpoint"
		echo "AllowedIPs = $allowed"
	} | write "$dir/$id.conf"
	qrencode -t PNG -o "$dir/$id.png.tmp" <"$dir/$id.conf" && mv -f "$dir/$id.png.tmp" "$dir/$id.png" ||
		die "$dir/$id.png: cannot write the QR code"
	qrencode -t ansiutf8 <"$dir/$id.conf" | write "$dir/$id.qr.txt"
done
printf '%s' "$server_conf" | write "$config/wg_confs/wg0.conf"
log "server mode: $config/wg_confs/wg0.conf with ${#names[@]} peers; client configs and QR codes in $config/peer*/"
