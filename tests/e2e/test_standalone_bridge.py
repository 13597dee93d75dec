"""skydeck-web, the bridge as its own process in front of a skydeckd that
serves gRPC only: the same API over HTTP, including streams, and a clean
stop while a stream is open."""

import os
import signal
import subprocess
import unittest

import harness
from test_http_bridge import Http, established_tcp_ports, read_until

SKYDECK_WEB = os.environ.get("SKYDECK_WEB", "skydeck-web")


class StandaloneBridgeTest(harness.E2ETestCase):
    daemon_args = ("--no-http",)

    def setUp(self):
        super().setUp()
        ready = os.path.join(self.tmp, "web-ready")
        log = open(os.path.join(self.tmp, "web.log"), "wb")
        self.web = subprocess.Popen([SKYDECK_WEB, "--target", self.daemon.address, "--port", "0",
                                     "--ready-file", ready, "--sse-keepalive", "100ms"],
                                    stdout=log, stderr=log)
        log.close()
        harness.wait_for(lambda: os.path.exists(ready), what="skydeck-web to listen")
        with open(ready) as f:
            self.http = Http(f.read().strip())

    def tearDown(self):
        if self.web.poll() is None:
            self.web.kill()
            self.web.wait()
        super().tearDown()

    def test_api_and_streams_through_a_remote_daemon(self):
        self.assertIsNone(self.daemon.http_address)  # the daemon serves no HTTP
        self.cli("exp", "create", "remote-a", "--cmd", "true", "--label", "via=web")
        listed = self.http.ok("GET", "/api/experiments?label_selector=via%3Dweb")["experiments"]
        self.assertEqual([e["name"] for e in listed], ["remote-a"])
        # A real channel: skydeck-web holds a TCP connection to the daemon
        # (inside skydeckd the bridge has none, see test_http_bridge).
        grpc_port = int(self.daemon.address.rsplit(":", 1)[1])
        self.assertIn(grpc_port, [remote for _, remote in established_tcp_ports(self.web.pid)])
        self.http.ok("POST", "/api/experiments/remote-a/state",
                     {"desired_state": "DESIRED_STATE_RUNNING"})
        stream = self.http.open_stream("/api/watch?since_revision=0")
        read_until(stream, '"name":"remote-a"')
        # SIGTERM with a stream open: the process still stops promptly.
        self.web.send_signal(signal.SIGTERM)
        self.assertEqual(self.web.wait(timeout=10), 0)
        stream.close()

    def test_a_busy_port_is_refused(self):
        # skydeck-web used to share a busy port (SO_REUSEPORT) with whoever
        # held it; now it says so and exits.
        port = self.http.port
        proc = subprocess.run([SKYDECK_WEB, "--target", self.daemon.address, "--port", str(port)],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"127.0.0.1:{port}", proc.stderr)
        self.assertIn("in use by another process", proc.stderr)
        self.http.ok("GET", "/api/health")

    def test_the_old_keepalive_flag_still_works(self):
        # skydeck-web took --sse-keepalive-ms where skydeckd takes
        # --sse-keepalive DURATION (issue 18): the old spelling still starts
        # it, with a warning; both at once is a usage error.
        ready = os.path.join(self.tmp, "old-flag-ready")
        log_path = os.path.join(self.tmp, "old-flag.log")
        with open(log_path, "wb") as log:
            old = subprocess.Popen([SKYDECK_WEB, "--target", self.daemon.address, "--port", "0",
                                    "--ready-file", ready, "--sse-keepalive-ms", "100"],
                                   stdout=log, stderr=log)
        try:
            harness.wait_for(lambda: os.path.exists(ready), what="skydeck-web to listen")
            with open(ready) as f:
                Http(f.read().strip()).ok("GET", "/api/health")
        finally:
            old.send_signal(signal.SIGTERM)
            self.assertEqual(old.wait(timeout=10), 0)
        with open(log_path) as f:
            self.assertIn("--sse-keepalive-ms is deprecated", f.read())
        both = subprocess.run([SKYDECK_WEB, "--target", self.daemon.address, "--port", "0",
                               "--sse-keepalive", "1s", "--sse-keepalive-ms", "100"],
                              capture_output=True, text=True, timeout=30)
        self.assertNotEqual(both.returncode, 0)
        self.assertIn("--sse-keepalive", both.stderr)


if __name__ == "__main__":
    unittest.main()
