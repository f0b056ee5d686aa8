#!/bin/bash
# podwire-server-config — linuxserver/wireguard's server mode: from the environment and the
# templates /config/templates/server.conf and peer.conf, the server's /config/wg_confs/wg0.conf
# and, per peer, /config/PEER/PEER.conf (the client's config), PEER.png (its QR code) and
# PEER.qr.txt (the same QR code for a terminal).
#   PEERS                      a number (peers peer1..peerN) or names "laptop,phone" (peer_laptop...)
#   SERVERURL                  what clients dial; auto (the default) asks $PODWIRE_MYIP_URL
#                              (http://icanhazip.com, as linuxserver) for this server's public
#                              address and, when that gives none in 5 s, takes the address of
#                              the default route with one warning
#   SERVERPORT                 the port clients dial (default 51820; the server listens on 51820)
#   INTERNAL_SUBNET            the tunnel's /24 (default 10.13.13.0): server .1, peers .2 on
#   ALLOWEDIPS                 the clients' AllowedIPs (default 0.0.0.0/0, ::/0)
#   SERVER_ALLOWEDIPS_PEER_X   more AllowedIPs on the server for peer X (a network behind it)
#   PEERDNS                    the clients' DNS; auto (the default) is the server's tunnel
#                              address (.1), which forwards to this container's resolvers
#   PERSISTENTKEEPALIVE_PEERS  "all" or peers (as named in PEERS) the server keeps alive (25 s)
#   PUID, PGID                 the owner of everything in /config (default: left as it is)
#   LOG_CONFS                  true (default): a written peer config's QR code goes to the log
# A peer keeps its keys and its address: the address is read back from its PEER.conf, a new
# peer takes the lowest address no peer directory in /config holds, and a peer dropped from
# PEERS keeps its directory (and so its address), as linuxserver's. Every file is made in a
# staging directory first and only those that differ are written (each through a fresh 0600
# temporary file in its own directory, renamed over the old one), so a read-only /config with
# nothing to change is fine. Every variable and template is checked before any file is
# written; --check stops there.
#   podwire-server-config --show NAME...   (also /app/show-peer NAME...) a peer's QR code
set -uo pipefail
config=${PODWIRE_CONFIG_DIR:-/config}
umask 077
listen_port=51820
myip_url=${PODWIRE_MYIP_URL:-http://icanhazip.com}

log() { echo "podwire: $*" >&2; }
die() { log "$@"; exit 1; }

[ "$(basename "$0")" = show-peer ] && set -- --show "$@"

peer_id() { [[ $1 =~ ^[0-9]+$ ]] && echo "peer$1" || echo "peer_$1"; }

# check_name WHERE NAME: NAME is a peer name (it names the directory /config/peer_NAME).
check_name() {
	local why=
	case $2 in
	"") why="empty (a leading, trailing or doubled comma)" ;;
	*/*) why="it has a '/'" ;;
	-*) why="it begins with '-'" ;;
	. | ..) why="it is '$2'" ;;
	*[!A-Za-z0-9]*) why="it has a character other than letters and digits" ;;
	esac
	[ -z "$why" ] || die "$1: '$2' is not a peer name: $why (a name becomes the directory $config/peer_NAME)"
}

if [ "${1:-}" = "--show" ]; then
	shift
	[ $# -gt 0 ] || die "show-peer: name a peer (as in PEERS)"
	for p in "$@"; do check_name show-peer "$p"; done
	rc=0
	for p in "$@"; do
		id=$(peer_id "$p")
		if grep -qx "# $id" "$config/wg_confs/wg0.conf" 2>/dev/null && [ -f "$config/$id/$id.conf" ]; then
			echo "PEER $p QR code:"
			qrencode -t ansiutf8 <"$config/$id/$id.conf"
		else
			log "show-peer: PEER $p is not active (not in $config/wg_confs/wg0.conf)"
			rc=1
		fi
	done
	exit $rc
fi
checking=
[ "${1:-}" = "--check" ] && checking=1

# PEERS: the peers' names as given (spaces around a name dropped).
PEERS=${PEERS:-}
[ -n "$PEERS" ] || die "PEERS: not set (server mode makes configs for the peers it names)"
names=()
if [[ $PEERS =~ ^[0-9]+$ ]]; then
	((10#$PEERS >= 1 && 10#$PEERS <= 253)) || die "PEERS=$PEERS: a number of peers must be 1 to 253"
	for ((i = 1; i <= 10#$PEERS; i++)); do names+=("$i"); done
else
	IFS=, read -r -a raw <<<"$PEERS,"
	[[ $PEERS == *, ]] && raw+=("")
	for n in "${raw[@]}"; do
		n=${n#"${n%%[![:space:]]*}"}
		n=${n%"${n##*[![:space:]]}"}
		check_name PEERS "$n"
		names+=("$n")
	done
	((${#names[@]} <= 253)) || die "PEERS: more than 253 peers do not fit in INTERNAL_SUBNET's /24"
	dup=$(printf '%s\n' "${names[@]}" | sort | uniq -d | head -n 1)
	[ -z "$dup" ] || die "PEERS=$PEERS: peer '$dup' is listed twice"
fi

for v in PUID PGID; do
	[ -n "${!v:-}" ] || continue
	[[ ${!v} =~ ^[0-9]{1,10}$ ]] && ((10#${!v} < 4294967295)) ||
		die "$v='${!v}': not a number (a numeric $([ $v = PUID ] && echo user || echo group) id such as 1000)"
done
owner=
[ -n "${PUID:-}" ] && owner=$((10#$PUID))
[ -n "${PGID:-}" ] && owner+=:$((10#$PGID))

case ${LOG_CONFS:-true} in
true | false) ;;
*) die "LOG_CONFS='$LOG_CONFS': neither true nor false" ;;
esac

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
[ "$url" = auto ] || [[ $url =~ ^[A-Za-z0-9.:-]+$ ]] || die "SERVERURL='$url': not a host name or address"

allowed=${ALLOWEDIPS:-0.0.0.0/0, ::/0}
[[ $allowed =~ ^[0-9A-Fa-f.:/,\ ]+$ ]] || die "ALLOWEDIPS='$allowed': not a list of prefixes"
dns=${PEERDNS:-auto}
[ "$dns" = auto ] || [[ $dns =~ ^[0-9A-Fa-f.:,\ ]+$ ]] || die "PEERDNS='$dns': not a list of addresses (or auto)"

declare -A server_allowed=()
for name in "${names[@]}"; do
	v=SERVER_ALLOWEDIPS_PEER_$name
	[ -n "${!v:-}" ] || continue
	[[ ${!v} =~ ^[0-9A-Fa-f.:/,\ ]+$ ]] || die "$v='${!v}': not a list of prefixes"
	server_allowed[$name]=${!v}
done

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

# The templates, linuxserver's defaults when /config has none. They are linuxserver's syntax:
# ${VAR} (or $VAR) and $(cat FILE) for a file in /config; here nothing else is run.
default_server_template='[Interface]
Address = ${INTERFACE}.1
ListenPort = 51820
PrivateKey = $(cat /config/server/privatekey-server)
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth+ -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth+ -j MASQUERADE'
default_peer_template='[Interface]
Address = ${CLIENT_IP}
PrivateKey = $(cat /config/${PEER_ID}/privatekey-${PEER_ID})
ListenPort = 51820
DNS = ${PEERDNS}

[Peer]
PublicKey = $(cat /config/server/publickey-server)
PresharedKey = $(cat /config/${PEER_ID}/presharedkey-${PEER_ID})
Endpoint = ${SERVERURL}:${SERVERPORT}
AllowedIPs = ${ALLOWEDIPS}'
template_vars="INTERFACE CLIENT_IP PEER_ID PEERDNS SERVERURL SERVERPORT ALLOWEDIPS INTERNAL_SUBNET"
declare -A tv=()

# The staging directory: what /config should hold, file by file.
stage=$(mktemp -d "${TMPDIR:-/tmp}/podwire-server.XXXXXX" 2>/dev/null) ||
	stage=$(mktemp -d /dev/shm/podwire-server.XXXXXX 2>/dev/null) ||
	die "${TMPDIR:-/tmp}: cannot make a staging directory"
trap 'rm -rf "$stage"' EXIT

# stage_text REL TEXT: TEXT (and a newline) is what $config/REL should hold.
stage_text() {
	mkdir -p "$stage/$(dirname "$1")" && printf '%s\n' "$2" >"$stage/$1" || die "$stage/$1: cannot write"
}
# current REL: the file REL as it will be: staged, else as /config holds it.
current() {
	if [ -f "$stage/$1" ]; then cat "$stage/$1"; else cat "$config/$1"; fi
}

# config_file WHERE PATH: for $(cat PATH) in a template: the file PATH, which must be in /config.
config_file() {
	local rel
	case $2 in
	/config/*) rel=${2#/config/} ;;
	"$config"/*) rel=${2#"$config"/} ;;
	*) die "$1: \$(cat $2): not a file in /config" ;;
	esac
	[[ /$rel/ == */../* ]] && die "$1: \$(cat $2): not a file in /config"
	if [ -n "$checking" ]; then
		val=x
	elif [ -f "$stage/$rel" ] || [ -f "$config/$rel" ]; then
		val=$(current "$rel")
	else
		die "$1: \$(cat $2): no such file"
	fi
}

# expand WHERE STRING: STRING with ${VAR} and $VAR replaced; the result in $val.
expand() {
	local s=$2 out= name
	while [[ $s == *'$'* ]]; do
		out+=${s%%\$*}
		s=${s#*\$}
		if [[ $s =~ ^\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$ ]] || [[ $s =~ ^([A-Za-z_][A-Za-z0-9_]*)(.*)$ ]]; then
			name=${BASH_REMATCH[1]}
			s=${BASH_REMATCH[2]}
			[[ " $template_vars " == *" $name "* ]] ||
				die "$1: \${$name}: not a template variable (these are: $template_vars)"
			out+=${tv[$name]-}
		else
			out+='$'
		fi
	done
	val=$out$s
}

# render TEMPLATE_FILE: the template's text with its variables and $(cat FILE)s in $rendered.
# A line "Key = " left empty (DNS = with no PEERDNS) is left out; without a preshared key
# (a peer from before they were made) PresharedKey lines are left out, as linuxserver does.
render() {
	local file=$1 text line out s n=0 path
	text=$(current "$file") || die "$config/$file: cannot read"
	rendered=
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		[ -z "${tv[NOPSK]-}" ] || [[ $line != *PresharedKey* ]] || continue
		out=
		s=$line
		while [[ $s == *'$('* ]]; do
			expand "$config/$file:$n" "${s%%\$(*}"
			out+=$val
			s=${s#*\$(}
			[[ $s =~ ^cat[[:space:]]+([^\)[:space:]]+)[[:space:]]*\)(.*)$ ]] ||
				die "$config/$file:$n: \$(${s%%)*}): only \$(cat FILE) is run in a template"
			s=${BASH_REMATCH[2]}
			expand "$config/$file:$n" "${BASH_REMATCH[1]}"
			path=$val
			config_file "$config/$file:$n" "$path"
			out+=$val
		done
		expand "$config/$file:$n" "$s"
		out+=$val
		[[ $out =~ ^[A-Za-z]+[[:space:]]*=[[:space:]]*$ ]] && continue
		rendered+=$out$'\n'
	done <<<"$text"
	rendered=${rendered%$'\n'}
}

# The templates are checked with every variable set, before anything is written.
for t in server peer; do
	[ -f "$config/templates/$t.conf" ] && continue
	var=default_${t}_template
	stage_text "templates/$t.conf" "${!var}"
done
for t in $template_vars; do tv[$t]=x; done
checking=1
render templates/server.conf
render templates/peer.conf
[ "${1:-}" = "--check" ] && exit 0
checking=

# SERVERURL=auto, as linuxserver: the address a what-is-my-IP service sees. Without internet
# that fails (in 5 s at most) and the address of the default route stands in, said once.
if [ "$url" = auto ]; then
	got=$(curl -fsS --max-time 5 "$myip_url" 2>/dev/null | head -c 64 | tr -d ' \r\n')
	if [[ $got =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || [[ $got =~ ^[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*$ ]]; then
		url=$got
		log "SERVERURL=auto: $myip_url says this server is $url"
	else
		url=$(ip -4 route get 1.0.0.0 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
		[ -n "$url" ] || url=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
		[ -n "$url" ] || die "SERVERURL=auto: $myip_url gave no address and this container has no IPv4 address: set SERVERURL"
		log "SERVERURL=auto: $myip_url gave no address (no internet?): clients will dial $url, this container's own address; set SERVERURL to the address they reach"
	fi
fi
[[ $url == *:* ]] && tv[SERVERURL]="[$url]" || tv[SERVERURL]=$url

# PEERDNS=auto, as linuxserver's: the server's tunnel address, where the entry point runs a
# forwarder (dnsmasq) to this container's own resolvers, Docker's 127.0.0.11 included.
[ "$dns" = auto ] && dns=$base.1

# Keys: made once, kept in /config. key REL COMMAND...: REL staged from COMMAND when missing.
key() {
	local rel=$1
	shift
	[ -s "$config/$rel" ] && return 0
	mkdir -p "$stage/$(dirname "$rel")" && "$@" >"$stage/$rel.new" && mv "$stage/$rel.new" "$stage/$rel" ||
		die "$config/$rel: cannot make the key"
}
# pub_of REL: the public key of the private key in REL (which must be one).
pub_of() {
	val=$(current "$1" | podwirectl pubkey 2>/dev/null) || die "$config/$1: not a private key"
}

mkdir -p "$stage/server" || die "$stage: cannot write"
key server/privatekey-server podwirectl genkey
pub_of server/privatekey-server
server_pub=$val
stage_text server/publickey-server "$server_pub"

# Addresses: every peer directory's config holds one, removed peers' too. host[ID] is the host
# number of peer ID's address (kept when INTERNAL_SUBNET changes), owner_of[N] the peer at N.
declare -A host=() owner_of=()
for d in "$config"/peer*/; do
	id=$(basename "$d")
	[ -f "$d$id.conf" ] || continue
	a=$(sed -n 's/^[[:space:]]*Address[[:space:]]*=[[:space:]]*//p' "$d$id.conf" | tr ',' '\n' |
		grep -oE '^[[:space:]]*[0-9]{1,3}(\.[0-9]{1,3}){3}' | head -n 1)
	[ -n "$a" ] || continue
	h=${a##*.}
	((10#$h >= 2 && 10#$h <= 254)) || continue
	h=$((10#$h))
	[ -z "${owner_of[$h]-}" ] ||
		die "$d$id.conf and $config/${owner_of[$h]}/${owner_of[$h]}.conf both have the address .$h: change one of them"
	host[$id]=$h
	owner_of[$h]=$id
done
for name in "${names[@]}"; do
	id=$(peer_id "$name")
	[ -n "${host[$id]-}" ] && continue
	for ((h = 2; h <= 254; h++)); do
		[ -z "${owner_of[$h]-}" ] && break
	done
	((h <= 254)) || die "INTERNAL_SUBNET=$subnet: no address left for peer $name (old peer directories in $config hold them: remove those no longer used)"
	host[$id]=$h
	owner_of[$h]=$id
done

tv[INTERFACE]=$base
tv[INTERNAL_SUBNET]=$subnet
tv[SERVERPORT]=$port
tv[ALLOWEDIPS]=$allowed
tv[PEERDNS]=$dns
tv[CLIENT_IP]=
tv[PEER_ID]=
render templates/server.conf
server_conf=$rendered$'\n'
for name in "${names[@]}"; do
	id=$(peer_id "$name")
	key "$id/privatekey-$id" podwirectl genkey
	pub_of "$id/privatekey-$id"
	pub=$val
	stage_text "$id/publickey-$id" "$pub"
	# A peer made before preshared keys existed keeps working without one (linuxserver's rule).
	tv[NOPSK]=
	if [ ! -s "$config/$id/presharedkey-$id" ]; then
		if [ -f "$stage/$id/privatekey-$id" ]; then
			key "$id/presharedkey-$id" podwirectl genpsk
		else
			tv[NOPSK]=1
		fi
	fi
	tv[PEER_ID]=$id
	tv[CLIENT_IP]=$base.${host[$id]}
	render templates/peer.conf
	stage_text "$id/$id.conf" "$rendered"
	server_conf+="
[Peer]
# $id
PublicKey = $pub
"
	[ -z "${tv[NOPSK]}" ] && server_conf+="PresharedKey = $(current "$id/presharedkey-$id")
"
	server_conf+="AllowedIPs = $base.${host[$id]}/32${server_allowed[$name]:+,${server_allowed[$name]}}
"
	[[ " ${keepalive[*]} " == *" $name "* ]] && server_conf+="PersistentKeepalive = 25
"
	qrencode -t PNG -o "$stage/$id/$id.png" <"$stage/$id/$id.conf" || die "$config/$id/$id.png: cannot make the QR code"
	qrencode -t ansiutf8 <"$stage/$id/$id.conf" >"$stage/$id/$id.qr.txt" || die "$config/$id/$id.qr.txt: cannot make the QR code"
done
mkdir -p "$stage/wg_confs" && printf '%s' "$server_conf" >"$stage/wg_confs/wg0.conf" || die "$stage: cannot write"

# What differs: the files to write, and (PUID/PGID) what has another owner.
changed=()
while IFS= read -r rel; do
	cmp -s "$stage/$rel" "$config/$rel" 2>/dev/null || changed+=("$rel")
done < <(cd "$stage" && find . -type f | sed 's|^\./||' | sort)
reown=()
if [ -n "$owner" ]; then
	uid=${owner%%:*} gid=
	[[ $owner == *:* ]] && gid=${owner#*:}
	while IFS= read -r f; do reown+=("$f"); done < <(
		if [ -n "$uid" ] && [ -n "$gid" ]; then
			find "$config" \( ! -user "$uid" -o ! -group "$gid" \)
		elif [ -n "$uid" ]; then
			find "$config" ! -user "$uid"
		else
			find "$config" ! -group "$gid"
		fi 2>/dev/null)
fi
if [ ${#changed[@]} -eq 0 ] && [ ${#reown[@]} -eq 0 ]; then
	log "server mode: $config/wg_confs/wg0.conf with ${#names[@]} peers, nothing to change in $config"
	exit 0
fi

# Writable, before anything is written: every directory a file goes into, or its parent.
for rel in "${changed[@]}"; do
	d=$config/$(dirname "$rel")
	[ -d "$d" ] || d=$(dirname "$d")
	[ -w "$d" ] || die "$d: not writable (a read-only /config?), and server mode must write $config/$rel$([ ${#changed[@]} -gt 1 ] && echo " and $((${#changed[@]} - 1)) more files"): mount $config read-write"
done
[ ${#reown[@]} -eq 0 ] || [ -w "$config" ] || die "$config: not writable (a read-only /config?), and PUID/PGID=$owner asks to change the owner of ${reown[0]}: mount $config read-write"

# Write: each file through a fresh temporary file in its own directory (mktemp: 0600, never
# an old file or a link), renamed over the old one, so a reader never sees half a config.
umask 077
written=" "
for rel in "${changed[@]}"; do
	d=$config/$(dirname "$rel")
	mkdir -p "$d" || die "$d: cannot create"
	tmp=$(mktemp "$d/.$(basename "$rel").XXXXXX") || die "$d: cannot make a temporary file"
	if ! cat "$stage/$rel" >"$tmp" || { [ -n "$owner" ] && ! chown "$owner" "$tmp"; } || ! mv -f "$tmp" "$config/$rel"; then
		rm -f "$tmp"
		die "$config/$rel: cannot write"
	fi
	written+="$rel "
done
# New directories too: everything in /config belongs to PUID/PGID, as linuxserver's.
if [ -n "$owner" ]; then
	chown -R -h "$owner" "$config" || die "$config: cannot change the owner to $owner"
fi

for name in "${names[@]}"; do
	id=$(peer_id "$name")
	[[ $written == *" $id/$id.conf "* ]] || continue
	if [ "${LOG_CONFS:-true}" = true ]; then
		echo "PEER $name QR code (conf file is saved under $config/$id):"
		cat "$config/$id/$id.qr.txt"
	else
		echo "PEER $name conf and QR code png saved in $config/$id"
	fi
done
log "server mode: $config/wg_confs/wg0.conf with ${#names[@]} peers; wrote ${#changed[@]} files; client configs and QR codes in $config/peer*/"
