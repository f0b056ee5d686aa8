#!/bin/bash
# An etcd that cannot be reached, in each of the five ways a newcomer meets: a port where
# nothing listens, a mistyped host name, a hung etcd (SIGSTOPped), an etcd with
# --client-cert-auth and no client certificate given, a CA that did not sign etcd's
# certificate. For each, `podwirectl status` exits 1 with one line naming the cause (never
# "No route to host"), and a first start of podwired logs the same cause once, saying that
# nothing is applied yet (not "keeping the last known mesh": there is none), and keeps
# retrying; nothing of it reaches the store. Then with the right options both work.
T=e29b NET=228
PLAIN=23861 TLS=23863 CLOSED=23869
source "$(dirname "$0")/lib/common.bash"
require_cmd etcd openssl curl
cluster_init
node_ns 1
ETCD_IP=192.168.$NET.254
ip -n "pn-$T-r" addr add "$ETCD_IP/24" dev br0

(cd "$W" && umask 077 &&
	for ca in ca other; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.crt \
			-days 1 -subj "/CN=pn-e29b-$ca" 2>/dev/null || exit 1
	done &&
	printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$ETCD_IP" >server.ext &&
	printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
	for who in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $who.key -out $who.csr \
			-subj "/O=podwire/OU=$who" 2>/dev/null &&
		openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 \
			-extfile $who.ext 2>/dev/null || exit 1
	done) || fail "openssl could not make the certificates"

# etcd_member NAME URL PEER_PORT [ARGS...]: a single-member etcd in the router namespace.
etcd_member() {
	local name=$1 url=$2 peer=http://127.0.0.1:$3
	shift 3
	mkdir -p "$W/etcd-$name"
	ip netns exec "pn-$T-r" etcd --name "pn-$T-$name" --data-dir "$W/etcd-$name" \
		--listen-client-urls "$url" --advertise-client-urls "$url" --listen-peer-urls "$peer" \
		--initial-advertise-peer-urls "$peer" --initial-cluster "pn-$T-$name=$peer" "$@" >>"$W/etcd-$name.log" 2>&1 &
	track_pid $!
	eval "PID_$name=$!"
}
etcd_member plain "http://$ETCD_IP:$PLAIN" $((PLAIN + 10))
etcd_member tls "https://$ETCD_IP:$TLS" $((TLS + 10)) \
	--cert-file "$W/server.crt" --key-file "$W/server.key" --trusted-ca-file "$W/ca.crt" --client-cert-auth
wait_until 15 ip netns exec "pn-$T-n1" curl -sf -X POST -d '{}' "http://$ETCD_IP:$PLAIN/v3/maintenance/status" ||
	fail "the plain etcd did not start"
wait_until 15 ip netns exec "pn-$T-n1" curl -sf --cacert "$W/ca.crt" --cert "$W/client.crt" --key "$W/client.key" \
	-X POST -d '{}' "https://$ETCD_IP:$TLS/v3/maintenance/status" || fail "the TLS etcd did not start"

# check CASE PATTERN STORE_ARGS...: status and a first podwired start name the cause.
check() {
	local case=$1 pat=$2 rc=0 dpid t0=$SECONDS
	shift 2
	ip netns exec "pn-$T-n1" "$B/podwirectl" status "$@" >"$W/$case.out" 2>"$W/$case.err" || rc=$?
	[ $rc -eq 1 ] || fail "$case: podwirectl status exits $rc, want 1: $(cat "$W/$case.err")"
	grep -v 'WARNING: .* is plain http://' "$W/$case.err" >"$W/$case.line" || true
	[ "$(wc -l <"$W/$case.line")" -eq 1 ] || fail "$case: status printed not one line: $(cat "$W/$case.err")"
	grep -q "No route to host" "$W/$case.line" && fail "$case: status still says 'No route to host': $(cat "$W/$case.line")"
	grep -qE -- "$pat" "$W/$case.line" || fail "$case: status said '$(cat "$W/$case.line")', lacking '$pat'"
	ok "$case: podwirectl status, exit 1 after $((SECONDS - t0)) s: $(cat "$W/$case.line")"
	mkdir -p "$W/$case.state"
	ip netns exec "pn-$T-n1" "$B/podwired" --name n1 -i "pn${T}w1" "$@" --state-dir "$W/$case.state" \
		--endpoint "192.168.$NET.1:51820" --metrics 127.0.0.1:9593 >"$W/$case.log" 2>&1 &
	dpid=$!
	track_pid $dpid
	wait_until 20 grep -q "store etcd unreachable" "$W/$case.log" || fail "$case: podwired logged no unreachable store"
	kill -0 $dpid 2>/dev/null || fail "$case: podwired exited instead of retrying: $(tail -3 "$W/$case.log")"
	stop_pid $dpid
	grep "store etcd unreachable" "$W/$case.log" >"$W/$case.dline"
	[ "$(wc -l <"$W/$case.dline")" -eq 1 ] || fail "$case: the outage was logged more than once"
	grep -q "No route to host" "$W/$case.dline" && fail "$case: podwired still says 'No route to host'"
	grep -q "keeping the last known mesh" "$W/$case.dline" && fail "$case: a first start claims a last known mesh"
	grep -q "nothing applied yet" "$W/$case.dline" || fail "$case: podwired does not say nothing is applied yet"
	grep -qE -- "$pat" "$W/$case.dline" || fail "$case: podwired said '$(cat "$W/$case.dline")', lacking '$pat'"
	ok "$case: podwired's first start: $(sed 's/.*unreachable/unreachable/' "$W/$case.dline")"
}

log "1. a port where nothing listens"
check refused "http://$ETCD_IP:$CLOSED: Connection refused.*nothing listens there" \
	--etcd-endpoints "http://$ETCD_IP:$CLOSED"
log "2. a mistyped host name"
check typo "http://etcd-typo.invalid:$PLAIN: unknown host.*etcd-typo.invalid" \
	--etcd-endpoints "http://etcd-typo.invalid:$PLAIN"
log "3. a hung etcd"
kill -STOP "$PID_plain"
at_exit "kill -CONT $PID_plain 2>/dev/null"
check hung "http://$ETCD_IP:$PLAIN: timed out: etcd took the connection but did not answer within 5000 ms" \
	--etcd-endpoints "http://$ETCD_IP:$PLAIN"
kill -CONT "$PID_plain"
log "4. no client certificate for an etcd with --client-cert-auth"
check nocert "https://$ETCD_IP:$TLS: etcd refused the TLS session.*give --etcd-cert and --etcd-key" \
	--etcd-endpoints "https://$ETCD_IP:$TLS" --etcd-cacert "$W/ca.crt"
log "5. a CA that did not sign etcd's certificate"
check untrusted "https://$ETCD_IP:$TLS: etcd's certificate is not trusted.*--etcd-cacert $W/other.crt" \
	--etcd-endpoints "https://$ETCD_IP:$TLS" --etcd-cacert "$W/other.crt" --etcd-cert "$W/client.crt" \
	--etcd-key "$W/client.key"

log "nothing reached either store; with the right options both answer"
for args in "--etcd-endpoints http://$ETCD_IP:$PLAIN" \
	"--etcd-endpoints https://$ETCD_IP:$TLS --etcd-cacert $W/ca.crt --etcd-cert $W/client.crt --etcd-key $W/client.key"; do
	# shellcheck disable=SC2086
	ip netns exec "pn-$T-n1" "$B/podwirectl" status $args >"$W/good.out" 2>"$W/good.err" ||
		fail "status with $args: $(cat "$W/good.err")"
	grep -q "^n1 " "$W/good.out" && fail "a record of n1 reached the store: $(cat "$W/good.out")"
done
ok "both etcds answer podwirectl status, and neither holds a record of n1"
