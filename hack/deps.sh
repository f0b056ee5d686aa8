#!/bin/bash
# deps.sh [--deb|--check] — install with apt everything podwire's build, tests, benchmarks and
# demo need on a fresh Debian 12. Idempotent: quiet when everything is there, and `apt-get
# update` runs only when a package is missing. --deb: only what `make deb` needs (the build and
# Debian's packaging tools), not the test machinery. --check (`make check`): also the npm
# packages of the manifests' schema check, the one thing that does not come from apt.
set -euo pipefail

build=(
	build-essential pkg-config clang llvm scdoc
	libsodium-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcjson-dev
	libcurl4-openssl-dev libmicrohttpd-dev libqrencode-dev libcmocka-dev libsystemd-dev libyaml-dev
)
if [ "${1:-}" = --deb ]; then
	pkgs=("${build[@]}" debhelper dpkg-dev fakeroot lintian)
else
pkgs=(
	"${build[@]}"
	# tests: real peers, real tools
	iproute2 iputils-ping wireguard-tools wireguard-go iperf3 tcpdump nftables iptables dnsmasq-base
	etcd-server etcd-client curl procps psmisc kmod python3 bc strace libcap2-bin
	# make fuzz (libFuzzer's runtime)
	libclang-rt-14-dev
	# kernel datapath in a VM (hack/vm.sh)
	qemu-system-x86 busybox-static linux-image-amd64 zstd xz-utils
	# container runtimes for the CNI tests
	podman containerd containernetworking-plugins
	# around the binaries: man pages, completion, units, metrics read by a real Prometheus
	man-db groff-base bash-completion systemd prometheus
	# the podwire image (make image) and the compose scenarios on both engines: runc (crun
	# refuses hybrid cgroups), podman-compose, and Docker's engine with docker-compose (the
	# container tests start a private dockerd: tests/integration/lib/dockerd.bash);
	# the image takes bash, busybox, iptables, nftables, qrencode, curl and the time zones
	# (TZ) from this host
	runc podman-compose docker.io docker-compose qrencode tzdata
	# the Kubernetes manifests' offline check (hack/manifest-check), and the store's emulator;
	# k8s_node_cluster.sh reads the ConfigMap's conflist template out of the manifest
	nodejs openssl python3-yaml
)
# npm comes with some nodejs builds; Debian ships it apart.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

# hack/manifest-check's npm packages (kubernetes-models, js-yaml), as package-lock.json pins
# them: after the apt packages, from the npm registry, only when missing.
# Only for the tests (--check): `make demo` and the build never need the npm registry. When it
# cannot be reached, the test that needs these packages says so and is skipped; nothing else is.
npm_deps() {
	local dir
	[ "${1:-}" = --check ] || return 0
	dir=$(cd "$(dirname "$0")/manifest-check" && pwd)
	[ -d "$dir/node_modules/kubernetes-models" ] && [ -d "$dir/node_modules/js-yaml" ] && return 0
	echo "deps.sh: npm ci in $dir" >&2
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
		echo "deps.sh: warning: npm ci in $dir failed (is the npm registry reachable over TLS?):" \
			"integration/k8s_manifests will be skipped" >&2
	return 0
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then npm_deps "$@"; exit; fi

how="apt-get install --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}. Install them as root: 'sudo make deps', or: sudo $how" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# apt's own messages say why it failed (no archive, no space, a held package); this line says
# what is still missing. Nothing is built before every package is there.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Without systemd running (a chroot, a container), a package's init script would start its
# daemon (dockerd, etcd, prometheus) in this machine's namespaces: no service starts while
# apt installs (policy-rc.d 101, as Docker's own images do); the tests start their own.
if [ ! -d /run/systemd/system ] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# hack/deps.sh: no service starts during its apt-get install\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f "$log" /usr/sbin/policy-rc.d' EXIT
fi
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	grep -E '^(E|W|Err):' "$log" | head -n 5 >&2
	echo "deps.sh: apt-get could not install: ${missing[*]}. Make Debian's archive reachable (see /etc/apt/sources.list), then run 'make deps' again, or: $how" >&2
	exit 1
fi
npm_deps "$@"
