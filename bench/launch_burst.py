#!/usr/bin/python3
"""A burst of local launches and what it does to the API (issue 19, goal 3).

  bench/launch_burst.py --skydeckd build/release/daemon/skydeckd \\
      [--baseline-skydeckd OLD/daemon/skydeckd] [-n 1000] [--rounds 2] [--idle-seconds 5]

Per binary and round, on a fresh daemon (local backend) with N experiments
whose command is `true`:
  idle:   one client probes the API for --idle-seconds: GetExperiment of a
          random experiment, then ListExperiments (first page of 50), every
          --probe-interval-ms;
  burst:  one SetDesiredState by label selector sets all N RUNNING; the
          reconciler launches N jobs while the same probe runs.
Reported: launches/s (N over the time from the DesiredStateChanged event to
the last Launched event, both written by the daemon), the probe's p50/p99
idle and during the burst (from the SetDesiredState call until the last
launch) and their ratio, and the daemon's CPU seconds during the burst.
With --baseline-skydeckd the binaries take turns, round by round, so both
are measured in the same run on the same machine.

--control adds, per round of the first binary given by --skydeckd, a burst
that bypasses skydeckd: 4 threads of this script start N process trees like
a launch's (`/bin/sh -c '(/bin/true)'`: a spawn, a fork and two execs) as
fast as they can, while the same probe runs against the idle daemon. It
tells how much of the burst's p99 is the machine running N new processes,
whatever starts them.
"""

import argparse
import datetime
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


class Probe(threading.Thread):
    """Paced API calls from one client; latencies in ms with their start time."""

    def __init__(self, stub, service_pb2, ids, interval_s):
        super().__init__(daemon=True)
        self.stub, self.pb, self.ids, self.interval_s = stub, service_pb2, ids, interval_s
        self.samples = []  # (monotonic start, ms)
        self.errors = 0
        self.stopping = threading.Event()

    def run(self):
        rng = random.Random(1)
        while not self.stopping.is_set():
            for call in (self.get, self.list):
                start = time.monotonic()
                try:
                    call(rng)
                    self.samples.append((start, (time.monotonic() - start) * 1000))
                except grpc.RpcError:
                    self.errors += 1
            time.sleep(self.interval_s)

    def get(self, rng):
        self.stub.GetExperiment(self.pb.GetExperimentRequest(id=str(rng.choice(self.ids))),
                                timeout=10)

    def list(self, rng):
        self.stub.ListExperiments(self.pb.ListExperimentsRequest(page_size=50), timeout=10)

    def between(self, t0, t1):
        return [ms for start, ms in self.samples if t0 <= start < t1]


def launch_times(db):
    """(DesiredStateChanged ms, [Launched ms...]) from the daemon's events."""
    with sqlite3.connect(db, timeout=30) as conn:
        written = conn.execute(
            "SELECT min(time) FROM events WHERE type = 'DesiredStateChanged'").fetchone()[0]
        launched = [t for (t,) in conn.execute(
            "SELECT min(time) FROM events WHERE type = 'Launched' GROUP BY experiment_id")]
    return written, launched


def one_round(skydeckd, n, idle_seconds, interval_s, stubs):
    resources_pb2, service_pb2, service_pb2_grpc = stubs
    daemon = common.Daemon(skydeckd, ["--poll-interval", "1s"])
    db = os.path.join(daemon.data_dir, "skydeck.db")
    try:
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))
        ids = []
        for i in range(n):
            exp = resources_pb2.Experiment(name=f"burst-{i}", base_command="true")
            exp.labels["bench"] = "burst"
            ids.append(stub.CreateExperiment(
                service_pb2.CreateExperimentRequest(experiment=exp), timeout=30).experiment.id)
        probe = Probe(stub, service_pb2, ids, interval_s)
        probe.start()
        idle_from = time.monotonic()
        time.sleep(idle_seconds)
        burst_from = time.monotonic()
        cpu_before = daemon.cpu_seconds()
        load = common.load_average()
        stub.SetDesiredState(service_pb2.SetDesiredStateRequest(
            label_selector="bench=burst", desired_state=resources_pb2.DESIRED_STATE_RUNNING),
            timeout=300)
        deadline = time.monotonic() + 600
        while True:
            written, launched = launch_times(db)
            if len(launched) >= n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(launched)} of {n} launched")
            time.sleep(0.02)
        burst_to = time.monotonic()
        cpu = daemon.cpu_seconds() - cpu_before
        probe.stopping.set()
        probe.join()
        idle = probe.between(idle_from, burst_from)
        burst = probe.between(burst_from, burst_to)
        seconds = (max(launched) - written) / 1000.0
        return {
            "launches_per_s": n / seconds if seconds > 0 else float("inf"),
            "burst_s": seconds,
            "idle_p50": common.percentile(idle, 50), "idle_p99": common.percentile(idle, 99),
            "burst_p50": common.percentile(burst, 50), "burst_p99": common.percentile(burst, 99),
            "idle_calls": len(idle), "burst_calls": len(burst), "errors": probe.errors,
            "cpu_s": cpu, "load": load,
        }
    finally:
        daemon.stop()


def process_storm(n, threads=4):
    """Starts n `/bin/sh -c '(/bin/true)'` from `threads` threads; seconds."""
    def work(count):
        for _ in range(count):
            subprocess.run(["/bin/sh", "-c", "(/bin/true)"], check=True)
    started = time.monotonic()
    workers = [threading.Thread(target=work, args=(n // threads + (i < n % threads),))
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.monotonic() - started


def control_round(skydeckd, n, idle_seconds, interval_s, stubs):
    resources_pb2, service_pb2, service_pb2_grpc = stubs
    daemon = common.Daemon(skydeckd, ["--poll-interval", "1s"])
    try:
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))
        ids = [stub.CreateExperiment(service_pb2.CreateExperimentRequest(
            experiment=resources_pb2.Experiment(name=f"idle-{i}", base_command="true")),
            timeout=30).experiment.id for i in range(n)]
        probe = Probe(stub, service_pb2, ids, interval_s)
        probe.start()
        idle_from = time.monotonic()
        time.sleep(idle_seconds)
        storm_from = time.monotonic()
        load = common.load_average()
        seconds = process_storm(n)
        storm_to = time.monotonic()
        probe.stopping.set()
        probe.join()
        idle = probe.between(idle_from, storm_from)
        storm = probe.between(storm_from, storm_to)
        return {
            "launches_per_s": n / seconds, "burst_s": seconds,
            "idle_p50": common.percentile(idle, 50), "idle_p99": common.percentile(idle, 99),
            "burst_p50": common.percentile(storm, 50), "burst_p99": common.percentile(storm, 99),
            "idle_calls": len(idle), "burst_calls": len(storm), "errors": probe.errors,
            "cpu_s": float("nan"), "load": load,
        }
    finally:
        daemon.stop()


def show(label, r):
    ratio = r["burst_p99"] / r["idle_p99"] if r["idle_p99"] > 0 else float("nan")
    print(f"{label:9s} {r['launches_per_s']:7.1f} launches/s ({r['burst_s']:.2f} s) | probe "
          f"idle p50 {r['idle_p50']:.2f} p99 {r['idle_p99']:.2f} ms ({r['idle_calls']} calls) | "
          f"burst p50 {r['burst_p50']:.2f} p99 {r['burst_p99']:.2f} ms ({r['burst_calls']} calls)"
          f" | p99 burst/idle {ratio:.2f} | daemon {r['cpu_s']:.2f} CPU-s | errors {r['errors']}"
          f" | load {r['load']:.1f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--baseline-skydeckd")
    ap.add_argument("-n", type=int, default=1000, help="launches in the burst")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle-seconds", type=float, default=5)
    ap.add_argument("--probe-interval-ms", type=float, default=5)
    ap.add_argument("--control", action="store_true",
                    help="also a process storm that bypasses skydeckd (see above)")
    args = ap.parse_args()
    stubs = common.load_stubs()
    binaries = [("after", args.skydeckd)]
    if args.baseline_skydeckd:
        binaries.insert(0, ("before", args.baseline_skydeckd))
    for round_no in range(args.rounds):
        for label, path in binaries:
            r = one_round(path, args.n, args.idle_seconds, args.probe_interval_ms / 1000.0, stubs)
            show(f"{label}#{round_no + 1}", r)
        if args.control:
            r = control_round(args.skydeckd, args.n, args.idle_seconds,
                              args.probe_interval_ms / 1000.0, stubs)
            show(f"control#{round_no + 1}", r)
    print(f"machine: {common.machine()}; date: {datetime.date.today()}")


if __name__ == "__main__":
    main()
