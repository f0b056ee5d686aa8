#!/bin/bash
# cni_masquerade.sh — "ipMasq": true: a pod reaches a network outside the cluster that has no
# route back to pods (so only masqueraded traffic can be answered), over IPv4 and IPv6; the
# same pod without ipMasq cannot; the nftables set holds exactly the live pods, the chain one
# rule whatever the number of ADDs, and DEL takes the pod out of the set.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-mh-$$
require_cmd nft
ls /usr/lib/*/libnftables.so.1 >/dev/null 2>&1 || skip "libnftables1 not installed"
cni_setup_host
OUT=pc-mo-$$
netns_add "$OUT"
ip -n "$HOST" link add pcout0 type veth peer name pcin0 netns "$OUT"
ip -n "$HOST" addr add 10.231.0.1/24 dev pcout0
ip -n "$HOST" addr add fd00:231::1/64 dev pcout0 nodad
ip -n "$HOST" link set pcout0 up
ip -n "$OUT" addr add 10.231.0.2/24 dev pcin0
ip -n "$OUT" addr add fd00:231::2/64 dev pcin0 nodad
ip -n "$OUT" link set pcin0 up
nftl() { ip netns exec "$HOST" nft list "$@" 2>/dev/null; }

net=pc-masq
conf_make "$W/masq.json" 1.1.0 $net '[[{"subnet":"10.232.0.0/24"}],[{"subnet":"fd00:232::/64"}]]' '{"ipMasq":true}'
conf_make "$W/plain.json" 1.1.0 pc-plain '[[{"subnet":"10.233.0.0/24"}]]'
for p in a b c; do netns_add pc-mp$p-$$; done

cni_run ADD ctr-c pc-mpc-$$ eth0 "$W/plain.json" "$W/c.json" || fail "ADD without ipMasq"
ip netns exec pc-mpc-$$ busybox ping -c1 -W1 10.231.0.2 >/dev/null 2>&1 && fail "outside answered a pod without ipMasq (test is not meaningful)"
echo "ok: without ipMasq the outside network cannot answer a pod"

cni_run ADD ctr-a pc-mpa-$$ eth0 "$W/masq.json" "$W/a.json" || { cat "$W/a.json"; fail "ADD with ipMasq"; }
cni_run ADD ctr-b pc-mpb-$$ eth0 "$W/masq.json" "$W/b.json" || { cat "$W/b.json"; fail "second ADD with ipMasq"; }
a4=$(json_get "$W/a.json" 'r["ips"][0]["address"].split("/")[0]')
a6=$(json_get "$W/a.json" 'r["ips"][1]["address"].split("/")[0]')
b4=$(json_get "$W/b.json" 'r["ips"][0]["address"].split("/")[0]')
ip netns exec pc-mpa-$$ busybox ping -c1 -W2 10.231.0.2 >/dev/null || fail "masqueraded pod cannot reach the outside (v4)"
ip netns exec pc-mpa-$$ busybox ping -6 -c1 -W2 fd00:231::2 >/dev/null || fail "masqueraded pod cannot reach the outside (v6)"
echo "ok: with ipMasq the pod reaches the outside over IPv4 and IPv6"
nftl set ip podwire $net | grep -q "$a4" || fail "pod a not in the v4 masquerade set"
nftl set ip podwire $net | grep -q "$b4" || fail "pod b not in the v4 masquerade set"
nftl set ip6 podwire $net | grep -q "$a6" || fail "pod a not in the v6 masquerade set"
[ "$(nftl chain ip podwire masq-$net | grep -c masquerade)" = 1 ] || fail "chain does not hold exactly one rule"
nftl chain ip podwire masq-$net | grep -q 'daddr != 10.232.0.0/24' || nftl chain ip podwire masq-$net | grep -q 'daddr != { 10.232.0.0/24 }' \
	|| { nftl chain ip podwire masq-$net; fail "cluster traffic is not exempt from masquerade"; }
ip netns exec pc-mpa-$$ busybox ping -c1 -W2 "$b4" >/dev/null || fail "pods of a masquerading network cannot talk"
echo "ok: one rule, set holds the pods, pod-to-pod exempt"

with_prev "$W/masq.json" "$W/a.json" "$W/preva.json"
cni_run DEL ctr-a pc-mpa-$$ eth0 "$W/masq.json" "$W/out" || { cat "$W/out"; fail "DEL with ipMasq"; }
nftl set ip podwire $net | grep -q "$a4" && fail "DEL left pod a in the v4 set"
nftl set ip6 podwire $net | grep -q "$a6" && fail "DEL left pod a in the v6 set"
nftl set ip podwire $net | grep -q "$b4" || fail "DEL of a removed b too"
cni_run DEL ctr-a pc-mpa-$$ eth0 "$W/preva.json" "$W/out" || fail "second DEL with ipMasq"
cni_run DEL ctr-b pc-mpb-$$ eth0 "$W/masq.json" "$W/out" || fail "DEL b"
cni_run DEL ctr-c pc-mpc-$$ eth0 "$W/plain.json" "$W/out" || fail "DEL c"
nftl set ip podwire $net | grep -q "elements" && fail "set not empty after all DELs"
echo "ok: DEL removes the pod from the set, idempotently"
echo "cni_masquerade: passed"
