#!/bin/bash
# kind_e2e_dryrun.sh — hack/kind-e2e.sh and its workflow where kind cannot run: shellcheck on
# the script and on the workflow's shell steps, then the script under DRY_RUN=1 (it prints the
# commands it would run; queries answer with stand-in values) for docker and for podman, and
# the printed plan read back: the image built from image/Containerfile.debian under the name
# the DaemonSet asks for (docker.io/library/podwire:VERSION as the nodes' containerd and the
# kubelet name it), loaded into kind, the manifests applied, and every check the script owes
# (pods across nodes, a Service, CoreDNS, egress, a Node registered again). The workflow must
# run on Ubuntu with Ubuntu's packages (not hack/deps.sh), install kind, and run the script.
# What this cannot show is a real cluster's answer: that is the workflow's job.
source "$(dirname "$0")/lib/common.bash"
# Debian's python3, which python3-yaml is for (and which starts in a tenth of the time of a
# python3 shim that PATH may find first).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TOP=$(cd "$(dirname "$0")/../.." && pwd)
require_cmd shellcheck python3
"$PY" -c 'import yaml' 2>/dev/null || skip "python3-yaml missing (hack/deps.sh installs it)"
cd "$TOP" || fail "cd $TOP"
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' lib/version.h)

shellcheck hack/kind-e2e.sh >"$W/shellcheck.log" 2>&1 && ok "shellcheck hack/kind-e2e.sh: clean" ||
	{ cat "$W/shellcheck.log"; fail "shellcheck hack/kind-e2e.sh"; }

image=$("$PY" -c 'import sys,yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind")=="DaemonSet":
        spec=d["spec"]["template"]["spec"]
        print(" ".join(sorted({c["image"] for c in spec.get("initContainers",[])+spec["containers"]})))' manifests/podwire.yaml)
[ "$image" = "podwire:$version" ] && ok "the DaemonSet runs podwire:$version (docker.io/library/podwire:$version to the kubelet)" ||
	fail "the DaemonSet's images are '$image', not podwire:$version"

# dry ENGINE: the plan for ENGINE (docker, or podman as kind's experimental provider)
dry() {
	local env=(env -u KIND_EXPERIMENTAL_PROVIDER DRY_RUN=1 PATH=/usr/bin:/bin)
	[ "$1" = podman ] && env+=(KIND_EXPERIMENTAL_PROVIDER=podman)
	"${env[@]}" bash hack/kind-e2e.sh >"$W/dry-$1.log" 2>&1
}
# in_order LOG PATTERN...: each extended regex matches a line of LOG, in this order.
in_order() {
	"$PY" - "$@" <<-'EOF'
		import re, sys
		lines = open(sys.argv[1]).read().splitlines()
		at = 0
		for pat in sys.argv[2:]:
		    for k in range(at, len(lines)):
		        if re.search(pat, lines[k]):
		            at = k + 1
		            break
		    else:
		        print(f"missing (after line {at}): {pat}")
		        sys.exit(1)
	EOF
}
v=${version//./\\.}
K='^\+ kubectl --context kind-podwire-e2e'
if dry docker; then ok "DRY_RUN=1 hack/kind-e2e.sh (docker): the whole plan, exit 0"
else tail -5 "$W/dry-docker.log"; fail "DRY_RUN=1 hack/kind-e2e.sh (docker) failed"; fi
if out=$(in_order "$W/dry-docker.log" \
	"^\+ docker build -f image/Containerfile\.debian -t podwire:$v " \
	'^\+ kind create cluster --name podwire-e2e --config manifests/kind/cluster\.yaml' \
	"^\+ kind load docker-image podwire:$v --name podwire-e2e" \
	'^\+ docker exec podwire-e2e-worker crictl images' \
	"$K apply -f manifests/podwire\.yaml" \
	"$K -n podwire rollout status ds/podwire" \
	"$K wait --for=condition=Ready nodes --all" \
	"$K run pw-e2e-0 .*nodeName.*podwire-e2e-worker\b" \
	"$K run pw-e2e-1 .*nodeName.*podwire-e2e-worker2" \
	"$K exec pw-e2e-0 -- ping .* 10\.244\.2\.2" \
	"$K exec pw-e2e-0 -- wget -qO- http://10\.244\.2\.2:8080/" \
	"$K expose pod pw-e2e-1 --name pw-e2e" \
	"$K exec pw-e2e-0 -- wget .*http://pw-e2e\.default\.svc\.cluster\.local/" \
	"$K exec pw-e2e-0 -- nslookup kubernetes\.default\.svc\.cluster\.local" \
	"$K exec pw-e2e-1 -- wget .*https://kubernetes\.default\.svc\.cluster\.local/version" \
	'^\+ python3 -m http\.server --bind 172\.18\.0\.1 ' \
	"$K exec pw-e2e-0 -- wget .*http://172\.18\.0\.1:18080/" \
	"$K get nodes -o .*InternalIP" \
	"$K delete node podwire-e2e-worker2" \
	'^\+ docker exec podwire-e2e-worker2 systemctl restart kubelet' \
	"$K wait --for=condition=Ready node/podwire-e2e-worker2" \
	'^ok \('); then
	ok "the plan: docker build from Containerfile.debian, kind load, apply, pods across nodes, a Service, CoreDNS, the API server, egress, a Node registered again"
else
	fail "the docker plan: $out"
fi
grep -E '^\+ (podman|make image|hack/deps\.sh)' "$W/dry-docker.log" | head -3 | grep . &&
	fail "the docker plan runs podman, make image or hack/deps.sh"

if dry podman; then
	if out=$(in_order "$W/dry-podman.log" \
		"^\+ podman build -f image/Containerfile\.debian -t podwire:$v " \
		"^\+ podman tag localhost/podwire:$v docker\.io/library/podwire:$v" \
		"^\+ podman save -o .* docker\.io/library/podwire:$v" \
		"^\+ kind load image-archive .* --name podwire-e2e"); then
		ok "the podman plan saves the image as docker.io/library/podwire:$version (not localhost/) for kind load"
	else
		fail "the podman plan: $out"
	fi
else
	tail -5 "$W/dry-podman.log"; fail "DRY_RUN=1 KIND_EXPERIMENTAL_PROVIDER=podman hack/kind-e2e.sh failed"
fi

log "the workflow"
wf=.github/workflows/kind-e2e.yml
"$PY" - "$wf" "$W" <<-'EOF' || fail "$wf"
	import sys, yaml
	wf, w = sys.argv[1], sys.argv[2]
	doc = yaml.safe_load(open(wf))
	job = doc["jobs"]["kind-e2e"]
	assert job["runs-on"].startswith("ubuntu-"), f"runs-on {job['runs-on']}: want a stock Ubuntu runner"
	steps = job["steps"]
	runs = [s["run"] for s in steps if "run" in s]
	uses = [s["uses"] for s in steps if "uses" in s]
	assert any(u.startswith("helm/kind-action@") for u in uses), "no step installs kind (helm/kind-action)"
	assert any("hack/kind-e2e.sh" in r for r in runs), "no step runs hack/kind-e2e.sh"
	assert not any("deps.sh" in r or "make image" in r or "podman" in r for r in runs), \
	    "a step runs hack/deps.sh, make image or podman (Debian-only, or the wrong image name for kind)"
	apt = " ".join(r for r in runs if "apt-get install" in r)
	for p in ("libsodium-dev", "libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev", "libcjson-dev",
	          "libcurl4-openssl-dev", "libmicrohttpd-dev", "libqrencode-dev", "libyaml-dev"):
	    assert p in apt, f"the build package {p} is not installed from Ubuntu's archive"
	for k, r in enumerate(runs):
	    open(f"{w}/step{k}.sh", "w").write("#!/bin/bash\n" + r)
EOF
ok "$wf: Ubuntu runner, Ubuntu's build packages, kind installed, hack/kind-e2e.sh run; no deps.sh, make image or podman"
shellcheck -s bash "$W"/step*.sh >"$W/shellcheck-wf.log" 2>&1 && ok "shellcheck on the workflow's $(ls "$W"/step*.sh | wc -l) shell steps: clean" ||
	{ cat "$W/shellcheck-wf.log"; fail "shellcheck on the workflow's shell steps"; }
echo "kind_e2e_dryrun: $CHECKS checks passed (no kind here: the real run is the workflow's)"
