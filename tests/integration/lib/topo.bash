# topo.bash — the tutorial's network topologies built from network namespaces, for the
# topo_*.sh tests (sourced, not run: tests/run only runs *.sh) and anything else that needs
# hosts behind NAT routers on a shared "internet".
#
# The building blocks. Every namespace is tp-$TOPO_TAG-NAME; inside it the uplink is eth0
# (so the tutorial's "-o eth0" rules apply unchanged) and a router's LAN side is eth1.
#
#   topo_internet [v4]: one segment every public host hangs off; topo_web puts a whatismyip
#   server on it ("v4": no IPv6 anywhere on it)
#
#     +--------------------------- tp-T-inet ---------------------------+
#     |  br0  203.0.113.254/24  2001:db8::fe/64    (whatismyip on :80)  |
#     +---+-----------------------+-----------------------+-------------+
#         |                       |                       |
#   topo_public NAME V4 [V6]: a host with a public address
#
#     +-- tp-T-NAME --+
#     |  eth0 V4 V6   |---- br0
#     +---------------+
#
#   topo_nat NAME V4 [V6] [random-fully]: a home router, MASQUERADE out of eth0 (source port
#   kept unless "random-fully"), its LAN on eth1 = 192.168.N.1/24 (N from topo_nat's count),
#   unsolicited packets from outside dropped like a real gateway's firewall does
#
#     +-- tp-T-NAME (router) ------------+        +-- tp-T-HOST --------+
#     |  eth0 V4 V6  ==NAT==  eth1 .N.1  |--------|  eth0 192.168.N.2  |
#     +----------------------------------+        +--------------------+
#   topo_lan_host HOST NAME: the host behind router NAME (v4, plus v6 2001:db8:N::2/64 when
#   the router has a v6 uplink; the router masquerades v6 too (NAT66))
#
# WireGuard: topo_conf writes a wg-quick config, topo_up/topo_down run `podwirectl up/down`
# in a namespace. The datapath is whatever podwirectl picks (the kernel module when loaded,
# else podwire-wg); TOPO_DATAPATH=kernel|userspace makes a test fail when it is not that one.
#
# Cleanup: topo_cleanup (a step of the test base's EXIT trap, armed by topo_init) runs
# `podwirectl down` for every interface brought up and kills every process still inside a
# namespace of ours (by PID, from `ip netns pids`); the test base then deletes the
# namespaces (their veths go with them), the UAPI sockets and the work directory.
# It runs whatever step failed; to check that, TOPO_FAIL_AT=POINT makes a run fail on purpose
# at POINT: a step's name, "ns:NAME", "up:NAME", "iperf-server" or "capture"
# (tests/integration/topo_cleanup.sh does that).

# The plumbing (build lookup, root check, fail, work directory $W, the one cleanup trap,
# namespaces, waiting) is the test base's: lib/common.bash.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
TOPO_CTL=$B/podwirectl
TOPO_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPO_UP=()      # "NS CONF" of every interface brought up
TOPO_NATS=0
TOPO_UPS=0


# topo_step NAME: name the step that follows (failures say it); TOPO_FAIL_AT=NAME fails here.
topo_step() {
	FAIL_STEP=$1
	echo "-- step $1 (at ${SECONDS}s)"
	topo_checkpoint "$1"
}
# topo_checkpoint NAME: where TOPO_FAIL_AT can also point inside a step: "ns:NAME" (namespace
# NAME just made), "up:NAME" (after podwirectl up in NAME), "iperf-server", "capture".
topo_checkpoint() {
	if [ "${TOPO_FAIL_AT:-}" = "$1" ]; then
		echo "TOPO_FAIL_AT=$1: failing on purpose"
		exit 1
	fi
}

# topo_init TAG [TOOL...]: check we can run, arm the cleanup. TAG: a letter or two, unique
# per test (namespace and interface names carry it).
topo_init() {
	TOPO_TAG=${TOPO_NS_TAG:-$1} # TOPO_NS_TAG: another tag, to run a second copy side by side
	shift
	require_root
	require_built podwirectl
	require_cmd ip ss "$@"
	echo "   work directory $W"
	at_exit topo_cleanup
	# A timeout's TERM (or ^C) runs the cleanup too.
	trap 'exit 143' TERM INT HUP
	# The userspace datapath when no kernel module: the test base's one rule (this build's
	# podwire-wg, not one from PATH).
	WG_QUICK_USERSPACE_IMPLEMENTATION=$(userspace_wg)
	export WG_QUICK_USERSPACE_IMPLEMENTATION
}

topo_ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# The topology's own cleanup step, before the test base's (which deletes the namespaces, the
# WireGuard links and sockets, and $W): `podwirectl down` for every interface brought up, then
# every process still inside a namespace of ours (by PID, from `ip netns pids`), whatever step
# failed.
topo_cleanup() {
	local ns entry pids i p
	for ((i = ${#TOPO_UP[@]} - 1; i >= 0; i--)); do
		entry=${TOPO_UP[i]}
		timeout 20 ip netns exec "${entry%% *}" "$TOPO_CTL" down "${entry#* }" >/dev/null 2>&1
		p=${entry#* }
		p=${p##*/}
		track_wg "${entry%% *}" "${p%.conf}"
	done
	for ns in "${NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do
		wait_until 5 topo_ns_empty "$ns"
		pids=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$pids" ]; then
			echo "cleanup: $ns: killing $pids"
			kill -9 $pids 2>/dev/null
		fi
	done
	echo "cleanup: ${#NETNS[@]} namespaces, ${#TOPO_UP[@]} interfaces to remove"
}

topo_ns_name() { echo "tp-$TOPO_TAG-$1"; }
X() { # NAME CMD...: run CMD in namespace NAME
	local ns=tp-$TOPO_TAG-$1
	shift
	ip netns exec "$ns" "$@"
}

topo_ns() { # NAME [SYSCTL=VALUE...]: an empty namespace with lo up
	local ns=tp-$TOPO_TAG-$1 name=$1
	shift
	netns_add "$ns"
	# IPv6 addresses are usable at once (no DAD) and nothing else talks on the links.
	X "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 "$@" || fail "$ns: sysctl $* failed"
	set -- "$name"
	topo_checkpoint "ns:$1"
}

# topo_internet [v4]: "v4" leaves IPv6 off the whole segment, so that nothing but what a
# test sends crosses it (no MLD or ND chatter in a capture).
topo_internet() {
	local inet=tp-$TOPO_TAG-inet
	topo_ns inet
	TOPO_INET_V4ONLY=${1:-}
	if [ "$TOPO_INET_V4ONLY" = v4 ]; then
		X inet sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		printf '%s\n' "link add br0 type bridge" "link set br0 up" "addr add 203.0.113.254/24 dev br0" |
			ip -n "$inet" -b - || fail "cannot make the internet bridge"
	else
		printf '%s\n' "link add br0 type bridge" "link set br0 up" "addr add 203.0.113.254/24 dev br0" \
			"addr add 2001:db8::fe/64 dev br0 nodad" | ip -n "$inet" -b - || fail "cannot make the internet bridge"
	fi
	TOPO_INET_PORTS=0
}

# Every ip and sysctl run costs (seconds under emulation in the VM), so each namespace's
# settings go in one `ip -b` batch.
topo_uplink() { # NAME V4 [V6]: NAME's eth0 on the internet bridge
	local name=$1 v4=$2 v6=${3:-} ns=tp-$TOPO_TAG-$1 inet=tp-$TOPO_TAG-inet port
	TOPO_INET_PORTS=$((TOPO_INET_PORTS + 1))
	port=p$TOPO_INET_PORTS-$name
	ip link add eth0 netns "$ns" type veth peer name "$port" netns "$inet" || fail "cannot create $name's uplink"
	ip -n "$inet" link set "$port" master br0 up || fail "cannot attach $name to the internet"
	# v4 only: nothing but what the test sends crosses the link.
	[ -n "$v6" ] || ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	{
		[ -z "$v4" ] || echo "addr add $v4/24 dev eth0"
		[ -z "$v6" ] || echo "addr add $v6/64 dev eth0 nodad"
		echo "link set eth0 up"
	} | ip -n "$ns" -b - || fail "cannot address $name's uplink"
}

topo_public() { # NAME V4 [V6]: a host on the internet. V4 may be "" (IPv6-only underlay).
	topo_ns "$1"
	topo_uplink "$@"
}

topo_nat() { # NAME V4 [V6] [random-fully]
	local name=$1 v4=$2 v6=${3:-} mode=${4:-} n
	TOPO_NATS=$((TOPO_NATS + 1))
	n=$TOPO_NATS
	eval "TOPO_LAN_$name=$n"
	topo_ns "$name" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	topo_uplink "$name" "$v4" "$v6"
	# A gateway's firewall: only replies come in. Unsolicited packets are dropped before
	# conntrack confirms an entry for them, so they cannot take the port a host behind the
	# router needs for its own mapping (that would break hole punching). One restore per family.
	local rules="*nat
-A POSTROUTING -o eth0 -j MASQUERADE${mode:+ --$mode}
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i eth1 -j ACCEPT
COMMIT"
	echo "$rules" | X "$name" iptables-restore || fail "$name: iptables-restore (MASQUERADE) failed"
	if [ -n "$v6" ]; then
		echo "${rules/-A INPUT -i lo -j ACCEPT/-A INPUT -i lo -j ACCEPT
-A INPUT -p ipv6-icmp -j ACCEPT}" | X "$name" ip6tables-restore || fail "$name: ip6tables-restore (MASQUERADE) failed"
	fi
	eval "TOPO_V6_$name=\$v6"
}

topo_lan_host() { # HOST ROUTER: HOST behind ROUTER at 192.168.N.2 (and 2001:db8:N::2)
	local host=$1 rt=$2 n v6 hns=tp-$TOPO_TAG-$1 rns=tp-$TOPO_TAG-$2
	eval "n=\${TOPO_LAN_$rt:-}"
	[ -n "$n" ] || fail "topo_lan_host: $rt is not a router"
	eval "v6=\${TOPO_V6_$rt:-}"
	topo_ns "$host"
	ip link add eth1 netns "$rns" type veth peer name eth0 netns "$hns" || fail "cannot link $host to $rt"
	{
		echo "addr add 192.168.$n.1/24 dev eth1"
		[ -z "$v6" ] || echo "addr add 2001:db8:$n::1/64 dev eth1 nodad"
		echo "link set eth1 up"
	} | ip -n "$rns" -b - || fail "cannot address $rt's LAN side"
	{
		echo "addr add 192.168.$n.2/24 dev eth0"
		[ -z "$v6" ] || echo "addr add 2001:db8:$n::2/64 dev eth0 nodad"
		echo "link set eth0 up"
		echo "route add default via 192.168.$n.1"
		[ -z "$v6" ] || echo "route add ::/0 via 2001:db8:$n::1"
	} | ip -n "$hns" -b - || fail "cannot address $host"
}

# Keys: topo_key NAME makes $W/NAME.key once and prints the public key.
topo_key() {
	[ -f "$W/$1.key" ] || (umask 077 && "$TOPO_CTL" genkey >"$W/$1.key")
	"$TOPO_CTL" pubkey <"$W/$1.key"
}
topo_priv() { cat "$W/$1.key"; }

# topo_conf IFACE: write stdin (a wg-quick config) to $W/conf/IFACE.conf, print the path.
topo_conf() {
	mkdir -p "$W/conf"
	(umask 077 && cat >"$W/conf/$1.conf")
	echo "$W/conf/$1.conf"
}

# topo_peer KEY ALLOWEDIPS [NAME]: a [Peer] section (a Name comment as the tutorial writes them).
topo_peer() {
	printf '\n[Peer]\n'
	[ -z "${3:-}" ] || printf '# Name = %s\n' "$3"
	printf 'PublicKey = %s\nAllowedIPs = %s\n' "$1" "$2"
}
# topo_relay_conf NAME IFACE ADDRESS [RULES] [COMMENT]: the tutorial's server (relay) config
# for IFACE in NAME, its [Peer] sections (topo_peer) read from stdin; ListenPort 51820,
# PostUp RULES and PostDown the same rules deleted. Prints the path, as topo_conf.
topo_relay_conf() {
	{
		echo "[Interface]"
		[ -z "${5:-}" ] || echo "# Name = $5"
		echo "Address = $3"
		echo "ListenPort = 51820"
		echo "PrivateKey = $(topo_priv "$1")"
		[ -z "${4:-}" ] || printf 'PostUp = %s\nPostDown = %s\n' "$4" "${4//-A /-D }"
		cat
	} | topo_conf "$2"
}

# topo_up NAME CONF: podwirectl up CONF inside NAME (its output goes to the test's log).
topo_up() {
	local ns iface dp
	ns=$(topo_ns_name "$1")
	iface=${2##*/}
	iface=${iface%.conf}
	TOPO_UP+=("$ns $2")
	# Into a file, not a pipe: a userspace datapath started by `up` keeps its stdout and
	# stderr (LOG_LEVEL) and would hold a pipe open for ever. Its log stays in the file.
	local rc=0 log
	TOPO_UPS=$((TOPO_UPS + 1))
	log=$W/$iface.$TOPO_UPS.log
	ip netns exec "$ns" env LOG_LEVEL=verbose "$TOPO_CTL" up "$2" >"$log" 2>&1 || rc=$?
	sed "s/^/   [$1] /" "$log"
	[ $rc = 0 ] || fail "$1: podwirectl up $iface failed"
	dp=$(topo_datapath "$1" "$iface")
	echo "   [$1] $iface is up on the $dp datapath"
	[ -z "${TOPO_DATAPATH:-}" ] || [ "$dp" = "$TOPO_DATAPATH" ] ||
		fail "$1: $iface runs on the $dp datapath, TOPO_DATAPATH=$TOPO_DATAPATH"
	topo_checkpoint "up:$1"
}
topo_down() { # NAME CONF
	local out
	out=$(ip netns exec "$(topo_ns_name "$1")" "$TOPO_CTL" down "$2" 2>&1) || {
		echo "$out"
		fail "$1: podwirectl down $2 failed"
	}
	echo "$out" | sed "s/^/   [$1] /"
	local i
	for i in "${!TOPO_UP[@]}"; do
		[ "${TOPO_UP[i]}" = "$(topo_ns_name "$1") $2" ] && unset "TOPO_UP[i]"
	done
	TOPO_UP=("${TOPO_UP[@]}")
}

# topo_datapath NAME IFACE: "kernel" (a wireguard link) or "userspace" (a TUN device)
topo_datapath() {
	local d
	d=$(ip -n "$(topo_ns_name "$1")" -d link show "$2" 2>/dev/null)
	case $d in
	*"wireguard "*) echo kernel ;;
	*"tun "*) echo userspace ;;
	*) echo unknown ;;
	esac
}

# wg NAME ARGS...: podwirectl (wg-compatible) inside NAME
wgx() { local n=$1; shift; X "$n" "$TOPO_CTL" "$@"; }
topo_handshake() { # NAME IFACE PEERKEY: latest handshake (0 = none)
	wgx "$1" show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}
topo_has_handshake() { [ "$(topo_handshake "$@")" -gt 0 ] 2>/dev/null; }
topo_rx() { # NAME IFACE PEERKEY: bytes received from the peer
	wgx "$1" show "$2" transfer | awk -v k="$3" '$1 == k { print $2 }'
}
topo_endpoint() { # NAME IFACE PEERKEY
	wgx "$1" show "$2" endpoints | awk -v k="$3" '$1 == k { print $2 }'
}

topo_ping() { # NAME DST [COUNT]: COUNT (3) echo replies, 1 s deadline each
	ns_ping "$(topo_ns_name "$1")" "$2" "${3:-3}" 1 >/dev/null
}
# topo_ping_eventually NAME DST SECONDS: a first reply within SECONDS (handshakes take a moment)
topo_ping_eventually() { wait_until "$3" topo_ping "$1" "$2" 1; }

# topo_bg NAME LOG CMD...: run CMD in NAME in the background (cleanup kills it with the namespace)
topo_bg() {
	local n=$1 log=$2
	shift 2
	# ip netns exec directly, not through X: $! must be the command, not a subshell.
	ip netns exec "$(topo_ns_name "$n")" "$@" >>"$W/$log.log" 2>&1 &
	echo "   [$n] started pid $! ($1)"
}
topo_listening() { # NAME PROTO PORT
	[ -n "$(X "$1" ss -Hln"${2:0:1}" "sport = :$3" 2>/dev/null)" ]
}

# topo_iperf NAME_SERVER NAME_CLIENT DST [ARGS]: a short iperf3 run; prints the rate
topo_iperf() {
	local srv=$1 cli=$2 dst=$3 out
	shift 3
	topo_bg "$srv" iperf3 iperf3 -s -1
	wait_until 10 topo_listening "$srv" tcp 5201 || fail "$srv: iperf3 server did not listen"
	topo_checkpoint iperf-server
	out=$(X "$cli" iperf3 -c "$dst" -t "${TOPO_IPERF_SECONDS:-2}" -f m "$@" 2>&1) || {
		echo "$out"
		fail "$cli: iperf3 to $dst failed"
	}
	echo "$out" | awk '/receiver/ { print "   iperf3 " c " -> " d ": " $5 " " $6 " at " $7 " " $8 }' c="$cli" d="$dst"
	# TOPO_IPERF_BYTES: what the receiver got, for checks against interface counters.
	TOPO_IPERF_BYTES=$(echo "$out" | awk '/receiver/ {
		m = 1; if ($6 ~ /^K/) m = 1024; if ($6 ~ /^M/) m = 1048576; if ($6 ~ /^G/) m = 1073741824
		printf "%d\n", $5 * m }')
}

# topo_web: the whatismyip server in the internet namespace (answers the caller's address)
topo_web() {
	# Debian's python3 before a PATH shim (pyenv's is a shell script: seconds under TCG).
	local py=/usr/bin/python3
	[ -x $py ] || py=python3
	topo_bg inet web $py "$TOPO_LIB/topo_whatismyip.py" 80
	wait_until 60 topo_listening inet tcp 80 || fail "whatismyip did not listen on :80"
}
topo_whatismyip() { # NAME -4|-6: what the web server sees as NAME's address
	local url=http://203.0.113.254/
	[ "$2" = -6 ] && url="http://[2001:db8::fe]/"
	X "$1" curl -s --max-time 3 "$2" "$url"
}

# topo_capture NAME IFACE FILE: tcpdump IFACE in NAME into $W/FILE.pcap until topo_capture_stop
topo_capture() {
	ip netns exec "$(topo_ns_name "$1")" tcpdump -n -U -i "$2" -w "$W/$3.pcap" >"$W/$3.tcpdump.log" 2>&1 &
	TOPO_CAP_PID=$!
	echo "   [$1] started pid $TOPO_CAP_PID (tcpdump)"
	wait_until 10 grep -q "listening on" "$W/$3.tcpdump.log" || fail "tcpdump did not start"
	topo_checkpoint capture
}
topo_capture_stop() {
	# TERM, not INT: background jobs of a script ignore SIGINT. tcpdump flushes on both.
	kill "$TOPO_CAP_PID" 2>/dev/null
	wait "$TOPO_CAP_PID" 2>/dev/null
}
topo_capture_count() { # FILE FILTER: packets in the capture matching FILTER
	tcpdump -n -r "$W/$1.pcap" "$2" 2>/dev/null | wc -l
}
