#!/bin/bash
# bench/crypto.sh — build and run bench/crypto.c (the crypto ceiling on one core).
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d /tmp/pu-bench-crypto-XXXXXX)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/crypto" crypto.c $(pkg-config --cflags --libs libsodium)
"$out/crypto"
