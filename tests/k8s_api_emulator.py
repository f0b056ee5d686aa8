#!/usr/bin/env python3
"""k8s_api_emulator.py — an EMULATOR of the few Kubernetes API server calls podwired makes.

No kube-apiserver can run on this machine, so the Kubernetes store is tested against this
emulator (tests/integration/k8s_api_store.sh); the proof against a real API server is
hack/kind-e2e.sh. Real clients (kubectl, the Python client) are run against it too
(tests/integration/k8s_api_clients.sh), so that it answers as kube-apiserver does, not only as
podwire expects. It is not a Kubernetes API server: it implements exactly

  GET   /version, /api, /apis, /api/v1     discovery, as much as kubectl needs for Nodes
  GET   /api/v1/nodes[?limit=N[&continue=T]]
                                           NodeList with metadata.resourceVersion; with a
                                           limit, pages of one snapshot: metadata.continue
                                           names the next page, metadata.remainingItemCount
                                           counts what follows; a continue token from before
                                           the last compaction gets 410 Gone (Expired), as
                                           kube-apiserver answers once etcd compacted the
                                           snapshot away; resourceVersion=RV with
                                           resourceVersionMatch=Exact older than the
                                           compaction gets 410 too
  GET   /api/v1/nodes?watch=1&resourceVersion=RV[&allowWatchBookmarks=true][&timeoutSeconds=N]
                                           a chunked stream of watch events after RV, one JSON
                                           object per line; BOOKMARK events every second when
                                           asked; an expired RV (older than the last
                                           compaction) gets an ERROR event with code 410 (Gone),
                                           as kube-apiserver sends it
  GET   /api/v1/nodes/NAME                 one Node, 404 Status if absent
  PATCH /api/v1/nodes/NAME                 JSON merge patch (application/merge-patch+json,
                                           RFC 7386), or a strategic merge patch of maps only
                                           (what the Python client sends); a
                                           metadata.resourceVersion in the patch that is not
                                           the Node's gets 409 Conflict
  PATCH /api/v1/nodes/NAME/status          the same through the status subresource: as
                                           kube-apiserver's nodeStatusStrategy, the Node's spec
                                           is kept (a patch of it is dropped), metadata and
                                           status are taken
  any of them without "Authorization: Bearer T" for a T listed in the --tokens file (read
  at every request, so a test rotates tokens by rewriting it) gets 401 Unauthorized.

resourceVersion is one counter for all objects, as etcd's revision behind the real server.
Test-only control endpoints (no authentication, under /emulator/):
  POST   /emulator/nodes                   create a Node from the JSON body (ADDED event), or
                                           merge the body into an existing one (MODIFIED)
  DELETE /emulator/nodes/NAME              delete it (DELETED event)
  POST   /emulator/status/NAME             a kubelet-like status update (MODIFIED event
                                           that touches nothing podwire reads)
  POST   /emulator/annotate/NAME           merge the body into the Node's annotations as
                                           another writer would (MODIFIED event)
  POST   /emulator/conflict/NAME?count=N   the next N PATCHes of NAME race with another
                                           writer: the Node changes just before, so they
                                           get 409 if they carry the resourceVersion
  POST   /emulator/compact                 the revision moves on (as when other resources
                                           change) and all events so far are forgotten; every
                                           watch ends, and one resuming from before gets 410
  POST   /emulator/fault               the next requests of a kind fail, from the JSON body:
                                           {"status": 429|500|..., "count": N, "match": "list"|
                                           "watch"|"get"|"patch"|"any", "retry_after": S}
                                           answers that status (with Retry-After: S when
                                           given); {"truncate": N, "match": ...} sends the
                                           reply's first bytes and half a chunk, then closes;
                                           {"split": true} writes every watch event from now on
                                           in three pieces with a pause between (over HTTP/2 in
                                           front: separate DATA frames); {} clears them
State is saved to --state after each change and loaded at start, so a test can stop the
emulator (API unreachable) and start it again. Every request is appended to --log as
"METHOD PATH STATUS token=N" (N: the line of the tokens file that matched, or "bad");
GET /emulator/stats counts requests and body bytes sent (watch events included) per N.
"""
import argparse
import base64
import copy
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Condition()
        self.rv = 1
        self.nodes = {}
        self.events = []  # (rv, type, object)
        self.compacted = 0  # events with rv <= this are gone
        self.generation = 0  # bumped by compact: open watches end
        self.conflicts = {}
        self.snapshots = {}  # rv -> sorted node names and copies, for paginated lists
        self.faults = []  # dicts from /emulator/fault
        self.split = False
        self.dirty = False
        self.stats = {}  # token line ("1", ...) -> requests and body bytes sent to it
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            self.rv = saved["rv"]
            self.nodes = saved["nodes"]
            # A restarted server has no history: resuming from before now means relisting.
            self.compacted = self.rv

    def save(self):
        """Under the lock: the state is written by the saver thread, at most twice a second
        (a write of 1000 Nodes for each kubelet heartbeat would be most of the emulator's
        work), and at exit."""
        self.dirty = True

    def flush(self):
        if not self.path or not self.dirty:
            return
        self.dirty = False
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "nodes": self.nodes}, f)
        os.replace(tmp, self.path)

    def change(self, kind, node):
        """Under the lock: give @node a new resourceVersion and record the event."""
        self.rv += 1
        node["metadata"]["resourceVersion"] = str(self.rv)
        if kind == "DELETED":
            self.nodes.pop(node["metadata"]["name"], None)
        else:
            self.nodes[node["metadata"]["name"]] = node
        # A stored Node is never changed in place (every writer stores a new object), so
        # events, lists and snapshots share it instead of copying 1000 Nodes per request.
        self.events.append((self.rv, kind, node))
        self.save()
        self.lock.notify_all()


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def has_list(v):
    return isinstance(v, list) or (isinstance(v, dict) and any(has_list(x) for x in v.values()))


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


SNAPSHOTS_KEPT = 16


def query_bool(q, name):
    """A boolean query parameter as kube-apiserver reads it (Go's strconv.ParseBool)."""
    return q.get(name, ["false"])[0] in ("1", "t", "T", "true", "TRUE", "True")


def request_kind(method, path, q):
    if method == "PATCH":
        return "patch"
    if path == "/api/v1/nodes":
        return "watch" if query_bool(q, "watch") else "list"
    return "get"


def make_handler(st, tokens_file, log_file):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def record(self, code):
            with open(log_file, "a") as f:
                f.write(f"{self.command} {self.path} {code} token={self.token_id}\n")
            with st.lock:
                st.stats.setdefault(self.token_id, {"requests": 0, "bytes": 0})["requests"] += 1

        def sent(self, n):
            with st.lock:
                st.stats.setdefault(self.token_id, {"requests": 0, "bytes": 0})["bytes"] += n

        def send_json(self, code, obj):
            body = (json.dumps(obj) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.record(code)
            self.sent(len(body))

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def authenticate(self):
            self.token_id = "none"
            auth = self.headers.get("Authorization", "")
            with open(tokens_file) as f:
                accepted = [l.strip() for l in f if l.strip()]
            if auth.startswith("Bearer "):
                tok = auth[7:]
                self.token_id = "bad"
                for i, a in enumerate(accepted):
                    if tok == a:
                        self.token_id = str(i + 1)
                        return True
            self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
            return False

        def route(self):
            u = urllib.parse.urlsplit(self.path)
            return u.path.rstrip("/"), urllib.parse.parse_qs(u.query)

        def do_GET(self):
            path, q = self.route()
            self.token_id = "-"
            if path == "/emulator/state":
                with st.lock:
                    return self.send_json(200, {"rv": st.rv, "nodes": st.nodes})
            if path == "/emulator/stats":
                with st.lock:
                    return self.send_json(200, copy.deepcopy(st.stats))
            if not self.authenticate():
                return
            if self.fault("GET", path, q):
                return
            if path == "/version":
                return self.send_json(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-emulator",
                                            "platform": "linux/amd64"})
            if path == "/api":
                return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                            "serverAddress": self.headers.get("Host", "")}]})
            if path == "/apis":
                return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
            if path == "/api/v1":
                return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                                            "resources": [{"name": "nodes", "singularName": "node", "namespaced": False,
                                                           "kind": "Node", "shortNames": ["no"],
                                                           "verbs": ["get", "list", "patch", "watch"]}]})
            if path == "/api/v1/nodes":
                if query_bool(q, "watch"):
                    return self.watch(q)
                return self.list(q)
            if path.startswith("/api/v1/nodes/"):
                name = path[len("/api/v1/nodes/"):]
                with st.lock:
                    node = copy.deepcopy(st.nodes.get(name))
                if node is None:
                    return self.send_json(404, status(404, "NotFound", f'nodes "{name}" not found'))
                return self.send_json(200, node)
            self.send_json(404, status(404, "NotFound", "the emulator does not implement " + path))

        def fault(self, method, path, q):
            """Answer with an injected failure, if one matches this request."""
            kind = request_kind(method, path, q)
            with st.lock:
                for f in st.faults:
                    if f.get("match", "any") in ("any", kind) and f.get("count", 1) > 0:
                        f["count"] = f.get("count", 1) - 1
                        break
                else:
                    return False
            if "truncate" in f:
                # A reply cut in the middle: a chunk promising more than ever comes.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                data = b'{"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [{"metadata": {"na'
                if kind == "watch":
                    data = b'{"type": "MODIFIED", "object": {"kind": "Node", "metadata": {"name": "'
                data = data[:int(f["truncate"]) or len(data)]
                self.wfile.write(b"%x\r\n%s" % (len(data) + 100, data))
                self.wfile.flush()
                self.record("200-truncated")
                self.close_connection = True
                return True
            code = int(f.get("status", 500))
            reasons = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
            body = (json.dumps(status(code, reasons.get(code, "InternalError"), f"injected by the emulator: {code}")) +
                    "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if f.get("retry_after") is not None:
                self.send_header("Retry-After", str(f["retry_after"]))
            self.end_headers()
            self.wfile.write(body)
            self.record(code)
            return True

        def list(self, q):
            limit = int(q.get("limit", ["0"])[0] or 0)
            cont = q.get("continue", [""])[0]
            want_rv = q.get("resourceVersion", [""])[0]
            match = q.get("resourceVersionMatch", [""])[0]
            with st.lock:
                if want_rv and want_rv != "0" and match == "Exact" and int(want_rv) < st.compacted:
                    return self.send_json(410, status(410, "Expired", f"too old resource version: {want_rv} ({st.compacted})"))
                if cont:
                    try:
                        tok = json.loads(base64.b64decode(cont))
                        snap_rv, start = int(tok["rv"]), int(tok["start"])
                    except (ValueError, KeyError, TypeError):
                        return self.send_json(400, status(400, "BadRequest", "invalid continue token"))
                    snap = st.snapshots.get(snap_rv)
                    if snap is None or snap_rv < st.compacted:
                        return self.send_json(410, status(
                            410, "Expired", "The provided continue parameter is too old to display a consistent list "
                            "result. You can start a new list without the continue parameter, or use the continue "
                            "token in this response to retrieve the remainder of the results."))
                else:
                    snap_rv, start = st.rv, 0
                    snap = [st.nodes[n] for n in sorted(st.nodes)]
                    if limit and len(snap) > limit:
                        st.snapshots[snap_rv] = snap
                        while len(st.snapshots) > SNAPSHOTS_KEPT:
                            del st.snapshots[min(st.snapshots)]
                end = start + limit if limit else len(snap)
                meta = {"resourceVersion": str(snap_rv)}
                if end < len(snap):
                    meta["continue"] = base64.b64encode(json.dumps({"rv": snap_rv, "start": end}).encode()).decode()
                    meta["remainingItemCount"] = len(snap) - end
                items = snap[start:end]
            return self.send_json(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": meta, "items": items})

        def chunk(self, obj):
            data = (json.dumps(obj) + "\n").encode()
            self.sent(len(data))
            if not st.split:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                return
            cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
            for a, b in zip(cut, cut[1:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (b - a, data[a:b]))
                self.wfile.flush()
                time.sleep(0.02)

        def watch(self, q):
            since = int(q.get("resourceVersion", ["0"])[0] or 0)
            bookmarks = query_bool(q, "allowWatchBookmarks")
            deadline = time.monotonic() + int(q.get("timeoutSeconds", ["1800"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.record(200)
            try:
                with st.lock:
                    gen = st.generation
                    if since and since < st.compacted:
                        self.chunk({"type": "ERROR", "object": status(
                            410, "Expired", f"too old resource version: {since} ({st.compacted})")})
                        self.wfile.write(b"0\r\n\r\n")
                        return
                sent = since
                last_bookmark = time.monotonic()
                while time.monotonic() < deadline:
                    with st.lock:
                        if st.generation != gen:
                            break
                        pending = [e for e in st.events if e[0] > sent]
                        if not pending:
                            st.lock.wait(0.2)
                            # Compacted meanwhile: this watch ends without a word of the
                            # new revision, so that resuming it hits the compaction.
                            if st.generation != gen:
                                break
                            pending = [e for e in st.events if e[0] > sent]
                        cur = st.rv
                    for rv, kind, obj in pending:
                        self.chunk({"type": kind, "object": obj})
                        sent = rv
                    if bookmarks and time.monotonic() - last_bookmark >= 1:
                        self.chunk({"type": "BOOKMARK", "object": {"kind": "Node", "apiVersion": "v1",
                                                                   "metadata": {"resourceVersion": str(cur)}}})
                        sent = max(sent, cur)
                        last_bookmark = time.monotonic()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                pass
            self.close_connection = True

        def do_PATCH(self):
            path, q = self.route()
            if not self.authenticate():
                return
            if self.fault("PATCH", path, q):
                self.body()
                return
            if not path.startswith("/api/v1/nodes/"):
                return self.send_json(404, status(404, "NotFound", "the emulator does not implement " + path))
            name = path[len("/api/v1/nodes/"):]
            subresource = None
            if name.endswith("/status"):
                name, subresource = name[:-len("/status")], "status"
            if "/" in name:
                self.body()
                return self.send_json(404, status(404, "NotFound", "the emulator does not implement " + path))
            ctype = self.headers.get("Content-Type")
            if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                self.body()
                return self.send_json(415, status(415, "UnsupportedMediaType", "only merge patches"))
            try:
                patch = json.loads(self.body())
            except ValueError as e:
                return self.send_json(400, status(400, "BadRequest", str(e)))
            # A strategic merge patch of maps only (annotations, labels: what the Python
            # client sends for a dict) is the same as a merge patch; its list strategies are
            # not emulated.
            if ctype == "application/strategic-merge-patch+json" and has_list(patch):
                return self.send_json(415, status(415, "UnsupportedMediaType",
                                                  "the emulator does not merge lists strategically"))
            with st.lock:
                node = st.nodes.get(name)
                if node is None:
                    return self.send_json(404, status(404, "NotFound", f'nodes "{name}" not found'))
                if st.conflicts.get(name, 0) > 0:  # another writer got there first
                    st.conflicts[name] -= 1
                    node = copy.deepcopy(node)
                    anns = node["metadata"].setdefault("annotations", {})
                    anns["example.com/other-writer"] = str(int(anns.get("example.com/other-writer", "0")) + 1)
                    st.change("MODIFIED", node)
                    node = st.nodes[name]
                want = (patch.get("metadata") or {}).get("resourceVersion")
                if want is not None and want != node["metadata"]["resourceVersion"]:
                    return self.send_json(409, status(
                        409, "Conflict", f'Operation cannot be fulfilled on nodes "{name}": the object has been '
                        'modified; please apply your changes to the latest version and try again'))
                new = merge_patch(copy.deepcopy(node), patch)
                new["metadata"]["name"] = name
                if subresource == "status":
                    new["spec"] = copy.deepcopy(node.get("spec", {}))
                st.change("MODIFIED", new)
                return self.send_json(200, copy.deepcopy(new))

        def do_POST(self):
            path, q = self.route()
            self.token_id = "-"
            body = self.body()
            with st.lock:
                if path == "/emulator/nodes":
                    node = json.loads(body)
                    name = node["metadata"]["name"]
                    if name in st.nodes:  # an update, as the node controller patches spec.podCIDRs
                        node = merge_patch(copy.deepcopy(st.nodes[name]), node)
                    node.setdefault("kind", "Node")
                    node.setdefault("apiVersion", "v1")
                    node.setdefault("metadata", {}).setdefault("annotations", {})
                    node.setdefault("spec", {})
                    node.setdefault("status", {"conditions": []})
                    kind = "MODIFIED" if node["metadata"]["name"] in st.nodes else "ADDED"
                    st.change(kind, node)
                    return self.send_json(201, node)
                if path.startswith("/emulator/status/") and path[17:] in st.nodes:
                    node = copy.deepcopy(st.nodes[path[17:]])
                    node["status"]["heartbeat"] = str(time.time())
                    st.change("MODIFIED", node)
                    return self.send_json(200, node)
                if path.startswith("/emulator/annotate/") and path[19:] in st.nodes:
                    node = copy.deepcopy(st.nodes[path[19:]])
                    node["metadata"] = merge_patch(node["metadata"], {"annotations": json.loads(body)})
                    st.change("MODIFIED", node)
                    return self.send_json(200, node)
                if path == "/emulator/fault":
                    f = json.loads(body or b"{}")
                    if not f:
                        st.faults.clear()
                    elif "split" in f:
                        st.split = bool(f["split"])
                    else:
                        st.faults.append(f)
                    return self.send_json(200, {"faults": st.faults, "split": st.split})
                if path.startswith("/emulator/conflict/"):
                    st.conflicts[path[19:]] = int(q.get("count", ["1"])[0])
                    return self.send_json(200, {})
                if path == "/emulator/compact":
                    # Other resources changed meanwhile (the revision is shared by all of
                    # them), then history was compacted: no Node watch can resume.
                    st.rv += 1
                    st.save()
                    st.events.clear()
                    st.snapshots.clear()
                    st.compacted = st.rv
                    st.generation += 1
                    st.lock.notify_all()
                    return self.send_json(200, {"compacted": st.rv})
            self.send_json(404, status(404, "NotFound", path))

        def do_DELETE(self):
            path, q = self.route()
            self.token_id = "-"
            with st.lock:
                if path.startswith("/emulator/nodes/") and path[16:] in st.nodes:
                    node = copy.deepcopy(st.nodes[path[16:]])
                    st.change("DELETED", node)
                    return self.send_json(200, node)
            self.send_json(404, status(404, "NotFound", path))

    return Handler


class Server(ThreadingHTTPServer):
    """TLS handshakes in each connection's own thread: a client that stalls in its handshake
    (or a loaded machine) must not keep the others from being accepted."""
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        if self.ctx:
            request.settimeout(30)
            try:
                request = self.ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            request.settimeout(None)
        try:
            super().finish_request(request, client_address)
        finally:
            if self.ctx:
                request.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True, help="ADDR:PORT or [ADDR6]:PORT")
    ap.add_argument("--cert", help="server certificate (PEM); without it: plain http")
    ap.add_argument("--key", help="its key")
    ap.add_argument("--tokens", required=True, help="file of accepted bearer tokens, one a line")
    ap.add_argument("--state", help="JSON file the state is saved to and loaded from")
    ap.add_argument("--log", required=True, help="request log")
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    host = host.strip("[]")  # "[fd00::1]:6443" for IPv6
    st = State(a.state)
    ctx = None
    server = Server
    if ":" in host:
        class Server6(Server):
            address_family = socket.AF_INET6
        server = Server6
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    srv = server((host, int(port)), make_handler(st, a.tokens, a.log), ctx)
    def saver():
        while True:
            time.sleep(0.5)
            with st.lock:
                st.flush()
    threading.Thread(target=saver, daemon=True).start()

    def stop(signum, frame):  # SIGTERM (the tests' kill): the state is saved first
        with st.lock:
            st.flush()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    print(f"k8s API emulator on {'https' if a.cert else 'http'}://{a.listen}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        with st.lock:
            st.flush()


if __name__ == "__main__":
    sys.exit(main())
