#!/bin/bash
# deps.sh [--deb] — install with apt everything podwire's build, tests, benchmarks and demo need
# on a fresh Debian 12. Idempotent: quiet when everything is there, and `apt-get update`
# runs only when a package is missing. --deb: only what `make deb` needs (the build and
# Debian's packaging tools), not the test machinery.
set -euo pipefail

build=(
	build-essential pkg-config clang llvm scdoc
	libsodium-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcjson-dev
	libcurl4-openssl-dev libmicrohttpd-dev libqrencode-dev libcmocka-dev libsystemd-dev
)
if [ "${1:-}" = --deb ]; then
	pkgs=("${build[@]}" debhelper dpkg-dev fakeroot lintian)
else
pkgs=(
	"${build[@]}"
	# tests: real peers, real tools
	iproute2 wireguard-tools wireguard-go iperf3 tcpdump nftables dnsmasq-base
	etcd-server etcd-client procps psmisc kmod python3 bc strace
	# kernel datapath in a VM (hack/vm.sh)
	qemu-system-x86 busybox-static linux-image-amd64 zstd xz-utils
	# container runtimes for the CNI tests
	podman containerd containernetworking-plugins
	# around the binaries: man pages, completion, units, metrics read by a real Prometheus
	man-db groff-base bash-completion systemd prometheus curl
)
fi

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
