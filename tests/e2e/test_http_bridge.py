"""The HTTP/JSON bridge served by skydeckd itself: every route of the API
over HTTP, error mapping, Server-Sent Events (Watch sees changes made over
gRPC; gzip-compressed with its keep-alives for clients that accept it; a
dropped client's stream ends; many open streams do not starve ordinary
requests), path traversal, CSRF protection, token auth on both
HTTP and gRPC, and the bridge's in-process channel (no TCP connection to
the daemon's own gRPC port)."""

import http.client
import json
import os
import re
import socket
import tempfile
import time
import unittest
import zlib

import grpc

import harness
from test_python_grpc_client import generate_stubs


def proto_routes():
    """Every "VERB /path/{param}" the proto declares, read from the
    descriptors with generated Python stubs (not a hand-written list)."""
    stubs = tempfile.mkdtemp(prefix="skydeck-pystubs-")
    generate_stubs(stubs)
    from skydeck.v1 import annotations_pb2, service_pb2
    routes = set()
    for method in service_pb2.DESCRIPTOR.services_by_name["SkyDeck"].methods:
        routes.update(method.GetOptions().Extensions[annotations_pb2.http])
    return routes


def route_pattern(route):
    verb, template = route.split(" ", 1)
    return verb, re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


class Http:
    def __init__(self, address, token=None):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.token = host, int(port), token
        self.sent = []  # (method, path without query) of every request

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        self.sent.append((method, path.split("?", 1)[0]))
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return resp.status, parsed, resp

    def ok(self, method, path, body=None):
        status, parsed, _ = self.request(method, path, body)
        if status != 200:
            raise AssertionError(f"{method} {path} -> {status}: {parsed}")
        return parsed

    def open_stream(self, path):
        self.sent.append(("GET", path.split("?", 1)[0]))
        sock = socket.create_connection((self.host, self.port), timeout=30)
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{auth}\r\n".encode())
        return sock


def read_until(sock, needle, timeout=15):
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} in stream: {data[-500:]!r}")
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"stream closed before {needle!r}: {data[-500:]!r}")
        data += chunk
    return data.decode(errors="replace")


class EventStream:
    """An event stream read off a raw socket as a browser would: the head,
    then the chunked body, un-gzipped as it arrives when it is gzip."""

    def __init__(self, sock, timeout=15):
        self.sock, self.timeout = sock, timeout
        self.raw, self.text = b"", ""
        while b"\r\n\r\n" not in self.raw:
            self._recv()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        gzip = "\r\ncontent-encoding: gzip" in self.head.lower()
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None

    def _recv(self):
        self.sock.settimeout(self.timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"stream closed: {self.text[-500:]!r}")
        self.raw += chunk

    def read_until(self, done):
        """Reads chunks until done(decoded text so far) holds."""
        deadline = time.monotonic() + self.timeout
        while not done(self.text):
            if time.monotonic() > deadline:
                raise AssertionError(f"stream never got there: {self.text[-500:]!r}")
            while b"\r\n" not in self.raw:
                self._recv()
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(rest) < size + 2:
                self._recv()
                rest = self.raw.split(b"\r\n", 1)[1]
            data, self.raw = rest[:size], rest[size + 2:]
            if self.inflater:
                data = self.inflater.decompress(data)
            self.text += data.decode()
        return self.text


def events_in(text):
    """The events of an SSE text (without the experiment they carry)."""
    return [json.loads(line[len("data: "):])["event"]
            for line in text.split("\n") if line.startswith("data: ")]


def established_tcp_ports(pid):
    """(local port, remote port) of every established TCP connection that
    process `pid` holds, read from /proc: the sockets among its open files,
    looked up in its network namespace's connection tables."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:  # closed since listdir
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = []
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)  # header
            for line in f:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if state == "01" and inode in inodes:  # 01: TCP_ESTABLISHED
                    ports.append((int(local.rsplit(":", 1)[1], 16),
                                  int(remote.rsplit(":", 1)[1], 16)))
    return ports


class HttpBridgeTest(harness.E2ETestCase):
    daemon_args = ("--sse-keepalive", "100ms")

    def setUp(self):
        super().setUp()
        self.http = Http(self.daemon.http_address)

    def test_every_route_answers_with_json(self):
        h = self.http
        created = h.ok("POST", "/api/experiments", {
            # Flags are appended as arguments: the inner shell ignores them.
            "experiment": {"name": "web-a", "base_command": "sh -c 'sleep 30' sh",
                           "flags": {"lr": {"double_value": 0.001}, "layers": {"int_value": 4}},
                           "labels": {"sweep": "web"}}})["experiment"]
        eid = created["id"]
        self.assertEqual(created["flags"], {"lr": 0.001, "layers": 4})
        self.assertEqual(h.ok("GET", "/api/experiments?label_selector=sweep%3Dweb")
                         ["experiments"][0]["name"], "web-a")
        self.assertEqual(h.ok("GET", f"/api/experiments/{eid}")["experiment"]["name"], "web-a")
        self.assertEqual(h.ok("GET", "/api/experiments/web-a")["experiment"]["id"], eid)
        patched = h.ok("PATCH", "/api/experiments/web-a",
                       {"experiment": {"nodes": 2}, "update_mask": "nodes"})["experiment"]
        self.assertEqual(patched["nodes"], 2)
        flags = h.ok("POST", "/api/experiments/web-a/flags",
                     {"set": {"opt": {"string_value": "adam"}}, "unset": ["lr"]})["experiment"]
        self.assertEqual(set(flags["flags"]), {"layers", "opt"})
        h.ok("GET", "/api/flag-schemas")
        started = h.ok("POST", "/api/experiments/web-a/state",
                       {"desired_state": "DESIRED_STATE_RUNNING"})["experiments"]
        self.assertEqual(started[0]["desired_state"], "RUNNING")
        status = harness.wait_for(
            lambda: (lambda s: s if s.get("current_job", {}).get("status") == "RUNNING"
                     else None)(h.ok("GET", "/api/experiments/web-a/status")),
            what="a running job")
        job_id = status["current_job"]["id"]
        self.assertEqual(h.ok("GET", f"/api/jobs/{job_id}")["job"]["attempt"], 1)
        self.assertEqual(len(h.ok("GET", "/api/experiments/web-a/jobs")["jobs"]), 1)
        self.assertTrue(h.ok("GET", f"/api/experiments/{eid}/events")["events"])
        self.assertTrue(h.ok("GET", "/api/events?page_size=5")["events"])
        self.assertIn("health", h.ok("GET", "/api/health"))
        h.ok("POST", "/api/refresh", {})
        self.assertEqual(h.ok("POST", "/api/reconcile", {"id": "web-a"})["enqueued"], 1)
        sock = h.open_stream(f"/api/jobs/{job_id}/logs")
        read_until(sock, "text/event-stream")
        sock.close()
        # No body at all (curl -X POST): the empty request, answered at once.
        with socket.create_connection((h.host, h.port), timeout=10) as raw:
            raw.sendall(f"POST /api/refresh HTTP/1.1\r\nHost: {h.host}:{h.port}\r\n"
                        "Connection: close\r\n\r\n".encode())
            self.assertIn('"jobs_polled"', read_until(raw, "}"))
        sock = h.open_stream("/api/watch?since_revision=0")
        read_until(sock, '"type":"Created"')
        sock.close()
        sock = h.open_stream("/api/experiments:stream")  # the whole check: below
        read_until(sock, '"name":"web-a"')
        sock.close()
        sock = h.open_stream("/api/backup")  # the whole check: test_db_safety.py
        read_until(sock, '"sha256"')
        sock.close()
        cancelled = h.ok("POST", f"/api/jobs/{job_id}/cancel", {"reason": "web test"})
        self.assertEqual(cancelled["job"]["id"], job_id)
        self.wait_experiment("web-a", lambda e: e["observed_state"] == "OBSERVED_STATE_STOPPED")
        h.ok("POST", "/api/experiments/state",
             {"label_selector": "sweep=web", "desired_state": "DESIRED_STATE_STOPPED"})
        h.ok("DELETE", "/api/experiments/web-a")
        h.ok("POST", f"/api/experiments/{eid}/undelete", {})
        deleted = h.ok("POST", "/api/experiments/delete", {"filter": {"label_selector": "sweep=web"}})
        self.assertEqual((deleted["deleted"], deleted["ids"]), (1, [eid]))
        h.ok("POST", f"/api/experiments/{eid}/undelete", {})
        self.assertEqual(h.ok("GET", "/api/experiments")["experiments"][0]["id"], eid)
        schema = h.ok("POST", "/api/flag-schemas", {"schema": {
            "base_command": "python web.py", "flags": [{"name": "lr", "type": "TYPE_FLOAT"}]}})
        self.assertEqual(schema["schema"]["version"], "1")
        self.assertEqual(h.ok("DELETE", "/api/flag-schemas?base_command=python%20web.py")
                         ["version"], "2")
        template = h.ok("POST", "/api/templates", {"template": {
            "name": "web", "yaml": "resources:\n  accelerators: H100:8\n"}})["template"]
        self.assertEqual((template["version"], template["accelerators"]), ("1", ["H100:8"]))
        self.assertEqual(h.ok("GET", "/api/templates")["templates"][0]["name"], "web")
        self.assertEqual(h.ok("GET", "/api/templates/web?version=1")["template"]["yaml"],
                         "resources:\n  accelerators: H100:8\n")
        self.assertEqual(h.ok("DELETE", "/api/templates/web")["version"], "2")
        status, refused, _ = h.request("POST", "/api/templates", {"template": {
            "name": "bad", "yaml": "run: python x.py\n"}})
        self.assertEqual((status, refused["code"]), (400, "INVALID_ARGUMENT"))
        self.assertTrue(refused["message"].startswith("line 1: run:"), refused)

        # A code snapshot upload: the manifest, the missing content (bytes
        # are base64 in JSON), the manifest again: stored.
        empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        manifest = {"files": [{"path": "x.py", "size": 0, "sha256": empty_sha}]}
        self.assertEqual(h.ok("POST", "/api/code-snapshots", manifest)["missing"], [empty_sha])
        blob = h.ok("POST", "/api/code-blobs", {"sha256": empty_sha, "size": 0, "data": ""})
        self.assertTrue(blob["complete"])
        stored = h.ok("POST", "/api/code-snapshots", manifest)
        self.assertEqual(stored.get("missing", []), [])
        self.assertEqual(len(stored["snapshot"]["id"]), 64)
        imported = h.ok("POST", "/api/import", {"source": "test", "experiments": [{
            "experiment": {"name": "web-imported", "base_command": "true",
                           "desired_state": "STOPPED", "flags": {"lr": 0.5}},
            "jobs": [{"status": "FAILED", "command": "true", "exit_code": 1,
                      "end_time": "2025-01-01T00:00:00Z"}]}]})
        self.assertEqual(imported["results"][0]["outcome"], "imported", imported)
        self.assertEqual(imported["results"][0]["jobs"], 1)
        self.assertEqual(h.ok("GET", "/api/experiments/web-imported/jobs")["jobs"][0]["status"],
                         "FAILED")
        cost = h.ok("GET", "/api/cost?group_by=experiment")
        self.assertEqual(cost["currency"], "USD")
        self.assertIn("as_of", cost)

        # Stars and order (tests/e2e/test_marks.py has the whole check).
        starred = h.ok("POST", "/api/experiments/web-imported/starred", {"starred": True})
        self.assertEqual((starred["matched"], starred["changed"]), (1, 1))
        unstarred = h.ok("POST", "/api/experiments/starred",
                         {"filter": {"starred": True}, "starred": False})
        self.assertEqual(unstarred["ids"], [starred["ids"][0]])
        moved = h.ok("POST", "/api/experiments/web-imported/position", {"position": -1.5})
        self.assertEqual(moved["experiment"]["position"], -1.5)

        # Without --notify there is no sink to test (tests/e2e/test_notify.py
        # has the whole check).
        status, refused, _ = h.request("POST", "/api/notify/test", {})
        self.assertEqual((status, refused["code"]), (409, "FAILED_PRECONDITION"), refused)

        # Every route the proto declares was exercised above: a new RPC
        # without a case here fails this test.
        untested = []
        for route in sorted(proto_routes()):
            verb, pattern = route_pattern(route)
            if not any(m == verb and pattern.match(p) for m, p in h.sent):
                untested.append(route)
        self.assertEqual(untested, [])

    def test_errors_map_to_http_codes(self):
        h = self.http
        status, body, _ = h.request("GET", "/api/experiments/nobody")
        self.assertEqual((status, body["code"]), (404, "NOT_FOUND"))
        status, body, _ = h.request("POST", "/api/experiments", {"experiment": {"name": "1x"}})
        self.assertEqual((status, body["code"]), (400, "INVALID_ARGUMENT"))
        self.assertIn("name", body["message"])
        h.ok("POST", "/api/experiments", {"experiment": {"name": "dup", "base_command": "true"}})
        status, body, _ = h.request("POST", "/api/experiments",
                                    {"experiment": {"name": "dup", "base_command": "true"}})
        self.assertEqual((status, body["code"]), (409, "ALREADY_EXISTS"))
        status, body, _ = h.request("GET", "/api/experiments?page_size=abc")
        self.assertEqual(status, 400)
        status, _, _ = h.request("PUT", "/api/experiments")
        self.assertEqual(status, 405)
        # CSRF: a state change that is not JSON is refused before the API.
        status, body, _ = h.request("POST", "/api/experiments", "name=x",
                                    content_type="application/x-www-form-urlencoded")
        self.assertEqual(status, 415)
        status, body, _ = h.request("POST", "/api/experiments", "x" * (2 << 20))
        self.assertEqual((status, body["message"]), (413, "request body too large"))
        # A body the server cannot read (broken chunked encoding): the error
        # says so at once (libmicrohttpd answers it before the API sees the
        # request) rather than "not found" after 30 s.
        with socket.create_connection((h.host, h.port), timeout=10) as raw:
            raw.sendall(f"POST /api/refresh HTTP/1.1\r\nHost: {h.host}:{h.port}\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "zz\r\n".encode())
            reply = read_until(raw, "</html>")
        self.assertIn(" 400 ", reply.split("\r\n", 1)[0])
        self.assertIn("chunked encoding was syntactically incorrect", reply)
        _, _, resp = h.request("GET", "/api/health")
        self.assertIsNone(resp.getheader("Access-Control-Allow-Origin"))

    def test_watch_stream_sees_changes_made_over_grpc(self):
        health = self.http.ok("GET", "/api/health")["health"]
        sock = self.http.open_stream(f"/api/watch?since_revision={health.get('revision', 0)}")
        read_until(sock, ": connected")
        self.cli("exp", "create", "via-grpc", "--cmd", "true")
        text = read_until(sock, '"name":"via-grpc"')
        self.assertIn('"type":"Created"', text)
        sock.close()

    def test_the_experiment_stream_sends_the_whole_list_in_one_request(self):
        for i in range(5):
            self.http.ok("POST", "/api/experiments",
                         {"experiment": {"name": f"listed-{i}", "base_command": "true"}})
        # A finite stream: the chunked answer ends once the last page is sent.
        status, body, resp = self.http.request("GET", "/api/experiments:stream?page_size=2")
        self.assertEqual((status, resp.getheader("Content-Type")), (200, "text/event-stream"))
        pages = [json.loads(line[len("data: "):]) for line in body.decode().split("\n")
                 if line.startswith("data: ")]
        self.assertEqual([[e["name"] for e in p["experiments"]] for p in pages],
                         [["listed-0", "listed-1"], ["listed-2", "listed-3"], ["listed-4"]])
        self.assertEqual([p.get("next_page_token", "") for p in pages],
                         [pages[0]["experiments"][1]["id"], pages[1]["experiments"][1]["id"], ""])
        self.assertEqual(self.http.sent, [("POST", "/api/experiments")] * 5
                         + [("GET", "/api/experiments:stream")])

    def test_watch_is_gzip_compressed_for_clients_that_accept_it(self):
        for i in range(3):
            self.cli("exp", "create", f"zip-{i}", "--cmd", "true")
        streams = {}
        for name, extra in (("plain", ""), ("gzip", "Accept-Encoding: gzip\r\n")):
            sock = socket.create_connection((self.http.host, self.http.port), timeout=30)
            sock.sendall(f"GET /api/watch?since_revision=0 HTTP/1.1\r\n"
                         f"Host: {self.http.host}:{self.http.port}\r\n{extra}\r\n".encode())
            streams[name] = EventStream(sock)
        self.assertNotIn("content-encoding", streams["plain"].head.lower())
        self.assertIn("\r\nContent-Encoding: gzip", streams["gzip"].head)
        self.assertIn("\r\nVary: Accept-Encoding", streams["gzip"].head)
        # Every event so far, then a keep-alive (every 100 ms) that came
        # through the same gzip stream.
        created = '"name":"zip-2"'
        text = streams["gzip"].read_until(
            lambda t: created in t and ": ping\n\n" in t[t.find(created):])
        self.assertTrue(text.startswith(": connected\n\n"), text[:100])
        plain = streams["plain"].read_until(lambda t: created in t)
        count = len(events_in(plain[:plain.find("\n\n", plain.find(created))]))
        self.assertGreaterEqual(count, 3)
        self.assertEqual(events_in(text)[:count], events_in(plain)[:count])
        for stream in streams.values():
            stream.sock.close()

    def test_dropped_stream_is_cancelled_and_many_streams_do_not_starve(self):
        streams = [self.http.open_stream("/api/watch?since_revision=0") for _ in range(50)]
        for s in streams:
            read_until(s, ": connected")
        started = time.monotonic()
        self.http.ok("GET", "/api/experiments")
        self.http.ok("GET", "/api/health")
        self.assertLess(time.monotonic() - started, 2.0)

        def open_streams():
            _, body, _ = self.http.request("GET", "/metrics")
            text = body.decode() if isinstance(body, bytes) else str(body)
            for line in text.splitlines():
                if line.startswith("skydeck_http_open_streams "):
                    return int(line.split()[1])
            return -1

        self.assertEqual(open_streams(), 50)
        for s in streams:
            s.close()
        harness.wait_for(lambda: open_streams() == 0, what="streams to end after clients left")

    def test_the_embedded_dashboard_is_served(self):
        # skydeckd runs without --web-root here: what it serves is compiled in.
        status, body, resp = self.http.request("GET", "/")
        if os.environ.get("SKYDECK_DASHBOARD") != "1":
            self.assertEqual(status, 404)
            self.assertIn(b"not built", body)
            return
        self.assertEqual(status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(resp.getheader("Cache-Control"), "no-cache")
        self.assertIn(b'<div id="app">', body)
        script = re.search(rb'src="\./(assets/[^"]+\.js)"', body)
        self.assertIsNotNone(script, body)
        status, js, resp = self.http.request("GET", "/" + script.group(1).decode())
        self.assertEqual(status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/javascript; charset=utf-8")
        self.assertIn("immutable", resp.getheader("Cache-Control"))
        self.assertGreater(len(js), 1000)
        # A client-side route gets the app; a missing asset does not.
        status, body, _ = self.http.request("GET", "/experiments/7")
        self.assertEqual(status, 200)
        self.assertIn(b'<div id="app">', body)
        status, _, _ = self.http.request("GET", "/assets/missing-0000.js")
        self.assertEqual(status, 404)

    def test_path_traversal_is_404(self):
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                     "/assets/../../../etc/passwd", "/%2E%2E%5C%2E%2E%5Cetc%5Cpasswd",
                     "/static/%252e%252e/etc/passwd.txt"):
            with socket.create_connection((self.http.host, self.http.port), timeout=10) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.http.port}\r\n"
                          "Connection: close\r\n\r\n".encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            head = data.split(b"\r\n", 1)[0].decode()
            self.assertIn(" 404 ", head, path)
            self.assertNotIn(b"root:", data)


class AuthTest(harness.TokenTestCase):
    token = "t0ps3cret-token"

    def test_http_requires_the_token(self):
        anon = Http(self.daemon.http_address)
        self.assertEqual(anon.request("GET", "/api/experiments")[0], 401)
        wrong = Http(self.daemon.http_address, token="wrong")
        self.assertEqual(wrong.request("GET", "/api/experiments")[0], 401)
        right = Http(self.daemon.http_address, token=self.token)
        self.assertEqual(right.request("GET", "/api/experiments")[0], 200)
        self.assertNotIn(self.token, self.daemon.log())  # never logged

    def test_grpc_requires_the_token(self):
        stubs = tempfile.TemporaryDirectory(prefix="skydeck-pystubs-")
        self.addCleanup(stubs.cleanup)
        generate_stubs(stubs.name)
        from skydeck.v1 import service_pb2, service_pb2_grpc
        with grpc.insecure_channel(self.daemon.address) as channel:
            stub = service_pb2_grpc.SkyDeckStub(channel)
            req = service_pb2.ListExperimentsRequest()
            for md in ([], [("authorization", "Bearer wrong")]):
                with self.assertRaises(grpc.RpcError) as err:
                    stub.ListExperiments(req, timeout=10, metadata=md)
                self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            stub.ListExperiments(req, timeout=10,
                                 metadata=[("authorization", f"Bearer {self.token}")])

    def test_the_bridge_calls_the_service_without_a_socket(self):
        # The bridge reaches the service through the gRPC server's
        # in-process channel: the calls (the token forwarded, as the 401
        # without it shows) leave no TCP connection to the gRPC port.
        right = Http(self.daemon.http_address, token=self.token)
        right.ok("POST", "/api/experiments",
                 {"experiment": {"name": "inproc", "base_command": "true"}})
        self.assertEqual(right.request("GET", "/api/experiments/inproc")[0], 200)
        self.assertEqual(right.request("GET", "/api/health")[0], 200)
        self.assertEqual(Http(self.daemon.http_address).request("GET", "/api/health")[0], 401)
        grpc_port = int(self.daemon.address.rsplit(":", 1)[1])
        pid = self.daemon.proc.pid

        def to_grpc(ports):
            return [p for p in ports if grpc_port in p]

        self.assertEqual(to_grpc(established_tcp_ports(pid)), [])
        # The probe sees a real client's connection to the same port.
        with grpc.insecure_channel(self.daemon.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            harness.wait_for(lambda: to_grpc(established_tcp_ports(pid)),
                             what="the gRPC client's connection in /proc")

    def test_any_host_is_served_with_the_token(self):
        right = Http(self.daemon.http_address, token=self.token)
        status, _, _ = right.request("GET", "/api/experiments",
                                     headers={"Host": "gpu-box.lab:8000"})
        self.assertEqual(status, 200)

    def run_daemon(self, *args):
        import subprocess
        return subprocess.run([harness.SKYDECKD, "--grpc-port", "0", "--port", "0",
                               "--data-dir", self.tmp + "/other", *args],
                              capture_output=True, text=True, timeout=30,
                              env={k: v for k, v in os.environ.items()
                                   if k != "SKYDECK_AUTH_TOKEN"})

    def test_non_loopback_without_token_is_refused(self):
        for args in (["--host", "0.0.0.0", "--no-http"],
                     # A name that only looks like 127.x is not loopback.
                     ["--host", "127.evil.example"]):
            proc = self.run_daemon(*args)
            self.assertNotEqual(proc.returncode, 0, args)
            self.assertIn("non-loopback", proc.stderr, args)

    def test_an_empty_token_file_is_refused(self):
        empty = os.path.join(self.tmp, "empty-token")
        with open(empty, "w") as f:
            f.write("\n")
        proc = self.run_daemon("--auth-token-file", empty)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("is empty", proc.stderr)


class DnsRebindingTest(harness.E2ETestCase):
    """Without a token, a page whose own name resolves to 127.0.0.1 must not
    reach the API: the Host header has to name this machine."""

    daemon_args = ("--http-allowed-host", "SkyDeck.Proxy")

    def test_foreign_host_and_cross_origin_writes_are_refused(self):
        h = Http(self.daemon.http_address)
        port = h.port
        evil = {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"}
        body = {"experiment": {"name": "pwned", "base_command": "true"}, "start": True}
        status, err, _ = h.request("POST", "/api/experiments", body, headers=evil)
        self.assertEqual(status, 403, err)
        self.assertIn("DNS rebinding", err["message"])
        for path in ("/api/experiments", "/api/watch", "/metrics", "/"):
            self.assertEqual(h.request("GET", path, headers={"Host": "attacker.example"})[0],
                             403, path)
        # Same host, foreign origin: a cross-site write.
        status, err, _ = h.request("POST", "/api/experiments", body,
                                   headers={"Origin": "http://attacker.example"})
        self.assertEqual(status, 403, err)
        # A body-less POST needs no JSON Content-Type, but not cross-site.
        status, err, _ = h.request("POST", "/api/reconcile",
                                   headers={"Origin": "http://attacker.example"})
        self.assertEqual(status, 403, err)
        self.cli("exp", "get", "pwned", expect=1)

        # Loopback names, the allowed name, and same-origin writes work.
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "skydeck.proxy"):
            self.assertEqual(h.request("GET", "/api/health", headers={"Host": host})[0], 200)
        status, _, _ = h.request("POST", "/api/experiments",
                                 {"experiment": {"name": "ok", "base_command": "true"}},
                                 headers={"Origin": f"http://127.0.0.1:{port}"})
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
