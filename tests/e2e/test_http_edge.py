"""The HTTP edge under abuse, against a real skydeckd: a busy HTTP port is
refused at start (never shared), unauthenticated chunked uploads are
refused before their body is read (RSS stays flat), oversized bodies of
any encoding get 413 or are cut off, and JSON and the dashboard's files
are gzip-compressed for clients that accept it."""

import gzip
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import harness
from test_http_bridge import Http


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_skydeckd(data_dir, *args):
    """Runs a second skydeckd that is expected to refuse to start."""
    env = {k: v for k, v in os.environ.items() if k != "SKYDECK_AUTH_TOKEN"}
    return subprocess.run([harness.SKYDECKD, "--data-dir", data_dir, "--backend", "local",
                           *args], capture_output=True, text=True, timeout=30, env=env)


class ChunkedUpload:
    """A POST with a chunked body sent 1 MiB at a time on its own thread,
    up to `total` bytes or until the server stops taking it; the answer,
    if one came, is in `answer`."""

    def __init__(self, address, path, total, headers=""):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {address}\r\n"
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                           f"{headers}\r\n").encode())
        self.total, self.sent, self.answer = total, 0, b""
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self):
        chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
        try:
            while self.sent < self.total:
                self.sock.sendall(chunk)
                self.sent += 0x100000
        except OSError:
            pass  # the server closed the connection: the point

    def read_answer(self):
        try:
            while b"\r\n\r\n" not in self.answer:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.answer += data
        except OSError:
            pass
        return self.answer

    def close(self):
        self.sock.close()
        self.thread.join(timeout=30)


class BusyPortTest(harness.E2ETestCase):
    """Before, the HTTP listener set SO_REUSEPORT: a second daemon on the
    same port started and requests alternated between two databases."""

    def test_a_second_daemon_on_the_same_http_port_is_refused(self):
        port = self.daemon.http_address.rsplit(":", 1)[1]
        other = os.path.join(self.tmp, "other")
        proc = run_skydeckd(other, "--grpc-port", "0", "--port", port)
        self.assertNotEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"127.0.0.1:{port}", proc.stderr)
        self.assertIn("in use by another process", proc.stderr)
        # The first daemon still answers, alone.
        self.assertEqual(Http(self.daemon.http_address).ok("GET", "/api/health")["health"]
                         ["status"], "SERVING")

    def test_grpc_and_http_on_one_port_is_refused(self):
        port = str(free_port())
        proc = run_skydeckd(os.path.join(self.tmp, "same"), "--port", port, "--grpc-port", port)
        # Refused as a usage error before either listener binds.
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--grpc-port: must differ from --port", proc.stderr)


class UploadLimitsTest(harness.TokenTestCase):
    token = "edge-t0ken"

    def test_unauthenticated_chunked_uploads_do_not_grow_memory(self):
        # The audit's attack: with a token set and no Authorization header,
        # three unfinished 300 MB chunked POSTs took the daemon to 1.09 GB.
        pid = self.daemon.proc.pid
        before = rss_kb(pid)
        uploads = [ChunkedUpload(self.daemon.http_address, "/api/experiments", 300 << 20)
                   for _ in range(3)]
        for u in uploads:
            self.assertTrue(u.read_answer().startswith(b"HTTP/1.1 401"), u.answer[:200])
        for u in uploads:
            u.close()
        after = rss_kb(pid)
        print(f"RSS {before} kB -> {after} kB; sent before the server stopped reading: "
              f"{[u.sent >> 20 for u in uploads]} MiB")
        self.assertLess(after - before, 20 * 1024)
        for u in uploads:
            self.assertLess(u.sent, 300 << 20)  # the server stopped taking the body
        Http(self.daemon.http_address, token=self.token).ok("GET", "/api/health")

    def test_authorized_oversized_chunked_uploads_are_refused(self):
        pid = self.daemon.proc.pid
        before = rss_kb(pid)
        auth = f"Authorization: Bearer {self.token}\r\n"
        # Just over the 1 MiB limit: dropped as it comes, then 413.
        small = ChunkedUpload(self.daemon.http_address, "/api/experiments", 2 << 20, auth)
        small.thread.join(timeout=30)
        small.sock.sendall(b"0\r\n\r\n")
        self.assertTrue(small.read_answer().startswith(b"HTTP/1.1 413"), small.answer[:200])
        small.close()
        # Far over: cut off without an answer once 8 MiB were dropped.
        big = ChunkedUpload(self.daemon.http_address, "/api/experiments", 300 << 20, auth)
        big.thread.join(timeout=60)
        self.assertLess(big.sent, 300 << 20)
        big.close()
        self.assertLess(rss_kb(pid) - before, 20 * 1024)


class CompressionTest(harness.E2ETestCase):

    def test_json_is_gzipped_for_clients_that_accept_it(self):
        h = Http(self.daemon.http_address)
        for i in range(20):
            h.ok("POST", "/api/experiments",
                 {"experiment": {"name": f"gz-{i}", "base_command": "python train.py"}})

        # The reconciler may still be writing to the new experiments (their
        # conditions): compare a gzip answer with plain answers read just
        # before and after it, once those two agree.
        def read_both():
            status, before, resp = h.request("GET", "/api/experiments")
            self.assertEqual(status, 200)
            self.assertIsNone(resp.getheader("Content-Encoding"))
            _, body, gz_resp = h.request("GET", "/api/experiments",
                                         headers={"Accept-Encoding": "gzip"})
            _, after, _ = h.request("GET", "/api/experiments")
            return (before, body, gz_resp) if before == after else None

        plain, body, resp = harness.wait_for(read_both, what="two equal plain answers")
        self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
        self.assertEqual(resp.getheader("Vary"), "Accept-Encoding")
        self.assertEqual(json.loads(gzip.decompress(body)), plain)
        self.assertLess(len(body), len(json.dumps(plain)) / 3)

    def test_dashboard_files_come_precompressed(self):
        if os.environ.get("SKYDECK_DASHBOARD") != "1":
            self.skipTest("skydeckd was built without the dashboard")
        h = Http(self.daemon.http_address)
        _, index, _ = h.request("GET", "/")
        script = re.search(rb'src="\./(assets/[^"]+\.js)"', index).group(1).decode()
        status, js, resp = h.request("GET", "/" + script)
        self.assertEqual(status, 200)
        self.assertIsNone(resp.getheader("Content-Encoding"))
        status, gz, resp = h.request("GET", "/" + script, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
        self.assertEqual(resp.getheader("Vary"), "Accept-Encoding")
        self.assertIn("immutable", resp.getheader("Cache-Control"))
        self.assertEqual(gzip.decompress(gz), js)
        self.assertLess(len(gz), len(js) / 2)


if __name__ == "__main__":
    unittest.main()
