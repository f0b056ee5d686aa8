#!/bin/bash
# containers_image_docker.sh — the image builds without podman: hack/image.sh with
# PODWIRE_IMAGE_ENGINE=docker (what `make image` picks when podman is not installed and a
# Docker engine answers) builds image/Containerfile with `docker build` on a private dockerd.
# Checks: podwire:VERSION and podwire:latest exist with the inputs' label, the HEALTHCHECK and
# the entry point; wg and wg-quick in it are podwirectl; the archive it writes names both tags
# and loads back after the images are removed; a second run finds the image up to date.
set -uo pipefail
CT_ENGINE=docker # lib/dockerd.bash, without the compose setup of ct_setup
source "$(dirname "$0")/lib/containers.bash"
require_root
dk_start "pw26i-$$"
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' "$TOP/lib/version.h")
# The binaries of the optimized build, staged in this test's own directory.
mkdir "$W/b"
for b in podwirectl podwire-wg podwired podwire podwire-ipam; do
	[ -x "$TOP/build/$b" ] || fail "$TOP/build/$b not built (make)"
	ln -s "$TOP/build/$b" "$W/b/$b"
done
imagesh() { (cd "$TOP" && PODWIRE_IMAGE_ENGINE=docker PATH=$(dirname "$DOCKER_CLI"):$PATH hack/image.sh "$W/b"); }
imagesh >"$W/image1.out" 2>&1 || { cat "$W/image1.out"; fail "hack/image.sh with docker"; }
grep "built podwire:$version and podwire:latest (docker)" "$W/image1.out" >/dev/null || { cat "$W/image1.out"; fail "not built by docker"; }
[ -n "$(D image inspect "podwire:$version" --format '{{index .Config.Labels "io.podwire.inputs"}}')" ] || fail "no inputs label"
[ "$(D image inspect podwire:latest --format '{{json .Config.Healthcheck.Test}} {{json .Config.Entrypoint}}')" = \
	'["CMD","podwire-entrypoint","health"] ["/usr/local/bin/podwire-entrypoint"]' ] || fail "HEALTHCHECK or entry point"
D run --rm --network none podwire:latest wg --help | grep '^  showconf: ' >/dev/null || fail "wg in the image"
out=$(D run --rm --network none podwire:latest wg-quick 2>&1)
[ "$out" = "Usage: wg-quick [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]" ] || fail "wg-quick in the image: $out"
ok "docker build made podwire:$version and podwire:latest (label, HEALTHCHECK, entry point, wg, wg-quick)"
archive=$W/b/image/podwire-$version.tar
D rmi "podwire:$version" podwire:latest >/dev/null || fail "docker rmi"
dk_load_image "$archive"
ok "its archive loads back as podwire:$version and podwire:latest"
imagesh >"$W/image2.out" 2>&1 || { cat "$W/image2.out"; fail "hack/image.sh again"; }
grep "podwire:$version (docker) is up to date" "$W/image2.out" >/dev/null || { cat "$W/image2.out"; fail "the second run rebuilt"; }
ok "a second run finds the image up to date"
echo "containers_image_docker: passed, $CHECKS checks"
