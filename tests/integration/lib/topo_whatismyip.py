#!/usr/bin/env python3
"""whatismyip: answer every GET with the caller's source address (the tutorial's
whatismyip.akamai.com), on IPv4 and IPv6 at once. Usage: topo_whatismyip.py PORT"""
import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        addr = self.client_address[0]
        if addr.startswith("::ffff:"):
            addr = addr[len("::ffff:"):]
        body = addr.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("whatismyip: %s %s\n" % (self.client_address[0], fmt % args))


class DualStack(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


DualStack(("::", int(sys.argv[1])), Handler).serve_forever()
