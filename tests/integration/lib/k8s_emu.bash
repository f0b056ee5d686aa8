# lib/k8s_emu.bash — podwired on the Kubernetes store of a namespace cluster (common.bash),
# against the API EMULATOR tests/k8s_api_emulator.py (no kube-apiserver runs on this machine):
# HTTPS on $API:$PORT in the router namespace with a CA made here by openssl, bearer tokens
# from $W/tokens. Source after common.bash with T, NET and PORT set; then k8s_emu_init after
# cluster_init, or k8s_emu_cluster for all of it. A node's token file starts as $TOKEN.
require_cmd openssl python3 curl
EMU=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/k8s_api_emulator.py
API=192.168.$NET.254 # an IPv6 address works too (IPv6-only clusters)
EMU_PID=
api_host() { [[ $API == *:* ]] && echo "[$API]" || echo "$API"; } # for URLs

k8s_emu_init() { # the API address on the underlay, the CA and the server certificate
	at_exit emu_stop # before the daemons and namespaces go
	STORE_ARGS=()
	if [[ $API == *:* ]]; then ip -n "pn-$T-r" addr add "$API/64" dev br0 nodad
	else ip -n "pn-$T-r" addr add "$API/24" dev br0; fi
	make_tls_cert pn-test-ca "$API"
}
emu_start() {
	ip netns exec "pn-$T-r" python3 "$EMU" --listen "$(api_host):$PORT" --cert "$W/server.crt" --key "$W/server.key" \
		--tokens "$W/tokens" --state "$W/api-state.json" --log "$W/api-requests.log" >>"$W/emulator.log" 2>&1 &
	EMU_PID=$!
	wait_until 10 api GET /emulator/state || fail "the API emulator did not start"
}
k8s_emu_cluster() { # cluster_init, k8s_emu_init, one random bearer token $TOKEN in $W/tokens, the emulator up
	cluster_init
	k8s_emu_init
	TOKEN=$(openssl rand -hex 24)
	echo "$TOKEN" >"$W/tokens"
	emu_start
}
emu_stop() { [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null; EMU_PID=; }
api() { # METHOD PATH [BODY]: the emulator, over HTTPS with the CA
	ip netns exec "pn-$T-r" curl -sf --cacert "$W/ca.crt" -X "$1" "https://$(api_host):$PORT$2" ${3:+-d "$3"}
}
node_create() { # NAME [POD_CIDR]
	api POST /emulator/nodes "{\"metadata\":{\"name\":\"$1\"},\"spec\":{${2:+\"podCIDR\":\"$2\",\"podCIDRs\":[\"$2\"]}}}" >/dev/null ||
		fail "cannot create Node $1"
}
ann() { # NODE KEY: podwire.io/KEY of Node NODE
	api GET /emulator/state | python3 -c 'import sys,json
n=json.load(sys.stdin)["nodes"].get(sys.argv[1],{})
print(n.get("metadata",{}).get("annotations",{}).get(sys.argv[2],""))' "$1" "podwire.io/$2"
}
kube_start() { # I [args]: podwired on node I with its own kubeconfig (JSON form) and token file
	local i=$1; shift
	[ -f "$W/token-n$i" ] || echo "$TOKEN" >"$W/token-n$i"
	cat >"$W/kubeconfig-n$i.json" <<-EOC
	{"apiVersion":"v1","kind":"Config","current-context":"test",
	 "clusters":[{"name":"emu","cluster":{"server":"https://$(api_host):$PORT","certificate-authority":"$W/ca.crt"}}],
	 "users":[{"name":"podwired","user":{"tokenFile":"$W/token-n$i"}}],
	 "contexts":[{"name":"test","context":{"cluster":"emu","user":"podwired"}}]}
	EOC
	daemon_start "$i" --kubeconfig "$W/kubeconfig-n$i.json" "$@"
}
