# containers.bash — shared by the container tests (containers_*.sh): the podwire image, podman
# on rootful storage but with a private configuration and networks, run inside a private
# "host" network namespace (pw18-host) so bridges, published ports and NAT rules never touch
# the machine's own namespace; a what-is-my-IP service; and one cleanup that removes every
# container, network and namespace the test made, then checks that nothing is left.
# Everything carries the "pw18" prefix. The plumbing ($W, fail, waiting, namespaces, the one
# cleanup trap) is the test base's, lib/common.bash; ct_setup adds this file's cleanup to it.
# Under pipefail, `CMD | grep -q` fails when grep exits before CMD has written everything:
# the tests read whole outputs (`grep ... >/dev/null`).
#
# Podman's pitfalls on this machine (shared/recipes/podman-cni.sh): runc, not crun (hybrid
# cgroups), and explicit ulimits (the defaults exceed the hard limits); both are in the
# private containers.conf, which every podman and podman-compose call below reads.
#
# Two engines: CT_ENGINE=podman (the default) as above, or CT_ENGINE=docker: a private dockerd
# (lib/dockerd.bash) whose network namespace pw26d-PID is the "host" namespace, with the
# image loaded from `make image`'s archive, and docker-compose 1.29. A test written with P,
# H, ct_rm, ct_health and ct_compose runs unchanged on either; a *_docker.sh test is the
# podman one run with CT_ENGINE=docker. A check that only one engine can make says why and
# is counted as skipped on the other (ct_skip).

# Under a plain chroot (no pivot_root: shared/recipes/fresh-debian.sh), "/" is not the root of
# its mount namespace, and runc exec (podman exec, podman healthcheck run) would land in the
# machine's root instead of the container's: lib/reroot.py says why. There the test runs
# again, from its start (nothing made yet), in a private mount namespace whose root is this
# "/"; elsewhere reroot.py changes nothing and the test goes on as it is.
if [ -z "${PW18_REROOTED:-}" ] && [ "$(id -u)" = 0 ]; then
	export PW18_REROOTED=1
	exec python3 "$(dirname "${BASH_SOURCE[0]}")/reroot.py" "$BASH" "$0" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CT_ENGINE=${CT_ENGINE:-podman}
case $CT_ENGINE in
podman) HOSTNS=pw18-host ;;
# (its own name per run: everything of a Docker run is in its namespace and $W, so two runs
# at once, from two trees, never meet)
docker) HOSTNS=pw26d-$$; source "$(dirname "${BASH_SOURCE[0]}")/dockerd.bash" ;;
*) fail "CT_ENGINE=$CT_ENGINE: not podman or docker" ;;
esac
IMAGE=podwire:latest
CT_SKIPS=0


# H CMD...: run CMD in the private host namespace (podman, podman-compose, curl). nsenter,
# not `ip netns exec`: that mounts a new /sys, without the cgroup mounts runc needs.
H() { nsenter --net="/run/netns/$HOSTNS" "$@"; }
# P ARGS...: the engine's CLI there (podman or docker); podman's systemd healthcheck-timer
# complaints (no systemd here) dropped.
if [ "$CT_ENGINE" = docker ]; then
	P() { H "$DOCKER_CLI" "$@"; }
else
	P() { H podman "$@" 2> >(grep -v 'systemd' >&2); }
fi
# ct_rm CONTAINER...: remove at once (podman waits 10 s for a stop unless told -t 0).
ct_rm() { if [ "$CT_ENGINE" = docker ]; then P rm -f "$@"; else P rm -f -t 0 "$@"; fi; }
# ct_health CONTAINER: the image's HEALTHCHECK, now. Docker has no `healthcheck run`: it runs
# the HEALTHCHECK's own command (the image's, checked by dk_load_image's caller) with exec.
ct_health() {
	if [ "$CT_ENGINE" = docker ]; then P exec "$1" podwire-entrypoint health; else P healthcheck run "$1"; fi
}
# ct_compose DIR ARGS...: the engine's compose in DIR (its compose.yml): docker-compose against
# the private dockerd, or podman-compose, through ../podman-service-net when the file has a
# `network_mode: service:` (Debian's podman-compose 1.0.3 does not translate it).
ct_compose() {
	local dir=$1
	shift
	if [ "$CT_ENGINE" = docker ]; then
		(cd "$dir" && H docker-compose "$@")
	elif grep -q "network_mode: 'service:" "$dir/compose.yml"; then
		(cd "$dir" && H podman-compose --podman-path ../podman-service-net "$@")
	else
		(cd "$dir" && H podman-compose "$@")
	fi
}
# ct_skip WHAT WHY: a check this engine cannot make, said and counted.
ct_skip() { CT_SKIPS=$((CT_SKIPS + 1)); echo "skip ($CT_ENGINE): $1: $2"; }

ct_setup() {
	require_root
	if [ "$CT_ENGINE" = docker ]; then
		ct_setup_docker
		return
	fi
	require_cmd podman podman-compose runc
	mkdir -p "$W/net.d" "$W/www/cgi-bin"
	cat >"$W/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
		[engine]
		runtime = "runc"
		[network]
		network_backend = "cni"
		network_config_dir = "$W/net.d"
	EOF
	export CONTAINERS_CONF=$W/containers.conf
	# The image from the optimized build (tests/run may point BUILD at the ASan one); it is
	# rebuilt only when an input changed.
	make -s -C "$TOP" BUILD=build image || fail "make image"
	# A run killed by the suite's timeout leaves its containers and namespace: they are ours
	# (tests run under the test lock), so they go before this run starts.
	if ip netns list | grep "^$HOSTNS\b" >/dev/null; then
		echo "removing what a killed run left behind"
		ct_remove_ours
		ip netns del "$HOSTNS"
	fi
	at_exit ct_cleanup
	netns_add "$HOSTNS"
	ct_netns_before=$(ls /run/netns)
	ct_exec_enters
}

# The docker engine: the image from the same `make image` (built by podman when it is here,
# else by this dockerd: PODWIRE_IMAGE_ENGINE=docker), loaded from its archive.
ct_setup_docker() {
	mkdir -p "$W/www/cgi-bin"
	dk_start "$HOSTNS"
	make -s -C "$TOP" BUILD=build image || fail "make image"
	dk_load_image
	ok "docker load of make image's archive gave podwire:VERSION and podwire:latest"
	ct_exec_enters
}

# ct_exec_enters: `podman exec` runs inside the container, or the test fails saying why
# (exec and healthchecks would otherwise fail later with "chdir to cwd ... no such file", or
# run the machine's files). The probe writes a token inside a container and reads it back
# through exec.
ct_exec_enters() {
	local token=pw18-$$-$RANDOM got
	# A probe that a killed run left would make the name taken.
	ct_rm pw18-execprobe >/dev/null 2>&1
	P run -d --no-healthcheck --network none --name pw18-execprobe "$IMAGE" \
		sh -c "echo $token >/tmp/exec-probe; exec sleep 60" >/dev/null || fail "$CT_ENGINE run (exec probe)"
	wait_until 5 P exec -w / pw18-execprobe test -s /tmp/exec-probe 2>/dev/null
	got=$(P exec -w / pw18-execprobe cat /tmp/exec-probe 2>/dev/null)
	ct_rm pw18-execprobe >/dev/null 2>&1
	[ "$got" = "$token" ] || fail "$CT_ENGINE exec does not enter the container: it read '$got', not the token written inside"
	ok "$CT_ENGINE exec enters the container (a token written inside read back)"
}

# ct_network NAME V4SUBNET [V6SUBNET]: a podman bridge network (NAT to the host namespace).
ct_network() {
	local args=(--subnet "$2")
	[ -n "${3:-}" ] && args+=(--ipv6 --subnet "$3")
	P network create "${args[@]}" "$1" >/dev/null || fail "$CT_ENGINE network create $1"
}

# ct_route_between NET_A NET_B: A's containers reach B's through the host's NAT (B is the
# test's "internet"), as podman's CNI bridges do. Docker isolates its networks from one another
# (DOCKER-ISOLATION-STAGE-*); DOCKER-USER, the chain Docker leaves to its user, lets A's
# traffic and B's replies through. The rules live in the engine's namespace and go with it.
ct_route_between() {
	local a b t c
	[ "$CT_ENGINE" = docker ] || return 0
	a=br-$(P network inspect -f '{{.Id}}' "$1" | cut -c1-12)
	b=br-$(P network inspect -f '{{.Id}}' "$2" | cut -c1-12)
	# (20.10's experimental ip6tables isolates the networks but makes no DOCKER-USER chain:
	# there the rules go first in FORWARD)
	for t in iptables ip6tables; do
		c=DOCKER-USER
		H "$t" -S DOCKER-USER >/dev/null 2>&1 || c=FORWARD
		H "$t" -I "$c" -i "$a" -o "$b" -j ACCEPT &&
			H "$t" -I "$c" -i "$b" -o "$a" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT ||
			fail "$t: $c rules between $1 and $2"
	done
}

# ct_whoami NETWORK V4 [V6]: container pw18-whoami, an HTTP service that answers
# GET /cgi-bin/ip with the caller's source address (busybox httpd + a CGI script).
ct_whoami() {
	local args=(--network "$1" --ip "$2")
	[ -n "${3:-}" ] && args+=(--ip6 "$3")
	cat >"$W/www/cgi-bin/ip" <<-'EOF'
		#!/bin/sh
		a=${REMOTE_ADDR#[}; a=${a%]}; a=${a#::ffff:}
		printf 'Content-Type: text/plain\r\n\r\n%s\n' "$a"
	EOF
	chmod 755 "$W/www/cgi-bin/ip"
	P run -d --no-healthcheck --name pw18-whoami "${args[@]}" -v "$W/www:/www:ro" "$IMAGE" \
		httpd -f -p 80 -h /www >/dev/null || fail "whoami service"
	wait_until 5 H curl -sf -o /dev/null "http://$2/cgi-bin/ip" || fail "whoami service does not answer"
}

# ct_addr CONTAINER NETWORK [6]: the container's IPv4 (or IPv6) address on NETWORK.
ct_addr() {
	local f='{{(index .NetworkSettings.Networks "'$2'").IPAddress}}'
	[ "${3:-}" = 6 ] && f='{{(index .NetworkSettings.Networks "'$2'").GlobalIPv6Address}}'
	P inspect "$1" --format "$f"
}

# ct_wait_log CONTAINER TEXT: wait (10 s at most) for TEXT in the container's log, or its exit.
ct_wait_log() {
	local n=100
	while [ $n -gt 0 ]; do
		P logs "$1" 2>&1 | grep -F -- "$2" >/dev/null && return 0
		[ "$(P inspect "$1" --format '{{.State.Running}}' 2>/dev/null)" = true ] || break
		n=$((n - 1))
		sleep 0.1
	done
	P logs "$1" 2>&1 | grep -F -- "$2" >/dev/null
}

# Remove every pw18 container and network and the test's namespaces (before the test base
# would: what is left is checked here); then check that no container, pod, network,
# namespace or conmon of ours is left.
ct_remove_ours() {
	local c n
	for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^pw18'); do
		P rm -f -t 0 "$c" >/dev/null 2>&1
	done
	for n in $(P network ls --format '{{.Name}}' 2>/dev/null | grep '^pw18'); do
		P network rm -f "$n" >/dev/null 2>&1
	done
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
}

ct_cleanup() {
	local left
	ct_remove_ours
	left=$(podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^pw18')
	left+=$(podman pod ls --format '{{.Name}}' 2>/dev/null | grep '^pw18')
	left+=$(find "$W/net.d" -name "pw18*" 2>/dev/null)
	left+=$(ip netns list | grep -o '^pw18[^ ]*')
	# the containers' own namespaces (CNI names them cni-*) made since ct_setup
	[ -n "${ct_netns_before+set}" ] && left+=$(comm -13 <(echo "$ct_netns_before" | sort) <(ls /run/netns | sort) | grep "^cni-")
	left+=$(pgrep -af "conmon.*pw18|podwire-wg pw18" || true)
	if [ -n "$left" ]; then
		cleanup_fail "left behind: $left"
		return
	fi
	echo "ok: teardown left no container, pod, network, namespace or process"
}
