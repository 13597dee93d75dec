#!/usr/bin/python3
"""Health, start-up and the periodic resync at scale (issue 19 goals 4, 9),
per daemon binary in one run, on copies of one seeded database.

  bench/health_startup.py --seed-db DB --skydeckd NAME=SKYDECKD[:SKYDECK] [--skydeckd ...]
                          [--starts 3] [--calls 300] [--cli-runs 10]
                          [--resync-interval 20] [--resync-seconds 45]

DB: a database written by `seed_dashboard --experiments 100000
--jobs-per-experiment 10` (100,000 experiments, 1,000,000 ended jobs).
Binaries take turns, each on its own copy of DB (never one database
between two daemons). For each:

1. start-up: exec -> ready file, `--starts` times (a fresh copy each time;
   the daemon is stopped once ready); then, on one more start, the time
   until health no longer reports the background integrity check of the
   history (`database_problem` empty; 0 for a binary without one).
2. on the idle daemon (after its start-up resync, measured as the time
   until its CPU goes quiet): GetHealth p50/p99 over `--calls` calls paced
   every 10 ms, and /metrics; an experiment with its jobs (GetExperiment,
   then ListJobs of its 20 newest, of a random experiment each time) p50/
   p99 over `--calls`; the daemon's RSS; `skydeck health` and `skydeck exp
   describe NAME` wall time, median of `--cli-runs`; the time from spawning
   `skydeck exp list -o json` to its first byte of output, median of 5.
3. the periodic resync: the daemon restarted with `--reconcile-interval
   --resync-interval` s; one client alternates ListExperiments (page of 50)
   and GetExperiment, paced every 5 ms, for `--resync-seconds`; the same
   on a daemon with the resync at 1 h (outside any resync). p50/p99 of
   both, their ratio, and the daemon's CPU seconds per resync interval
   (skipped with `--resync-seconds 0`).

Prints one line per binary and figure.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


def wait_idle(daemon, quiet_seconds=1.0, timeout=900):
    """Until the daemon used < 5% of a core over `quiet_seconds`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = daemon.cpu_seconds()
        time.sleep(quiet_seconds)
        if daemon.cpu_seconds() - before < 0.05 * quiet_seconds:
            return
    raise RuntimeError("daemon did not go idle")


def fresh_dir(seed_db):
    d = tempfile.mkdtemp(prefix="skydeck-bench-health-")
    shutil.copyfile(seed_db, os.path.join(d, "skydeck.db"))
    return d


def start(binary, seed_db, extra=()):
    d = fresh_dir(seed_db)
    return common.Daemon(binary, list(extra), data_dir=d)  # DATA_DIR/skydeck.db


def stop(daemon):
    daemon.stop(cleanup=False)
    shutil.rmtree(daemon.data_dir, ignore_errors=True)


def paced(seconds_or_calls, every, call):
    """Calls `call` every `every` s; latencies in ms."""
    out = []
    n, limit = seconds_or_calls
    end = time.monotonic() + limit if limit else None
    i = 0
    while (n and i < n) or (end and time.monotonic() < end):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
        i += 1
        rest = every - (time.perf_counter() - t0)
        if rest > 0:
            time.sleep(rest)
    return out


def cli_median(cli, args, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([cli] + args, capture_output=True, text=True)
        times.append((time.perf_counter() - t0) * 1000)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {proc.stderr.strip()[:300]}")
    return sorted(times)[len(times) // 2]


def first_byte(cli, args, runs):
    """Median ms from spawning the CLI to the first byte on its stdout (the
    CLI is killed then: the whole listing is cli_list_stream.py's)."""
    firsts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([cli] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = proc.stdout.read(1)
        firsts.append((time.perf_counter() - t0) * 1000)
        proc.kill()
        proc.wait()
        if not got:
            raise RuntimeError(f"{' '.join(args)} printed nothing")
    return sorted(firsts)[runs // 2]


def until_checked(d, timeout=900):
    """Seconds from the daemon's exec until /metrics says the background
    integrity check of the history is done (skydeck_database_check_running
    0; a binary without that gauge checks everything before it is ready)."""
    url = f"http://{d.http}/metrics"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = urllib.request.urlopen(url, timeout=60).read().decode()
        running = [line for line in text.splitlines()
                   if line.startswith("skydeck_database_check_running ")]
        if not running or float(running[0].split()[1]) == 0:
            return time.monotonic() - d.started
        time.sleep(0.02)
    raise RuntimeError("the database check did not finish")


def fmt(lat):
    return (f"p50 {common.percentile(lat, 50):.2f} ms, p99 {common.percentile(lat, 99):.2f} ms "
            f"({len(lat)} calls)")


def probe_mix(stub, service_pb2, seconds, name):
    lst = service_pb2.ListExperimentsRequest(page_size=50)
    get = service_pb2.GetExperimentRequest(id=name)
    flip = [0]

    def one():
        flip[0] ^= 1
        if flip[0]:
            stub.ListExperiments(lst, timeout=60)
        else:
            stub.GetExperiment(get, timeout=60)
    return paced((0, seconds), 0.005, one)


def run(name, binary, cli, args, stubs):
    _, service_pb2, service_pb2_grpc = stubs
    starts = []
    for _ in range(args.starts):
        d = start(binary, args.seed_db)
        starts.append(d.startup_seconds * 1000)
        stop(d)
    print(f"{name:8s} start-up to ready: median {sorted(starts)[len(starts) // 2]:.0f} ms "
          f"(all {', '.join(f'{s:.0f}' for s in starts)})", flush=True)
    d = start(binary, args.seed_db)
    try:
        seconds = until_checked(d)
        print(f"{name:8s} start-up to ready {d.startup_seconds * 1000:.0f} ms; integrity check "
              f"of the history done {seconds:.2f} s after exec", flush=True)
    finally:
        stop(d)

    d = start(binary, args.seed_db, ["--reconcile-interval", "3600s"])
    try:
        t0 = time.monotonic()
        wait_idle(d)
        print(f"{name:8s} start-up resync done (CPU quiet) after "
              f"{time.monotonic() - t0 + d.startup_seconds:.1f} s, daemon CPU "
              f"{d.cpu_seconds():.1f} s", flush=True)
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(d.grpc))
        req = service_pb2.GetHealthRequest()
        health = stub.GetHealth(req, timeout=60).health
        print(f"{name:8s} health counts {dict(health.experiments_by_state)}", flush=True)
        lat = paced((args.calls, 0), 0.01, lambda: stub.GetHealth(req, timeout=60))
        print(f"{name:8s} GetHealth idle: {fmt(lat)}", flush=True)
        url = f"http://{d.http}/metrics"
        lat = paced((50, 0), 0.01, lambda: urllib.request.urlopen(url, timeout=60).read())
        print(f"{name:8s} GET /metrics idle: {fmt(lat)}", flush=True)
        n = sum(health.experiments_by_state.values())
        rng = random.Random(19)

        def experiment_with_jobs():
            ref = str(rng.randint(1, n))
            stub.GetExperiment(service_pb2.GetExperimentRequest(id=ref), timeout=60)
            stub.ListJobs(service_pb2.ListJobsRequest(id=ref, page_size=20), timeout=60)
        lat = paced((args.calls, 0), 0.01, experiment_with_jobs)
        print(f"{name:8s} GetExperiment + ListJobs(20), random of {n}: {fmt(lat)}", flush=True)
        print(f"{name:8s} daemon RSS idle {d.rss_kb() / 1024:.0f} MB, peak {d.peak_rss_kb() / 1024:.0f} MB",
              flush=True)
        first = stub.ListExperiments(service_pb2.ListExperimentsRequest(page_size=1),
                                     timeout=60).experiments[0].name
        if cli:
            ms = cli_median(cli, ["--server", d.grpc, "health"], args.cli_runs)
            print(f"{name:8s} skydeck health: median {ms:.1f} ms", flush=True)
            ms = cli_median(cli, ["--server", d.grpc, "exp", "describe", first], args.cli_runs)
            print(f"{name:8s} skydeck exp describe: median {ms:.1f} ms", flush=True)
            fb = first_byte(cli, ["--server", d.grpc, "exp", "list", "-o", "json"], 5)
            print(f"{name:8s} skydeck exp list -o json: first byte {fb:.1f} ms (median of 5)",
                  flush=True)
        if args.resync_seconds:
            lat = probe_mix(stub, service_pb2, args.resync_seconds, first)
            print(f"{name:8s} list+get, no resync: {fmt(lat)}", flush=True)
            quiet = lat
    finally:
        stop(d)

    if args.resync_seconds == 0:
        return
    d = start(binary, args.seed_db, ["--reconcile-interval", f"{args.resync_interval}s"])
    try:
        wait_idle(d)
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(d.grpc))
        first = stub.ListExperiments(service_pb2.ListExperimentsRequest(page_size=1),
                                     timeout=60).experiments[0].name
        cpu0, t0 = d.cpu_seconds(), time.monotonic()
        lat = probe_mix(stub, service_pb2, args.resync_seconds, first)
        cpu = (d.cpu_seconds() - cpu0) / (time.monotonic() - t0) * args.resync_interval
        ratio = common.percentile(lat, 99) / common.percentile(quiet, 99)
        print(f"{name:8s} list+get, resync every {args.resync_interval} s: {fmt(lat)}; "
              f"p99 {ratio:.2f}x no resync; daemon CPU {cpu:.1f} s per interval "
              f"(probe included)", flush=True)
    finally:
        stop(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed-db", required=True)
    ap.add_argument("--skydeckd", action="append", required=True,
                    help="NAME=SKYDECKD[:SKYDECK]")
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--cli-runs", type=int, default=10)
    ap.add_argument("--resync-interval", type=int, default=20)
    ap.add_argument("--resync-seconds", type=int, default=45)
    args = ap.parse_args()
    stubs = common.load_stubs()
    print(f"machine: {common.machine()}; load average {common.load_average():.1f}", flush=True)
    for spec in args.skydeckd:
        name, _, paths = spec.partition("=")
        binary, _, cli = paths.partition(":")
        run(name, binary, cli or None, args, stubs)
    print(f"load average at the end {common.load_average():.1f}", flush=True)


if __name__ == "__main__":
    main()
