#!/bin/bash
# containers_server_bad_input.sh — server mode refuses bad input (on podman here;
# containers_server_bad_input_docker.sh runs it on the private dockerd): a non-zero exit, one line naming the cause (the datapath line aside), and
# nothing written into /config:
#   PEERS names that are no file names (../x, a/b, an empty one, -x); PUID and PGID that are
#   no numbers; a read-only /config that an edit of PEERS must change; a template that runs a command or
#   names an unknown variable; /app/show-peer of a name that is no peer name. And leftovers of
#   an older run (a 0644 .tmp, a .tmp linked out of /config) are neither reused nor followed.
# Every container runs with --network none: nothing here needs a network.
set -uo pipefail
source "$(dirname "$0")/lib/containers.bash"
ct_setup
engine=$CT_ENGINE
# The image by its ID: other trees on this machine tag their own builds podwire:latest in the
# same podman storage while this test runs.
IMAGE=$(P image inspect "$IMAGE" --format '{{.Id}}') || fail "image inspect $IMAGE"

# refused WHAT PATTERN DIR[:ro] ENV...: the server on /config=DIR with ENV exits non-zero
# with exactly one line (besides "podwire: datapath: ...") and that line matches PATTERN.
refused() {
	local what=$1 pattern=$2 mount=$3 out rc lines
	shift 3
	local env=()
	for e in "$@"; do env+=(-e "$e"); done
	out=$(P run --rm --name "pw18-sbi-$engine" --network none --cap-add NET_ADMIN --device /dev/net/tun \
		-v "$mount:/config${ro:+:ro}" "${env[@]}" "$IMAGE" 2>&1)
	rc=$?
	lines=$(grep -v '^podwire: datapath:' <<<"$out")
	[ $rc -ne 0 ] || fail "$engine: $what: exit 0"$'\n'"$out"
	[ "$(grep -c . <<<"$lines")" = 1 ] || fail "$engine: $what: not one line:"$'\n'"$out"
	grep -E -- "$pattern" <<<"$lines" >/dev/null || fail "$engine: $what: '$lines' does not match '$pattern'"
	echo "  $engine: $what -> $lines"
}

run_engine() {
	local bad d
	d=$W/$engine
	mkdir -p "$d/empty" "$d/tpl/templates"
	ro=
	for bad in '../x' 'a/b' 'a,,b' 'laptop,-x'; do
		refused "PEERS=$bad" "^podwire: PEERS: '[^']*' is not a peer name: " "$d/empty" "PEERS=$bad"
	done
	refused "PUID=abc" "^podwire: PUID='abc': not a number" "$d/empty" PEERS=2 PUID=abc
	refused "PGID=10x" "^podwire: PGID='10x': not a number" "$d/empty" PEERS=2 PUID=1000 PGID=10x
	printf '[Interface]\nAddress = ${INTERFACE}.1\nPostUp = $(touch /config/ran)\n' >"$d/tpl/templates/server.conf"
	refused "a template that runs a command" 'templates/server.conf:3: \$\(touch /config/ran\): only \$\(cat FILE\)' "$d/tpl" PEERS=2
	printf '[Interface]\nAddress = ${CLIENTIP}\n' >"$d/tpl/templates/server.conf"
	refused "a template with an unknown variable" 'templates/server.conf:2: \$\{CLIENTIP\}: not a template variable' "$d/tpl" PEERS=2
	[ -z "$(ls -A "$d/empty")" ] || fail "$engine: a refused server mode wrote into /config: $(ls -A "$d/empty")"
	[ "$(cd "$d/tpl" && find . -type f)" = ./templates/server.conf ] || fail "$engine: a refused template left files: $(cd "$d/tpl" && find . -type f)"
	# A /config made with PEERS=2, then read-only while PEERS=3 asks for a third peer (a fresh
	# read-only /config is refused earlier: containers_bad_input.sh).
	mkdir -p "$d/ro"
	P run --rm --network none -v "$d/ro:/config" -e PEERS=2 -e SERVERURL=192.0.2.1 "$IMAGE" podwire-server-config \
		>"$W/out" 2>&1 || fail "$engine: server config for PEERS=2: $(cat "$W/out")"
	before=$(cd "$d/ro" && find . -type f | sort | xargs sha256sum)
	ro=1
	refused "a read-only /config that PEERS=3 must change" "^podwire: /config(/peer3)?: not writable \(a read-only /config\?\), and server mode must write /config/peer3/" \
		"$d/ro" PEERS=3 SERVERURL=192.0.2.1
	ro=
	[ "$(cd "$d/ro" && find . -type f | sort | xargs sha256sum)" = "$before" ] || fail "$engine: the refused read-only /config changed"
	# Leftovers of an older run: a world-readable key's .tmp and a .tmp that is a link out of
	# /config. Neither is reused: the link's target stays untouched, every file made is 0600.
	mkdir -p "$d/left/server" "$d/left/wg_confs"
	install -m 644 /dev/null "$d/left/server/privatekey-server.tmp"
	echo untouched >"$W/outside-$engine"
	ln -s "$W/outside-$engine" "$d/left/wg_confs/wg0.conf.tmp"
	P run --rm --network none -v "$d/left:/config" -e PEERS=2 -e SERVERURL=192.0.2.1 "$IMAGE" podwire-server-config \
		>"$W/out" 2>&1 || fail "$engine: server config over leftovers: $(cat "$W/out")"
	[ "$(cat "$W/outside-$engine")" = untouched ] || fail "$engine: a leftover .tmp link was followed out of /config"
	out=$(find "$d/left" -type f ! -name '*.tmp' ! -perm 600)
	[ -z "$out" ] || fail "$engine: not 0600: $out"
	out=$(find "$d/left" -name '.*')
	[ -z "$out" ] || fail "$engine: temporary files left: $out"
	out=$(P run --rm --network none "$IMAGE" /app/show-peer ../x 2>&1) && fail "$engine: show-peer ../x: exit 0"
	[ "$out" = "podwire: show-peer: '../x' is not a peer name: it has a '/' (a name becomes the directory /config/peer_NAME)" ] ||
		fail "$engine: show-peer ../x: $out"
	ok "$engine: bad PEERS names, PUID, PGID, templates, a read-only /config to write, show-peer ../x: refused with one line each, nothing written"
}

run_engine
echo "containers_server_bad_input ($CT_ENGINE): passed, $CHECKS checks"
