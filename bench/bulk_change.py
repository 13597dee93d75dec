#!/usr/bin/python3
"""Bulk desired-state changes by label selector: how long one
SetDesiredState over N experiments takes, per daemon binary, in one run.

  bench/bulk_change.py --skydeckd NAME=SKYDECKD[:SKYDECK] [--skydeckd ...]
                       [-n 10000] [--repeats 3] [--skydeck CLI] [--http] [--mix-clients 0]

For each binary, on a fresh data directory (local backend): create N
experiments labelled bench=bulk (plus 100 others), then time, `--repeats`
times each, one SetDesiredState by `label_selector` (a field both the old
and the new daemon take) to TERMINATED and back to STOPPED: N changes per
call, no job is launched (`--http`: the same through the HTTP bridge, whose
deadline is 30 s). Between calls the daemon is left to go idle (the
reconciler works through the N enqueued ids). With a CLI (`:SKYDECK`, or
`--skydeck` for all), also `skydeck exp terminate|stop -l bench=bulk` (use
the CLI of the daemon's tree: an old CLI sends ids and fails beyond 1,000). With `--mix-clients K`, K threads call
GetExperiment in a loop during each bulk call, and their p99 is reported
(a bulk change holds the store's lock for its whole transaction).

Prints one line per binary and step; exits 1 if a call fails.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


def wait_idle(daemon, quiet_seconds=1.0, timeout=600):
    """Until the daemon used < 5% of a core over `quiet_seconds`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = daemon.cpu_seconds()
        time.sleep(quiet_seconds)
        if daemon.cpu_seconds() - before < 0.05 * quiet_seconds:
            return
    raise RuntimeError("daemon did not go idle")


def create_all(stub, pb, n, label, prefix, window=64):
    resources_pb2, service_pb2 = pb
    pending = []
    for i in range(n):
        exp = resources_pb2.Experiment(name=f"{prefix}-{i}", base_command="true")
        exp.labels["bench"] = label
        pending.append(stub.CreateExperiment.future(
            service_pb2.CreateExperimentRequest(experiment=exp), timeout=120))
        if len(pending) >= window:
            pending.pop(0).result()
    for f in pending:
        f.result()


class Readers:
    """K threads calling GetExperiment while a bulk call runs."""

    def __init__(self, stub, service_pb2, k):
        self.stub, self.pb, self.k = stub, service_pb2, k
        self.latencies, self.stop = [], threading.Event()
        self.threads = []

    def __enter__(self):
        for t in range(self.k):
            th = threading.Thread(target=self.loop, args=(t,), daemon=True)
            th.start()
            self.threads.append(th)
        return self

    def loop(self, t):
        req = self.pb.GetExperimentRequest(id=f"other-{t}")
        while not self.stop.is_set():
            start = time.perf_counter()
            self.stub.GetExperiment(req, timeout=120)
            self.latencies.append((time.perf_counter() - start) * 1000)

    def __exit__(self, *exc):
        self.stop.set()
        for th in self.threads:
            th.join()


def run(name, binary, cli, args, stubs):
    resources_pb2, service_pb2, service_pb2_grpc = stubs
    daemon = common.Daemon(binary, ["--poll-interval", "1s"])
    rows = []
    try:
        channel = grpc.insecure_channel(daemon.grpc, options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        stub = service_pb2_grpc.SkyDeckStub(channel)
        started = time.monotonic()
        create_all(stub, (resources_pb2, service_pb2), args.n, "bulk", "bulk")
        create_all(stub, (resources_pb2, service_pb2), 100, "other", "other")
        print(f"{name}: created {args.n + 100} experiments in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        wait_idle(daemon)
        steps = [("TERMINATED", resources_pb2.DESIRED_STATE_TERMINATED),
                 ("STOPPED", resources_pb2.DESIRED_STATE_STOPPED)]
        for repeat in range(args.repeats):
            for word, state in steps:
                req = service_pb2.SetDesiredStateRequest(label_selector="bench=bulk",
                                                         desired_state=state)
                with Readers(stub, service_pb2, args.mix_clients) as readers:
                    start = time.perf_counter()
                    resp = stub.SetDesiredState(req, timeout=args.timeout)
                    seconds = time.perf_counter() - start
                rows.append((f"grpc {word}", seconds, readers.latencies))
                answered = resp.matched or len(resp.experiments)
                if answered != args.n:
                    raise RuntimeError(f"{name}: {word} answered {answered} of {args.n}")
                wait_idle(daemon)
        if args.http:
            for repeat in range(args.repeats):
                for word, state in (("TERMINATED", "DESIRED_STATE_TERMINATED"),
                                    ("STOPPED", "DESIRED_STATE_STOPPED")):
                    body = json.dumps({"label_selector": "bench=bulk",
                                       "desired_state": state}).encode()
                    req = urllib.request.Request(
                        f"http://{daemon.http}/api/experiments/state", data=body, method="POST",
                        headers={"Content-Type": "application/json"})
                    start = time.perf_counter()
                    try:
                        with urllib.request.urlopen(req, timeout=args.timeout) as resp:
                            resp.read()
                        seconds = time.perf_counter() - start
                    except urllib.error.HTTPError as err:
                        print(f"{name}: HTTP {word} answered {err.code} after "
                              f"{time.perf_counter() - start:.1f} s", flush=True)
                        seconds = float("nan")
                    rows.append((f"http {word}", seconds, []))
                    wait_idle(daemon)
        if cli:
            for repeat in range(args.repeats):
                for verb in ("terminate", "stop"):
                    start = time.perf_counter()
                    proc = subprocess.run([cli, "--server", daemon.grpc, "exp", verb,
                                           "-l", "bench=bulk"], capture_output=True, text=True)
                    seconds = time.perf_counter() - start
                    if proc.returncode != 0:
                        rows.append((f"cli {verb}", float("nan"), []))
                        print(f"{name}: skydeck exp {verb} -l failed: "
                              f"{proc.stderr.strip()[:200]}", flush=True)
                        break
                    rows.append((f"cli {verb}", seconds, []))
                    wait_idle(daemon)
        rss = daemon.peak_rss_kb()
    finally:
        daemon.stop()
    by_step = {}
    for step, seconds, lat in rows:
        by_step.setdefault(step, []).append((seconds, lat))
    for step, runs in by_step.items():
        times = sorted(s for s, _ in runs)
        lat = [x for _, l in runs for x in l]
        reads = (f"; GetExperiment during it: {len(lat)} calls, p50 "
                 f"{common.percentile(lat, 50):.1f} ms, p99 {common.percentile(lat, 99):.1f} ms"
                 if lat else "")
        print(f"{name:10s} {step:16s} n={args.n}: median {times[len(times) // 2]:.3f} s "
              f"(min {times[0]:.3f}, max {times[-1]:.3f}, {len(times)} calls){reads}", flush=True)
    print(f"{name:10s} peak RSS {rss / 1024:.1f} MB", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", action="append", required=True,
                    help="NAME=SKYDECKD[:SKYDECK] (the CLI of that tree); repeatable")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skydeck", help="the CLI to time `exp terminate|stop -l` with")
    ap.add_argument("--mix-clients", type=int, default=0)
    ap.add_argument("--http", action="store_true",
                    help="also time POST /api/experiments/state through the HTTP bridge")
    ap.add_argument("--timeout", type=float, default=600, help="per-call deadline, seconds")
    args = ap.parse_args()
    stubs = common.load_stubs()
    print(f"machine: {common.machine()}; date: {datetime.date.today()}; "
          f"load {common.load_average():.1f}")
    for spec in args.skydeckd:
        name, binaries = spec.split("=", 1)
        binary, _, cli = binaries.partition(":")
        run(name, binary, cli or args.skydeck, args, stubs)
    print(f"load {common.load_average():.1f} at the end")


if __name__ == "__main__":
    main()
