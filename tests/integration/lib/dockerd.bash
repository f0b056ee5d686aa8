# dockerd.bash — a private Docker engine for the container tests (Debian's docker.io 20.10 and
# docker-compose 1.29), so that every compose scenario runs on Docker as well as on podman.
# Source it after lib/containers.bash (which re-roots a chrooted run and sources common.bash);
# it uses common.bash's W, fail, ok, wait_until, netns_add and at_exit.
#
#   dk_start NS [DAEMON_JSON]   a dockerd in a new network namespace NS (name it with your
#                               test's prefix; deleted at exit like every netns_add), with its
#                               own --data-root, --exec-root, --pidfile and socket under $W/dk,
#                               iptables on (as the engine does) inside NS only; DAEMON_JSON, a
#                               JSON object, replaces the default daemon.json (IPv6 and
#                               ip6tables on, below). Exports DOCKER_HOST and DOCKER_CONFIG, so
#                               docker and docker-compose called later talk to it and nothing
#                               else. Its stop is added to the exit trap.
#   D ARGS...                   Debian's docker CLI against it (in NS, like H for podman)
#   DC ARGS...                  docker-compose against it, run in NS (published ports and
#                               curl to container addresses work from there too: DH)
#   DH CMD...                   CMD in NS (curl to a published port, nft list ruleset)
#   dk_load_image [ARCHIVE]     docker load the podwire image archive (default: the one
#                               `make image` writes, $TOP/build/image/podwire-VERSION.tar), then
#                               check that it gave podwire:VERSION and podwire:latest
#   dk_stop                     (the exit trap runs it; call it yourself to check earlier)
#                               remove every container and network, stop dockerd by its PID
#                               (TERM, then KILL after 20 s), kill any containerd/shim of ours
#                               left, remove $W/dk and the cgroups, and check that nothing is
#                               left: process, mount, cgroup, file, NS itself, or a Docker
#                               rule in the machine's own iptables/nft ruleset.
#
# Why it looks like this:
# - `nsenter --net`, not `ip netns exec`: that mounts a new /sys without the cgroup mounts runc
#   needs (as for podman in containers.bash).
# - dockerd 20.10 writes /etc/docker/key.json (no flag moves it) and /run/docker/plugins, and
#   containerd's shims put their sockets in /run/containerd/s whatever --exec-root says. So the
#   daemon runs in a private mount namespace (unshare --mount --propagation private) with fresh
#   tmpfs on /etc/docker and /run: nothing of it reaches the machine's files, and its overlay
#   and shm mounts die with the namespace when the last of its processes exits.
# - Its containers' cgroups go under "podwire-dk-NS" (cgroup-parent), removed at stop.
# - The CLI is Debian's /usr/bin/docker (DOCKER_CLI overrides): another docker on PATH may be a
#   client newer than the 20.10 engine.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
DK_NS=
DK_PID=

DH() { nsenter --net="/run/netns/$DK_NS" "$@"; }
D() { DH "$DOCKER_CLI" "$@"; }
DC() { DH docker-compose "$@"; }

# The Docker chains and tables in the machine's own namespace (they must stay none of ours).
dk_host_rules() {
	{ iptables-save 2>/dev/null; ip6tables-save 2>/dev/null; nft list ruleset 2>/dev/null; } |
		grep -ci docker || true
}

dk_start() {
	local ns=$1 json=${2:-}
	require_cmd dockerd containerd runc docker-compose unshare nsenter
	[ -x "$DOCKER_CLI" ] || skip "$DOCKER_CLI not installed (docker.io)"
	[ -d /etc/docker ] || fail "/etc/docker: missing (docker.io installs it; dockerd's key goes there)"
	DK_NS=$ns
	DK=$W/dk
	mkdir -p "$DK/root" "$DK/x" "$DK/cli"
	chmod 700 "$DK"
	dk_rules_before=$(dk_host_rules)
	[ -n "$json" ] || json='{"ipv6": true, "fixed-cidr-v6": "fd26:dc::/64", "experimental": true, "ip6tables": true}'
	python3 -c 'import json, sys
d = json.loads(sys.argv[1]); d.setdefault("cgroup-parent", sys.argv[2])
print(json.dumps(d))' "$json" "podwire-dk-$ns" >"$DK/daemon.json" || fail "dk_start: DAEMON_JSON is not a JSON object: $json"
	export DOCKER_HOST=unix://$DK/sock DOCKER_CONFIG=$DK/cli
	netns_add "$ns"
	at_exit dk_stop
	nsenter --net="/run/netns/$ns" unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=0755 podwire-dk /run &&
		mount -t tmpfs -o mode=0700 podwire-dk /etc/docker &&
		exec dockerd --data-root "$1/root" --exec-root "$1/x" --pidfile "$1/pid" \
			-H "unix://$1/sock" --config-file "$1/daemon.json"' sh "$DK" >"$W/dockerd.log" 2>&1 &
	DK_PID=$!
	wait_until 60 "$DOCKER_CLI" info || fail "dockerd did not answer on $DOCKER_HOST within 60 s (see $W/dockerd.log)"
	[ "$(cat "$DK/pid")" = "$DK_PID" ] || fail "dockerd's pidfile says $(cat "$DK/pid"), not $DK_PID"
	ok "dockerd $("$DOCKER_CLI" version --format '{{.Server.Version}}') (pid $DK_PID) in namespace $ns, data root $DK/root"
}

dk_load_image() {
	local archive=${1:-} version
	version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' "$TOP/lib/version.h")
	[ -n "$archive" ] || archive=$TOP/build/image/podwire-$version.tar
	[ -s "$archive" ] || fail "$archive: no image archive (make image)"
	D load -q -i "$archive" >/dev/null || fail "docker load -i $archive"
	D image inspect "podwire:$version" "podwire:latest" >/dev/null ||
		fail "docker load of $archive did not give podwire:$version and podwire:latest"
}

# Processes of our engine that outlive dockerd: containerd and its shims name our exec root.
dk_leftover_pids() { pgrep -f -- "$DK/" 2>/dev/null | grep -vx "$$" || true; }

dk_stop() {
	local i c n left pids cg
	[ -n "$DK_PID" ] || return 0
	if kill -0 "$DK_PID" 2>/dev/null; then
		for c in $("$DOCKER_CLI" ps -aq 2>/dev/null); do "$DOCKER_CLI" rm -f "$c" >/dev/null 2>&1; done
		for n in $("$DOCKER_CLI" network ls -q --filter type=custom 2>/dev/null); do
			"$DOCKER_CLI" network rm "$n" >/dev/null 2>&1
		done
		kill -TERM "$DK_PID" 2>/dev/null
		for i in $(seq 200); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$DK_PID" 2>/dev/null && { cleanup_fail "dockerd $DK_PID ignored SIGTERM for 20 s"; kill -KILL "$DK_PID"; }
	fi
	wait "$DK_PID" 2>/dev/null
	DK_PID=
	pids=$(dk_leftover_pids)
	if [ -n "$pids" ]; then
		cleanup_fail "left running after dockerd stopped: $(ps -o pid=,args= -p "${pids//$'\n'/,}")"
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		wait_until 5 test -z "$(dk_leftover_pids)"
	fi
	# The mount namespace went with the last process: nothing is mounted below $DK any more.
	left=$(grep -F " $DK/" /proc/self/mountinfo || true)
	[ -z "$left" ] || cleanup_fail "still mounted: $left"
	rm -rf "$DK" 2>/dev/null || cleanup_fail "cannot remove $DK"
	# (each hierarchy, at whatever depth this test's own cgroup is: memory may be nested)
	for cg in $(find /sys/fs/cgroup -maxdepth 5 -type d -name "podwire-dk-$DK_NS" 2>/dev/null); do
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$cg" ] && cleanup_fail "cgroup $cg: cannot remove (a process is left in it)"
	done
	[ "$(dk_host_rules)" = "$dk_rules_before" ] ||
		cleanup_fail "the machine's own iptables/nft ruleset gained Docker rules"
	# Its namespace, with the bridges, veths and rules dockerd made there, goes now.
	ip netns del "$DK_NS" 2>/dev/null
	ip netns list | grep "^$DK_NS\b" >/dev/null && cleanup_fail "namespace $DK_NS is still there"
	[ -z "${CLEANUP_FAILED:-}" ] &&
		echo "ok: dockerd stopped; no process, mount, cgroup, namespace, data directory or host rule of it left"
	return 0
}
