#!/bin/bash
# container_entrypoint.sh — run INSIDE the VM (tests/vm/kernel.sh, or alone:
# hack/vm.sh tests/vm/cases/container_entrypoint.sh): with the WireGuard module loaded, the
# podwire image's entry point picks the kernel datapath and says so. No container runtime
# runs here: podman under TCG emulation is too slow for the suite, so the entry point script
# itself (image/entrypoint.sh, what the image runs as PID 1) runs in a network namespace with
# its /config in a directory, which is all a container gives it. The host side, podwire-wg in
# a real container, is tests/integration/containers_compose.sh.
# Checks: wg0.conf mode and server mode (PEERS=1) both come up on a kernel interface (`ip -d
# link` says wireguard), the log's datapath line says kernel, the health check passes, and
# SIGTERM runs down (interface gone) and exits 0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build=${PODWIRE_BUILD:-$top/build}
ns=pw18-vm
tmp=$(mktemp -d /tmp/pw18-vm.XXXXXX)
pid=
cleanup() {
	set +e
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del $ns 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && sed 's/^/    | /' "$tmp/log"; exit 1; }
modprobe wireguard || fail "cannot load wireguard.ko"

# The image's /usr/local/bin, from the tree.
mkdir -p "$tmp/bin"
ln -s "$top/image/entrypoint.sh" "$tmp/bin/podwire-entrypoint"
ln -s "$top/image/server-config.sh" "$tmp/bin/podwire-server-config"
ln -s "$build/podwirectl" "$build/podwire-wg" "$tmp/bin/"
export PATH=$tmp/bin:$PATH

ip netns add $ns || fail "netns $ns"
ip -n $ns link set lo up
ip -n $ns link add eth0 type veth peer name eth1
ip -n $ns addr add 10.89.123.2/24 dev eth0
ip -n $ns link set eth0 up

# run_entrypoint NAME [VAR=VALUE...]: the entry point in the namespace, /config = $tmp/NAME
run_entrypoint() {
	local name=$1 n=100
	shift
	env PODWIRE_CONFIG_DIR="$tmp/$name" PODWIRE_RUN_DIR="$tmp/run-$name" "$@" \
		ip netns exec $ns podwire-entrypoint >"$tmp/log" 2>&1 &
	pid=$!
	until grep -q '^podwire: up:' "$tmp/log"; do
		kill -0 "$pid" 2>/dev/null || fail "$name: the entry point exited"
		n=$((n - 1))
		[ $n -gt 0 ] || fail "$name: not up after 10 s"
		sleep 0.1
	done
	grep -qx 'podwire: datapath: kernel WireGuard module' "$tmp/log" || fail "$name: the log does not say kernel"
	ip -n $ns -d link show wg0 | grep -w wireguard >/dev/null || fail "$name: wg0 is not a kernel WireGuard link"
	[ ! -e /var/run/wireguard/wg0.sock ] || fail "$name: a userspace socket appeared"
	PODWIRE_RUN_DIR="$tmp/run-$name" ip netns exec $ns podwire-entrypoint health || fail "$name: health check failed"
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=
	[ $rc = 0 ] || fail "$name: exit $rc on SIGTERM"
	ip -n $ns link show wg0 >/dev/null 2>&1 && fail "$name: wg0 left after SIGTERM"
	echo "ok: $name: kernel datapath chosen and logged, healthy, SIGTERM ran down and exited 0"
}

mkdir -m 700 "$tmp/conf"
printf '[Interface]\nPrivateKey = %s\nAddress = 10.99.0.1/24\nListenPort = 51820\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.2/32\n' \
	"$(podwirectl genkey)" "$(podwirectl genkey | podwirectl pubkey)" >"$tmp/conf/wg0.conf"
chmod 600 "$tmp/conf/wg0.conf"
run_entrypoint conf

mkdir -m 700 "$tmp/server"
run_entrypoint server PEERS=1 SERVERURL=10.89.123.2
[ -f "$tmp/server/peer1/peer1.conf" ] || fail "server mode wrote no peer1.conf"
echo "container_entrypoint: passed"
