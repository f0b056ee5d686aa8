#!/bin/bash
# containers_compose.sh — the tutorial's container setup, from manifests/compose/ unchanged,
# on the podwire image with podman-compose (rootful podman, CNI), all inside the private
# namespace pw18-host:
#
#   pw18-inet 10.89.118.0/24 fd18:118::/64 ("the internet")
#     ├─ pw18-whoami .80 ::80      answers GET /cgi-bin/ip with the caller's address
#     └─ relay (compose project pw18-relay), 51820/udp published as pw18-host:51918
#          ▲ WireGuard, through the host's NAT
#   pw18-lan 10.89.119.0/24 fd18:119::/64 (reaches the internet only through NAT)
#     └─ client (project pw18-client): `wireguard` + `vpn_test` (network_mode: service:wireguard)
#
# Checks: the compose files are valid for docker-compose; the relay's entry point picks
# podwire-wg (no kernel module here) and says so; vpn_test's curl prints the relay's IPv4
# address, and a curl in the same namespace its IPv6 address (not the NAT's); the client's
# DNS = line is its resolv.conf while the tunnel is up; the time from
# `podman-compose up` to vpn_test's answer is reported; with the client's tunnel stopped,
# neither family gets any answer (no leak to the direct path); SIGTERM brings the relay down
# and it exits 0 within podman's 10 s; teardown leaves nothing.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
ct_setup
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image: $IMAGE $((size / 1000000)) MB uncompressed"
# What `docker load` reads: a docker-archive whose manifest names the image as the compose
# files do (localhost/podwire:latest, the same name in podman and docker).
podman save -o "$W/image.tar" localhost/podwire:latest 2> >(grep -v systemd >&2) || fail "podman save"
python3 - "$W/image.tar" <<-'EOF' || fail "the saved archive is not a docker-archive of localhost/podwire:latest"
	import json, sys, tarfile
	t = tarfile.open(sys.argv[1])
	m = json.load(t.extractfile("manifest.json"))
	assert m[0]["RepoTags"] == ["localhost/podwire:latest"], m[0]["RepoTags"]
	assert m[0]["Layers"], m
	c = json.load(t.extractfile(m[0]["Config"]))["config"]
	assert c["Healthcheck"]["Test"] == ["CMD", "podwire-entrypoint", "health"], c.get("Healthcheck")
	assert c["Entrypoint"] == ["/usr/local/bin/podwire-entrypoint"], c["Entrypoint"]
EOF
# No docker here: a second, empty podman store reads the archive as `docker load` would.
podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs load -q -i "$W/image.tar" >/dev/null 2>&1 &&
	podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs image exists localhost/podwire:latest ||
	fail "the saved archive does not load into an empty store"
ok "podman save gives a docker-archive of localhost/podwire:latest with its HEALTHCHECK and entry point; it loads into an empty store"
podman --root "$W/store" --runroot "$W/runroot" --storage-driver vfs rmi -a -f >/dev/null 2>&1
rm -rf "$W/image.tar" "$W/store" "$W/runroot"

# The compose files as a user has them, keys made by their script, outside the source tree.
cp -r "$TOP/manifests/compose" "$W/compose"
rm -f "$W/compose"/{relay,client}/wg0.conf
for f in relay client; do
	docker-compose -f "$W/compose/$f/compose.yml" config -q || fail "$f/compose.yml: docker-compose config"
done
ok "relay/compose.yml and client/compose.yml are valid for docker-compose"
(cd "$W/compose" && PATH=$TOP/build:$PATH ./make-keys.sh --endpoint 10.89.119.1:51918) || fail "make-keys.sh"
[ "$(stat -c %a "$W/compose/relay/wg0.conf")" = 600 ] || fail "relay/wg0.conf is not 0600"
grep -q '@' "$W/compose/client/wg0.conf" && fail "client/wg0.conf: a placeholder is left"

ct_network pw18-inet 10.89.118.0/24 fd18:118::/64
ct_network pw18-lan 10.89.119.0/24 fd18:119::/64
ct_whoami pw18-inet 10.89.118.80 fd18:118::80
url=http://10.89.118.80/cgi-bin/ip url6='http://[fd18:118::80]/cgi-bin/ip'
# The test's only change to the compose files: which network is "default" for each project.
printf 'networks:\n  default:\n    name: pw18-inet\n' >"$W/inet.yml"
printf 'networks:\n  default:\n    name: pw18-lan\n' >"$W/lan.yml"
relay() { (cd "$W/compose/relay" && SERVERPORT=51918 H podman-compose -p pw18-relay -f compose.yml -f "$W/inet.yml" "$@"); }
client() {
	(cd "$W/compose/client" && WHATISMYIP_URL=$url H podman-compose --podman-path ../podman-service-net \
		-p pw18-client -f compose.yml -f "$W/lan.yml" "$@")
}

relay up -d >"$W/relay-up.log" 2>&1 || { cat "$W/relay-up.log"; fail "podman-compose up (relay)"; }
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
client up -d >"$W/client-up.log" 2>&1 || { cat "$W/client-up.log"; fail "podman-compose up (client)"; }
P wait pw18-client_vpn_test_1 >"$W/vpn_test.rc" || fail "podman wait vpn_test"
t1=$(date +%s%N)
answer=$(P logs pw18-client_vpn_test_1 2>&1)
[ "$(cat "$W/vpn_test.rc")" = 0 ] && [ "$answer" = "$relay4" ] || {
	P logs pw18-client_wireguard_1
	fail "vpn_test answered '$answer' (exit $(cat "$W/vpn_test.rc")), want the relay's $relay4"
}
ok "vpn_test's curl prints the relay's address $relay4"
echo "time from podman-compose up to vpn_test's answer: $(((t1 - t0) / 1000000)) ms"

# vpn_test's namespace, for the later requests: the client container's.
in_client() { P run --rm --no-healthcheck --network container:pw18-client_wireguard_1 "$IMAGE" "$@"; }
answer6=$(in_client curl -s -g --max-time 5 "$url6")
[ "$answer6" = "$relay6" ] || fail "IPv6 through the tunnel answered '$answer6', want the relay's $relay6"
ok "IPv6 through the tunnel: the service sees the relay's $relay6"

P healthcheck run pw18-client_wireguard_1 >/dev/null || fail "HEALTHCHECK fails with the tunnel up"
# wg0.conf's DNS = line went to the image's resolvconf, so into the container's resolv.conf.
P exec pw18-client_wireguard_1 cat /etc/resolv.conf >"$W/resolv.up"
grep -qx 'nameserver 1.1.1.1' "$W/resolv.up" && grep -qx 'nameserver 8.8.8.8' "$W/resolv.up" ||
	{ cat "$W/resolv.up"; fail "DNS = 1.1.1.1,8.8.8.8 is not in the client's /etc/resolv.conf"; }
ok "the client's DNS = line is its /etc/resolv.conf while the tunnel is up"
# Stop the client's tunnel: no answer at all, on either family, and the health check says so.
P exec pw18-client_wireguard_1 podwirectl down /config/wg0.conf >/dev/null 2>&1 || fail "podwirectl down in the client"
P exec pw18-client_wireguard_1 ip link show wg0 >/dev/null 2>&1 && fail "wg0 still there after down"
P healthcheck run pw18-client_wireguard_1 >/dev/null 2>&1 && fail "HEALTHCHECK passes with the tunnel down"
for u in "$url" "$url6"; do
	if out=$(in_client curl -s -g --max-time 5 "$u"); then
		fail "with the tunnel down, $u answered '$out' (leak)"
	fi
	[ -z "$out" ] || fail "with the tunnel down, $u answered '$out' (leak)"
done
ok "client tunnel down: no answer on IPv4 or IPv6 (no fallback to the direct path)"
P exec pw18-client_wireguard_1 grep -q 1.1.1.1 /etc/resolv.conf && fail "down left the tunnel's DNS in resolv.conf"
ok "down restored the runtime's /etc/resolv.conf"

# SIGTERM: the relay runs down and exits 0 before podman's 10 s are up (else it is killed: 137).
P stop -t 10 pw18-relay_wireguard_1 >/dev/null || fail "podman stop relay"
rc=$(P inspect pw18-relay_wireguard_1 --format '{{.State.ExitCode}}')
[ "$rc" = 0 ] || fail "relay exited $rc on SIGTERM"
P logs pw18-relay_wireguard_1 2>&1 | grep 'ip link delete dev wg0' >/dev/null || fail "relay did not run down on SIGTERM"
ok "SIGTERM: the relay ran down and exited 0 within 10 s"

client down >/dev/null 2>&1 || fail "podman-compose down (client)"
relay down >/dev/null 2>&1 || fail "podman-compose down (relay)"
[ -z "$(P ps -a --format '{{.Names}}' | grep '^pw18-\(relay\|client\)')" ] || fail "podman-compose down left containers"
ok "podman-compose down removed both projects"
echo "containers_compose: passed"
