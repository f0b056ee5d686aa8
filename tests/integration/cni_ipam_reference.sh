#!/bin/bash
# cni_ipam_reference.sh — podwire-ipam as the IPAM of the reference ptp and bridge plugins
# (/usr/lib/cni): they get addresses from our ranges (dual stack for ptp), pods talk, DEL
# releases every reservation, and a repeated ADD/CHECK/DEL cycle works in 0.4.0 and 1.0.0.
set -u  # no pipefail: "cmd | grep -q" would fail when grep quits early
. "$(dirname "$0")/lib/common.bash"
HOST=pc-rh-$$
for p in ptp bridge; do [ -x /usr/lib/cni/$p ] || skip "reference plugin /usr/lib/cni/$p not installed"; done
cni_setup_host

refconf() { # OUT VERSION NAME PLUGIN-JSON IPAM-RANGES
	python3 - "$@" "$W" <<'PY'
import json, sys
out, ver, name, plugin, ranges, w = sys.argv[1:7]
c = {"cniVersion": ver, "name": name}
c.update(json.loads(plugin))
c["ipam"] = {"type": "podwire-ipam", "dataDir": w + "/ipam", "ranges": json.loads(ranges),
             "routes": [{"dst": "0.0.0.0/0"}]}
json.dump(c, open(out, "w"))
PY
}
# ref_add TAG PLUGIN NS VERSION: pods a and b (namespaces NSa, NSb) added by the reference
# PLUGIN with $W/TAG.json; each result in $W/TAG-a.json, $W/TAG-b.json, checked for its shape.
ref_add() {
	local tag=$1 plugin=$2 ns=$3 ver=$4 p
	for p in a b; do
		netns_add "$ns$p"
		PLUGIN=/usr/lib/cni/$plugin cni_run ADD "$tag-$p" "$ns$p" eth0 "$W/$tag.json" "$W/$tag-$p.json" \
			|| { cat "$W/$tag-$p.json"; fail "$plugin $ver ADD $p with podwire-ipam"; }
		shapes result "$ver" "$W/$tag-$p.json" || fail "$plugin $ver result shape"
	done
}
reservations() { ls "$W/ipam/$1" 2>/dev/null | grep -c -e '^10\.' -e '^fd' ; }

for ver in 0.4.0 1.0.0; do
	v=${ver//./}
	n=$((10#$v))	# each round its own subnets: the first bridge still holds its gateway address
	# ptp: dual stack from two range sets.
	refconf "$W/ptp.json" $ver pc-ref-ptp$v '{"type":"ptp","ipMasq":false,"mtu":1400}' \
		"[[{\"subnet\":\"10.215.$n.0/24\"}],[{\"subnet\":\"fd00:215:$n::/64\"}]]"
	ref_add ptp ptp pc-rp$v-$$- $ver
	b4=$(json_get "$W/ptp-b.json" '[i["address"] for i in r["ips"] if ":" not in i["address"]][0].split("/")[0]')
	[[ $b4 == 10.215.$n.* ]] || fail "ptp $ver: address $b4 not from podwire-ipam's range"
	[[ $(json_get "$W/ptp-b.json" 'r["ips"]') == *"fd00:215:$n::"* ]] || fail "ptp $ver: no IPv6 address from the second range set"
	[ "$(reservations pc-ref-ptp$v)" = 4 ] || fail "ptp $ver: expected 4 reservation files"
	ip netns exec pc-rp$v-$$-a busybox ping -c1 -W2 "$b4" >/dev/null || fail "ptp $ver: pods cannot talk"
	with_prev "$W/ptp.json" "$W/ptp-a.json" "$W/ptp-prev.json"
	PLUGIN=/usr/lib/cni/ptp cni_run CHECK ptp-a pc-rp$v-$$-a eth0 "$W/ptp-prev.json" "$W/out" \
		|| { cat "$W/out"; fail "ptp $ver CHECK (delegates CHECK to podwire-ipam)"; }
	for p in a b; do
		PLUGIN=/usr/lib/cni/ptp cni_run DEL ptp-$p pc-rp$v-$$-$p eth0 "$W/ptp.json" "$W/out" || fail "ptp $ver DEL $p"
	done
	[ "$(reservations pc-ref-ptp$v)" = 0 ] || fail "ptp $ver: reservations left after DEL"
	echo "ok: ptp $ver with podwire-ipam (dual stack, ping, CHECK, DEL releases)"

	# bridge: the gateway of our range goes on the bridge, pods ping each other and it.
	refconf "$W/br.json" $ver pc-ref-br$v '{"type":"bridge","bridge":"pcbr'$v'","isGateway":true}' \
		"[[{\"subnet\":\"10.216.$n.0/24\",\"gateway\":\"10.216.$n.1\"}]]"
	ref_add br bridge pc-rb$v-$$- $ver
	b4=$(json_get "$W/br-b.json" 'r["ips"][0]["address"].split("/")[0]')
	[ "$(json_get "$W/br-a.json" 'r["ips"][0]["address"]')" = 10.216.$n.2/24 ] || fail "bridge $ver: first address is not .2/24"
	ip -n "$HOST" addr show pcbr$v | grep -q "10.216.$n.1/24" || fail "bridge $ver: gateway not on the bridge"
	ip netns exec pc-rb$v-$$-a busybox ping -c1 -W2 "$b4" >/dev/null || fail "bridge $ver: pods cannot talk"
	ip netns exec pc-rb$v-$$-a busybox ping -c1 -W2 10.216.$n.1 >/dev/null || fail "bridge $ver: gateway unreachable"
	for p in a b; do
		PLUGIN=/usr/lib/cni/bridge cni_run DEL br-$p pc-rb$v-$$-$p eth0 "$W/br.json" "$W/out" || fail "bridge $ver DEL $p"
	done
	[ "$(reservations pc-ref-br$v)" = 0 ] || fail "bridge $ver: reservations left after DEL"
	echo "ok: bridge $ver with podwire-ipam (gateway, ping, DEL releases)"
done
echo "cni_ipam_reference: passed"
