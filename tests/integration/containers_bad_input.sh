#!/bin/bash
# containers_bad_input.sh — the podwire image refuses bad input with one message that names
# the cause, exits non-zero and leaves nothing half-configured. Each case runs the entry point
# in a fresh container (inside the private namespace pw18-host) and then shows the state it
# left in that container's network namespace and /config:
#   no NET_ADMIN                          -> names the capability
#   no /dev/net/tun and no kernel module  -> names the device (only where the host has no module)
#   a broken wg0.conf                     -> names the file and the line
#   a PostUp hook that fails              -> names the hook; the interface, addresses and
#                                            rules it had made are gone
#   wg_confs/ with one good, one broken   -> the broken one is named, the good one not brought up
#   PEERS neither a number nor names, a bad SERVERPORT -> names the variable; /config stays empty
#   IPv6 addresses with IPv6 off in the namespace -> names net.ipv6.conf.all.disable_ipv6
#                                            (and Docker's default, where it is off)
#   a full tunnel without src_valid_mark   -> names net.ipv4.conf.all.src_valid_mark
#   --user non-root                        -> says so (not "no NET_ADMIN")
#   no [Interface]                         -> says so
#   a read-only /config that server mode must write -> names /config; a read-only /config
#                                            that need not be written starts
# On podman here; containers_bad_input_docker.sh runs it on the private dockerd.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
ct_setup
ct_network pw18-bad 10.89.122.0/24

key=$(podwirectl genkey)
good() { # NAME ADDRESS [EXTRA INTERFACE LINE]
	printf '[Interface]\nPrivateKey = %s\nAddress = %s\n%s\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.0/24\n' \
		"$key" "$2" "${3:-}" "$(podwirectl genkey | podwirectl pubkey)" >"$1"
	chmod 600 "$1"
}

# run_case NAME ENGINE_OPTIONS... : the entry point's output in $W/NAME.out, its exit code in
# $W/NAME.rc and what it left in the container ($W/NAME.state: the state afterwards less the
# state before it ran; Docker's own DNS rules, table ip nat, are there before).
state='ip -o link show type wireguard; ip -o link show type tun; ip -o addr show | grep -v -e " lo " -e " eth0 ";
ip rule | grep -v -e "lookup local" -e "lookup main$" -e "lookup default"; nft list tables; ls -A /config 2>/dev/null | grep -v -e "^wg0.conf$" -e "^wg_confs$"'
run_case() {
	local name=$1
	shift
	P run --rm --no-healthcheck --network pw18-bad "$@" "$IMAGE" bash -c \
		"{ $state; } >/tmp/before 2>/dev/null; podwire-entrypoint >/tmp/out 2>&1; echo \$? >/tmp/rc; cat /tmp/out; echo ---rc; cat /tmp/rc; echo ---state; { $state; } 2>/dev/null | grep -vxF -f /tmp/before" \
		>"$W/$name.all" 2>&1
	sed -n '1,/^---rc$/p' "$W/$name.all" | sed '$d' >"$W/$name.out"
	sed -n '/^---rc$/,/^---state$/p' "$W/$name.all" | sed '1d;$d' >"$W/$name.rc"
	sed -n '/^---state$/,$p' "$W/$name.all" | sed '1d' >"$W/$name.state"
}
# expect NAME PATTERN WHAT: non-zero exit, one message line matching PATTERN, nothing left.
# Progress lines are not messages: wg-quick's "[#] command" and the datapath choice.
progress='^\[#\] |^podwire: datapath: |^podwirectl: [^ ]+: (kernel has no WireGuard, )?using '
expect() {
	local name=$1 pattern=$2 what=$3 msgs
	[ -s "$W/$name.rc" ] && [ "$(cat "$W/$name.rc")" != 0 ] || { cat "$W/$name.all"; fail "$what: exit code $(cat "$W/$name.rc")"; }
	msgs=$(grep -vE "$progress" "$W/$name.out")
	[ "$(printf '%s\n' "$msgs" | wc -l)" = 1 ] || { cat "$W/$name.out"; fail "$what: not exactly one message"; }
	printf '%s\n' "$msgs" | grep -E -- "$pattern" >/dev/null || { cat "$W/$name.out"; fail "$what: message does not name the cause ($pattern)"; }
	[ ! -s "$W/$name.state" ] || { cat "$W/$name.state"; fail "$what: left state behind"; }
	ok "$what: exit $(cat "$W/$name.rc"), '$msgs', nothing left"
}

mkdir -p "$W/ok" "$W/broken" "$W/hook" "$W/confs/wg_confs" "$W/empty"
good "$W/ok/wg0.conf" 10.99.0.1/24
good "$W/hook/wg0.conf" 10.99.0.1/24 "PostUp = false"
good "$W/broken/wg0.conf" 10.99.0.1/24
sed -i 's|^AllowedIPs = .*|AllowedIPs = 10.99.0.1/33|' "$W/broken/wg0.conf"
line=$(grep -n '^AllowedIPs' "$W/broken/wg0.conf" | cut -d: -f1)
good "$W/confs/wg_confs/wga.conf" 10.99.1.1/24
cp "$W/broken/wg0.conf" "$W/confs/wg_confs/wgb.conf"
tun=(--device /dev/net/tun)

run_case nocap -v "$W/ok:/config:ro" "${tun[@]}"
expect nocap 'NET_ADMIN' "no NET_ADMIN"

if [ -d /sys/module/wireguard ]; then
	echo "skip: no /dev/net/tun: this host has the WireGuard module (the VM case covers the choice)"
else
	run_case notun -v "$W/ok:/config:ro" --cap-add NET_ADMIN
	expect notun '/dev/net/tun.*WireGuard module' "no /dev/net/tun and no module"
fi

run_case broken -v "$W/broken:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
expect broken "/config/wg0.conf:$line: .*AllowedIPs" "broken wg0.conf"

run_case hook -v "$W/hook:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
expect hook 'PostUp' "a PostUp hook that fails"

run_case twoconfs -v "$W/confs:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
expect twoconfs "/config/wg_confs/wgb.conf:$line: " "wg_confs/ with a broken second config"

# What the container's namespace must allow, said before anything is applied.
mkdir -p "$W/v6" "$W/full" "$W/nointerface"
good "$W/v6/wg0.conf" "10.99.0.1/24, fd99::1/64"
good "$W/full/wg0.conf" 10.99.0.2/32
sed -i 's|^AllowedIPs = .*|AllowedIPs = 0.0.0.0/0|' "$W/full/wg0.conf"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.0/24\n' "$(podwirectl genkey | podwirectl pubkey)" >"$W/nointerface/wg0.conf"
chmod 600 "$W/nointerface/wg0.conf"

run_case v6off -v "$W/v6:/config:ro" --cap-add NET_ADMIN "${tun[@]}" --sysctl net.ipv6.conf.all.disable_ipv6=1
expect v6off "/config/wg0.conf: Address fd99::1/64 is IPv6 .*net\.ipv6\.conf\.all\.disable_ipv6=0" "IPv6 addresses, IPv6 off"
if [ "$CT_ENGINE" = docker ]; then
	run_case v6default -v "$W/v6:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
	expect v6default "net\.ipv6\.conf\.all\.disable_ipv6=0" "IPv6 addresses on Docker's default (IPv6 off)"
else
	ct_skip "IPv6 addresses on the engine's default" "podman leaves IPv6 on in a container's namespace (the case above turns it off)"
fi
run_case fulltunnel -v "$W/full:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
expect fulltunnel "/config/wg0.conf: a full tunnel .*net\.ipv4\.conf\.all\.src_valid_mark=1" "a full tunnel without src_valid_mark"

run_case user -v "$W/ok:/config:ro" --cap-add NET_ADMIN "${tun[@]}" --user 1000:1000
expect user "uid 1000, not root" "--user 1000"

run_case nointerface -v "$W/nointerface:/config:ro" --cap-add NET_ADMIN "${tun[@]}"
expect nointerface "/config/wg0.conf: no \[Interface\] section" "a config with no [Interface]"

run_case rowrite -v "$W/empty:/config:ro" --cap-add NET_ADMIN "${tun[@]}" -e PEERS=1
expect rowrite "/config: read-only, and server mode must write" "server mode on a fresh read-only /config"
# A read-only /config that nothing needs to write (a client's wg0.conf, here with IPv6
# addresses and the sysctl that allows them): the container starts.
P run -d --name pw18-ro --network pw18-bad --cap-add NET_ADMIN "${tun[@]}" -v "$W/v6:/config:ro" \
	--sysctl net.ipv6.conf.all.disable_ipv6=0 "$IMAGE" >/dev/null || fail "$CT_ENGINE run with a read-only /config"
ct_wait_log pw18-ro "podwire: up: /config/wg0.conf" || { P logs pw18-ro; fail "a read-only /config that need not be written did not start"; }
P exec pw18-ro ip -6 addr show dev wg0 | grep 'fd99::1/64' >/dev/null || fail "wg0 has no fd99::1/64 with the sysctl set"
ct_rm pw18-ro >/dev/null
ok "a read-only /config that need not be written starts (IPv6 addresses, net.ipv6.conf.all.disable_ipv6=0)"

for bad in "two peers" "a,,b" "peer-1" "0" ""; do
	[ -z "$bad" ] && continue
	run_case peers -v "$W/empty:/config" --cap-add NET_ADMIN "${tun[@]}" -e "PEERS=$bad"
	expect peers "PEERS" "PEERS='$bad'"
done
run_case port -v "$W/empty:/config" --cap-add NET_ADMIN "${tun[@]}" -e PEERS=2 -e SERVERPORT=99999
expect port "SERVERPORT" "SERVERPORT=99999"
[ -z "$(ls -A "$W/empty")" ] || fail "a refused server mode wrote into /config: $(ls -A "$W/empty")"
ok "refused server modes wrote nothing into /config"
echo "containers_bad_input ($CT_ENGINE): passed, $CHECKS checks, $CT_SKIPS skipped"
