#!/usr/bin/env python3
"""libcni.py — what a container runtime's CRI does with CNI (containerd's go-cni over libcni),
for a node whose root is a directory: the network is the first config in the node's
/etc/cni/net.d (lexical order), each plugin runs from the node's /opt/cni/bin inside the node's
root (chroot) and network namespace, chained with prevResult, and a plugin that declares a
capability gets it in runtimeConfig (portMappings: the pod's hostPorts, as kubelet passes them).
DEL runs the chain in reverse with the result that ADD cached, as libcni does.

  libcni.py ADD|DEL|CHECK NODE_ROOT NODE_NETNS POD_NETNS_IN_ROOT CONTAINER_ID POD_NAME [PORTMAPPINGS_JSON]

The ADD result goes to stdout; the cache lives in the node's /var/lib/cni/results.
A plugin's error is printed as the runtime logs it and the exit status is 1.
"""
import json
import os
import subprocess
import sys


def die(msg):
    print(f"libcni.py: {msg}", file=sys.stderr)
    sys.exit(1)


def network(root):
    d = os.path.join(root, "etc/cni/net.d")
    names = sorted(n for n in os.listdir(d) if n.endswith((".conflist", ".conf", ".json"))) if os.path.isdir(d) else []
    if not names:
        die("no network config in the node's /etc/cni/net.d (kubelet: NetworkPluginNotReady)")
    conf = json.load(open(os.path.join(d, names[0])))
    if "plugins" not in conf:
        conf = {"cniVersion": conf.get("cniVersion"), "name": conf.get("name"), "plugins": [conf]}
    return names[0], conf


def invoke(root, netns, cmd, plugin, env, stdin):
    exe = f"/opt/cni/bin/{plugin['type']}"
    if not os.access(os.path.join(root, exe.lstrip("/")), os.X_OK):
        die(f"failed to find plugin \"{plugin['type']}\" in path [/opt/cni/bin]")
    r = subprocess.run(["nsenter", f"--net={netns}", "--", "chroot", root, exe], input=json.dumps(stdin),
                       capture_output=True, text=True, env=dict(env, CNI_COMMAND=cmd))
    if r.returncode:
        die(f"plugin type=\"{plugin['type']}\" failed ({cmd.lower()}): {r.stdout.strip() or r.stderr.strip()}")
    return json.loads(r.stdout) if r.stdout.strip() else None


def main():
    if len(sys.argv) not in (7, 8) or sys.argv[1] not in ("ADD", "DEL", "CHECK"):
        die("usage: ADD|DEL|CHECK NODE_ROOT NODE_NETNS POD_NETNS_IN_ROOT CONTAINER_ID POD_NAME [PORTMAPPINGS_JSON]")
    cmd, root, netns, pod_netns, cid, pod = sys.argv[1:7]
    runtime = {"portMappings": json.loads(sys.argv[7])} if len(sys.argv) == 8 else {}
    fname, conf = network(root)
    cache_dir = os.path.join(root, "var/lib/cni/results")
    cache = os.path.join(cache_dir, f"{conf['name']}-{cid}-eth0")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_CONTAINERID": cid, "CNI_NETNS": pod_netns,
           "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin",
           "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={pod};K8S_POD_INFRA_CONTAINER_ID={cid}"}
    plugins = conf["plugins"]
    prev = None
    if cmd != "ADD":
        if os.path.exists(cache):
            prev = json.load(open(cache)).get("result")
        if cmd == "DEL":
            plugins = list(reversed(plugins))
    for p in plugins:
        stdin = dict(p, cniVersion=conf["cniVersion"], name=conf["name"])
        caps = {k: runtime[k] for k, on in p.get("capabilities", {}).items() if on and k in runtime}
        if caps:
            stdin["runtimeConfig"] = caps
        if prev is not None:
            stdin["prevResult"] = prev
        out = invoke(root, netns, cmd, p, env, stdin)
        if cmd == "ADD":
            prev = out
    if cmd == "ADD":
        os.makedirs(cache_dir, exist_ok=True)
        json.dump({"kind": "cniCacheV1", "containerId": cid, "config": fname, "result": prev}, open(cache, "w"))
        json.dump(prev, sys.stdout)
        print()
    elif cmd == "DEL" and os.path.exists(cache):
        os.unlink(cache)


if __name__ == "__main__":
    main()
