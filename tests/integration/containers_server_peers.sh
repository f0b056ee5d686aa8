#!/bin/bash
# containers_server_peers.sh — server mode as linuxserver/wireguard's users run it: the same
# /config through edits of PEERS, and the environment that goes with it (PUID/PGID,
# LOG_CONFS, TZ, PEERDNS=auto, SERVERURL=auto, templates, /app/show-peer). On podman here;
# containers_server_peers_docker.sh runs it on the private dockerd. On a bridge network:
#
#   pw18-sp (podman: 10.89.126.0/24, Docker: 10.89.127.0/24)
#     ├─ pw18-spw-ENGINE .80   busybox httpd: /myip answers 192.0.2.44 (the what-is-my-IP
#     │                        service SERVERURL=auto asks; no internet is used); port 81
#     │                        takes connections and never answers (a service that hangs);
#     │                        dnsmasq: myip.test is 192.0.2.44 (the server's resolver)
#     └─ pw18-sps-ENGINE       the server, /config = $W/ENGINE/config, --dns .80
#
# Checks:
#   PEERS=laptop,phone,tablet, then laptop,tablet, then tablet,laptop,phone: each name keeps its
#   address and keys; `wg show wg0 allowed-ips` through exec lists exactly the peers of PEERS
#   with those addresses; the dropped peer's directory stays (as linuxserver's) and show-peer
#   says it is not active; with peer_phone's directory removed a new peer takes the lowest
#   free address (.3). PUID/PGID own every file; LOG_CONFS puts the QR codes of written peers
#   in the log (false: one line each; a config that did not change: none); TZ=Asia/Tokyo is
#   the zone of `exec date`; PEERDNS=auto is the server's 10.13.13.1, which answers from the
#   container's resolver (the service's dnsmasq; on Docker through its 127.0.0.11); SERVERURL=auto takes the service's answer, and from a
#   service that never answers the container's own address after 5 s, with one warning; a user
#   template's line reaches every peer config; a read-only /config with nothing to change starts.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
ct_setup
engine=$CT_ENGINE
# The image by its ID: other trees on this machine tag their own builds podwire:latest in the
# same podman storage while this test runs.
IMAGE=$(P image inspect "$IMAGE" --format '{{.Id}}') || fail "image inspect $IMAGE"

net4() { [ "$engine" = docker ] && echo 10.89.127 || echo 10.89.126; }

setup_engine() {
	mkdir -p "$W/www" "$W/$engine"
	echo 192.0.2.44 >"$W/www/myip"
	ct_network pw18-sp "$(net4).0/24"
	P run -d --no-healthcheck --name "pw18-spw-$engine" --network pw18-sp --ip "$(net4).80" \
		-v "$W/www:/www:ro" "$IMAGE" sh -c 'nc -ll -p 81 -e sleep 3600 &
			dnsmasq --no-resolv --no-hosts --address=/myip.test/192.0.2.44 --user=root --group=root --pid-file= &
			exec httpd -f -p 80 -h /www' >/dev/null || fail "$engine: what-is-my-IP service"
}

# server PEERS [ARGS...]: the server container on $cfg with PEERS, the fixed environment and ARGS
# (more -e, or a :ro mount instead of the default one); it must come up.
server() {
	local peers=$1 mount=("-v" "$cfg:/config")
	shift
	[[ " $* " == *":/config:ro "* ]] && mount=()
	P run -d --name "pw18-sps-$engine" --network pw18-sp --cap-add NET_ADMIN --device /dev/net/tun \
		--dns "$(net4).80" "${mount[@]}" -e "PEERS=$peers" -e PUID=1234 -e PGID=4321 -e TZ=Asia/Tokyo \
		-e "PODWIRE_MYIP_URL=http://$(net4).80/myip" -e SERVERPORT=51921 "$@" "$IMAGE" >/dev/null ||
		fail "$engine: run server with PEERS=$peers"
	wait_until 40 server_settled
	P logs "pw18-sps-$engine" 2>&1 | grep -F 'podwire: up:' >/dev/null ||
		{ P logs "pw18-sps-$engine"; fail "$engine: server with PEERS=$peers did not come up"; }
	P logs "pw18-sps-$engine" >"$W/$engine/log" 2>&1
}
# server_settled: the server is up, or has stopped.
server_settled() {
	P logs "pw18-sps-$engine" 2>&1 | grep -F 'podwire: up:' >/dev/null ||
		[ "$(P inspect "pw18-sps-$engine" --format '{{.State.Running}}')" != true ]
}
server_stop() {
	P stop -t 10 "pw18-sps-$engine" >/dev/null || fail "$engine: stop server"
	P rm "pw18-sps-$engine" >/dev/null
}

# addr_of NAME / key_of NAME: what /config holds for peer NAME.
addr_of() { sed -n 's/^Address = //p' "$cfg/peer_$1/peer_$1.conf"; }
key_of() { cat "$cfg/peer_$1/publickey-peer_$1"; }

# check_peers NAME...: `wg show wg0 allowed-ips` in the server lists exactly these peers, each
# with the address of its own config, and each name keeps what it had before (addr/key).
check_peers() {
	local want= got n
	for n in "$@"; do
		want+="$(key_of "$n")	$(addr_of "$n")/32"$'\n'
		if [ -n "${addr[$n]-}" ]; then
			[ "$(addr_of "$n")" = "${addr[$n]}" ] || fail "$engine: PEERS=$peers_now: $n moved from ${addr[$n]} to $(addr_of "$n")"
			[ "$(key_of "$n")" = "${key[$n]}" ] || fail "$engine: PEERS=$peers_now: $n has a new key"
			grep -qx "PrivateKey = $(cat "$cfg/peer_$n/privatekey-peer_$n")" "$cfg/peer_$n/peer_$n.conf" ||
				fail "$engine: peer_$n.conf is not its own private key"
		fi
		addr[$n]=$(addr_of "$n")
		key[$n]=$(key_of "$n")
	done
	got=$(P exec "pw18-sps-$engine" wg show wg0 allowed-ips | sort)
	[ "$got" = "$(printf '%s' "$want" | sort)" ] ||
		fail "$engine: PEERS=$peers_now: wg show wg0 allowed-ips is"$'\n'"$got"$'\n'"want"$'\n'"$want"
}

run_engine() {
	local n out t0 dt
	cfg=$W/$engine/config
	mkdir -p "$W/$engine" && mkdir -m 700 "$cfg"
	declare -gA addr=() key=()
	setup_engine

	peers_now=laptop,phone,tablet
	server "$peers_now"
	check_peers laptop phone tablet
	[ "${addr[laptop]} ${addr[phone]} ${addr[tablet]}" = "10.13.13.2 10.13.13.3 10.13.13.4" ] ||
		fail "$engine: first addresses are ${addr[*]}"
	for n in laptop phone tablet; do
		grep -F "PEER $n QR code (conf file is saved under /config/peer_$n):" "$W/$engine/log" >/dev/null ||
			fail "$engine: LOG_CONFS (default true): no QR code of $n in the log"
	done
	grep '▄' "$W/$engine/log" >/dev/null || fail "$engine: no QR code drawn in the log"
	# PEERDNS=auto: the server's .1 forwards to the container's resolver (the service's dnsmasq;
	# on Docker through its own 127.0.0.11, which a peer could not reach).
	grep -qx "DNS = 10.13.13.1" "$cfg/peer_laptop/peer_laptop.conf" || fail "$engine: PEERDNS=auto: no DNS = 10.13.13.1"
	P exec "pw18-sps-$engine" nslookup myip.test 10.13.13.1 >"$W/out" 2>&1
	grep -F 192.0.2.44 "$W/out" >/dev/null || fail "$engine: PEERDNS=auto: myip.test through 10.13.13.1:"$'\n'"$(cat "$W/out")"
	grep -qx "Endpoint = 192.0.2.44:51921" "$cfg/peer_laptop/peer_laptop.conf" ||
		fail "$engine: SERVERURL=auto: the endpoint is not what the service said: $(grep Endpoint "$cfg/peer_laptop/peer_laptop.conf")"
	out=$(find "$cfg" \( ! -user 1234 -o ! -group 4321 \))
	[ -z "$out" ] || fail "$engine: PUID/PGID=1234:4321: not owned so: $out"
	[ "$(P exec "pw18-sps-$engine" date +%z)" = +0900 ] || fail "$engine: TZ=Asia/Tokyo: exec date +%z is not +0900"
	P exec "pw18-sps-$engine" /app/show-peer tablet | grep '▄' >/dev/null || fail "$engine: /app/show-peer tablet draws no QR code"
	ok "$engine: PEERS=$peers_now: .2 .3 .4, wg show lists them; QR codes in the log; PUID/PGID, TZ, PEERDNS=auto (.1 forwards), SERVERURL=auto (the service's 192.0.2.44)"
	server_stop

	peers_now=laptop,tablet
	server "$peers_now" -e LOG_CONFS=false
	check_peers laptop tablet
	[ -f "$cfg/peer_phone/privatekey-peer_phone" ] || fail "$engine: the dropped peer's directory is gone"
	P exec "pw18-sps-$engine" /app/show-peer phone >"$W/out" 2>&1 && fail "$engine: show-peer of a dropped peer succeeds"
	grep 'PEER phone is not active' "$W/out" >/dev/null || fail "$engine: show-peer phone: $(cat "$W/out")"
	grep '▄' "$W/$engine/log" >/dev/null && fail "$engine: LOG_CONFS=false, and yet a QR code in the log"
	ok "$engine: PEERS=$peers_now: laptop and tablet keep address and key; wg show lists only them; peer_phone/ stays, not active"
	server_stop

	peers_now=tablet,laptop,phone
	server "$peers_now"
	check_peers tablet laptop phone
	grep "^PEER .* QR code" "$W/$engine/log" >/dev/null && fail "$engine: no peer config changed, and yet a QR code is logged"
	ok "$engine: PEERS=$peers_now: phone is back at ${addr[phone]} with its key; all three as at first"
	server_stop

	# Read-only, nothing to change: it starts; then a change it must write: refused.
	server "$peers_now" -v "$cfg:/config:ro"
	check_peers tablet laptop phone
	ok "$engine: a read-only /config with nothing to change starts"
	server_stop

	# A peer directory removed by hand frees its address: the new peer takes the lowest free.
	rm -rf "$cfg/peer_phone"
	mkdir -p "$cfg/templates"
	printf '%s\n' '# ${PEER_ID} of server ${SERVERURL}' "$(cat "$cfg/templates/peer.conf")" >"$cfg/templates/peer.conf.new" &&
		mv "$cfg/templates/peer.conf.new" "$cfg/templates/peer.conf"
	peers_now=laptop,tablet,watch
	server "$peers_now"
	check_peers laptop tablet watch
	[ "${addr[watch]}" = 10.13.13.3 ] || fail "$engine: the new peer watch took ${addr[watch]}, not the lowest free .3"
	for n in laptop tablet watch; do
		grep -qx "# peer_$n of server 192.0.2.44" "$cfg/peer_$n/peer_$n.conf" || fail "$engine: the template's line is not in peer_$n.conf"
	done
	ok "$engine: PEERS=$peers_now after rm -r peer_phone: watch takes .3; templates/peer.conf's line in every peer config"
	server_stop

	# SERVERURL=auto without an answer: the container's own address, one warning, no hang.
	t0=$SECONDS
	server "$peers_now" -e "PODWIRE_MYIP_URL=http://$(net4).80:81/"
	dt=$((SECONDS - t0))
	own=$(P exec "pw18-sps-$engine" ip -4 -o addr show eth0 | awk '{ sub("/.*", "", $4); print $4 }')
	grep -qx "Endpoint = $own:51921" "$cfg/peer_laptop/peer_laptop.conf" ||
		fail "$engine: SERVERURL=auto with no answer: $(grep Endpoint "$cfg/peer_laptop/peer_laptop.conf"), not $own"
	[ "$(grep -c 'SERVERURL=auto' "$W/$engine/log")" = 1 ] || fail "$engine: SERVERURL=auto with no answer: not one warning line"
	((dt < 40)) || fail "$engine: SERVERURL=auto with no answer took ${dt}s to come up"
	ok "$engine: SERVERURL=auto with a service that never answers: clients dial $own (the container's), one warning, up in ${dt}s"
	server_stop
}

run_engine
echo "containers_server_peers ($CT_ENGINE): passed, $CHECKS checks"
