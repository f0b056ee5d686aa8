# tests/integration/lib/updown.bash — shared by the updown tests (prefix pq): build lookup,
# the userspace datapath choice, namespace setup, state snapshots and the resolvconf mock.
# Sourced, not run (tests/run only runs tests/integration/*.sh).

pq_build() { # the build dir whose binaries the tests use
	local b=${PODWIRE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
	echo "$b"
}

pq_need_root() {
	if [ "$(id -u)" != 0 ]; then echo "needs root (network namespaces)"; exit 77; fi
	for t in ip wg nft bash; do
		command -v $t >/dev/null || { echo "needs $t"; exit 77; }
	done
}

# Which userspace WireGuard to use when the kernel has none: $UPDOWN_USERSPACE, else
# podwire-wg when it comes up on this host, else wireguard-go.
pq_pick_userspace() { # build-dir
	local b=$1 ns=pq-probe$$ name=pqprobe$$ i
	if [ -n "${UPDOWN_USERSPACE:-}" ]; then echo "$UPDOWN_USERSPACE"; return; fi
	# With the kernel module there is nothing to fall back to: do not spend time probing.
	if [ -e /sys/module/wireguard ]; then command -v wireguard-go || echo /bin/false; return; fi
	name=${name:0:15}
	if [ -x "$b/podwire-wg" ]; then
		ip netns add $ns
		ip netns exec $ns "$b/podwire-wg" $name >/dev/null 2>&1
		for i in $(seq 30); do
			[ -S /var/run/wireguard/$name.sock ] && ip -n $ns link show $name >/dev/null 2>&1 && break
			sleep 0.1
		done
		if [ -S /var/run/wireguard/$name.sock ] && ip netns exec $ns wg show $name >/dev/null 2>&1; then
			ip -n $ns link del $name 2>/dev/null; ip netns del $ns
			pq_wait_socket_gone $name
			echo "$b/podwire-wg"; return
		fi
		ip -n $ns link del $name 2>/dev/null; ip netns del $ns
		pq_wait_socket_gone $name
	fi
	command -v wireguard-go
}

pq_wait_socket_gone() { # ifname: wait for a userspace datapath to exit, then drop a stale socket
	local i
	for i in $(seq 50); do [ -e /var/run/wireguard/$1.sock ] || return 0; sleep 0.1; done
	rm -f /var/run/wireguard/$1.sock
}

# A fresh namespace whose addresses do not depend on chance: fixed MACs with EUI-64
# link-local addresses on the veths, a fixed IPv6 stable secret (the tunnel's link-local
# address derives from it), no DAD (no "tentative").
# Underlay: veth pqd0 (peer pqd1 in the same namespace; this kernel has no dummy driver),
# MTU 1420, 10.77.0.1/24 + fd77::1/64, default route through it, and 10.78.0.0/24 with a
# route MTU of 1300.
pq_ns_setup() { # name
	local ns=$1
	ip netns add $ns
	ip netns exec $ns sh -c 'echo fd00:70:71:72:73:74:75:76 > /proc/sys/net/ipv6/conf/default/stable_secret &&
		echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
	ip -n $ns -batch - <<B
link set lo up
link add pqd0 address 02:00:00:00:77:01 mtu 1420 type veth peer name pqd1 address 02:00:00:00:77:02 mtu 1420
link set pqd0 addrgenmode eui64
link set pqd1 addrgenmode eui64
link set pqd1 up
addr add 10.77.0.1/24 dev pqd0
addr add fd77::1/64 dev pqd0 nodad
link set pqd0 up
route add default via 10.77.0.254 dev pqd0
route add 10.78.0.0/24 via 10.77.0.254 dev pqd0 mtu 1300
B
	pq_ns_settle $ns
}

# Wait until the veth pair has carrier and its link-local addresses are no longer tentative,
# so that "before" snapshots do not catch the namespace half way through coming up.
pq_ns_settle() { # ns
	local i
	for i in $(seq 100); do
		if ! ip -n $1 link show | grep -q -e NO-CARRIER -e LOWERLAYERDOWN &&
		   [ -z "$(ip -n $1 -6 addr show tentative)" ] &&
		   [ "$(ip -n $1 -6 addr show scope link | grep -c inet6)" -ge 2 ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "namespace $1 did not settle"; ip -n $1 addr
	return 1
}

# Everything up/down may touch in a namespace, in a comparable form: transfer counters and
# handshake times (which depend on timing) are zeroed in the dump.
pq_snapshot() { # ns ifname...: the namespace, and the WireGuard interfaces to dump
	local ns=$1 i; shift
	# The kernel clears "tentative" from a new link-local address a moment after the link
	# comes up (DAD is off); podwirectl finishes sooner than wg-quick, so wait for it.
	for i in $(seq 40); do [ -z "$(ip -n $ns -6 addr show tentative)" ] && break; sleep 0.05; done
	echo "== ip -d addr"; ip -n $ns -d addr
	echo "== ip route show table all"; ip -n $ns route show table all
	echo "== ip -6 route show table all"; ip -n $ns -6 route show table all
	echo "== ip rule"; ip -n $ns rule
	echo "== ip -6 rule"; ip -n $ns -6 rule
	echo "== nft list ruleset"; ip netns exec $ns ${PQ_NFT:-nft} list ruleset
	if [ -n "${PQ_IPTABLES:-}" ]; then # without nft, the rules live in iptables
		echo "== iptables-save"
		ip netns exec $ns iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
		echo "== ip6tables-save"
		ip netns exec $ns ip6tables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
	fi
	echo "== wg show all dump"
	# Not `wg show all`: the UAPI sockets of every namespace are visible from each.
	for i in "$@"; do ip netns exec $ns wg show $i dump 2>/dev/null; done |
		awk -F'\t' 'BEGIN { OFS = "\t" } NF == 8 { $5 = 0; $6 = 0; $7 = 0 } { print }'
}

# The one mock: resolvconf. The real one would rewrite this host's /etc/resolv.conf, so a
# script records each call (arguments, and the records given on stdin) in DIR/log and keeps
# the records per interface in DIR for -l. wg-quick and podwirectl find it first on PATH.
pq_resolvconf_mock() { # bindir statedir
	mkdir -p "$1" "$2"
	cat > "$1/resolvconf" <<MOCK
#!/bin/bash
d='$2'
case \$1 in
-a) in=\$(cat); printf 'resolvconf %s\n%s\n' "\$*" "\$in" >> "\$d/log"; printf '%s\n' "\$in" > "\$d/rec.\$2" ;;
-d) echo "resolvconf \$*" >> "\$d/log"; rm -f "\$d/rec.\$2" ;;
-l) echo "resolvconf \$*" >> "\$d/log"; cat "\$d/rec.\$2" 2>/dev/null ;;
*) echo "resolvconf \$*" >> "\$d/log"; exit 1 ;;
esac
MOCK
	chmod +x "$1/resolvconf"
}

# Render a config template: @PRIV@ @PUB1@ @PUB2@ @PUB3@ @PSK@ @DIR@.
pq_render() { # template out keydir dir
	sed -e "s|@PRIV@|$(cat "$3/priv")|" -e "s|@PUB1@|$(cat "$3/pub1")|" -e "s|@PUB2@|$(cat "$3/pub2")|" \
	    -e "s|@PUB3@|$(cat "$3/pub3")|" -e "s|@PSK@|$(cat "$3/psk")|" -e "s|@DIR@|$4|g" "$1" > "$2"
	chmod 600 "$2"
}

pq_make_keys() { # dir
	mkdir -p "$1"; (umask 077
	wg genkey > "$1/priv"; wg genpsk > "$1/psk"
	for i in 1 2 3; do wg genkey | wg pubkey > "$1/pub$i"; done)
}

pq_ping() { # ns addr [timeout]: one echo request; this host has no iputils, busybox has ping
	if command -v ping >/dev/null; then
		ip netns exec $1 ping -c 1 -W ${3:-3} -q $2 >/dev/null 2>&1
	else
		ip netns exec $1 busybox ping -c 1 -W ${3:-3} -q $2 >/dev/null 2>&1
	fi
}
