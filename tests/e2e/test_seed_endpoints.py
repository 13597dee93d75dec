"""The seed's 13 documented REST endpoints (GitHub Metta-AI/skydeck, README
"API Endpoints"), driven with the seed's own request shapes and nothing but
Python's standard library (urllib), as its users' scripts do. Every answer
must be plain JSON: flag values are scalars of their type, enums are short
names, empty lists are [], job logs are text."""

import json
import re
import socket
import time
import urllib.error
import urllib.request

import harness

# Enum names as protobuf's JSON mapping spells them: never on this API.
PREFIXED_ENUM = re.compile(r"^(DESIRED_STATE|OBSERVED_STATE|JOB_STATUS|STATUS|TYPE)_[A-Z_]+$")
FLAG_VALUE_KEYS = {"string_value", "int_value", "double_value", "bool_value"}

# The seed's README example, as its clients send it (fields at the top level).
SEED_FLAGS = {
    "trainer.losses.ppo.enabled": True,
    "policy_architecture.core_resnet_layers": 4,
    "trainer.lr": 0.0003,
    "trainer.scale": 1.0,
    "run.tag": "ppo",
}


class Api:
    def __init__(self, address):
        self.base = f"http://{address}"

    def call(self, method, path, body=None, headers=None):
        """(status, parsed JSON) of one request; a body is sent as JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=dict(headers or {}))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def ok(self, method, path, body=None):
        status, parsed = self.call(method, path, body)
        if status != 200:
            raise AssertionError(f"{method} {path} -> {status}: {parsed}")
        assert_plain(parsed, f"{method} {path}")
        return parsed

    def text_stream(self, path):
        """The data of every Server-Sent Event of a stream that ends."""
        with urllib.request.urlopen(self.base + path, timeout=30) as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            events, data = [], []
            for raw in resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[6:] if line.startswith("data: ") else line[5:])
                elif line == "" and data:
                    events.append("\n".join(data))
                    data = []
            return events


def assert_plain(value, where):
    """No protobuf-JSON artefacts anywhere in an answer."""
    if isinstance(value, dict):
        if value and set(value) <= FLAG_VALUE_KEYS:
            raise AssertionError(f"{where}: a flag value as an object: {value}")
        for k, v in value.items():
            assert_plain(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    elif isinstance(value, str) and PREFIXED_ENUM.match(value):
        raise AssertionError(f"{where}: enum by its long name: {value}")


class SeedEndpointsTest(harness.E2ETestCase):

    def setUp(self):
        super().setUp()
        self.api = Api(self.daemon.http_address)

    def assert_flags(self, flags, expected=SEED_FLAGS):
        """Flags come back exactly, each of its JSON type (in Python
        True == 1 == 1.0, hence the type check)."""
        self.assertEqual(flags, expected)
        for key, value in expected.items():
            self.assertIs(type(flags[key]), type(value), key)

    def test_the_seed_clients_requests_work_unchanged(self):
        api = self.api
        # GET /api/health
        health = api.ok("GET", "/api/health")["health"]
        self.assertEqual(health["status"], "SERVING")

        # POST /api/experiments: the seed's CreateExperimentRequest shape.
        created = api.ok("POST", "/api/experiments", {
            "name": "ppo_4layer",
            "flags": SEED_FLAGS,
            # The local backend appends the flags as arguments; the inner
            # shell ignores them.
            "base_command": "sh -c 'echo hello; echo world; sleep 30' sh",
            "nodes": 1,
            "gpus": 0,
            "desired_state": "STOPPED",
        })["experiment"]
        eid = created["id"]
        self.assertEqual(created["name"], "ppo_4layer")
        self.assert_flags(created["flags"])
        self.assertEqual(created["desired_state"], "STOPPED")
        self.assertEqual(created["labels"], {})
        self.assertEqual(created["conditions"], [])

        # GET /api/experiments
        listed = api.ok("GET", "/api/experiments")["experiments"]
        self.assertEqual([e["name"] for e in listed], ["ppo_4layer"])
        self.assert_flags(listed[0]["flags"])

        # GET /api/experiments/{id}, by id and by name
        self.assertEqual(api.ok("GET", f"/api/experiments/{eid}")["experiment"]["name"],
                         "ppo_4layer")
        got = api.ok("GET", "/api/experiments/ppo_4layer")["experiment"]
        self.assert_flags(got["flags"])

        # GET /api/experiments/{id}/jobs of a new experiment: an empty list.
        self.assertEqual(api.ok("GET", f"/api/experiments/{eid}/jobs")["jobs"], [])

        # GET /api/experiments/{id}/status: no current job yet.
        status = api.ok("GET", f"/api/experiments/{eid}/status")
        self.assertEqual(status["recent_jobs"], [])
        self.assertNotIn("current_job", status)

        # POST /api/experiments/{id}/flags {"flags": {...}}: a merge.
        merged = api.ok("POST", f"/api/experiments/{eid}/flags",
                        {"flags": {"trainer.lr": 0.001, "trainer.steps": 100}})["experiment"]
        self.assert_flags(merged["flags"], {**SEED_FLAGS, "trainer.lr": 0.001, "trainer.steps": 100})

        # POST /api/experiments/{id}/state {"desired_state": "RUNNING"}
        started = api.ok("POST", f"/api/experiments/{eid}/state", {"desired_state": "RUNNING"})
        self.assertEqual(started["experiments"][0]["desired_state"], "RUNNING")
        running = harness.wait_for(
            lambda: (lambda s: s if s.get("current_job", {}).get("status") == "RUNNING"
                     and s["experiment"]["observed_state"] == "RUNNING" else None)(
                api.ok("GET", f"/api/experiments/{eid}/status")),
            what="a running job")
        job = running["current_job"]
        self.assertEqual(job["flags"]["trainer.steps"], 100)
        self.assertEqual(api.ok("GET", f"/api/experiments/{eid}/jobs")["jobs"][0]["id"], job["id"])

        # The job's log is text: SSE data lines of the log.
        def logged():
            text = "".join(self.api.text_stream(f"/api/jobs/{job['id']}/logs"))
            return text if "world\n" in text else None
        self.assertEqual(harness.wait_for(logged, what="the job's output"), "hello\nworld\n")

        # POST /api/refresh and POST /api/reconcile with no body at all.
        self.assertIn("jobs_polled", api.ok("POST", "/api/refresh"))
        self.assertEqual(api.ok("POST", "/api/reconcile")["enqueued"], 1)

        # GET /api/flag-schemas: inferred from the experiments, values plain.
        schemas = api.ok("GET", "/api/flag-schemas")["schemas"]
        layers = next(f for s in schemas for f in s["flags"]
                      if f["name"] == "policy_architecture.core_resnet_layers")
        self.assertEqual(layers["type"], "INT")
        self.assertEqual(layers["seen_values"], [4])

        # POST /api/jobs/{id}/cancel with no body: the job ends, the
        # experiment is STOPPED.
        cancelled = api.ok("POST", f"/api/jobs/{job['id']}/cancel")["job"]
        self.assertEqual(cancelled["id"], job["id"])
        harness.wait_for(
            lambda: api.ok("GET", f"/api/experiments/{eid}")["experiment"]["observed_state"]
            == "STOPPED", what="the experiment to stop")
        self.assertEqual(api.ok("GET", f"/api/experiments/{eid}")["experiment"]["desired_state"],
                         "STOPPED")
        ended = api.ok("GET", f"/api/experiments/{eid}/jobs")["jobs"][0]
        self.assertEqual(ended["status"], "CANCELLED")

        # POST /api/experiments/{id}/state {"desired_state": "TERMINATED"}
        api.ok("POST", f"/api/experiments/{eid}/state", {"desired_state": "TERMINATED"})

        # DELETE /api/experiments/{id}
        api.ok("DELETE", f"/api/experiments/{eid}")
        self.assertEqual(api.ok("GET", "/api/experiments")["experiments"], [])

        # All 13 of the seed's endpoints were called above.

    def test_exact_types_survive_the_round_trip(self):
        big = "9007199254740993"  # 2^53 + 1: JavaScript would round it
        created = self.api.ok("POST", "/api/experiments", {
            "name": "types", "base_command": "true",
            "flags": {"big": big, "one": 1.0, "n": 1, "text": "1"}})["experiment"]
        self.assert_flags(created["flags"], {"big": big, "one": 1.0, "n": 1, "text": "1"})
        # Over gRPC (the CLI) each kept its kind: big is an int64, exactly.
        flags = self.cli_json("exp", "get", "types")["flags"]
        self.assertEqual(flags, {"big": {"int_value": big}, "one": {"double_value": 1.0},
                                 "n": {"int_value": "1"}, "text": {"string_value": "1"}})

    def test_errors_say_what_to_send(self):
        api = self.api
        api.ok("POST", "/api/experiments", {"name": "e", "base_command": "true"})
        status, err = api.call("POST", "/api/experiments/e/state", {"desired_state": "PAUSED"})
        self.assertEqual(status, 400)
        self.assertEqual(err["message"],
                         'desired_state: "PAUSED" is not one of RUNNING, STOPPED, TERMINATED')
        status, err = api.call("PATCH", "/api/experiments/e", {"nodes": 2, "update_mask": "nodes"})
        self.assertEqual(status, 400)
        self.assertIn('it belongs inside "experiment"', err["message"])
        status, err = api.call("POST", "/api/experiments", {"name": "x", "tags": ["a"]})
        self.assertEqual(status, 400)
        self.assertIn("tags: unknown field of CreateExperimentRequest", err["message"])

    def test_a_post_without_any_body_is_answered_at_once(self):
        # curl -X POST sends neither Content-Length nor a body: that is `{}`,
        # not a body to wait 30 s for.
        host, port = self.daemon.http_address.rsplit(":", 1)
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=20) as raw:
            raw.sendall(f"POST /api/refresh HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n".encode())
            reply = b""
            while b"}" not in reply:
                chunk = raw.recv(65536)
                if not chunk:
                    break
                reply += chunk
        self.assertLess(time.monotonic() - started, 10)
        head, _, body = reply.decode().partition("\r\n\r\n")
        self.assertIn(" 200 ", head.split("\r\n", 1)[0])
        self.assertEqual(json.loads(body), {"jobs_polled": 0})


if __name__ == "__main__":
    import unittest
    unittest.main()
