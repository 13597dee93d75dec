#!/usr/bin/python3
"""Tests of bench/wrk_writes.py: its Lua script (run by the real wrk against
an in-memory HTTP server on loopback) and its Python mirror agree on what
each experiment must hold afterwards, and the checks fail when a server
answers writes it did not make."""

import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wrk_writes  # noqa: E402

COUNT = 200
THREADS = 2
CONNECTIONS = 4


class FakeServer(http.server.ThreadingHTTPServer):
    """Experiments 1..COUNT (STOPPED, no flags) behind the routes the loads
    use; answers 200 to every write but skips those `drop(kind, id)` names."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # wrk closing at its end
            super().handle_error(request, client_address)

    def __init__(self, drop=lambda kind, id_: False):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.drop = drop
        self.experiments = {i: {"id": i, "name": f"exp-{i}", "desired_state": "STOPPED",
                                "flags": {}} for i in range(1, COUNT + 1)}
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        store = self.server
        with store.lock:
            if self.path == "/api/experiments":
                id_ = len(store.experiments) + 1
                store.experiments[id_] = {"id": id_, "name": body["name"],
                                          "desired_state": "STOPPED", "flags": {}}
            else:
                id_, kind = re.fullmatch(r"/api/experiments/(\d+)/(state|flags)",
                                         self.path).groups()
                exp = store.experiments[int(id_)]
                if not store.drop(kind, int(id_)):
                    if kind == "state":
                        exp["desired_state"] = body["desired_state"]
                    else:
                        exp["flags"].update(body.get("set") or body["flags"])
        self.answer(b"{}")

    def answer(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def held(server, mode):
    with server.lock:
        exps = list(server.experiments.values())
    if mode == "desired":
        return {e["id"]: e["desired_state"] for e in exps}
    return {e["id"]: e["flags"].get("load.step") for e in exps}


@unittest.skipUnless(shutil.which("wrk"), "needs Debian's wrk")
class LuaAgainstServer(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wrk-writes-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_mode(self, server, mode, flags_key="set"):
        result, sent = wrk_writes.run_mode(server.url(), mode, 1, COUNT, THREADS, CONNECTIONS,
                                           1, self.tmp, "p", flags_key)
        self.assertEqual(result[3], 0, "wrk errors")
        # Every experiment is written more than once: the check sees the
        # alternation and the newest value.
        self.assertGreater(sum(sent.made.values()), 2 * COUNT)
        return sent

    def test_every_write_made_passes(self):
        server = FakeServer()
        try:
            for mode in ("desired", "flags"):
                sent = self.run_mode(server, mode, "flags" if mode == "flags" else "set")
                ok, text = wrk_writes.check_updates(mode, 1, COUNT, THREADS, sent,
                                                    held(server, mode))
                self.assertTrue(ok, text)
            sent = self.run_mode(server, "create")
            with server.lock:
                names = [e["name"] for e in server.experiments.values()]
            ok, text = wrk_writes.check_creates("p", CONNECTIONS, sent, names)
            self.assertTrue(ok, text)
        finally:
            server.shutdown()
            server.server_close()

    def test_writes_answered_but_not_made_fail(self):
        # Every desired-state write dropped, and the flag writes of one
        # experiment: both answered 200.
        server = FakeServer(lambda kind, id_: kind == "state" or id_ == 3)
        try:
            for mode in ("desired", "flags"):
                sent = self.run_mode(server, mode)
                ok, text = wrk_writes.check_updates(mode, 1, COUNT, THREADS, sent,
                                                    held(server, mode))
                self.assertFalse(ok, text)
        finally:
            server.shutdown()
            server.server_close()


class Checks(unittest.TestCase):
    """The checks on a server that applied requests 1..made[thread] of each
    thread (as the Lua numbers them), except those `skip` names."""

    MADE = {0: 1397, 1: 1401}

    def held(self, mode, skip=lambda tid, n: False):
        values = {i: "STOPPED" if mode == "desired" else None for i in range(1, 1001)}
        for tid, total in self.MADE.items():
            size = (1000 - tid + 1) // 2
            for n in range(1, total + 1):
                if not skip(tid, n):
                    k = n - 1
                    values[1 + tid + 2 * (k % size)] = (
                        n if mode == "flags"
                        else "TERMINATED" if (k // size) % 2 == 0 else "STOPPED")
        return values

    def check(self, mode, skip):
        sent = wrk_writes.Sent(self.MADE, max_latency_s=0.02, connections=16, seconds=2)
        return wrk_writes.check_updates(mode, 1, 1000, 2, sent, self.held(mode, skip))[0]

    def test_unanswered_newest_requests_are_allowed(self):
        for mode in ("desired", "flags"):
            self.assertTrue(self.check(mode, lambda tid, n: n > self.MADE[tid] - 8))

    def test_an_older_last_write_missing_fails(self):
        for mode in ("desired", "flags"):
            self.assertFalse(self.check(mode, lambda tid, n: n == self.MADE[tid] - 100))

    def test_an_overwritten_write_missing_passes(self):
        for mode in ("desired", "flags"):
            self.assertTrue(self.check(mode, lambda tid, n: n == 500))


if __name__ == "__main__":
    unittest.main()
