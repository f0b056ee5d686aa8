#!/bin/bash
# cni_masquerade.sh — the plugin does no NAT on the host: "ipMasq": true would need nftables
# (a library and a tool most nodes lack), and podwired masquerades the node's pod CIDR instead
# (daemon_masquerade.sh). ADD and STATUS with "ipMasq": true are refused with CNI error 7
# naming podwired's --masquerade, nothing created (no veth, no address reserved, no nftables
# table); DEL with it still succeeds (pods wired by an older plugin must go); "ipMasq": false
# works; and the plugin binary carries no libnftables loader.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-mh-$$
cni_setup_host
netns_add pc-mpa-$$
netns_add pc-mpb-$$

net=pc-masq
conf_make "$W/masq.json" 1.1.0 $net '[[{"subnet":"10.232.0.0/24"}],[{"subnet":"fd00:232::/64"}]]' '{"ipMasq":true}'
conf_make "$W/plain.json" 1.1.0 pc-plain '[[{"subnet":"10.233.0.0/24"}]]' '{"ipMasq":false}'

cni_run ADD ctr-a pc-mpa-$$ eth0 "$W/masq.json" "$W/a.json" && { cat "$W/a.json"; fail "ADD with ipMasq true was accepted"; }
shapes error 1.1.0 "$W/a.json" 7 'podwired --masquerade' || { cat "$W/a.json"; fail "the error does not point at podwired --masquerade"; }
ok "ADD with ipMasq true refused: $(json_get "$W/a.json" 'r["msg"]')"
[ -z "$(host_veths)" ] || fail "the refused ADD left a veth: $(host_veths)"
! ip -n pc-mpa-$$ link show eth0 >/dev/null 2>&1 || fail "the refused ADD made eth0 in the pod"
res=$(ls "$W/ipam/$net" 2>/dev/null | grep -v -e '^lock$' -e '^last_reserved_ip' || true)
[ -z "$res" ] || fail "the refused ADD reserved addresses: $res"
[ -z "$(ip netns exec "$HOST" nft list tables 2>/dev/null)" ] || fail "nftables tables appeared on the host"
ok "nothing created: no veth, no reservation, no nftables table"

cni_run STATUS "" "" "" "$W/masq.json" "$W/s.json" && fail "STATUS with ipMasq true said the plugin can serve ADD"
shapes error 1.1.0 "$W/s.json" 7 'podwired --masquerade' || { cat "$W/s.json"; fail "STATUS error"; }
ok "STATUS with ipMasq true refused"

cni_run DEL ctr-a pc-mpa-$$ eth0 "$W/masq.json" "$W/d.json" || { cat "$W/d.json"; fail "DEL with ipMasq true failed"; }
ok "DEL with ipMasq true succeeds (old pods can go)"

cni_run ADD ctr-b pc-mpb-$$ eth0 "$W/plain.json" "$W/b.json" || { cat "$W/b.json"; fail "ADD with ipMasq false"; }
cni_run DEL ctr-b pc-mpb-$$ eth0 "$W/plain.json" "$W/out" || fail "DEL with ipMasq false"
ok "ipMasq false: ADD and DEL work"

! grep -qa libnftables "$B/podwire" || fail "the plugin still carries a libnftables loader"
ok "no libnftables in the plugin"
echo "cni_masquerade: passed ($CHECKS checks)"
