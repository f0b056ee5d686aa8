#!/usr/bin/env python3
"""gen_peers.py PEERS IPS_PER_PEER: print a wg config with PEERS random peers, each with
IPS_PER_PEER distinct allowed IPs (alternating IPv4 /32 and IPv6 /128), for load tests of
setconf and of the netlink message splitting."""
import base64
import ipaddress
import os
import sys


def key():
    return base64.b64encode(os.urandom(32)).decode()


def main():
    peers, per = int(sys.argv[1]), int(sys.argv[2])
    out = ["[Interface]", "PrivateKey = " + key(), "ListenPort = 51820", ""]
    for i in range(peers):
        ips = []
        for j in range(per):
            n = i * per + j
            if j % 2 == 0:
                ips.append("10.%d.%d.%d/32" % (n >> 16 & 255, n >> 8 & 255, n & 255))
            else:
                ips.append("%s/128" % ipaddress.IPv6Address((0xFD00 << 112) | n))
        out += ["[Peer]", "PublicKey = " + key(), "AllowedIPs = " + ", ".join(ips),
                "PersistentKeepalive = 25", ""]
    sys.stdout.write("\n".join(out))


main()
