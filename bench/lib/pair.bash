# bench/lib/pair.bash — the two-host setup of the point-to-point benches: namespaces A and B
# over a veth (VA in A at PREFIX.1/24, VB in B at PREFIX.2/24), loopback up, and a WireGuard
# key pair for each side in $TMP/a.key, a.pub, b.key, b.pub. The caller's trap removes them.
bench_pair() { # A B VA VB PREFIX (three octets, e.g. 10.90.0)
	local a=$1 b=$2 va=$3 vb=$4 net=$5 k n
	ip netns add "$a" && ip netns add "$b" || return 1
	ip link add "$va" netns "$a" type veth peer name "$vb" netns "$b" || return 1
	ip -n "$a" addr add "$net.1/24" dev "$va" && ip -n "$b" addr add "$net.2/24" dev "$vb" || return 1
	for n in "$a" "$b"; do ip -n "$n" link set lo up; done
	ip -n "$a" link set "$va" up && ip -n "$b" link set "$vb" up || return 1
	for k in a b; do wg genkey >"$TMP/$k.key" && wg pubkey <"$TMP/$k.key" >"$TMP/$k.pub" || return 1; done
}

# bench_tunnel A B IFA IFB PREFIX TUNNEL PORT: once the daemons of IFA (in A) and IFB (in B)
# listen on their UAPI sockets, the two sides as each other's peer over the veth (A on PORT,
# B on PORT+1), tunnel addresses TUNNEL.1 and TUNNEL.2, MTU 1420, up.
bench_tunnel() {
	local a=$1 b=$2 ia=$3 ib=$4 net=$5 tun=$6 port=$7
	for _ in $(seq 100); do
		[ -S "/var/run/wireguard/$ia.sock" ] && [ -S "/var/run/wireguard/$ib.sock" ] && break
		sleep 0.05
	done
	ip netns exec "$a" wg set "$ia" private-key "$TMP/a.key" listen-port "$port" \
		peer "$(cat "$TMP/b.pub")" endpoint "$net.2:$((port + 1))" allowed-ips "$tun.2/32" || return 1
	ip netns exec "$b" wg set "$ib" private-key "$TMP/b.key" listen-port "$((port + 1))" \
		peer "$(cat "$TMP/a.pub")" endpoint "$net.1:$port" allowed-ips "$tun.1/32" || return 1
	ip -n "$a" addr add "$tun.1/24" dev "$ia" && ip -n "$b" addr add "$tun.2/24" dev "$ib" || return 1
	ip -n "$a" link set "$ia" mtu 1420 up && ip -n "$b" link set "$ib" mtu 1420 up
}
