#!/bin/bash
# make-keys.sh — the keys of the compose example: a fresh key pair for the relay and one for
# the client, written into relay/wg0.conf and client/wg0.conf (mode 0600) from their
# wg0.conf.in templates. No key is ever committed; keys never pass through argv.
# Usage: make-keys.sh [--endpoint HOST:PORT] [--force]
#   --endpoint  where the client dials the relay (default: the tutorial's relay1.wg.example.com:51820)
#   --force     replace existing wg0.conf files (new keys)
set -euo pipefail
cd "$(dirname "$0")"
endpoint=relay1.wg.example.com:51820
force=
while [ $# -gt 0 ]; do
	case $1 in
	--endpoint) endpoint=${2:?--endpoint needs HOST:PORT}; shift 2 ;;
	--force) force=1; shift ;;
	*) echo "make-keys.sh: unknown argument '$1'" >&2; exit 1 ;;
	esac
done
[[ $endpoint =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$ ]] ||
	{ echo "make-keys.sh: --endpoint '$endpoint': not HOST:PORT" >&2; exit 1; }
for f in relay/wg0.conf client/wg0.conf; do
	if [ -e "$f" ] && [ -z "$force" ]; then
		echo "make-keys.sh: $f exists (its keys are in use?); --force makes new ones" >&2
		exit 1
	fi
done
# podwirectl when installed, else wg, else the podwire image itself on podman or Docker (no
# network: keys are made offline; the private key passes through a pipe, never argv).
image=${PODWIRE_IMAGE:-podwire:latest}
if command -v podwirectl >/dev/null; then
	tool=(podwirectl)
elif command -v wg >/dev/null; then
	tool=(wg)
elif command -v podman >/dev/null; then
	tool=(podman run --rm -i --network none "$image" podwirectl)
elif command -v docker >/dev/null; then
	tool=(docker run --rm -i --network none "$image" podwirectl)
else
	echo "make-keys.sh: no podwirectl, wg, podman or docker: install one (or podwire: make install)" >&2
	exit 1
fi
relay_priv=$("${tool[@]}" genkey)
relay_pub=$("${tool[@]}" pubkey <<<"$relay_priv")
client_priv=$("${tool[@]}" genkey)
client_pub=$("${tool[@]}" pubkey <<<"$client_priv")

umask 077
fill() { # TEMPLATE OUT: the template with every @NAME@ replaced, written through a temporary file
	local t
	t=$(<"$1")
	t=${t//@RELAY_PRIVATE_KEY@/$relay_priv}
	t=${t//@RELAY_PUBLIC_KEY@/$relay_pub}
	t=${t//@CLIENT_PRIVATE_KEY@/$client_priv}
	t=${t//@CLIENT_PUBLIC_KEY@/$client_pub}
	t=${t//@RELAY_ENDPOINT@/$endpoint}
	printf '%s\n' "$t" >"$2.tmp"
	mv -f "$2.tmp" "$2"
}
fill relay/wg0.conf.in relay/wg0.conf
fill client/wg0.conf.in client/wg0.conf
echo "make-keys.sh: wrote relay/wg0.conf and client/wg0.conf (client dials $endpoint)"
