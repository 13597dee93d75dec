#!/usr/bin/python3
"""Load harness: a real skydeckd with 10,000 experiments and 100,000 jobs of
history, driven by concurrent gRPC and HTTP clients (bench/load/, the
`skydeck_load` tool), with every acknowledged write read back before and
after a graceful restart.

  bench/load_test.py --skydeckd build/release/daemon/skydeckd \\
      --skydeck-load build/release/bench/skydeck_load [--experiments 10000 --rounds 10]
  bench/load_test.py --smoke ...     # the short version ctest runs (label bench)

Phases, in one run:
  startup/empty  skydeckd start-up (exec to ready file) on an empty database
  create         N gRPC + M HTTP clients create the experiments
  history        the real reconciler runs ROUNDS jobs per experiment on the
                 local backend (`true`; `false` for one in ten), started by
                 label selector as a user would; nothing is written to the
                 database except through the daemon
  mix            the clients for SECONDS: get, list (first page, label page,
                 next page), UpdateExperiment, UpdateFlags, SetDesiredState,
                 create; each client the only writer of its share
  verify         every acknowledged write read back (by id and by walking
                 the list); then a graceful restart (SIGTERM) and again
  list           ListExperiments latency on the idle restarted daemon
  startup/full   start-up on the full database, against startup/empty
It reports throughput and p50/p99 per RPC, daemon CPU seconds (utime+stime
from /proc/<pid>/stat) and RSS (VmHWM peak, VmRSS at the end), the load
average of the machine, and fails on any error or lost write.

--save-seed DIR keeps the database and ledger after the history phase;
--from-seed DIR starts from them (skipping create and history).
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import common  # noqa: E402
from harness import kill_processes_under  # noqa: E402


class Sampler:
    """Samples the daemon's RSS and the machine's load average while a
    phase runs."""

    def __init__(self, daemon, interval=0.25):
        self.daemon, self.interval = daemon, interval
        self.rss_max_kb, self.loads = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        ticks = 0
        while not self._stop.is_set():
            try:
                self.rss_max_kb = max(self.rss_max_kb, self.daemon.rss_kb())
            except OSError:
                pass
            if ticks % int(2 / self.interval) == 0:
                self.loads.append(common.load_average())
            ticks += 1
            self._stop.wait(self.interval)


class Run:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="skydeck-load-")
        self.data_dir = os.path.join(self.work, "data")
        os.makedirs(self.data_dir)
        self.ledger = os.path.join(self.work, "ledger.jsonl")
        self.daemon = None
        self.results = {"machine": common.machine(), "date": str(datetime.date.today()),
                        "args": vars(args), "phases": {}, "load_average": [], "stops": []}
        self.failures = []

    # ---- daemon ---------------------------------------------------------

    def start(self, data_dir=None):
        d = common.Daemon(self.args.skydeckd, data_dir=data_dir or self.data_dir)
        if data_dir is None:
            self.daemon = d
        return d

    def stop(self, daemon, label):
        """Graceful stop (SIGTERM); records how long it took."""
        t0 = time.monotonic()
        daemon.stop(cleanup=False)
        seconds = round(time.monotonic() - t0, 2)
        self.results["stops"].append({"after": label, "seconds": seconds,
                                      "exit": daemon.proc.returncode})
        if daemon.proc.returncode != 0:
            with open(daemon.log.name, errors="replace") as f:
                tail = "".join(f.readlines()[-15:])
            self.failures.append(f"skydeckd exited with {daemon.proc.returncode} {seconds}s after "
                                 f"SIGTERM (after {label}); log tail:\n{tail}")

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.daemon.http}/metrics", timeout=30) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def wait_for_resync(self, experiments):
        """Waits until the start-up resync has reconciled every experiment,
        so later figures do not include it; returns the seconds it took."""
        t0 = time.monotonic()
        deadline = t0 + self.args.resync_timeout
        while True:
            m = self.metrics()
            done = (m.get('skydeck_reconciles_total{outcome="ok"}', 0) +
                    m.get('skydeck_reconciles_total{outcome="error"}', 0))
            if done >= experiments and m.get("skydeck_reconcile_queue_depth", 1) == 0:
                return time.monotonic() - t0
            if time.monotonic() > deadline:
                raise RuntimeError(f"resync did not finish: {done} of {experiments} reconciled")
            time.sleep(0.1)

    # ---- phases ---------------------------------------------------------

    def load(self, *phase_args, clients=True):
        a = self.args
        cmd = [a.skydeck_load, "--grpc", self.daemon.grpc, "--ledger", self.ledger,
               "--prefix", "load"]
        if clients:
            cmd += ["--http", self.daemon.http, "--grpc-clients", str(a.grpc_clients),
                    "--http-clients", str(a.http_clients)]
        else:
            cmd += ["--http", self.daemon.http]
        cmd += list(phase_args)
        name = phase_args[0]
        cpu0, t0 = self.daemon.cpu_seconds(), time.monotonic()
        with Sampler(self.daemon) as sampler:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        if proc.stderr.strip():
            print(proc.stderr, file=sys.stderr)
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            result = {"errors": 1, "output": proc.stdout[-2000:]}
        result["daemon"] = {
            "cpu_s": round(self.daemon.cpu_seconds() - cpu0, 2),
            "cpu_s_per_wall_s": round((self.daemon.cpu_seconds() - cpu0) / wall, 2),
            "rss_max_sampled_mb": round(sampler.rss_max_kb / 1024, 1),
            "rss_end_mb": round(self.daemon.rss_kb() / 1024, 1),
            "rss_peak_lifetime_mb": round(self.daemon.peak_rss_kb() / 1024, 1),
            "pss_end_mb": round(self.daemon.pss_kb() / 1024, 1),
        }
        result["load_average"] = [min(sampler.loads or [0]), max(sampler.loads or [0])]
        self.results["load_average"] += sampler.loads
        if proc.returncode != 0:
            self.failures.append(f"{name} failed (exit {proc.returncode}): "
                                 f"{json.dumps(result.get('details') or result.get('errors_sample') or result)[:600]}")
        return result

    def startups(self, data_dir, n, label):
        seconds = []
        for _ in range(n):
            d = self.start(data_dir)
            seconds.append(d.startup_seconds)
            self.stop(d, label)
        self.results["phases"][label] = {
            "runs": n, "median_ms": round(statistics.median(seconds) * 1000, 1),
            "min_ms": round(min(seconds) * 1000, 1), "max_ms": round(max(seconds) * 1000, 1)}
        return statistics.median(seconds)

    def database_counts(self):
        db = os.path.join(self.data_dir, "skydeck.db")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
            q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
            return {"experiments": q("SELECT count(*) FROM experiments"),
                    "jobs": q("SELECT count(*) FROM jobs"),
                    "live_jobs": q("SELECT count(*) FROM jobs WHERE ended_at IS NULL"),
                    "events": q("SELECT count(*) FROM events"),
                    "db_mb": round(os.path.getsize(db) / 2**20, 1)}

    def seed(self):
        a, phases = self.args, self.results["phases"]
        if a.from_seed:
            shutil.copy(os.path.join(a.from_seed, "skydeck.db"), self.data_dir)
            shutil.copy(os.path.join(a.from_seed, "ledger.jsonl"), self.ledger)
            self.start()
            return
        self.start()
        phases["create"] = self.load("create", "--count", str(a.experiments))
        phases["history"] = self.load("history", "--rounds", str(a.rounds), clients=False)
        self.stop(self.daemon, "history")
        phases["seed_database"] = self.database_counts()
        if a.save_seed:
            os.makedirs(a.save_seed, exist_ok=True)
            shutil.copy(os.path.join(self.data_dir, "skydeck.db"), a.save_seed)
            shutil.copy(self.ledger, a.save_seed)
        self.start()

    def main(self):
        a, phases = self.args, self.results["phases"]
        empty_dir = os.path.join(self.work, "empty")
        os.makedirs(empty_dir)
        self.startups(empty_dir, a.startup_repeats, "startup_empty")
        self.seed()
        live = self.database_counts()["experiments"]
        phases["resync_after_start_s"] = round(self.wait_for_resync(live), 2)
        phases["mix"] = self.load("mix", "--seconds", str(a.seconds),
                                  *(["--no-launches"] if a.no_launches else []))
        phases["verify_live"] = self.load("verify", clients=False)
        if a.self_check:
            self.tamper_check()
        # Graceful restart on the same database: nothing acknowledged may be lost.
        self.stop(self.daemon, "mix and verify")
        phases["after_mix_database"] = self.database_counts()
        self.start()
        phases["restart_startup_ms"] = round(self.daemon.startup_seconds * 1000, 1)
        phases["verify_after_restart"] = self.load("verify", clients=False)
        phases["resync_after_restart_s"] = round(
            self.wait_for_resync(phases["after_mix_database"]["experiments"]), 2)
        phases["list"] = self.load("list", "--repeats", str(a.list_repeats),
                                   "--walk-repeats", str(a.walk_repeats), clients=False)
        self.stop(self.daemon, "list")
        full = self.startups(self.data_dir, a.startup_repeats, "startup_full")
        empty = phases["startup_empty"]["median_ms"] / 1000
        phases["startup_full"]["ratio_to_empty"] = round(full / empty, 2)
        loads = self.results["load_average"] or [0]
        self.results["load_average"] = {"min": min(loads), "max": max(loads),
                                        "mean": round(statistics.mean(loads), 2)}

    def tamper_check(self):
        """Proves verify can fail: an experiment changed behind the ledger's
        back must be reported."""
        with open(self.ledger) as f:
            eid = json.loads(f.readline())["experiment"]["id"]
        req = urllib.request.Request(
            f"http://{self.daemon.http}/api/experiments/{eid}", method="PATCH",
            data=json.dumps({"experiment": {"description": "tampered"},
                             "update_mask": "description"}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()
        failures_before = list(self.failures)
        tampered = self.load("verify", clients=False)
        self.failures = failures_before
        if tampered.get("mismatched") != 1 or tampered.get("ok") is not False:
            self.failures.append(f"self-check: verify missed a tampered write: {tampered}")
        # Put the ledger's value back so the real checks stay meaningful.
        with open(self.ledger) as f:
            want = json.loads(f.readline())["experiment"].get("description", "")
        req = urllib.request.Request(
            f"http://{self.daemon.http}/api/experiments/{eid}", method="PATCH",
            data=json.dumps({"experiment": {"description": want},
                             "update_mask": "description"}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()
        self.results["phases"]["self_check"] = "verify reported the tampered write"

    def cleanup(self):
        if self.daemon and self.daemon.proc.poll() is None:
            self.daemon.proc.send_signal(signal.SIGKILL)
            self.daemon.proc.wait()
        kill_processes_under(self.work)
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def print_summary(results):
    p = results["phases"]
    print(f"machine: {results['machine']}; date: {results['date']}; "
          f"load average {results['load_average']}")
    for key in ("startup_empty", "startup_full"):
        print(f"{key}: {p[key]}")
    for key in ("create", "history", "mix"):
        if key not in p:
            continue
        r = p[key]
        print(f"{key}: {r.get('calls', r.get('jobs_made'))} in {r['seconds']:.1f}s, "
              f"errors {r['errors']}, daemon {r['daemon']}")
        for op, s in sorted(r.get("ops", {}).items()):
            print(f"    {op:40s} n={s['count']:6d} err={s['errors']} {s['per_s']:7.1f}/s "
                  f"p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms")
    for key in ("verify_live", "verify_after_restart"):
        r = p[key]
        print(f"{key}: ok={r['ok']} checked={r['checked']} lost={r['lost']} "
              f"mismatched={r['mismatched']} uncertain={r['uncertain_skipped']} "
              f"listed={r['listed']} missing_from_list={r['missing_from_list']}")
    for transport in ("grpc", "http"):
        lp = p["list"].get(transport, {})
        for fig, v in lp.items():
            print(f"list {transport} {fig}: {v}")
    print("databases:", p.get("seed_database"), p.get("after_mix_database"))
    print("graceful stops (s):", [s["seconds"] for s in results["stops"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--skydeck-load", required=True)
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=10, help="jobs per experiment in the history")
    ap.add_argument("--grpc-clients", type=int, default=8)
    ap.add_argument("--http-clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=60, help="length of the mixed phase")
    ap.add_argument("--startup-repeats", type=int, default=5)
    ap.add_argument("--list-repeats", type=int, default=50)
    ap.add_argument("--walk-repeats", type=int, default=5)
    ap.add_argument("--resync-timeout", type=float, default=600)
    ap.add_argument("--no-launches", action="store_true",
                    help="mix: toggle desired state STOPPED/TERMINATED only, so no job is "
                         "launched (the API's cost alone)")
    ap.add_argument("--self-check", action="store_true",
                    help="also prove verify catches a write changed behind its back")
    ap.add_argument("--smoke", action="store_true",
                    help="a short run: 300 experiments, 2 rounds, 2+2 clients, 5 s, self-check")
    ap.add_argument("--save-seed")
    ap.add_argument("--from-seed")
    ap.add_argument("--json", help="also write all results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.smoke:
        args.experiments, args.rounds, args.grpc_clients, args.http_clients = 300, 2, 2, 2
        args.seconds, args.startup_repeats, args.list_repeats, args.walk_repeats = 5, 2, 5, 1
        args.self_check = True
    run = Run(args)
    try:
        run.main()
    except Exception as e:  # noqa: BLE001 - reported as a failure below
        run.failures.append(f"{type(e).__name__}: {e}")
    finally:
        run.cleanup()
    if "list" in run.results["phases"]:
        print_summary(run.results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(run.results, f, indent=2)
    for phase, r in run.results["phases"].items():
        if isinstance(r, dict) and r.get("errors"):
            run.failures.append(f"{phase}: {r['errors']} errors")
    if run.failures:
        print("FAILED:\n  " + "\n  ".join(dict.fromkeys(run.failures)), file=sys.stderr)
        return 1
    print("load held: no errors, nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
