#!/bin/bash
# deb-smoke.sh — build the Debian package, install it, and bring up an interface with the
# installed podwirectl inside a network namespace of its own: what a newcomer does with the
# package on a fresh Debian 12 (run there by ../shared/recipes/fresh-debian.sh . hack/deb-smoke.sh).
# Everything it creates (the namespace, the interface, the config) is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ns=pw16deb conf=/etc/wireguard/pw16deb0.conf

make deb
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	./build/deb/podwire_*_"$(dpkg --print-architecture)".deb iproute2 man-db >/dev/null
echo "== installed: $(dpkg-query -W -f='${Package} ${Version} ${Status}' podwire)"
dpkg -L podwire | grep -E '^/(usr/bin|usr/lib/cni|opt/cni/bin|lib/systemd/system|usr/share/bash-completion)/.' 
ls -l /opt/cni/bin/podwire /opt/cni/bin/podwire-ipam
man -w podwirectl podwired podwire-wg podwire podwire.conf

cleanup() {
	ip netns exec "$ns" podwirectl down "$conf" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -f "$conf"
}
trap cleanup EXIT
install -d -m 0700 /etc/wireguard
umask 077
cat >"$conf" <<CONF
[Interface]
PrivateKey = $(podwirectl genkey)
Address = 10.216.0.1/24
ListenPort = 51916

[Peer]
PublicKey = $(podwirectl genkey | podwirectl pubkey)
AllowedIPs = 10.216.1.0/24
CONF
ip netns add "$ns"
ip -n "$ns" link set lo up
echo "== podwirectl up (installed: $(command -v podwirectl))"
ip netns exec "$ns" podwirectl up "$conf"
ip netns exec "$ns" podwirectl show pw16deb0
ip -n "$ns" addr show pw16deb0 | grep -q 'inet 10.216.0.1/24' || { echo "deb-smoke: pw16deb0 has no address" >&2; exit 1; }
ip -n "$ns" route show 10.216.1.0/24 | grep -q pw16deb0 || { echo "deb-smoke: no route for the peer" >&2; exit 1; }
ip netns exec "$ns" podwirectl down "$conf"
if ip -n "$ns" link show pw16deb0 >/dev/null 2>&1; then echo "deb-smoke: pw16deb0 still there after down" >&2; exit 1; fi
echo "deb-smoke: installed podwirectl up/down worked"
