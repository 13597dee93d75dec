"""GET /metrics on a real skydeckd: calls made over gRPC by the CLI and by
Python are counted by method and code (not only what came through the HTTP
bridge), a backend launch is timed, a Watch stream is counted open and then
closed, and the whole text is valid Prometheus exposition format."""

import math
import re
import time
import unittest

import grpc

import harness
from test_http_bridge import Http
from test_python_grpc_client import StubsTestCase

SKYDECK = "skydeck.v1.SkyDeck/"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)",?')


def parse_value(text):
    return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(text) or float(text)


def parse_exposition(text):
    """Returns ({(name, frozenset(labels)): value}, {family: type}, problems)."""
    samples, types, problems = {}, {}, []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in types:
                problems.append(f"second TYPE for {name}")
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(f"unparsable: {line}")
            continue
        name, labels_text, value = m.groups()
        labels = {}
        if labels_text:
            body = labels_text[1:-1]
            pos = 0
            for lm in LABEL.finditer(body):
                if lm.start() != pos:
                    problems.append(f"bad labels: {line}")
                labels[lm.group(1)] = (lm.group(2).replace('\\"', '"').replace("\\n", "\n")
                                       .replace("\\\\", "\\"))
                pos = lm.end()
            if pos != len(body):
                problems.append(f"bad labels: {line}")
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if types.get(family) != "histogram":
            family = name
        if family not in types:
            problems.append(f"no TYPE before {line}")
        key = (name, frozenset(labels.items()))
        if key in samples:
            problems.append(f"duplicate series: {line}")
        samples[key] = parse_value(value)
    for family, kind in types.items():
        if kind == "histogram":
            problems += check_histogram(family, samples)
    return samples, types, problems


def check_histogram(family, samples):
    """Cumulative buckets ending in +Inf, and _count equal to +Inf, per series."""
    problems, series = [], {}
    for (name, labels), value in samples.items():
        if name == family + "_bucket":
            rest = frozenset((k, v) for k, v in labels if k != "le")
            le = parse_value(dict(labels)["le"])
            series.setdefault(rest, []).append((le, value))
    for rest, buckets in series.items():
        buckets.sort()
        if buckets[-1][0] != math.inf:
            problems.append(f"{family}: no +Inf bucket")
        if any(b[1] < a[1] for a, b in zip(buckets, buckets[1:])):
            problems.append(f"{family}: buckets not cumulative")
        if samples.get((family + "_count", rest)) != buckets[-1][1]:
            problems.append(f"{family}: _count differs from +Inf")
        if (family + "_sum", rest) not in samples:
            problems.append(f"{family}: no _sum")
    return problems


class MetricsTest(StubsTestCase):

    def setUp(self):
        super().setUp()
        self.http = Http(self.daemon.http_address)

    def scrape(self):
        status, body, resp = self.http.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        text = body.decode() if isinstance(body, bytes) else str(body)
        samples, types, problems = parse_exposition(text)
        self.assertEqual(problems, [], text)
        return samples, types

    @staticmethod
    def value(samples, name, **labels):
        return samples.get((name, frozenset(labels.items())), 0)

    def test_cli_calls_over_grpc_are_counted_and_a_launch_is_timed(self):
        self.cli("exp", "create", "m1", "--cmd", "sleep 30", "--start")
        self.cli("exp", "list")
        self.cli("exp", "get", "nobody", expect=1)
        self.wait_experiment("m1", lambda e: e["observed_state"] == "OBSERVED_STATE_RUNNING")

        samples, types = self.scrape()
        requests = "skydeck_grpc_requests_total"
        self.assertEqual(types[requests], "counter")
        self.assertEqual(self.value(samples, requests, method=SKYDECK + "CreateExperiment",
                                    code="OK"), 1)
        self.assertGreaterEqual(self.value(samples, requests, method=SKYDECK + "ListExperiments",
                                           code="OK"), 1)
        self.assertEqual(self.value(samples, requests, method=SKYDECK + "GetExperiment",
                                    code="NOT_FOUND"), 1)
        self.assertEqual(types["skydeck_grpc_request_duration_seconds"], "histogram")
        self.assertEqual(self.value(samples, "skydeck_grpc_request_duration_seconds_count",
                                    method=SKYDECK + "CreateExperiment"), 1)

        # The local backend launched one job, and the launch was timed.
        calls = "skydeck_backend_calls_total"
        self.assertEqual(self.value(samples, calls, backend="local", operation="launch",
                                    code="OK"), 1)
        launch = {"backend": "local", "operation": "launch"}
        self.assertEqual(
            self.value(samples, "skydeck_backend_call_duration_seconds_count", **launch), 1)
        self.assertGreater(
            self.value(samples, "skydeck_backend_call_duration_seconds_sum", **launch), 0)
        self.assertGreaterEqual(self.value(samples, calls, backend="local", operation="query",
                                           code="OK"), 1)
        # Live jobs come from the background recount (every 2 s once
        # something changed), so the running job shows within seconds.
        deadline = time.monotonic() + 15
        while self.value(samples, "skydeck_live_jobs", status="RUNNING") != 1:
            self.assertLess(time.monotonic(), deadline, "skydeck_live_jobs never showed the job")
            time.sleep(0.2)
            samples, types = self.scrape()

        # The bridge's own calls go through the same gRPC server.
        before = self.value(samples, requests, method=SKYDECK + "GetHealth", code="OK")
        self.http.ok("GET", "/api/health")
        samples, _ = self.scrape()
        self.assertEqual(self.value(samples, requests, method=SKYDECK + "GetHealth", code="OK"),
                         before + 1)
        self.assertGreaterEqual(self.value(samples, "skydeck_http_requests_total",
                                           rpc="GetHealth"), 1)

    def test_a_python_watch_stream_is_counted_open_then_closed(self):
        from skydeck.v1 import service_pb2, service_pb2_grpc
        self.cli("exp", "create", "w1", "--cmd", "true")
        watch = SKYDECK + "Watch"
        with grpc.insecure_channel(self.daemon.address) as channel:
            stub = service_pb2_grpc.SkyDeckStub(channel)
            stream = stub.Watch(service_pb2.WatchRequest(since_revision=0), timeout=60)
            self.assertEqual(next(stream).event.type, "Created")  # the call is in the handler
            samples, _ = self.scrape()
            self.assertEqual(self.value(samples, "skydeck_grpc_streams_open", method=watch), 1)
            self.assertEqual(
                self.value(samples, "skydeck_grpc_streams_started_total", method=watch), 1)
            stream.cancel()

            def closed():
                s, _ = self.scrape()
                return (self.value(s, "skydeck_grpc_streams_open", method=watch) == 0 and
                        self.value(s, "skydeck_grpc_requests_total", method=watch,
                                   code="CANCELLED") == 1)

            harness.wait_for(closed, what="the cancelled Watch to be counted closed")


if __name__ == "__main__":
    unittest.main()
