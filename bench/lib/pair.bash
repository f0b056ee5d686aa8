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
