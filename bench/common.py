"""Shared helpers for SkyDeck benchmarks: start a real skydeckd on free
loopback ports with a temporary data directory, generated Python gRPC stubs,
percentiles, and a description of the machine for the results table."""

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def load_average():
    """The 1-minute load average (other work on a shared machine)."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def process_cpu_seconds(pid):
    """User + system CPU seconds the process has used so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def load_stubs():
    out = tempfile.mkdtemp(prefix="skydeck-bench-stubs-")
    protos = ["skydeck/v1/annotations.proto", "skydeck/v1/resources.proto",
              "skydeck/v1/service.proto"]
    subprocess.run(["protoc", f"-I{REPO}/proto", "-I/usr/include", f"--python_out={out}",
                    f"--grpc_python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos,
                   check=True)
    for d, _, _ in os.walk(out):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    from skydeck.v1 import resources_pb2, service_pb2, service_pb2_grpc
    return resources_pb2, service_pb2, service_pb2_grpc


class Daemon:
    def __init__(self, skydeckd, extra_args=(), data_dir=None, env=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="skydeck-bench-")
        ready = os.path.join(self.data_dir, "ready")
        if os.path.exists(ready):
            os.remove(ready)
        self.log = open(os.path.join(self.data_dir, "skydeckd.log"), "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [skydeckd, "--grpc-port", "0", "--port", "0", "--data-dir", self.data_dir,
             "--ready-file", ready, "--log-level", "warn", "--backend", "local"]
            + list(extra_args),
            stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 60
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("skydeckd did not start; see " + self.log.name)
            time.sleep(0.001)
        self.startup_seconds = time.monotonic() - self.started
        with open(ready) as f:
            lines = f.read().splitlines()
        self.grpc = lines[0]
        self.http = lines[1] if len(lines) > 1 else None

    def rss_kb(self):
        return self._status_kb("VmRSS:")

    def peak_rss_kb(self):
        """Peak resident set size since the process started (VmHWM)."""
        return self._status_kb("VmHWM:")

    def pss_kb(self):
        """Proportional set size: pages shared with other processes (e.g. the
        local backend's forked job monitors) counted by share, not in full."""
        with open(f"/proc/{self.proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        return 0

    def _status_kb(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def stop(self, cleanup=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if cleanup and self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
