#!/bin/bash
# podwire-entrypoint — the podwire image's init. It follows linuxserver/wireguard's conventions
# (the same /config layout and environment), so a compose file switches between the two by its
# `image:` line; unlike that image it needs no kernel module: without one it runs podwire-wg on
# /dev/net/tun.
#   (no command)        server mode first when PEERS is set (podwire-server-config); then
#                       every /config/wg_confs/*.conf, else /config/wg0.conf, is brought up
#                       with `podwirectl up`; stays in the foreground; SIGTERM or SIGINT brings
#                       them down in reverse order and exits 0; a userspace datapath that dies
#                       (killed, crashed) ends the container with exit 1, so that a restart
#                       policy (compose: restart: unless-stopped) brings it back
#   health              the HEALTHCHECK: every interface brought up exists and answers
#   show-peer NAME...   a server-mode peer's client config as a QR code on the terminal
#   install-cni [DIR]   copy the CNI plugins into DIR (a mounted /opt/cni/bin)
#   anything else       run it: podwired ..., podwirectl ..., bash
# Every refusal is one line "podwire: OBJECT: what is wrong" (or podwirectl's own "FILE:LINE:
# reason") and exit 1, before anything is applied.
set -uo pipefail
config=${PODWIRE_CONFIG_DIR:-/config}
run=${PODWIRE_RUN_DIR:-/run/podwire}

log() { echo "podwire: $*" >&2; }
die() { log "$@"; exit 1; }

# CAP_NET_ADMIN is bit 12 of the effective set.
have_net_admin() {
	local cap
	cap=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	[ -n "$cap" ] && (((0x$cap >> 12) & 1))
}

# Can this network namespace make a kernel WireGuard link? The name is ours and short-lived.
kernel_wireguard() {
	local probe=pwprobe$$
	ip link add "${probe:0:15}" type wireguard 2>/dev/null || return 1
	ip link del "${probe:0:15}" 2>/dev/null
	return 0
}

tun_usable() {
	[ -c /dev/net/tun ] && (exec 3<>/dev/net/tun) 2>/dev/null
}

# The values of KEY = lines in a config's [Interface] section (Address), or of every [Peer]
# (AllowedIPs), one per line, comments and blanks dropped.
conf_values() { # FILE SECTION KEY
	awk -v sect="$2" -v key="$3" '
		{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
		/^\[/ { in_sect = (tolower($0) == "[" tolower(sect) "]"); next }
		in_sect && tolower($0) ~ "^" tolower(key) "[ \t]*=" {
			sub(/^[^=]*=[ \t]*/, ""); n = split($0, v, /[ \t]*,[ \t]*/)
			for (i = 1; i <= n; i++) if (v[i] != "") print v[i]
		}' "$1"
}

sysctl_is() { # NAME VALUE: the sysctl (net.ipv4.conf.all.src_valid_mark) reads VALUE
	[ "$(cat "/proc/sys/${1//.//}" 2>/dev/null)" = "$2" ]
}

# check_config FILE: what the container's namespace must allow for FILE, said before anything
# is applied (podwirectl's own errors would name the step that failed, not the cause).
check_config() {
	local f=$1 a
	grep -qiE '^[[:space:]]*\[Interface\][[:space:]]*(#.*)?$' "$f" ||
		die "$f: no [Interface] section: a wg-quick config needs one (PrivateKey, Address)"
	podwirectl strip "$f" >/dev/null || exit 1
	a=$(conf_values "$f" Interface Address | grep : | head -n 1)
	if [ -n "$a" ] && { [ ! -d /proc/sys/net/ipv6 ] || sysctl_is net.ipv6.conf.all.disable_ipv6 1 ||
		sysctl_is net.ipv6.conf.default.disable_ipv6 1; }; then
		die "$f: Address $a is IPv6 but IPv6 is disabled in this network namespace: set the sysctl net.ipv6.conf.all.disable_ipv6=0 (docker run --sysctl; compose: sysctls: [net.ipv6.conf.all.disable_ipv6=0]), or drop the IPv6 addresses"
	fi
	# wg-quick's full tunnel (a 0.0.0.0/0 peer, Table auto) sets src_valid_mark, which a
	# container's read-only /proc/sys refuses: the runtime has to set it.
	if conf_values "$f" Peer AllowedIPs | grep -qx '0\.0\.0\.0/0' &&
		! conf_values "$f" Interface Table | grep -qix off &&
		! sysctl_is net.ipv4.conf.all.src_valid_mark 1 && [ ! -w /proc/sys/net/ipv4/conf/all/src_valid_mark ]; then
		die "$f: a full tunnel (AllowedIPs 0.0.0.0/0) needs the sysctl net.ipv4.conf.all.src_valid_mark=1, which this container cannot set: add --sysctl net.ipv4.conf.all.src_valid_mark=1 (compose: sysctls: [net.ipv4.conf.all.src_valid_mark=1])"
	fi
	return 0
}

# A userspace datapath that died (SIGKILL, a crash) ended with a status other than 0, which
# the image's podwire-wg-supervised wrote down; one that was stopped (podwirectl down, SIGTERM)
# ended with 0. Sets died_status.
datapath_died() { # NAME
	local f=$run/datapath/$1.exit
	[ -s "$f" ] || return 1
	died_status=$(cat "$f")
	[ "$died_status" != 0 ]
}

# The configs to bring up, linuxserver's order: wg_confs/*.conf, else the single wg0.conf.
find_configs() {
	local f
	configs=()
	for f in "$config"/wg_confs/*.conf; do
		[ -f "$f" ] && configs+=("$f")
	done
	[ ${#configs[@]} -gt 0 ] || { [ -f "$config/wg0.conf" ] && configs=("$config/wg0.conf"); }
	[ ${#configs[@]} -gt 0 ]
}

# Server mode's PEERDNS=auto, as linuxserver's CoreDNS: a DNS forwarder on the server's tunnel
# address (the first of wg0.conf) to this container's resolvers, Docker's 127.0.0.11 too, which
# a peer could not reach itself. Its address is the peer configs' DNS line.
dns_forwarder_start() {
	local addr
	addr=$(sed -n 's/^[[:space:]]*Address[[:space:]]*=[[:space:]]*\([0-9.]*\).*/\1/p' "$config/wg_confs/wg0.conf" | head -n 1)
	[ -n "$addr" ] || { log "$config/wg_confs/wg0.conf: no IPv4 Address for the PEERDNS=auto forwarder"; return 1; }
	dnsmasq --keep-in-foreground --no-hosts --bind-interfaces --listen-address="$addr" \
		--resolv-file=/etc/resolv.conf --user=root --group=root --pid-file= --log-facility=/dev/null &
	dns_pid=$!
	sleep 0.2
	kill -0 "$dns_pid" 2>/dev/null || { dns_pid=; return 1; }
	log "PEERDNS=auto: DNS forwarder on $addr:53 to this container's resolvers"
}

bring_down() { # the configs brought up so far, last first
	local i
	if [ -n "${dns_pid:-}" ]; then
		kill "$dns_pid" 2>/dev/null
		wait "$dns_pid" 2>/dev/null
		dns_pid=
	fi
	for ((i = ${#up[@]} - 1; i >= 0; i--)); do
		podwirectl down "${up[i]}" || log "${up[i]}: down failed"
	done
	up=()
	rm -f "$run/interfaces"
}

# TZ, as linuxserver's: a zone of /usr/share/zoneinfo (or a POSIX TZ string such as UTC0),
# which glibc reads for every process of the container (`docker exec ... date` too). Another
# value is said once; glibc then keeps UTC.
check_tz() {
	local zone=${TZ:-}
	[ -n "$zone" ] || return 0
	zone=${zone#:}
	[[ /$zone/ != */../* ]] && [ -f "/usr/share/zoneinfo/$zone" ] && return 0
	[[ $zone =~ ^[A-Za-z]{3,}[-+]?[0-9] ]] && return 0
	log "TZ=$TZ: no such time zone in /usr/share/zoneinfo (such as Europe/London): times are UTC"
}

serve() {
	local f datapath name
	[ "$(id -u)" = 0 ] || die "running as uid $(id -u), not root: the entry point creates interfaces and routes as root; drop --user (compose: user:), and use PUID/PGID for the owner of /config"
	check_tz
	have_net_admin || die "the container lacks the NET_ADMIN capability: add --cap-add=NET_ADMIN (compose: cap_add: [NET_ADMIN])"
	if kernel_wireguard; then
		datapath="kernel WireGuard module"
	elif tun_usable; then
		datapath="userspace podwire-wg on /dev/net/tun (the kernel has no WireGuard module)"
	else
		die "/dev/net/tun: not available and the kernel has no WireGuard module: add --device /dev/net/tun (compose: devices: [/dev/net/tun]) or load the wireguard module on the host"
	fi
	# Everything is checked before anything is written or brought up: the environment of the
	# server mode, else every config file.
	if [ -n "${PEERS:-}" ]; then
		podwire-server-config --check || exit 1
		[ -w "$config" ] || [ -f "$config/wg_confs/wg0.conf" ] ||
			die "$config: read-only, and server mode must write its keys and peer configs there: mount it read-write"
	else
		find_configs || die "$config: no wg_confs/*.conf and no wg0.conf: mount one, or set PEERS for server mode"
		for f in "${configs[@]}"; do
			check_config "$f"
		done
	fi
	# The chosen datapath is said once, before any interface exists.
	log "datapath: $datapath"
	if [ -n "${PEERS:-}" ]; then
		podwire-server-config || exit 1
		find_configs || die "$config: server mode wrote no wg_confs/wg0.conf"
		for f in "${configs[@]}"; do
			check_config "$f"
		done
	fi
	mkdir -p "$run"
	: >"$run/interfaces"
	up=()
	stopping=
	trap 'stopping=1; [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null' TERM INT
	for f in "${configs[@]}"; do
		if ! podwirectl up "$f"; then
			bring_down
			exit 1
		fi
		up+=("$f")
		basename "$f" .conf >>"$run/interfaces"
		[ -n "$stopping" ] && break
	done
	if [ -n "${PEERS:-}" ] && [ "${PEERDNS:-auto}" = auto ] && [ -z "$stopping" ] && ! dns_forwarder_start; then
		bring_down
		die "PEERDNS=auto: the DNS forwarder (dnsmasq) did not start on the server's tunnel address"
	fi
	[ -z "$stopping" ] && log "up: ${up[*]}"
	while [ -z "$stopping" ]; do
		sleep 1 &
		sleeper=$!
		wait "$sleeper"
		for f in "${up[@]}"; do
			name=$(basename "$f" .conf)
			[ -z "$stopping" ] && datapath_died "$name" || continue
			rm -f "/var/run/wireguard/$name.sock" "$run/datapath/$name.exit"
			# the others go down as on SIGTERM, quietly: the one line below is the news
			local others=() g
			for g in "${up[@]}"; do [ "$g" = "$f" ] || others+=("$g"); done
			up=("${others[@]}")
			bring_down >/dev/null 2>&1
			die "$name: the datapath podwire-wg died (killed or crashed: status $died_status) and its interface is gone: exiting so that the restart policy starts the container again"
		done
	done
	log "stopping"
	bring_down
	exit 0
}

health() {
	local name
	[ -s "$run/interfaces" ] || { echo "podwire: no interface is up" >&2; exit 1; }
	while read -r name; do
		podwirectl show "$name" public-key >/dev/null || exit 1
	done <"$run/interfaces"
	exit 0
}

case ${1:-} in
"") serve ;;
health) health ;;
show-peer) shift; exec podwire-server-config --show "$@" ;;
# The DaemonSet's init container runs this; should podwirectl grow the same command, this
# line is the one to point at it, and the image's interface stays `install-cni`.
install-cni) shift; exec podwire-install-cni "$@" ;;
*) exec "$@" ;;
esac
