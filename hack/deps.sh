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
	# hack/kind-node-root.sh (the kind-like node root of k8s_kind_nodes.sh); shellcheck for
	# kind_e2e_dryrun.sh, which checks hack/kind-e2e.sh where kind cannot run
	debootstrap shellcheck
	# real clients against the API emulator (k8s_api_clients.sh), and an HTTP/2 TLS front for it
	python3-kubernetes nghttp2-proxy
)
# kubectl: Debian's kubernetes-client, unless a kubectl is installed already (a cloud SDK's
# package of it conflicts with Debian's).
command -v kubectl >/dev/null 2>&1 || pkgs+=(kubernetes-client)
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

# The static CNI plugins (Makefile: STATIC_PLUGINS) link cJSON, and Debian ships no libcjson.a:
# the build compiles cJSON.c of Debian's own cjson source package, the very version of the
# installed libcjson-dev (Debian's patches included), fetched by apt (checked against the
# archive's signed Sources index like any package) into CJSON_SRC. The machine's sources.list
# may have no deb-src line: a private apt list and state (only for this) name Debian's archive.
cjson_source() {
	local dir=${CJSON_SRC:-/var/cache/podwire/cjson} src ver tmp arg o
	src=$(dpkg-query -W -f='${source:Package}' libcjson-dev 2>/dev/null) || return 0
	ver=$(dpkg-query -W -f='${source:Version}' libcjson-dev)
	[ "$(cat "$dir/.podwire-version" 2>/dev/null)" = "$src $ver" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: $dir lacks the source of $src $ver (the static CNI plugins link it): run 'sudo make deps'" >&2
		return 1
	fi
	echo "deps.sh: fetching Debian's source package $src $ver into $dir" >&2
	tmp=$(mktemp -d)
	mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
	for arg in "bookworm main" "bookworm-updates main"; do
		echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $arg"
	done >"$tmp/sources.list"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security" \
		"bookworm-security main" >>"$tmp/sources.list"
	o=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=$tmp/none" -o "Dir::State::Lists=$tmp/lists"
		-o "Dir::Cache::Archives=$tmp/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o APT::Sandbox::User=root)
	if ! { apt-get "${o[@]}" update -qq && (cd "$tmp" && apt-get "${o[@]}" source -qq --download-only "$src=$ver") &&
		(cd "$tmp" && dpkg-source -x --no-check ./*.dsc src); } >"$tmp/log" 2>&1 || [ ! -f "$tmp/src/cJSON.c" ]; then
		grep -E '^(E|W|Err|dpkg-source):' "$tmp/log" | head -n 5 >&2
		echo "deps.sh: cannot fetch the source package $src $ver from deb.debian.org (the static CNI plugins link its cJSON.c)" >&2
		rm -rf "$tmp"
		return 1
	fi
	echo "$src $ver" >"$tmp/src/.podwire-version"
	mkdir -p "$(dirname "$dir")"
	rm -rf "$dir" && mv "$tmp/src" "$dir"
	rm -rf "$tmp"
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
# make deb builds its plugins dynamic (debian/rules): it needs no cJSON source.
[ "${1:-}" = --deb ] && cjson_source() { :; }
if [ ${#missing[@]} -eq 0 ]; then cjson_source; npm_deps "$@"; exit; fi

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
	# Another apt, dpkg or unattended-upgrades holds a lock: apt says "E: Could not get lock
	# FILE. It is held by process PID (NAME)". The archive is fine; waiting is the fix.
	lock=$(sed -n 's/^E: Could not get lock \([^ ]*\)\. It is held by process \([0-9]*\) (\(.*\)).*/\1 (held by process \2, \3)/p' "$log" | head -n 1)
	[ -n "$lock" ] || lock=$(sed -n 's/^E: \(Could not get lock\|Unable to acquire the dpkg frontend lock\|Unable to lock directory\) *\([^ ,]*\).*/\2/p' "$log" | head -n 1)
	if [ -n "$lock" ]; then
		echo "deps.sh: another package manager is running: the lock $lock is taken, so nothing was installed (Debian's archive is not the problem). Wait until it is done, then run 'make deps' again." >&2
		exit 1
	fi
	echo "deps.sh: apt-get could not install: ${missing[*]}. Make Debian's archive reachable (see /etc/apt/sources.list), then run 'make deps' again, or: $how" >&2
	exit 1
fi
cjson_source
npm_deps "$@"
