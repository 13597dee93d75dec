"""The wire-level fake SkyPilot API server (../skypilot_fake) as a
subprocess for end-to-end tests, and a test case that runs skydeckd
against it (`--backend skypilot`)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "skypilot_fake", "skypilot_fake.py")

# Jobs stay RUNNING unless a test script says otherwise.
STEADY = ["PENDING", "STARTING", "RUNNING"]


class Fake:
    """The fake API server as a subprocess; driven through its control port,
    which stays up while the API port is "down"."""

    def __init__(self, directory, extra_args=()):
        port_file = os.path.join(directory, "fake.port")
        control_file = os.path.join(directory, "fake.control")
        self.log_path = os.path.join(directory, "fake.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, FAKE,
             "--port-file", port_file, "--control-port-file", control_file, *extra_args],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"the fake exited with {self.proc.returncode}:\n"
                                     + self.log())
            # The control port file is written before the main one.
            return os.path.exists(port_file)

        try:
            harness.wait_for(ready, timeout=15, what="the fake SkyPilot API server")
        except BaseException:
            self.stop()
            raise
        with open(port_file) as f:
            self.port = int(f.read())
        with open(control_file) as f:
            self.control_port = int(f.read())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def call(self, route, body=None):
        """POSTs `body` to /_fake/<route>; GET for `state` and `uploads`."""
        url = f"http://127.0.0.1:{self.control_port}/_fake/{route}"
        data = None if route in ("state", "uploads") else json.dumps(body or {}).encode()
        req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def script(self, name_prefix, steps, **kw):
        self.call("script", dict(kw, name_prefix=name_prefix, steps=steps))

    def state(self):
        return self.call("state")

    def job(self, name):
        """The fake's record of the managed job called `name`."""
        jobs = [j for j in self.state()["jobs"] if j["job_name"] == name]
        if len(jobs) != 1:
            raise AssertionError(f"expected one managed job named {name}, got {jobs}")
        return jobs[0]

    def force(self, name, status):
        self.call("job", {"job_id": self.job(name)["job_id"], "status": status})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class FakeSkyPilotTestCase(harness.E2ETestCase):
    """A daemon with `--backend skypilot` (and `extra_daemon_args`) against
    a fresh fake per test, whose jobs follow STEADY unless the test scripts
    otherwise. On failure, the fake's state and log are printed."""

    extra_daemon_args = ()

    # More skydeckd flags, for a test class or a test (set before setUp).
    extra_daemon_args = ()

    def setUp(self):
        self.fake_dir = tempfile.mkdtemp(prefix="skydeck-e2e-fake-")
        try:
            self.fake = Fake(self.fake_dir)
            self.daemon_args = ["--backend", "skypilot",
                                "--skypilot-endpoint", self.fake.endpoint,
                                *self.extra_daemon_args]
            try:
                super().setUp()
            except BaseException:
                self.fake.stop()
                raise
        except BaseException:
            shutil.rmtree(self.fake_dir, ignore_errors=True)
            raise
        self.fake.script("skydeck-", STEADY)

    def tearDown(self):
        failed = self._outcome_failed()
        fake_state = None
        if failed:
            try:
                fake_state = self.fake.state()
            except OSError as e:
                fake_state = f"(unavailable: {e})"
        try:
            super().tearDown()
        finally:
            self.fake.stop()
            if failed:
                print("--- fake SkyPilot API server: state, then log ---")
                print(json.dumps(fake_state, indent=1)[-20000:])
                print(self.fake.log()[-5000:])
            shutil.rmtree(self.fake_dir, ignore_errors=True)
