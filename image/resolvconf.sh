#!/bin/bash
# resolvconf — the part of openresolv's resolvconf(8) that `podwirectl up` (like wg-quick) uses
# for a config's DNS = line, so the image applies it as linuxserver/wireguard's does:
#   resolvconf -a IFACE [-m N] [-x]   record stdin (nameserver/search lines) for IFACE
#   resolvconf -d IFACE [-f]          forget IFACE
#   resolvconf -l [IFACE]             print what is recorded
# /etc/resolv.conf becomes every recorded interface's lines (exclusive, as -x asks), or the
# runtime's original when none is left. It is written in place: the runtime bind-mounts it.
set -uo pipefail
state=${RESOLVCONF_STATE:-/run/resolvconf}
resolv=${RESOLVCONF_FILE:-/etc/resolv.conf}

die() { echo "resolvconf: $*" >&2; exit 1; }

regenerate() {
	local f any=
	mkdir -p "$state/interface" || die "$state: cannot create"
	[ -f "$state/original" ] || cp "$resolv" "$state/original" 2>/dev/null || : >"$state/original"
	{
		for f in "$state"/interface/*; do
			[ -f "$f" ] || continue
			any=1
			cat "$f"
		done
		[ -n "$any" ] || cat "$state/original"
	} >"$state/resolv.conf.new" || die "$state: cannot write"
	cat "$state/resolv.conf.new" >"$resolv" || die "$resolv: cannot write"
	rm -f "$state/resolv.conf.new"
	[ -n "$any" ] || rm -f "$state/original"
}

valid_iface() { [[ $1 =~ ^[A-Za-z0-9_=+.-]{1,64}$ ]] || die "'$1': not an interface name"; }

case ${1:-} in
-a)
	valid_iface "${2:-}"
	mkdir -p "$state/interface" || die "$state: cannot create"
	[ -f "$state/original" ] || cp "$resolv" "$state/original" 2>/dev/null || : >"$state/original"
	grep -E '^[[:space:]]*(nameserver|search|domain|options)[[:space:]]' >"$state/interface/$2" || :
	regenerate ;;
-d)
	valid_iface "${2:-}"
	rm -f "$state/interface/$2"
	[ -d "$state/interface" ] && regenerate ;;
-l)
	if [ -n "${2:-}" ]; then
		valid_iface "$2"
		cat "$state/interface/$2" 2>/dev/null || exit 1
	else
		cat "$state"/interface/* 2>/dev/null
	fi ;;
*) die "usage: resolvconf -a IFACE | -d IFACE | -l [IFACE]" ;;
esac
