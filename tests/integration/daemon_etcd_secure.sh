#!/bin/bash
# podwired on an etcd that serves only https:// with client certificates (--client-cert-auth)
# and has auth enabled with the README's RBAC roles: certificates made here with openssl,
# each node with its own certificate, user and password file. Two nodes form the mesh (the
# watch included: the second one joins the first); nothing is logged about plain http; and
# node n1's credentials cannot rewrite n2's record.
T=e13b NET=236
PORT=23831
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd etcdctl openssl
cluster_init
for i in 1 2; do node_ns $i; done
ETCD_IP=192.168.$NET.254
ip -n "pn-$T-r" addr add "$ETCD_IP/24" dev br0

log "certificates: a CA, the etcd member, root and one client per node"
(cd "$W" && umask 077 &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
		-days 1 -subj /CN=pn-e13b-ca 2>/dev/null &&
	printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$ETCD_IP" >server.ext &&
	printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
	for who in server root n1 n2; do
		# etcd's JSON gateway refuses a client certificate with a CommonName once auth is on
		# (it could not use it as the user): the nodes' certificates have none.
		ext=client.ext subj="/O=podwire/OU=$who"
		[ $who = server ] && ext=server.ext
		[ $who = server ] || [ $who = root ] && subj="/CN=$who"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $who.key -out $who.csr \
			-subj "$subj" 2>/dev/null &&
		openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 \
			-extfile $ext 2>/dev/null || exit 1
	done) || fail "openssl could not make the certificates"

URL=https://$ETCD_IP:$PORT
mkdir -p "$W/etcd"
ip netns exec "pn-$T-r" etcd --name "pn-$T" --data-dir "$W/etcd" \
	--listen-client-urls "$URL" --advertise-client-urls "$URL" \
	--cert-file "$W/server.crt" --key-file "$W/server.key" --trusted-ca-file "$W/ca.crt" --client-cert-auth \
	--listen-peer-urls "http://127.0.0.1:$((PORT + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((PORT + 10))" \
	--initial-cluster "pn-$T=http://127.0.0.1:$((PORT + 10))" >>"$W/etcd.log" 2>&1 &
ETCD_PID=$!
ctl() { ip netns exec "pn-$T-r" env ETCDCTL_API=3 etcdctl --endpoints "$URL" --cacert "$W/ca.crt" \
	--cert "$W/root.crt" --key "$W/root.key" "$@"; }
wait_until 20 ctl endpoint health || fail "etcd with TLS did not start"
ok "etcd serves https:// only, with client certificates"

log "users and the README's RBAC roles"
ctl user add root --new-user-password rootpw --interactive=false >/dev/null &&
	ctl user grant-role root root >/dev/null && ctl auth enable >/dev/null || fail "cannot enable auth"
for n in n1 n2; do
	r="ctl --user root:rootpw"
	$r role add podwire-node-$n >/dev/null &&
		$r role grant-permission podwire-node-$n readwrite nodes/$n >/dev/null &&
		$r role grant-permission podwire-node-$n read alloc/ nodes0 >/dev/null &&
		$r role grant-permission podwire-node-$n --prefix=true readwrite alloc/ >/dev/null &&
		$r role grant-permission podwire-node-$n readwrite cluster/pools >/dev/null &&
		$r user add $n --new-user-password "${n}pw" --interactive=false >/dev/null &&
		$r user grant-role $n podwire-node-$n >/dev/null || fail "cannot make user $n"
	(umask 077; echo "${n}pw" >"$W/$n.pw")
done
STORE_ARGS=(--etcd-endpoints "$URL" --etcd-cacert "$W/ca.crt" --lease-ttl 30)
node_args() { echo --etcd-cert "$W/n$1.crt" --etcd-key "$W/n$1.key" --etcd-user "n$1" --etcd-password-file "$W/n$1.pw"; }

log "n1, then n2: the mesh forms over TLS as the nodes' own users"
# shellcheck disable=SC2046
daemon_start 1 $(node_args 1)
wait_until 20 grep -q "node n1: public key" "$W/n1.log" || fail "n1 did not claim its addresses"
# shellcheck disable=SC2046
daemon_start 2 $(node_args 2)
for i in 1 2; do wait_until 20 has_peers $i 1 || fail "n$i has $(peers_of $i) peers, want 1"; done
ok "n1 and n2 are peers (n1 learned of n2 through its watch)"
for i in 1 2; do
	! grep -q "plain http://" "$W/n$i.log" || fail "n$i warned about http:// on an https:// store"
	! grep -qi "authentication failed\|unreachable" "$W/n$i.log" || fail "n$i logged an etcd failure"
done
ok "no http:// warning, no authentication or reachability failure in the logs"

log "n1's credentials against n2's record"
out=$(ctl --user n1:n1pw put nodes/n2 hijacked 2>&1) && fail "etcd let n1 write nodes/n2: $out"
echo "$out" | grep -q "permission denied" || fail "n1's write of nodes/n2 failed otherwise: $out"
ctl --user n1:n1pw get nodes/n2 --print-value-only | grep -q "# Name = n2" || fail "n2's record changed"
ok "etcd refuses n1's write of nodes/n2 (permission denied), n2's record is intact"
has_peers 1 1 && has_peers 2 1 || fail "the mesh changed"
echo "PASS ($CHECKS checks)"
