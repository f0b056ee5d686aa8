#!/bin/bash
# deps.sh — install with apt everything podwire's build, tests, benchmarks and demo need
# on a fresh Debian 12. Idempotent: quiet when everything is there, and `apt-get update`
# runs only when a package is missing.
set -euo pipefail

pkgs=(
	# build
	build-essential pkg-config clang llvm
	libsodium-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcjson-dev
	libcurl4-openssl-dev libmicrohttpd-dev libqrencode-dev libcmocka-dev
	# tests: real peers, real tools
	iproute2 wireguard-tools wireguard-go iperf3 tcpdump nftables dnsmasq-base
	etcd-server etcd-client procps psmisc kmod python3 bc strace iptables iputils-ping
	# kernel datapath in a VM (hack/vm.sh)
	qemu-system-x86 busybox-static linux-image-amd64 zstd xz-utils
	# container runtimes for the CNI tests
	podman containerd containernetworking-plugins
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
