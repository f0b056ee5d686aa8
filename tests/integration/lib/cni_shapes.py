#!/usr/bin/env python3
"""Validate CNI plugin output against the shapes of the CNI spec, per cniVersion.

usage: cni_shapes.py result VERSION FILE   # an ADD result
       cni_shapes.py error VERSION FILE [CODE [MSG-SUBSTRING]]
       cni_shapes.py version FILE
Exit 0 when valid, else print why and exit 1.
       cni_shapes.py serve
reads one request per line (the arguments above, or the helpers get/conf/prev/valid below,
separated by \x1f) and answers each with "ok[ VALUE]" or the reason it failed: the tests keep
one interpreter instead of starting one per check.
"""
import ipaddress
import json
import re
import sys

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


class Invalid(Exception):
    pass


def fail(msg):
    raise Invalid("shape: " + msg)


def need(cond, msg):
    if not cond:
        fail(msg)


def cidr(s, what):
    need(isinstance(s, str) and "/" in s, f"{what}: {s!r} is not address/prefix")
    try:
        return ipaddress.ip_interface(s)
    except ValueError:
        fail(f"{what}: {s!r} is not address/prefix")


def ip(s, what):
    try:
        return ipaddress.ip_address(s)
    except (ValueError, TypeError):
        fail(f"{what}: {s!r} is not an IP address")


def check_result(version, r):
    v = VERSIONS.index(version)
    need(isinstance(r, dict), "result is not an object")
    need(r.get("cniVersion") == version, f"cniVersion {r.get('cniVersion')!r} != {version}")
    ifaces = r.get("interfaces", [])
    need(isinstance(ifaces, list), "interfaces is not a list")
    for i, it in enumerate(ifaces):
        need(isinstance(it.get("name"), str) and it["name"], f"interfaces[{i}].name")
        if "mac" in it:
            need(MAC.match(it["mac"]), f"interfaces[{i}].mac {it['mac']!r}")
        if "sandbox" in it:
            need(isinstance(it["sandbox"], str), f"interfaces[{i}].sandbox")
        if "mtu" in it:
            need(v >= 4, f"interfaces[{i}].mtu only exists from 1.1.0")
            need(isinstance(it["mtu"], int) and it["mtu"] > 0, f"interfaces[{i}].mtu")
    ips = r.get("ips")
    need(isinstance(ips, list) and ips, "ips missing or empty")
    for i, x in enumerate(ips):
        a = cidr(x.get("address"), f"ips[{i}].address")
        if v < 3:
            want = "6" if a.version == 6 else "4"
            need(x.get("version") == want, f"ips[{i}].version must be {want!r} before 1.0.0")
        else:
            need("version" not in x, f"ips[{i}].version must not appear from 1.0.0")
        if "gateway" in x:
            need(ip(x["gateway"], f"ips[{i}].gateway").version == a.version, f"ips[{i}].gateway family")
        if "interface" in x:
            need(isinstance(x["interface"], int) and 0 <= x["interface"] < len(ifaces),
                 f"ips[{i}].interface index {x['interface']!r}")
    for i, rt in enumerate(r.get("routes", [])):
        d = cidr(rt.get("dst"), f"routes[{i}].dst")
        if "gw" in rt:
            need(ip(rt["gw"], f"routes[{i}].gw").version == d.version, f"routes[{i}].gw family")
        for k in ("mtu", "advmss", "priority", "table", "scope"):
            if k in rt:
                need(v >= 4, f"routes[{i}].{k} only exists from 1.1.0")
    if "dns" in r:
        need(isinstance(r["dns"], dict), "dns is not an object")


def conf(out, ver, name, ranges, extra="{}"):
    """A podwire network config in OUT's directory (ipam data and log there too)."""
    wdir = out.rsplit("/", 1)[0]
    c = {"cniVersion": ver, "name": name, "type": "podwire", "interface": "pcwg0", "vethPrefix": "pc",
         "logFile": wdir + "/cni.log",
         "ipam": {"type": "podwire-ipam", "dataDir": wdir + "/ipam", "ranges": json.loads(ranges)}}
    for k, v in json.loads(extra).items():
        if k == "ipam+":  # merged into ipam rather than replacing it
            c["ipam"].update(v)
        elif v is None:
            c.pop(k, None)
        else:
            c[k] = v
    json.dump(c, open(out, "w"))


def run(args):
    """One request; returns the value to print (or None)."""
    kind = args[0]
    if kind == "version":
        r = json.load(open(args[1]))
        need(r.get("cniVersion") in VERSIONS, "VERSION cniVersion")
        need(set(VERSIONS) <= set(r.get("supportedVersions", [])), "supportedVersions incomplete")
    elif kind == "result":
        check_result(args[1], json.load(open(args[2])))
    elif kind == "error":
        r = json.load(open(args[2]))
        need(isinstance(r.get("code"), int), "error code is not a number")
        need(isinstance(r.get("msg"), str) and len(r["msg"]) > 10, "error msg missing or too short")
        need(isinstance(r.get("cniVersion"), str), "error cniVersion")
        if len(args) > 3:
            need(r["code"] == int(args[3]), f"error code {r['code']} != {args[3]} ({r['msg']})")
        if len(args) > 4:
            need(args[4] in r["msg"], f"msg {r['msg']!r} does not mention {args[4]!r}")
    elif kind == "get":  # get FILE EXPR: EXPR over the JSON as r
        r = json.load(open(args[1]))
        return str(eval(args[2], {"r": r}))
    elif kind == "conf":  # conf OUT VERSION NAME RANGES [EXTRA]
        conf(*args[1:])
    elif kind == "prev":  # prev CONF RESULT OUT: CONF with prevResult = RESULT
        c = json.load(open(args[1]))
        c["prevResult"] = json.load(open(args[2]))
        json.dump(c, open(args[3], "w"))
    elif kind == "valid":  # valid CONF OUT ID...: CONF with those eth0 attachments as valid
        c = json.load(open(args[1]))
        c["cni.dev/valid-attachments"] = [{"containerID": i, "ifname": "eth0"} for i in args[3:]]
        json.dump(c, open(args[2], "w"))
    else:
        fail("unknown request " + kind)
    return None


def main():
    if sys.argv[1] != "serve":
        try:
            v = run(sys.argv[1:])
        except (Invalid, OSError, ValueError) as e:
            print(e)
            sys.exit(1)
        if v is not None:
            print(v)
        return
    for line in sys.stdin:
        try:
            v = run(line.rstrip("\n").split("\x1f"))
            print("ok" if v is None else "ok " + v, flush=True)
        except Exception as e:  # one bad request must not take the server down
            print(f"{e}".replace("\n", " ") or type(e).__name__, flush=True)


if __name__ == "__main__":
    main()
