#!/usr/bin/python3
"""Daemon memory (RSS) as local jobs accumulate: does it grow, does it level
off? Issue 14 item 9 measured ~4 MB per 1,000 local jobs, flat with
MALLOC_ARENA_MAX=1.

  bench/memory_growth.py --config NAME=SKYDECKD[:ENV=VALUE,...] [--config ...]
                         [--jobs 6000] [--experiments 100] [--watchers 8] [--churn 16]

Each config is a daemon binary (plus environment) run in turn on a fresh
data directory with the local backend: `--experiments` experiments running
`true`, started together by one label-selector SetDesiredState per round
(every round is a new run, so each round adds one finished job per
experiment) until `--jobs` jobs have finished; `--watchers` Watch streams,
each on its own connection, follow every round (as `skydeck wait` or a
dashboard would) and are closed at its end; after each round `--churn`
short-lived gRPC clients, each on its own connection as a CLI run would be,
and as many HTTP clients (the bridge's pool threads, as a dashboard), read
every experiment's status. RSS is also split into anonymous memory (heap,
malloc arenas, stacks: what grows if anything does) and file/shared pages
(the binary's code, SQLite's -shm). VmRSS is sampled after every
round; the script prints RSS at 0 (after the first round), 25, 50, 75 and
100% of the jobs, the growth per 1,000 jobs over the second half (0 means
it levelled off), and the peak (VmHWM). Run the configs back to back in one
invocation: ratios are only fair within one run on a shared machine.
"""

import argparse
import datetime
import os
import sqlite3
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


def finished_jobs(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM jobs WHERE ended_at IS NOT NULL").fetchone()[0]


def rss_parts(daemon):
    """(RssAnon, RssFile + RssShmem) in kB: heap, arenas and stacks apart
    from the binary's pages and SQLite's shared-memory index."""
    parts = {}
    with open(f"/proc/{daemon.proc.pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile", "RssShmem"):
                parts[key] = int(line.split()[1])
    return parts.get("RssAnon", 0), parts.get("RssFile", 0) + parts.get("RssShmem", 0)


def http_reads(http, c, clients, experiments):
    """What a dashboard reads, over HTTP (the bridge's pool threads): the
    list, and experiments' status, each on a new connection."""
    urllib.request.urlopen(f"http://{http}/api/experiments?page_size=1000", timeout=60).read()
    for i in range(c, experiments, clients):
        urllib.request.urlopen(f"http://{http}/api/experiments/mem-{i}/status", timeout=60).read()


def churn(address, http, clients, service_pb2, service_pb2_grpc, experiments):
    """`clients` concurrent short-lived clients (each its own connection, like
    one CLI run each) read every experiment's status: the daemon's gRPC
    server starts and retires threads for them, as it does for people and
    scripts calling the CLI."""
    def one(c):
        with grpc.insecure_channel(address) as channel:
            stub = service_pb2_grpc.SkyDeckStub(channel)
            for i in range(c, experiments, clients):
                stub.GetExperimentStatus(service_pb2.GetExperimentStatusRequest(id=f"mem-{i}"),
                                         timeout=60)
    threads = [threading.Thread(target=one, args=(c,)) for c in range(clients)]
    threads += [threading.Thread(target=http_reads, args=(http, c, clients, experiments))
                for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Watcher:
    """A Watch stream on its own connection, read in a thread (as `skydeck
    wait` or an open dashboard does), for one round."""

    def __init__(self, address, service_pb2, service_pb2_grpc, revision):
        self.channel = grpc.insecure_channel(address)
        stub = service_pb2_grpc.SkyDeckStub(self.channel)
        self.stream = stub.Watch(service_pb2.WatchRequest(since_revision=revision))
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def drain(self):
        try:
            for _ in self.stream:
                pass
        except grpc.RpcError:
            pass  # cancelled by close()

    def close(self):
        self.stream.cancel()
        self.thread.join()
        self.channel.close()


def parse_config(text):
    name, rest = text.split("=", 1)
    binary, _, env_text = rest.partition(":")
    env = dict(os.environ)
    for pair in filter(None, env_text.split(",")):
        k, v = pair.split("=", 1)
        env[k] = v
    return name, binary, env, env_text


def run(name, binary, env, args, stubs):
    resources_pb2, service_pb2, service_pb2_grpc = stubs
    daemon = common.Daemon(binary, ["--poll-interval", "200ms"], env=env)
    db = os.path.join(daemon.data_dir, "skydeck.db")
    samples = []  # (finished jobs, rss kB)
    started = time.monotonic()
    try:
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))
        for i in range(args.experiments):
            exp = resources_pb2.Experiment(name=f"mem-{i}", base_command="true")
            exp.labels["bench"] = "memory"
            stub.CreateExperiment(service_pb2.CreateExperimentRequest(experiment=exp), timeout=30)
        rounds = (args.jobs + args.experiments - 1) // args.experiments
        for r in range(1, rounds + 1):
            revision = stub.GetHealth(service_pb2.GetHealthRequest(), timeout=30).health.revision
            watchers = [Watcher(daemon.grpc, service_pb2, service_pb2_grpc, revision)
                        for _ in range(args.watchers)]
            stub.SetDesiredState(service_pb2.SetDesiredStateRequest(
                label_selector="bench=memory",
                desired_state=resources_pb2.DESIRED_STATE_RUNNING), timeout=300)
            want = r * args.experiments
            deadline = time.monotonic() + 600
            while finished_jobs(db) < want:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"round {r}: jobs did not finish")
                time.sleep(0.1)
            for w in watchers:
                w.close()
            churn(daemon.grpc, daemon.http, args.churn, service_pb2, service_pb2_grpc,
                  args.experiments)
            samples.append((want, daemon.rss_kb(), rss_parts(daemon)))
        peak = daemon.peak_rss_kb()
    finally:
        daemon.stop()
    seconds = time.monotonic() - started

    def at(fraction):
        return samples[min(len(samples) - 1, int(fraction * (len(samples) - 1)))]

    half = at(0.5)
    last = samples[-1]
    slope = (last[1] - half[1]) / 1024 / max(1, (last[0] - half[0])) * 1000
    anon_slope = (last[2][0] - half[2][0]) / 1024 / max(1, (last[0] - half[0])) * 1000
    points = "  ".join(f"{j:>6d} jobs {kb / 1024:5.1f} MB (anon {parts[0] / 1024:5.1f})"
                       for j, kb, parts in (at(0), at(0.25), at(0.5), at(0.75), last))
    print(f"{name:16s} {points}  | 2nd half {slope:+.2f} MB/1,000 jobs (anon "
          f"{anon_slope:+.2f}), peak {peak / 1024:.1f} MB, {last[0] / seconds:.1f} jobs/s")
    sys.stdout.flush()
    return {"name": name, "samples": samples, "slope_mb_per_1000": slope, "peak_kb": peak}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", action="append", required=True,
                    help="NAME=SKYDECKD[:ENV=VALUE,...]; repeatable")
    ap.add_argument("--jobs", type=int, default=6000)
    ap.add_argument("--experiments", type=int, default=100)
    ap.add_argument("--watchers", type=int, default=8,
                    help="Watch streams open during each round, each on its own connection")
    ap.add_argument("--churn", type=int, default=16,
                    help="short-lived concurrent clients per round (0: none)")
    args = ap.parse_args()
    stubs = common.load_stubs()
    print(f"machine: {common.machine()}; date: {datetime.date.today()}; "
          f"load {common.load_average():.1f}; {args.jobs} jobs, {args.experiments} experiments")
    for config in args.config:
        name, binary, env, env_text = parse_config(config)
        print(f"# {name}: {binary} {env_text}")
        run(name, binary, env, args, stubs)
    print(f"load {common.load_average():.1f} at the end")


if __name__ == "__main__":
    main()
