"""What the chaos scripts share: the e2e harness and SkyPilot fake wrapper
(imported from ../e2e, not copied), Python gRPC stubs generated once per
run, a small gRPC client, and the CLI.

Binaries come from the environment like the e2e tests (SKYDECKD, SKYDECK;
ctest sets them), or from --build DIR (DIR/daemon/skydeckd, DIR/cli/skydeck).
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "e2e")


def use_build_dir(build_dir):
    """Points SKYDECKD/SKYDECK at a build tree unless they are set. Must run
    before `harness` is imported (it reads them at import time)."""
    if build_dir:
        os.environ.setdefault("SKYDECKD", os.path.join(build_dir, "daemon", "skydeckd"))
        os.environ.setdefault("SKYDECK", os.path.join(build_dir, "cli", "skydeck"))


def import_e2e():
    """Imports harness, the Fake wrapper and the stub generator from ../e2e."""
    if E2E not in sys.path:
        sys.path.insert(0, E2E)
    import harness  # noqa: E402
    from test_python_grpc_client import generate_stubs  # noqa: E402
    from fake_skypilot import Fake  # noqa: E402
    return harness, Fake, generate_stubs


_stub_dir = None


def load_stubs():
    """Generates the Python stubs once and returns the pb modules."""
    global _stub_dir
    _, _, generate_stubs = import_e2e()
    if _stub_dir is None:
        _stub_dir = tempfile.TemporaryDirectory(prefix="skydeck-chaos-stubs-")
        generate_stubs(_stub_dir.name)
    from skydeck.v1 import resources_pb2, service_pb2, service_pb2_grpc
    from google.protobuf import field_mask_pb2
    return resources_pb2, service_pb2, service_pb2_grpc, field_mask_pb2


class Api:
    """A gRPC client of one skydeckd; `call(name, request, timeout)` times
    every call. One channel per Api (grpc channels are thread-safe)."""

    def __init__(self, address, actor="chaos"):
        import grpc
        self.grpc = grpc
        self.pb, self.svc, grpc_mod, self.fm = load_stubs()
        self.channel = grpc.insecure_channel(address)
        self.stub = grpc_mod.SkyDeckStub(self.channel)
        self.metadata = [("x-skydeck-actor", actor)]

    def close(self):
        self.channel.close()

    def call(self, method, request, timeout=10.0):
        return getattr(self.stub, method)(request, timeout=timeout, metadata=self.metadata)

    def timed(self, method, request, timeout=10.0):
        """(seconds, response) for one call; raises grpc.RpcError."""
        started = time.perf_counter()
        resp = self.call(method, request, timeout)
        return time.perf_counter() - started, resp

    def list_all(self, include_deleted=True, timeout=20.0):
        out, token = [], ""
        while True:
            resp = self.call("ListExperiments", self.svc.ListExperimentsRequest(
                page_size=1000, page_token=token, include_deleted=include_deleted), timeout)
            out.extend(resp.experiments)
            token = resp.next_page_token
            if not token:
                return out

    def health(self, timeout=10.0):
        return self.call("GetHealth", self.svc.GetHealthRequest(), timeout).health


def cli(address, *args, timeout=30):
    """Runs the real skydeck CLI; returns the CompletedProcess."""
    skydeck = os.environ.get("SKYDECK", "skydeck")
    return subprocess.run([skydeck, "--server", address] + list(args), capture_output=True,
                          text=True, timeout=timeout,
                          env=dict(os.environ, USER="chaos-cli"))


def flag_of(value):
    """A FlagValue proto's Python value, typed: ("int", 3), ("str", "x")..."""
    kind = value.WhichOneof("kind")
    return (kind, getattr(value, kind)) if kind else (None, None)


def set_flag(flag_value, python_value):
    if isinstance(python_value, bool):
        flag_value.bool_value = python_value
    elif isinstance(python_value, int):
        flag_value.int_value = python_value
    elif isinstance(python_value, float):
        flag_value.double_value = python_value
    else:
        flag_value.string_value = str(python_value)


def typed(python_value):
    """The (kind, value) flag_of() reads back for a value set by set_flag."""
    if isinstance(python_value, bool):
        return ("bool_value", python_value)
    if isinstance(python_value, int):
        return ("int_value", python_value)
    if isinstance(python_value, float):
        return ("double_value", python_value)
    return ("string_value", str(python_value))


def percentile(samples, p):
    """The p-th percentile (0-100) by nearest rank; None when empty."""
    if not samples:
        return None
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]
