#!/bin/bash
# containers_compose.sh — the tutorial's container setup, from manifests/compose/ unchanged,
# on the podwire image, all inside a private "host" namespace; with podman and podman-compose
# (rootful, CNI) here, and with a private dockerd and docker-compose 1.29 when run as
# containers_compose_docker.sh (CT_ENGINE=docker, lib/containers.bash):
#
#   pw18-inet 10.89.118.0/24 fd18:118::/64 ("the internet")
#     ├─ pw18-whoami .80 ::80      answers GET /cgi-bin/ip with the caller's address
#     └─ relay (compose project pw18-relay), 51820/udp published as the host's :51918
#          ▲ WireGuard, through the host's NAT
#   pw18-lan 10.89.119.0/24 fd18:119::/64 (reaches the internet only through NAT)
#     └─ client (project pw18-client): `wireguard` + `vpn_test` (network_mode: service:wireguard)
#
# Checks: make image's archive is a docker-archive of podwire:VERSION and podwire:latest that
# the engine loads; the compose files are valid for docker-compose; make-keys.sh makes
# matching keys with only the engine on PATH (the image's podwirectl); the relay's entry point
# picks podwire-wg (no kernel module here) and says so; vpn_test's curl prints the relay's
# IPv4 address, and a curl in the same namespace its IPv6 address (not the NAT's); the time
# from `compose up` to vpn_test's answer is printed; `wg show` by exec lists the relay; the
# client's DNS = line is its resolv.conf while the tunnel is up; the relay's podwire-wg killed,
# the relay's container exits 1 naming why, its restart policy brings it back and the client
# gets through again (time printed); with the client's tunnel down, and with its podwire-wg
# killed, neither family gets any answer (no leak to the direct path), and the killed one ends
# the client's container (exit 1, one line); SIGTERM brings the relay down and it exits 0
# within the engine's 10 s; teardown leaves nothing.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
ct_setup
size=$(P image inspect "$IMAGE" --format '{{.Size}}')
echo "image: $IMAGE $((size / 1000000)) MB uncompressed ($CT_ENGINE)"
# What `docker load` reads: make image's docker-archive, naming the image as the compose files
# do (podwire:latest, which podman also finds as localhost/podwire:latest).
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' "$TOP/lib/version.h")
archive=$TOP/build/image/podwire-$version.tar
python3 - "$archive" "$version" <<-'EOF' || fail "$archive is not a docker-archive of podwire:$version and podwire:latest"
	import json, sys, tarfile
	t = tarfile.open(sys.argv[1])
	m = json.load(t.extractfile("manifest.json"))
	assert m[0]["RepoTags"] == ["podwire:" + sys.argv[2], "podwire:latest"], m[0]["RepoTags"]
	assert m[0]["Layers"], m
	c = json.load(t.extractfile(m[0]["Config"]))["config"]
	assert c["Healthcheck"]["Test"] == ["CMD", "podwire-entrypoint", "health"], c.get("Healthcheck")
	assert c["Entrypoint"] == ["/usr/local/bin/podwire-entrypoint"], c["Entrypoint"]
EOF
if [ "$CT_ENGINE" = podman ]; then
	# A second, empty podman store reads the archive (dockerd loaded it in ct_setup).
	podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs load -q -i "$archive" >/dev/null 2>&1 &&
		podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs image exists "podwire:$version" &&
		podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs image exists podwire:latest ||
		fail "the archive does not load into an empty store"
	podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs rmi -a -f >/dev/null 2>&1
	rm -rf "$W/store" "$W/runroot"
fi
ok "$archive: a docker-archive of podwire:$version and podwire:latest with its HEALTHCHECK and entry point; it loads into an empty $CT_ENGINE store"

# The compose files as a user has them, keys made by their script, outside the source tree.
cp -r "$TOP/manifests/compose" "$W/compose"
rm -f "$W/compose"/{relay,client}/wg0.conf
for f in relay client; do
	docker-compose -f "$W/compose/$f/compose.yml" config -q || fail "$f/compose.yml: docker-compose config"
done
ok "relay/compose.yml and client/compose.yml are valid for docker-compose"
# Keys made by the image on this engine: a PATH with neither podwirectl nor wg, only the engine.
mkdir "$W/keybin"
for t in dirname mv; do ln -s "$(command -v "$t")" "$W/keybin/$t"; done
if [ "$CT_ENGINE" = docker ]; then ln -s "$DOCKER_CLI" "$W/keybin/docker"; else ln -s "$(command -v podman)" "$W/keybin/podman"; fi
(cd "$W/compose" && PATH=$W/keybin ./make-keys.sh --endpoint 10.89.119.1:51918) || fail "make-keys.sh with $CT_ENGINE only"
key_of() { sed -n "s/^$2 = //p" "$W/compose/$1/wg0.conf"; }
[ "$(key_of relay PrivateKey | podwirectl pubkey)" = "$(key_of client PublicKey)" ] &&
	[ "$(key_of client PrivateKey | podwirectl pubkey)" = "$(key_of relay PublicKey)" ] ||
	fail "make-keys.sh ($CT_ENGINE): the two configs' keys do not pair"
ok "make-keys.sh with only $CT_ENGINE on PATH: the image made key pairs that match across the two configs"
[ "$(stat -c %a "$W/compose/relay/wg0.conf")" = 600 ] || fail "relay/wg0.conf is not 0600"
grep -q '@' "$W/compose/client/wg0.conf" && fail "client/wg0.conf: a placeholder is left"

ct_network pw18-inet 10.89.118.0/24 fd18:118::/64
ct_network pw18-lan 10.89.119.0/24 fd18:119::/64
ct_route_between pw18-lan pw18-inet
ct_whoami pw18-inet 10.89.118.80 fd18:118::80
url=http://10.89.118.80/cgi-bin/ip url6='http://[fd18:118::80]/cgi-bin/ip'
# The test's only change to the compose files: which network is "default" for each project
# (the test's, made above: external to the projects).
printf 'networks:\n  default:\n    external: true\n    name: pw18-inet\n' >"$W/inet.yml"
printf 'networks:\n  default:\n    external: true\n    name: pw18-lan\n' >"$W/lan.yml"
relay() { SERVERPORT=51918 ct_compose "$W/compose/relay" -p pw18-relay -f compose.yml -f "$W/inet.yml" "$@"; }
client() { WHATISMYIP_URL=$url ct_compose "$W/compose/client" -p pw18-client -f compose.yml -f "$W/lan.yml" "$@"; }

relay up -d >"$W/relay-up.log" 2>&1 || { cat "$W/relay-up.log"; fail "compose up (relay)"; }
ct_wait_log pw18-relay_wireguard_1 "podwire: up:" || { P logs pw18-relay_wireguard_1; fail "relay did not come up"; }
relay4=$(ct_addr pw18-relay_wireguard_1 pw18-inet) relay6=$(ct_addr pw18-relay_wireguard_1 pw18-inet 6)
if [ -d /sys/module/wireguard ]; then want="datapath: kernel WireGuard module"; else want="datapath: userspace podwire-wg"; fi
P logs pw18-relay_wireguard_1 2>&1 | grep "$want" >/dev/null || { P logs pw18-relay_wireguard_1; fail "relay log lacks '$want'"; }
ok "relay up at $relay4 / $relay6, its log says '$want'"

# The direct path exists and is NATed: without the tunnel the service sees the NAT's address.
direct=$(P run --rm --no-healthcheck --network pw18-lan "$IMAGE" curl -s --max-time 5 "$url")
[ -n "$direct" ] && [ "$direct" != "$relay4" ] || fail "direct path from pw18-lan answered '$direct'"
ok "pw18-lan reaches the internet directly only as $direct (NAT)"

t0=$(date +%s%N)
client up -d >"$W/client-up.log" 2>&1 || { cat "$W/client-up.log"; fail "compose up (client)"; }
P wait pw18-client_vpn_test_1 >"$W/vpn_test.rc" || fail "$CT_ENGINE wait vpn_test"
t1=$(date +%s%N)
answer=$(P logs pw18-client_vpn_test_1 2>&1)
[ "$(cat "$W/vpn_test.rc")" = 0 ] && [ "$answer" = "$relay4" ] || {
	P logs pw18-client_wireguard_1
	fail "vpn_test answered '$answer' (exit $(cat "$W/vpn_test.rc")), want the relay's $relay4"
}
ok "vpn_test's curl prints the relay's address $relay4"
echo "time from $([ "$CT_ENGINE" = docker ] && echo docker-compose || echo podman-compose) up -d to vpn_test's answer ($CT_ENGINE): $(((t1 - t0) / 1000000)) ms"

# vpn_test's namespace, for the later requests: the client container's.
in_client() { P run --rm --no-healthcheck --network container:pw18-client_wireguard_1 "$IMAGE" "$@"; }
answer6=$(in_client curl -s -g --max-time 5 "$url6")
[ "$answer6" = "$relay6" ] || fail "IPv6 through the tunnel answered '$answer6', want the relay's $relay6"
ok "IPv6 through the tunnel: the service sees the relay's $relay6"

ct_health pw18-client_wireguard_1 >/dev/null || fail "HEALTHCHECK fails with the tunnel up"
# `docker exec wireguard wg show`, as users type it: the image's wg is podwirectl by that name.
relay_pub=$(grep -m1 '^PublicKey' "$W/compose/client/wg0.conf" | sed 's/^PublicKey = //')
P exec pw18-client_wireguard_1 wg show >"$W/wg-show.out" 2>&1 || { cat "$W/wg-show.out"; fail "$CT_ENGINE exec ... wg show"; }
grep -x "peer: $relay_pub" "$W/wg-show.out" >/dev/null && grep -x 'interface: wg0' "$W/wg-show.out" >/dev/null ||
	{ cat "$W/wg-show.out"; fail "wg show in the client does not list wg0 and the relay's peer"; }
P exec pw18-client_wireguard_1 wg-quick strip wg0 >/dev/null 2>&1 ||
	P exec pw18-client_wireguard_1 wg-quick strip /config/wg0.conf >/dev/null || fail "wg-quick strip in the client"
ok "$CT_ENGINE exec CONTAINER wg show lists wg0 and the relay's peer; wg-quick is there too"
# wg0.conf's DNS = line went to the image's resolvconf, so into the container's resolv.conf.
P exec pw18-client_wireguard_1 cat /etc/resolv.conf >"$W/resolv.up"
grep -qx 'nameserver 1.1.1.1' "$W/resolv.up" && grep -qx 'nameserver 8.8.8.8' "$W/resolv.up" ||
	{ cat "$W/resolv.up"; fail "DNS = 1.1.1.1,8.8.8.8 is not in the client's /etc/resolv.conf"; }
ok "the client's DNS = line is its /etc/resolv.conf while the tunnel is up"
# The relay's datapath dies: its container exits 1 with one line naming why, the restart policy
# (restart: unless-stopped) starts it again, and the client gets through again.
P exec pw18-relay_wireguard_1 sh -c 'kill -KILL $(pidof podwire-wg)' || fail "kill the relay's podwire-wg"
t0=$(date +%s%N)
relay_restarted() { [ "$(P inspect pw18-relay_wireguard_1 --format '{{.RestartCount}}' 2>/dev/null)" -ge 1 ] 2>/dev/null; }
relay_up_again() { [ "$(P logs pw18-relay_wireguard_1 2>&1 | grep -c 'podwire: up:')" -ge 2 ]; }
client_through() { [ "$(in_client curl -s --max-time 3 "$url")" = "$relay4" ]; }
wait_until 20 relay_restarted ||
	{ P logs pw18-relay_wireguard_1 2>&1 | tail; fail "the relay was not restarted after its podwire-wg died"; }
P logs pw18-relay_wireguard_1 >"$W/relay-died.log" 2>&1
grep -x 'podwire: wg0: the datapath podwire-wg died (killed or crashed: status 137) and its interface is gone: exiting so that the restart policy starts the container again' \
	"$W/relay-died.log" >/dev/null || { tail "$W/relay-died.log"; fail "the relay's log does not say its datapath died"; }
wait_until 20 relay_up_again ||
	fail "the restarted relay did not come up again"
ok "the relay's podwire-wg killed: the container said why, exited and was restarted by its policy"
wait_until 60 client_through ||
	fail "the client did not get through the restarted relay within 60 s"
t1=$(date +%s%N)
ok "the client reconnects through the restarted relay: the service sees $relay4 again"
echo "time from the relay's podwire-wg killed to the client's next answer ($CT_ENGINE): $(((t1 - t0) / 1000000)) ms"

# Stop the client's tunnel: no answer at all, on either family, and the health check says so.
P exec pw18-client_wireguard_1 podwirectl down /config/wg0.conf >/dev/null 2>&1 || fail "podwirectl down in the client"
P exec pw18-client_wireguard_1 ip link show wg0 >/dev/null 2>&1 && fail "wg0 still there after down"
ct_health pw18-client_wireguard_1 >/dev/null 2>&1 && fail "HEALTHCHECK passes with the tunnel down"
for u in "$url" "$url6"; do
	if out=$(in_client curl -s -g --max-time 5 "$u"); then
		fail "with the tunnel down, $u answered '$out' (leak)"
	fi
	[ -z "$out" ] || fail "with the tunnel down, $u answered '$out' (leak)"
done
ok "client tunnel down: no answer on IPv4 or IPv6 (no fallback to the direct path)"
P exec pw18-client_wireguard_1 grep -q 1.1.1.1 /etc/resolv.conf && fail "down left the tunnel's DNS in resolv.conf"
ok "down restored the runtime's /etc/resolv.conf"

# The client's datapath dies: nothing gets through, on either family, while and after its
# container ends (exit 1, one line). The probe shares the client's namespace, as vpn_test.
P exec pw18-client_wireguard_1 podwirectl up /config/wg0.conf >/dev/null 2>&1 || fail "podwirectl up in the client again"
P run -d --no-healthcheck --name pw18-probe --network container:pw18-client_wireguard_1 "$IMAGE" sleep 600 >/dev/null ||
	fail "a probe in the client's namespace"
[ "$(P exec pw18-probe curl -s --max-time 5 "$url")" = "$relay4" ] || fail "the client's tunnel did not come back up"
P exec pw18-client_wireguard_1 sh -c 'kill -KILL $(pidof podwire-wg)' || fail "kill the client's podwire-wg"
for u in "$url" "$url6"; do
	out=$(P exec pw18-probe curl -s -g --max-time 3 "$u") && fail "with the client's podwire-wg killed, $u answered '$out' (leak)"
	[ -z "$out" ] || fail "with the client's podwire-wg killed, $u answered '$out' (leak)"
done
P wait pw18-client_wireguard_1 >"$W/client.rc" || fail "$CT_ENGINE wait client"
[ "$(cat "$W/client.rc")" = 1 ] || fail "the client's container exited $(cat "$W/client.rc") after its datapath died, not 1"
P logs pw18-client_wireguard_1 2>&1 | tail -n 1 | grep -x 'podwire: wg0: the datapath podwire-wg died (killed or crashed: status 137) .*' >/dev/null ||
	{ P logs pw18-client_wireguard_1 2>&1 | tail -n 3; fail "the client's last log line does not say its datapath died"; }
out=$(P exec pw18-probe curl -s -g --max-time 3 "$url") && fail "after the client's container ended, $url answered '$out' (leak)"
ct_rm pw18-probe >/dev/null
ok "the client's podwire-wg killed: no answer on IPv4 or IPv6, the container exited 1 saying why"

# SIGTERM: the relay runs down and exits 0 before the engine's 10 s are up (else it is killed: 137).
P stop -t 10 pw18-relay_wireguard_1 >/dev/null || fail "$CT_ENGINE stop relay"
rc=$(P inspect pw18-relay_wireguard_1 --format '{{.State.ExitCode}}')
[ "$rc" = 0 ] || fail "relay exited $rc on SIGTERM"
P logs pw18-relay_wireguard_1 2>&1 | grep 'ip link delete dev wg0' >/dev/null || fail "relay did not run down on SIGTERM"
ok "SIGTERM: the relay ran down and exited 0 within 10 s"

client down >/dev/null 2>&1 || fail "compose down (client)"
relay down >/dev/null 2>&1 || fail "compose down (relay)"
[ -z "$(P ps -a --format '{{.Names}}' | grep '^pw18-\(relay\|client\)')" ] || fail "compose down left containers"
ok "compose down removed both projects"
echo "containers_compose ($CT_ENGINE): passed, $CHECKS checks, $CT_SKIPS skipped"
