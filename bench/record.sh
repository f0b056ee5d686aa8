#!/bin/bash
# bench/record.sh — build and run bench/record.c (node record decoding, worst-case records).
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${PODWIRE_BUILD:-${BUILD:-build}}" && pwd)
[ -f "$B/libmesh.a" ] || { echo "bench/record.sh: $B/libmesh.a missing (make)"; exit 1; }
out=$(mktemp -d /tmp/pn-bench-record-XXXXXX)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$out/record" bench/record.c "$B/libmesh.a" "$B/liblib.a" \
	$(pkg-config --cflags --libs libsodium)
"$out/record"
