#!/usr/bin/env python3
"""kubelet.py — the parts of kubelet and a container runtime that k8s_kind_nodes.sh needs,
done with mounts, chroot and nsenter (no kubelet or kind runs on this machine).

  kubelet.py node-root ROOT LOWER WORK NETNS
      A node's root: an overlay of LOWER (the kind-like Debian root) at ROOT, with a fresh
      /proc, a /sys mounted from inside the node's network namespace NETNS, and a /dev of its
      own (null, zero, full, random, urandom, tty, net/tun), as a kind node container gets.
  kubelet.py run MANIFEST KIND/NAME CONTAINER --node NAME --node-root ROOT --netns NETNS
             --image-root LOWER --work DIR --sa DIR [--env K=V]...
      Start CONTAINER of the pod template of the workload KIND/NAME (DaemonSet/podwire) in
      MANIFEST as kubelet would on that node with hostNetwork: an overlay of the image's root
      LOWER, the container's volumeMounts (hostPath from the node's root, with its type's
      create rules; configMap from the manifest's ConfigMap; the service-account token, CA and
      namespace from --sa at /var/run/secrets/kubernetes.io/serviceaccount), its env
      (value, fieldRef, configMapKeyRef, then the --env of the API server's Service), and
      command/args with $(VAR) expanded. Exec's into it: the caller's PID is the container's.
  kubelet.py containers MANIFEST KIND/NAME
      The pod template's containers in start order: "init NAME" lines, then "main NAME".

Mounts are made in the caller's mount namespace below ROOT and WORK; the caller unmounts
them (umount -R) before it removes anything.
"""
import os
import re
import subprocess
import sys

import yaml

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9),
           "tty": (5, 0), "net/tun": (10, 200)}


def die(msg):
    print(f"kubelet.py: {msg}", file=sys.stderr)
    sys.exit(1)


def sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        die(f"{' '.join(argv)}: {r.stderr.strip()}")


def in_root(root, path):
    """PATH as a process chrooted into ROOT sees it: symbolic links (Debian's /var/run -> /run,
    absolute) resolved inside ROOT, never into this machine's own directories."""
    parts, done, hops = [p for p in path.split("/") if p], "", 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            done = os.path.dirname(done)
            continue
        cand = f"{done}/{part}"
        full = root + cand
        if os.path.islink(full):
            hops += 1
            if hops > 40:
                die(f"{path}: too many symbolic links in {root}")
            target = os.readlink(full)
            parts = [p for p in target.split("/") if p] + parts
            if target.startswith("/"):
                done = ""
            continue
        done = cand
    return root + (done or "/")


def overlay(root, lower, work):
    up, wk = os.path.join(work, "up"), os.path.join(work, "wk")
    for d in (root, up, wk):
        os.makedirs(d, exist_ok=True)
    sh("mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={up},workdir={wk}", root)


def kernel_filesystems(root, netns):
    for d in ("proc", "sys", "dev"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    sh("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
    # sysfs shows the network devices of the namespace that mounts it.
    sh("nsenter", f"--net={netns}", "mount", "-t", "sysfs", "sysfs", os.path.join(root, "sys"))
    dev = os.path.join(root, "dev")
    sh("mount", "-t", "tmpfs", "-o", "mode=755,nosuid", "tmpfs", dev)
    for name, (major, minor) in DEVICES.items():
        path = os.path.join(dev, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mknod(path, 0o20666, os.makedev(major, minor))
        os.chmod(path, 0o666)
    os.makedirs(os.path.join(dev, "shm"), exist_ok=True)


def node_root(root, lower, work, netns):
    overlay(root, lower, work)
    kernel_filesystems(root, netns)
    # kind mounts the host's /lib/modules into its node containers.
    os.makedirs(in_root(root, "/lib/modules"), exist_ok=True)


def load(manifest, workload):
    kind, _, name = workload.partition("/")
    docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    for d in docs:
        if d.get("kind") == kind and d["metadata"]["name"] == name:
            return docs, d
    die(f"{manifest}: no {workload}")


def containers(spec):
    return [("init", c) for c in spec.get("initContainers", [])] + [("main", c) for c in spec["containers"]]


def configmap(docs, namespace, name):
    for d in docs:
        if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == name and \
                d["metadata"].get("namespace", "default") == namespace:
            return d.get("data", {})
    die(f"no ConfigMap {namespace}/{name} in the manifest")


def bind(src, dst, ro):
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            open(dst, "w").close()
    sh("mount", "--bind", src, dst)
    if ro:
        sh("mount", "-o", "remount,bind,ro", dst)


def host_path(node_root_dir, vol):
    path, kind = vol["path"], vol.get("type", "")
    src = in_root(node_root_dir, path)
    if kind == "DirectoryOrCreate":
        os.makedirs(src, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(src):
        os.makedirs(os.path.dirname(src), exist_ok=True)
        open(src, "w").close()
        os.chmod(src, 0o644)
    elif kind == "Directory" and not os.path.isdir(src):
        die(f"hostPath {path}: not a directory on the node (type Directory)")
    elif kind == "CharDevice" and not os.path.exists(src):
        die(f"hostPath {path}: no such character device on the node")
    return src


def env_of(docs, namespace, c, node, extra):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": node}
    env.update(extra)
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = expand(str(e["value"]), env)
            continue
        src = e.get("valueFrom", {})
        if "fieldRef" in src:
            field = src["fieldRef"]["fieldPath"]
            values = {"spec.nodeName": node, "metadata.namespace": namespace}
            if field not in values:
                die(f"env {e['name']}: fieldRef {field} is not known here")
            env[e["name"]] = values[field]
        elif "configMapKeyRef" in src:
            ref = src["configMapKeyRef"]
            data = configmap(docs, namespace, ref["name"])
            if ref["key"] not in data:
                die(f"env {e['name']}: ConfigMap {ref['name']} has no key {ref['key']}")
            env[e["name"]] = data[ref["key"]]
        else:
            die(f"env {e['name']}: valueFrom {list(src)} is not known here")
    return env


def expand(s, env):
    """$(VAR) as kubelet expands it in command, args and env; $$(VAR) stays literal."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), s)


def run(argv):
    manifest, workload, cname = argv[:3]
    opts, extra, i = {}, {}, 3
    while i < len(argv):
        if argv[i] == "--env":
            k, _, v = argv[i + 1].partition("=")
            extra[k] = v
        else:
            opts[argv[i][2:]] = argv[i + 1]
        i += 2
    for k in ("node", "node-root", "netns", "image-root", "work", "sa"):
        if k not in opts:
            die(f"run: --{k} missing")
    docs, w = load(manifest, workload)
    namespace = w["metadata"].get("namespace", "default")
    spec = w["spec"]["template"]["spec"]
    if not spec.get("hostNetwork"):
        die(f"{workload}: only hostNetwork pods run here")
    c = next((c for _, c in containers(spec) if c["name"] == cname), None)
    if c is None:
        die(f"{workload}: no container {cname}")
    work = os.path.join(opts["work"], cname)
    root = os.path.join(work, "root")
    overlay(root, opts["image-root"], work)
    kernel_filesystems(root, opts["netns"])
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = volumes.get(m["name"]) or die(f"{cname}: volumeMount {m['name']} has no volume")
        dst = in_root(root, m["mountPath"])
        ro = bool(m.get("readOnly"))
        if "hostPath" in v:
            bind(host_path(opts["node-root"], v["hostPath"]), dst, ro)
        elif "configMap" in v:
            d = os.path.join(opts["work"], f"configmap-{m['name']}")
            os.makedirs(d, exist_ok=True)
            for k, val in configmap(docs, namespace, v["configMap"]["name"]).items():
                with open(os.path.join(d, k), "w") as f:
                    f.write(val)
            bind(d, dst, True)
        else:
            die(f"{cname}: volume {m['name']}: only hostPath and configMap volumes run here")
    if spec.get("automountServiceAccountToken", True):
        bind(opts["sa"], in_root(root, SA_DIR), True)
    env = env_of(docs, namespace, c, opts["node"], extra)
    cmd = [expand(a, env) for a in c.get("command", []) + c.get("args", [])]
    if not c.get("command"):
        die(f"{cname}: no command (the image's entrypoint is not known here)")
    os.execvp("nsenter", ["nsenter", f"--net={opts['netns']}", "--", "chroot", root, "/usr/bin/env", "-i"] +
              [f"{k}={v}" for k, v in env.items()] + cmd)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "node-root" and len(sys.argv) == 6:
        node_root(*sys.argv[2:6])
    elif len(sys.argv) >= 2 and sys.argv[1] == "containers" and len(sys.argv) == 4:
        _, w = load(sys.argv[2], sys.argv[3])
        for kind, c in containers(w["spec"]["template"]["spec"]):
            print(kind, c["name"])
    elif len(sys.argv) >= 5 and sys.argv[1] == "run":
        run(sys.argv[2:])
    else:
        die("usage: node-root ROOT LOWER WORK NETNS | containers MANIFEST KIND/NAME | "
            "run MANIFEST KIND/NAME CONTAINER --node N --node-root R --netns P --image-root L --work D --sa D [--env K=V]...")


if __name__ == "__main__":
    main()
