// check.mjs — offline checks of podwire's Kubernetes manifests.
//
// 1. Each object of manifests/podwire.yaml against the Kubernetes OpenAPI schema, with npm's
//    kubernetes-models (its JSON schemas are generated from the Kubernetes OpenAPI document;
//    version 4.5.1, pinned by package-lock.json, has fields of Kubernetes 1.33).
// 2. The DaemonSet against what podwired needs: every flag it passes is one podwired knows
//    (from `podwired --help`), every $(VAR) is defined, the node name comes from the Downward
//    API, NET_ADMIN and NET_RAW, the host paths the daemon and the CNI plugin use are mounted
//    where the flags point, probes and the Prometheus annotation on the --metrics port, the
//    image is podwire:VERSION, the ClusterRole allows exactly nodes get/list/watch and
//    nodes/status patch.
// 3. manifests/kind/cluster.yaml: no default CNI, podSubnet = the ConfigMap's cluster CIDR,
//    one control-plane and two workers.
// Usage: node check.mjs PODWIRE_YAML KIND_YAML HELP_TEXT_FILE VERSION
// Prints one line per check; exits 1 at the first failure, naming the object and the reason.
import fs from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

const [yamlPath, kindPath, helpPath, version] = process.argv.slice(2);
if (!version) {
  console.error("usage: node check.mjs PODWIRE_YAML KIND_YAML HELP_TEXT_FILE VERSION");
  process.exit(2);
}

function fail(what, why) {
  console.error(`FAIL: ${what}: ${why}`);
  process.exit(1);
}
function ok(what) {
  console.log(`ok: ${what}`);
}

const docs = yaml.loadAll(fs.readFileSync(yamlPath, "utf8")).filter((d) => d);
const byKind = {};
for (const d of docs) {
  const name = `${d.kind}/${d.metadata && d.metadata.name}`;
  const [group, ver] = d.apiVersion.includes("/") ? d.apiVersion.split("/") : [null, d.apiVersion];
  const mod = `kubernetes-models/${group ? group + "/" : ""}${ver}/${d.kind}`;
  let Model;
  try {
    Model = (await import(mod))[d.kind];
  } catch (e) {
    fail(name, `no schema for ${d.apiVersion} ${d.kind}`);
  }
  try {
    new Model(d).validate();
  } catch (e) {
    fail(name, `not valid against the Kubernetes OpenAPI schema: ${e.message}`);
  }
  ok(`${name} is valid (${d.apiVersion})`);
  byKind[d.kind] = d;
}
for (const k of ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"])
  if (!byKind[k]) fail(yamlPath, `no ${k}`);

// RBAC: what the Kubernetes store does, nothing more. Its annotations go through the
// nodes/status subresource (the API server keeps a Node's spec on a status write, not its
// metadata), so no `patch` on nodes: that would let a node's token taint or cordon any Node.
const rules = byKind.ClusterRole.rules;
const ruleIs = (r, res, verbs) => JSON.stringify(r.apiGroups) === '[""]' && JSON.stringify(r.resources) === res &&
  JSON.stringify([...r.verbs].sort()) === verbs;
if (rules.length !== 2 || !ruleIs(rules[0], '["nodes"]', '["get","list","watch"]') ||
    !ruleIs(rules[1], '["nodes/status"]', '["patch"]'))
  fail("ClusterRole/podwire", `rules must be nodes get/list/watch and nodes/status patch only, are ${JSON.stringify(rules)}`);
const binding = byKind.ClusterRoleBinding;
const sa = byKind.ServiceAccount;
if (binding.roleRef.name !== byKind.ClusterRole.metadata.name ||
    !binding.subjects.some((s) => s.kind === "ServiceAccount" && s.name === sa.metadata.name &&
      s.namespace === sa.metadata.namespace))
  fail("ClusterRoleBinding/podwire", "does not bind the ClusterRole to the ServiceAccount");
ok("ClusterRole: nodes get/list/watch and nodes/status patch only, bound to the ServiceAccount");

const ds = byKind.DaemonSet;
const spec = ds.spec.template.spec;
const D = "DaemonSet/podwire";
if (spec.serviceAccountName !== sa.metadata.name) fail(D, "does not run as the podwire ServiceAccount");
if (!spec.hostNetwork) fail(D, "needs hostNetwork: the WireGuard interface and routes are the node's");
if (!spec.tolerations || !spec.tolerations.some((t) => t.operator === "Exists" && !t.key && !t.effect))
  fail(D, "must tolerate every taint (operator: Exists, no key)");
if (spec.priorityClassName !== "system-node-critical") fail(D, "priorityClassName is not system-node-critical");
if (ds.spec.updateStrategy.type !== "RollingUpdate") fail(D, "updateStrategy is not RollingUpdate");
ok("DaemonSet: hostNetwork, tolerates every taint, system-node-critical, RollingUpdate");

const c = spec.containers.find((x) => x.name === "podwired");
if (!c) fail(D, "no podwired container");
const help = fs.readFileSync(helpPath, "utf8");
const known = new Set([...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]));
const flags = {};
for (const a of c.args) {
  const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
  if (!m) fail(D, `argument '${a}' is not --flag=value`);
  if (!known.has(m[1])) fail(D, `podwired has no --${m[1]} (podwired --help)`);
  flags[m[1]] = m[2];
}
const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
for (const a of c.args)
  for (const v of a.matchAll(/\$\(([A-Z_]+)\)/g))
    if (!env[v[1]]) fail(D, `argument '${a}' uses $(${v[1]}), which the container's env does not define`);
ok(`podwired's ${c.args.length} arguments are flags podwired knows, their $(VARS) defined`);
if (flags.name !== "$(NODE_NAME)" || !env.NODE_NAME.valueFrom ||
    env.NODE_NAME.valueFrom.fieldRef.fieldPath !== "spec.nodeName")
  fail(D, "--name must be the Node's name, from fieldRef spec.nodeName (the store patches that Node)");
if ("store" in flags && flags.store !== "kubernetes") fail(D, "--store must be kubernetes (or left to its default in a pod)");
if ("kubeconfig" in flags) fail(D, "--kubeconfig: the pod's service account is the configuration");
ok("the node name comes from spec.nodeName; the store is the Kubernetes API with the service account");

const caps = (c.securityContext && c.securityContext.capabilities && c.securityContext.capabilities.add) || [];
for (const cap of ["NET_ADMIN", "NET_RAW"])
  if (!caps.includes(cap)) fail(D, `podwired needs ${cap}`);
ok(`capabilities: ${caps.join(", ")}`);

// Host paths: volume by host path, and where the container mounts it.
const hostVol = {};
for (const v of spec.volumes) if (v.hostPath) hostVol[v.hostPath.path] = v.name;
function mountOf(container, hostPath) {
  const name = hostVol[hostPath];
  if (!name) fail(D, `no hostPath volume for ${hostPath}`);
  const m = (container.volumeMounts || []).find((x) => x.name === name);
  if (!m) fail(D, `container ${container.name} does not mount ${hostPath}`);
  return m;
}
const needs = {
  "/opt/cni/bin": "the CNI plugins (install-cni)",
  "/etc/cni/net.d": "the conflist podwired writes (--cni-conf-dir)",
  "/var/lib/podwire": "the node's private key (--state-dir)",
  "/run/xtables.lock": "iptables' lock shared with kube-proxy",
  "/lib/modules": "the WireGuard kernel module",
  "/dev/net/tun": "the userspace datapath",
};
for (const [p, why] of Object.entries(needs)) mountOf(c, p);
if (!mountOf(c, "/lib/modules").readOnly) fail(D, "/lib/modules must be mounted read-only");
if (spec.volumes.find((v) => v.name === hostVol["/dev/net/tun"]).hostPath.type !== "CharDevice")
  fail(D, "/dev/net/tun must be a CharDevice hostPath");
if (flags["cni-conf-dir"] !== mountOf(c, "/etc/cni/net.d").mountPath)
  fail(D, `--cni-conf-dir=${flags["cni-conf-dir"]} is not where /etc/cni/net.d is mounted`);
if (flags["state-dir"] !== mountOf(c, "/var/lib/podwire").mountPath)
  fail(D, `--state-dir=${flags["state-dir"]} is not where /var/lib/podwire is mounted`);
ok(`host paths mounted where podwired's flags point: ${Object.keys(needs).join(", ")} (/lib/modules read-only)`);

// The datapath in its own container, so that podwired's restarts leave it running.
const dp = spec.containers.find((x) => x.name === "datapath");
if (flags.datapath !== "external" || !dp || JSON.stringify(dp.command) !== '["podwired"]' ||
    !dp.args.includes("--datapath-only") ||
    (dp.args.find((a) => a.startsWith("--interface=")) || "") !== `--interface=${flags.interface}`)
  fail(D, "podwired must run with --datapath=external and a container 'datapath' with podwired --datapath-only " +
    "on the same --interface (a userspace datapath started by podwired dies with its container)");
for (const p of ["/dev/net/tun", "/var/run/wireguard", "/lib/modules"]) mountOf(dp, p);
if (!(dp.securityContext.capabilities.add || []).includes("NET_ADMIN")) fail(D, "the datapath container needs NET_ADMIN");
if (mountOf(dp, "/var/run/wireguard").mountPath !== mountOf(c, "/var/run/wireguard").mountPath)
  fail(D, "the datapath and podwired containers must share /var/run/wireguard at the same path (the UAPI socket)");
ok(`the datapath container keeps ${flags.interface}; podwired attaches to it (--datapath=external)`);

const cm = byKind.ConfigMap;
if (flags["cni-conf-template"]) {
  const t = flags["cni-conf-template"];
  const m = (c.volumeMounts || []).find((x) => t.startsWith(x.mountPath + "/"));
  const vol = m && spec.volumes.find((v) => v.name === m.name);
  if (!vol || !vol.configMap || vol.configMap.name !== cm.metadata.name)
    fail(D, `--cni-conf-template=${t} is not in the mounted ConfigMap`);
  const text = cm.data[path.basename(t)];
  if (!text) fail(`ConfigMap/${cm.metadata.name}`, `no key ${path.basename(t)}`);
  let conf;
  try {
    conf = JSON.parse(text);
  } catch (e) {
    fail(`ConfigMap/${cm.metadata.name}`, `${path.basename(t)} is not JSON: ${e.message}`);
  }
  if (!conf.plugins || !conf.plugins.some((p) => p.type === "podwire"))
    fail(`ConfigMap/${cm.metadata.name}`, `${path.basename(t)} has no plugin of type podwire`);
  ok(`the conflist template ${t} comes from the ConfigMap and has the podwire plugin`);
}

const init = (spec.initContainers || []).find((x) => x.name === "install-cni");
if (!init || JSON.stringify(init.command) !== '["podwirectl"]' || init.args[0] !== "install-cni" ||
    init.args[1] !== mountOf(init, "/opt/cni/bin").mountPath)
  fail(D, "the install-cni init container must run podwirectl install-cni into the mounted /opt/cni/bin");
ok("install-cni init container installs into the host's /opt/cni/bin");

const metricsPort = Number((flags.metrics || "").split(":").pop());
if (!metricsPort) fail(D, "--metrics must listen on a port (the probes and Prometheus use it)");
if (c.readinessProbe.httpGet.path !== "/readyz" || c.readinessProbe.httpGet.port !== metricsPort)
  fail(D, `readinessProbe must be GET /readyz on ${metricsPort}`);
if (c.livenessProbe.httpGet.path !== "/healthz" || c.livenessProbe.httpGet.port !== metricsPort)
  fail(D, `livenessProbe must be GET /healthz on ${metricsPort}`);
const ann = ds.spec.template.metadata.annotations || {};
if (ann["prometheus.io/scrape"] !== "true" || Number(ann["prometheus.io/port"]) !== metricsPort)
  fail(D, `prometheus.io/scrape and prometheus.io/port=${metricsPort} annotations are needed`);
ok(`probes /readyz and /healthz and the Prometheus annotation on the metrics port ${metricsPort}`);

for (const x of [...spec.containers, ...(spec.initContainers || [])])
  if (x.image !== `podwire:${version}`) fail(D, `container ${x.name}: image ${x.image}, want podwire:${version}`);
ok(`images are podwire:${version}`);

const kind = yaml.load(fs.readFileSync(kindPath, "utf8"));
const K = kindPath;
if (kind.kind !== "Cluster" || !/^kind\.x-k8s\.io\//.test(kind.apiVersion)) fail(K, "not a kind Cluster");
if (kind.networking.disableDefaultCNI !== true) fail(K, "disableDefaultCNI must be true");
if (kind.networking.podSubnet !== cm.data["cluster-cidr"])
  fail(K, `podSubnet ${kind.networking.podSubnet} is not the ConfigMap's cluster-cidr ${cm.data["cluster-cidr"]}`);
const roles = kind.nodes.map((n) => n.role).sort().join(",");
if (roles !== "control-plane,worker,worker") fail(K, `nodes are ${roles}, want 1 control-plane and 2 workers`);
ok(`kind cluster: default CNI off, podSubnet ${kind.networking.podSubnet}, 1 control-plane + 2 workers`);
