#!/bin/bash
# manifests/podwire.yaml and manifests/kind/cluster.yaml, checked offline: every object
# against the Kubernetes OpenAPI schema (npm's kubernetes-models, installed into
# hack/manifest-check by hack/deps.sh), and the DaemonSet against what podwired needs (its
# flags, mounts, capabilities, environment, probes; hack/manifest-check/check.mjs). Then
# broken copies must fail, each for its reason, so the check is known to bite.
source "$(dirname "$0")/lib/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$top/hack/manifest-check
require_cmd node
[ -d "$CHECK/node_modules/kubernetes-models" ] || skip "kubernetes-models not installed in $CHECK (hack/deps.sh)"
require_built podwired
version=$(sed -n 's/^#define PODWIRE_VERSION "\(.*\)"$/\1/p' "$top/lib/version.h")
"$B/podwired" --help >"$W/help.txt"
check() { node "$CHECK/check.mjs" "$1" "${2:-$top/manifests/kind/cluster.yaml}" "$W/help.txt" "$version"; }

echo "== the shipped manifests (podwire:$version)"
check "$top/manifests/podwire.yaml" || fail "the shipped manifests do not pass"

echo "== broken copies are refused"
refused() { # NAME SED-EXPR EXPECTED-REASON [kind]: a copy edited by SED-EXPR must fail with REASON
	local name=$1 expr=$2 want=$3 out f=$W/podwire.yaml k=$top/manifests/kind/cluster.yaml
	if [ "${4:-}" = kind ]; then sed "$expr" "$k" >"$W/kind.yaml"; k=$W/kind.yaml; cp "$top/manifests/podwire.yaml" "$f"
	else sed "$expr" "$top/manifests/podwire.yaml" >"$f"; fi
	cmp -s "$f" "$top/manifests/podwire.yaml" && [ "${4:-}" != kind ] && fail "$name: the edit changed nothing"
	out=$(check "$f" "$k" 2>&1) && fail "$name: accepted"
	grep -q -- "$want" <<<"$out" || fail "$name: refused for another reason: $out"
	echo "refused, $name: $(grep FAIL <<<"$out")"
}
refused "a string where the schema wants an integer" 's/periodSeconds: 5/periodSeconds: "five"/' "not valid against the Kubernetes OpenAPI schema"
refused "an unknown hostPath type" 's/type: CharDevice/type: Chardev/' "not valid against the Kubernetes OpenAPI schema"
refused "without NET_ADMIN" 's/add: \["NET_ADMIN", "NET_RAW"\]/add: ["NET_RAW"]/' "podwired needs NET_ADMIN"
refused "a flag podwired does not have" 's/--pod-cidr-allocation=off/--pod-cidr-allocate=off/' "podwired has no --pod-cidr-allocate"
refused "an undefined variable" 's/--cluster-cidr=$(CLUSTER_CIDR)/--cluster-cidr=$(POD_CIDR)/' 'does not define'
refused "the conflist directory not mounted there" 's|--cni-conf-dir=/host/etc/cni/net.d|--cni-conf-dir=/etc/cni/net.d|' "is not where /etc/cni/net.d is mounted"
refused "a writable /lib/modules" '/mountPath: \/lib\/modules/{n;d}' "read-only"
refused "RBAC beyond nodes" 's/verbs: \["get", "list", "watch"\]/verbs: ["get", "list", "watch", "delete"]/' "nodes get/list/watch and nodes/status patch only"
refused "patch on nodes" 's/verbs: \["get", "list", "watch"\]/verbs: ["get", "list", "watch", "patch"]/' "nodes get/list/watch and nodes/status patch only"
refused "the datapath inside podwired's container" 's/--datapath=external/--datapath=auto/' "a container 'datapath'"
refused "a readiness probe on another port" '/path: \/readyz/{n;s/9586/9587/}' "readinessProbe"
refused "the default CNI left on" 's/disableDefaultCNI: true/disableDefaultCNI: false/' "disableDefaultCNI" kind
refused "a pod subnet other than the cluster CIDR" 's|podSubnet: "10.244.0.0/16"|podSubnet: "10.96.0.0/16"|' "podSubnet" kind
echo "ok"
