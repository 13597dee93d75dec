#!/usr/bin/python3
"""Poll cost of the `skypilot` backend against the number of live jobs.

  bench/skypilot_poll_cost.py [--skydeckd build/release/daemon/skydeckd]
                              [--sizes 10,100,1000] [--ticks 10]

For each size N, a fresh fake SkyPilot API server (tests/skypilot_fake, in
explicit-tick mode with every job scripted to stay RUNNING) and a fresh
skydeckd (--backend skypilot) are started; N experiments are created and
started by one label selector over gRPC, and the script waits until the
daemon sees all N jobs RUNNING. Then it measures, over a fixed number of the
daemon's own poll ticks (--poll-interval, counted by the daemon's
skydeck_backend_polls_total metric):

  * backend requests per tick, by route, from the fake's request counters
    (the claim: constant in N -- one queue call for all jobs, not one per job);
  * the time of one poll: the daemon's skydeck_backend_poll_seconds_total
    per tick (Query plus writing the observations), and the client-side
    latency of `Refresh` (one poll on demand), p50 and max; and, for the
    server's share, the daemon's last queue request replayed directly
    against the fake (queue POST plus its /api/get).

It also reports what bringing the N jobs up cost (launch requests and the
one-time resolution of each launch request to its managed job id).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import common  # noqa: E402
import fake_skypilot  # noqa: E402
from harness import wait_for  # noqa: E402

import grpc  # noqa: E402

ROUTES = [("queue", "queue_calls"), ("api/get", "api_get_calls"),
          ("api/status", "status_calls"), ("health", "health_calls")]
OTHER = ["launch_calls", "cancel_calls", "api_cancel_calls", "logs_calls", "stream_calls"]


class Fake(fake_skypilot.Fake):
    """The tests' fake in explicit-tick mode, with its request counters."""

    def __init__(self, directory):
        super().__init__(directory, extra_args=["--tick-mode", "explicit"])

    def counters(self):
        return self.state()["counters"]

    def queue_round_trip(self, route, body):
        """Seconds for one queue request and its /api/get, sent directly."""
        api = self.endpoint
        start = time.monotonic()
        req = urllib.request.Request(api + route, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            request_id = resp.headers["X-Skypilot-Request-ID"]
            resp.read()
        with urllib.request.urlopen(f"{api}/api/get?request_id={request_id}", timeout=60) as resp:
            resp.read()
        return time.monotonic() - start


def metrics(daemon):
    with urllib.request.urlopen(f"http://{daemon.http}/metrics", timeout=30) as resp:
        text = resp.read().decode()
    out = {"polls": 0, "poll_seconds": 0.0, "running": 0}
    for line in text.splitlines():
        if line.startswith("skydeck_backend_polls_total{"):
            out["polls"] += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("skydeck_backend_poll_seconds_total "):
            out["poll_seconds"] = float(line.rsplit(" ", 1)[1])
        elif re.match(r'skydeck_live_jobs\{status="RUNNING"\} ', line):
            out["running"] = int(line.rsplit(" ", 1)[1])
    return out


def wait_tick(daemon, after, timeout=60):
    """Waits until the daemon has finished more than `after` polls."""
    return wait_for(lambda: (lambda m: m if m["polls"] > after else None)(metrics(daemon)),
                    timeout=timeout, what="a poll tick", interval=0.01)


def diff(after, before):
    return {k: after[k] - before[k] for k in after if isinstance(after[k], (int, float))}


def measure(args, stubs, n):
    resources_pb2, service_pb2, service_pb2_grpc = stubs
    tmp = tempfile.mkdtemp(prefix="skydeck-bench-sky-")
    fake = Fake(tmp)
    daemon = None
    try:
        fake.call("script", {"name_prefix": "skydeck-", "steps": ["RUNNING"]})
        daemon = common.Daemon(args.skydeckd, [
            "--backend", "skypilot", "--skypilot-endpoint", fake.endpoint,
            "--poll-interval", args.poll_interval, "--reconcile-interval", "3600s"])
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))
        for i in range(n):
            exp = resources_pb2.Experiment(name=f"poll-{n}-{i}", base_command="python train.py")
            exp.labels["bench"] = "poll"
            stub.CreateExperiment(service_pb2.CreateExperimentRequest(experiment=exp), timeout=30)
        before_ramp = fake.counters()
        ramp_start = time.monotonic()
        stub.SetDesiredState(service_pb2.SetDesiredStateRequest(
            label_selector="bench=poll", desired_state=resources_pb2.DESIRED_STATE_RUNNING),
            timeout=300)
        wait_for(lambda: metrics(daemon)["running"] == n, timeout=600,
                 what=f"{n} jobs RUNNING", interval=0.2)
        ramp_seconds = time.monotonic() - ramp_start
        ramp = diff(fake.counters(), before_ramp)

        # Steady state: count requests over whole ticks of the poll loop.
        m0 = wait_tick(daemon, metrics(daemon)["polls"])
        c0 = fake.counters()
        m1 = m0
        for _ in range(args.ticks):
            m1 = wait_tick(daemon, m1["polls"])
        c1 = fake.counters()
        ticks = m1["polls"] - m0["polls"]
        per_tick = diff(c1, c0)

        # On-demand polls, right after a tick so the loop stays out of the way.
        m2 = wait_tick(daemon, metrics(daemon)["polls"])
        c2 = fake.counters()
        latencies = []
        for _ in range(args.refreshes):
            t = time.monotonic()
            polled = stub.Refresh(service_pb2.RefreshRequest(), timeout=120).jobs_polled
            latencies.append(time.monotonic() - t)
            if polled != n:
                raise RuntimeError(f"Refresh polled {polled} jobs, expected {n}")
        c3 = fake.counters()
        m3 = metrics(daemon)
        refresh_polls = m3["polls"] - m2["polls"]
        per_refresh = diff(c3, c2)
        if metrics(daemon)["running"] != n:
            raise RuntimeError("jobs left RUNNING during the measurement")
        # The server's share: the daemon's last queue request, replayed.
        last_queue = fake.call("state")["last_queue"]
        if len(last_queue["body"].get("job_ids") or []) != n:
            raise RuntimeError(f"the last queue call did not ask for the {n} jobs")
        direct = [fake.queue_round_trip(last_queue["route"], last_queue["body"])
                  for _ in range(args.refreshes)]
        return {
            "n": n, "ticks": ticks,
            "per_tick": {name: per_tick[key] / ticks for name, key in ROUTES},
            "other_per_tick": sum(per_tick[k] for k in OTHER) / ticks,
            "total_per_tick": sum(per_tick[k] for _, k in ROUTES + [(None, k) for k in OTHER])
            / ticks,
            "refresh_total": sum(per_refresh[k] for _, k in ROUTES + [(None, k) for k in OTHER])
            / max(1, refresh_polls),
            "refresh_polls": refresh_polls,
            "poll_ms": 1000.0 * (m1["poll_seconds"] - m0["poll_seconds"]) / ticks,
            "refresh_p50_ms": 1000.0 * common.percentile(latencies, 50),
            "refresh_max_ms": 1000.0 * max(latencies),
            "direct_p50_ms": 1000.0 * common.percentile(direct, 50),
            "ramp_seconds": ramp_seconds,
            "ramp": {"launch": ramp["launch_calls"], "api/status": ramp["status_calls"],
                     "api/get": ramp["api_get_calls"], "queue": ramp["queue_calls"]},
            "refresh_calls": c3["refresh_calls"],
        }
    finally:
        if daemon is not None:
            daemon.stop()
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def default_skydeckd():
    for build in ("build/release", "build"):
        path = os.path.join(common.REPO, build, "daemon", "skydeckd")
        if os.path.exists(path):
            return path
    return "skydeckd"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", default=default_skydeckd())
    ap.add_argument("--sizes", default="10,100,1000", help="live job counts")
    ap.add_argument("--ticks", type=int, default=10, help="poll ticks measured per size")
    ap.add_argument("--refreshes", type=int, default=5, help="on-demand polls timed per size")
    ap.add_argument("--poll-interval", default="1s", help="the daemon's --poll-interval")
    args = ap.parse_args()
    stubs = common.load_stubs()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rows.append(measure(args, stubs, n))
        r = rows[-1]
        print(f"measured {n} live jobs: {r['total_per_tick']:.2f} requests/tick over "
              f"{r['ticks']} ticks", file=sys.stderr, flush=True)

    print(f"skydeckd: {args.skydeckd}; --poll-interval {args.poll_interval}; "
          f"{args.ticks} ticks and {args.refreshes} Refresh calls per size")
    print()
    print("| live jobs | requests/tick | queue | api/get | api/status | health | other "
          "| poll time (daemon) | Refresh p50 / max (client) | requests/Refresh "
          "| fake's queue+get p50 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        p = r["per_tick"]
        print(f"| {r['n']:,} | {r['total_per_tick']:.2f} | {p['queue']:.2f} | "
              f"{p['api/get']:.2f} | {p['api/status']:.2f} | {p['health']:.2f} | "
              f"{r['other_per_tick']:.2f} | {r['poll_ms']:.1f} ms | "
              f"{r['refresh_p50_ms']:.1f} / {r['refresh_max_ms']:.1f} ms | "
              f"{r['refresh_total']:.2f} | {r['direct_p50_ms']:.1f} ms |")
    print()
    print("Bringing the jobs up (one-time; not per tick):")
    print()
    print("| live jobs | time to all RUNNING | launch | api/status | api/get | queue |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        g = r["ramp"]
        print(f"| {r['n']:,} | {r['ramp_seconds']:.1f} s | {g['launch']} | {g['api/status']} | "
              f"{g['api/get']} | {g['queue']} |")
    print()
    print(f"queue calls with refresh=true: {sum(r['refresh_calls'] for r in rows)}")
    print(f"machine: {common.machine()}; date: {datetime.date.today()}")


if __name__ == "__main__":
    main()
