#!/usr/bin/python3
"""What skydeckd's database safety costs at scale: the start-up integrity
check, the online backup, and writes while a backup runs.

    bench/db_safety.py --skydeckd build/release/daemon/skydeckd \
        --skydeck build/release/cli/skydeck [--baseline-skydeckd OLD] \
        [--experiments 100000 --jobs 1000000] [--db DIR/skydeck.db] [--keep DIR]

1. A database of --experiments experiments and --jobs jobs (with ~6.5
   events per job, the mix the load harness's real runs produce), written
   with SQL straight into the schema a real skydeckd created: the cost of
   an integrity check depends on pages, not on how rows got there (the load
   harness writes through the daemon and needs ~1.6 h per 100,000 jobs).
   --db reuses one made earlier (--keep DIR keeps it).
2. `PRAGMA quick_check` and `PRAGMA integrity_check` on it (Python's
   sqlite3, the same SQLite library), median of 3, page cache warm.
3. skydeckd start-up (exec -> ready file) on it, median of 3: the default
   bounded check, the whole check, no check, and --baseline-skydeckd (a
   binary from before the check), alternating in the same run.
4. `skydeck backup` of the live daemon: wall time and size; meanwhile 4
   threads update experiments over gRPC: write latency p50/p99 during the
   backup against the same writers before it.
"""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def make_schema(skydeckd, data_dir):
    """A fresh database with the real schema: start skydeckd once."""
    d = common.Daemon(skydeckd, ["--no-http"], data_dir=data_dir)
    d.stop(cleanup=False)
    return os.path.join(data_dir, "skydeck.db")


def fill(db, experiments, jobs):
    """Experiments, jobs and events shaped like the load harness's."""
    rnd = random.Random(7)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    now = int(time.time() * 1000)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO experiments (id, name, description, base_command, flags, run_name, "
        "labels, desired_state, generation, observed_generation, observed_state, "
        "conditions, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ((i, f"exp-{i}", "bench experiment", "python train.py",
          f'{{"model.layers":{i % 64},"trainer.lr":0.0003,"data.path":"/data/set-{i % 10}"}}',
          f"run-{i}", f'{{"bench":"load","sweep":"s{i % 20}","group":"g{i % 100}"}}',
          "STOPPED", 12, 12, "STOPPED",
          '[{"type":"Reconciling","status":false,"reason":"Stopped",'
          '"message":"desired state reached","last_transition_ms":' + str(now) + '}]',
          now, now) for i in range(1, experiments + 1)))
    conn.execute("COMMIT")
    per_exp = max(1, jobs // experiments)
    event_types = ["LaunchIntent", "Launched", "JobStatusChanged", "JobStatusChanged",
                   "DesiredStateChanged", "Reconciled"]
    job_id = 0
    event_id = 0
    batch = 20000
    for start in range(1, experiments + 1, batch):
        conn.execute("BEGIN")
        job_rows, event_rows = [], []
        for e in range(start, min(start + batch, experiments + 1)):
            for attempt in range(1, per_exp + 1):
                job_id += 1
                if job_id > jobs:
                    break
                status = "FAILED" if rnd.random() < 0.1 else "SUCCEEDED"
                job_rows.append((
                    job_id, e, attempt, "local", f"skydeck-abcd1234-{e}-{attempt}",
                    f"local:{job_id}", status, status,
                    "python train.py 'data.path=/data/set-1' 'model.layers=4' "
                    "'trainer.lr=0.0003'",
                    '{"model.layers":4,"trainer.lr":0.0003,"data.path":"/data/set-1"}',
                    1, 0, f"run-{e}", now, now, now, 1 if status == "FAILED" else 0,
                    "exit code 1" if status == "FAILED" else ""))
                n = 6 if rnd.random() < 0.5 else 7
                for k in range(n):
                    event_id += 1
                    event_rows.append((event_id, now, e, job_id, event_types[k % 6],
                                       "Bench", f"job {job_id} attempt {attempt}: "
                                       f"{event_types[k % 6]} (bench event {k})",
                                       "reconciler"))
        conn.executemany(
            "INSERT INTO jobs (id, experiment_id, attempt, backend, backend_name, "
            "backend_job_id, status, backend_status, command, flags, nodes, gpus, run_name, "
            "submitted_at, started_at, ended_at, exit_code, failure_reason) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", job_rows)
        conn.executemany(
            "INSERT INTO events (id, time, experiment_id, job_id, type, reason, message, actor) "
            "VALUES (?,?,?,?,?,?,?,?)", event_rows)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return job_id, event_id


def timed_pragma(db, pragma, repeats=3):
    times, result = [], None
    for _ in range(repeats):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        t = time.monotonic()
        result = conn.execute(f"PRAGMA {pragma}").fetchall()
        times.append(time.monotonic() - t)
        conn.close()
    return statistics.median(times), result


def startup(skydeckd, data_dir, extra=()):
    """Starts and stops skydeckd once; returns (seconds from exec to the
    ready file, the tables its check logged as left unchecked or "")."""
    log = os.path.join(data_dir, "skydeckd.log")
    offset = os.path.getsize(log) if os.path.exists(log) else 0
    d = common.Daemon(skydeckd, ["--no-http", "--reconcile-interval", "1h", *extra],
                      data_dir=data_dir)
    d.stop(cleanup=False)
    with open(log, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    unchecked = ""
    for line in text.splitlines():
        if "database check incomplete" in line:
            unchecked = next((w[len("unchecked="):] for w in line.split()
                              if w.startswith("unchecked=")), "?")
    return d.startup_seconds, unchecked


class Writers:
    """4 threads updating experiments' descriptions over gRPC; latencies by
    start time so a window can be picked out afterwards."""

    def __init__(self, address, experiments, threads=4):
        self.pb = common.load_stubs()
        self.address = address
        self.experiments = experiments
        self.samples = []  # (start monotonic, seconds)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors = 0
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, index):
        import grpc
        from google.protobuf import field_mask_pb2
        resources_pb2, service_pb2, service_pb2_grpc = self.pb
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(self.address))
        rnd = random.Random(index)
        n = 0
        while not self.stop.is_set():
            n += 1
            exp = rnd.randint(1, self.experiments)
            req = service_pb2.UpdateExperimentRequest(
                id=str(exp), experiment=resources_pb2.Experiment(description=f"w{index}-{n}"),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]))
            t = time.monotonic()
            try:
                stub.UpdateExperiment(req, timeout=30)
            except grpc.RpcError:
                self.errors += 1
                continue
            with self.lock:
                self.samples.append((t, time.monotonic() - t))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()

    def window(self, begin, end):
        return [s for t, s in self.samples if begin <= t < end]


def ms(values, p):
    return common.percentile(values, p) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--skydeck", required=True)
    ap.add_argument("--baseline-skydeckd", help="a skydeckd without the start-up check")
    ap.add_argument("--experiments", type=int, default=100000)
    ap.add_argument("--jobs", type=int, default=1000000)
    ap.add_argument("--db", help="reuse this database (a copy is used)")
    ap.add_argument("--keep", help="keep the generated database in this directory")
    ap.add_argument("--baseline-seconds", type=float, default=10)
    args = ap.parse_args()

    print(f"machine: {common.machine()}; load {common.load_average():.1f}")
    work = tempfile.mkdtemp(prefix="skydeck-dbsafety-")
    try:
        data_dir = os.path.join(work, "data")
        os.makedirs(data_dir)
        db = os.path.join(data_dir, "skydeck.db")
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            t = time.monotonic()
            make_schema(args.skydeckd, data_dir)
            n_jobs, n_events = fill(db, args.experiments, args.jobs)
            print(f"generated {args.experiments} experiments, {n_jobs} jobs, {n_events} events "
                  f"in {time.monotonic() - t:.0f} s")
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                shutil.copyfile(db, os.path.join(args.keep, "skydeck.db"))
        conn = sqlite3.connect(db)
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("experiments", "jobs", "events")]
        conn.close()
        size_mb = os.path.getsize(db) / 1e6
        print(f"database: {counts[0]} experiments, {counts[1]} jobs, {counts[2]} events, "
              f"{size_mb:.0f} MB")

        quick, result = timed_pragma(db, "quick_check")
        print(f"PRAGMA quick_check: {quick:.2f} s (median of 3) -> {result[:1]}")
        full, result = timed_pragma(db, "integrity_check")
        print(f"PRAGMA integrity_check: {full:.2f} s (median of 3) -> {result[:1]}")

        variants = [("default (--db-check-timeout 10s)", args.skydeckd, ()),
                    ("whole check (--db-check-timeout 10m)", args.skydeckd,
                     ("--db-check-timeout", "10m")),
                    ("no check (--db-check-timeout 0)", args.skydeckd, ("--db-check-timeout", "0"))]
        if args.baseline_skydeckd:
            variants.append(("baseline binary", args.baseline_skydeckd, ()))
        times = {name: [] for name, _, _ in variants}
        unchecked = {}
        for _ in range(3):
            for name, binary, extra in variants:
                seconds, left = startup(binary, data_dir, extra)
                times[name].append(seconds)
                if left:
                    unchecked[name] = left
        for name, _, _ in variants:
            print(f"skydeckd start-up, {name}: median {statistics.median(times[name]):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in times[name])})")
            if name in unchecked:
                print(f"    left unchecked (logged) in a run: {unchecked[name]}")
        print(f"    load {common.load_average():.1f}")

        d = common.Daemon(args.skydeckd, ["--no-http", "--reconcile-interval", "1h"],
                          data_dir=data_dir)
        writers = Writers(d.grpc, counts[0])
        writers.start()
        time.sleep(args.baseline_seconds)
        out = os.path.join(work, "backup.db")
        b0 = time.monotonic()
        proc = subprocess.run([args.skydeck, "--server", d.grpc, "backup", out],
                              capture_output=True, text=True)
        b1 = time.monotonic()
        time.sleep(2)
        writers.finish()
        d.stop(cleanup=False)
        if proc.returncode != 0:
            print("backup failed:", proc.stderr)
            return 1
        before = writers.window(b0 - args.baseline_seconds, b0)
        during = writers.window(b0, b1)
        print(f"skydeck backup: {b1 - b0:.2f} s, {os.path.getsize(out) / 1e6:.0f} MB; "
              f"{proc.stderr.strip()}")
        print(f"UpdateExperiment, 4 writers: before the backup {len(before)} calls, "
              f"p50 {ms(before, 50):.1f} ms, p99 {ms(before, 99):.1f} ms, "
              f"max {max(before) * 1000:.1f} ms; during it {len(during)} calls, "
              f"p50 {ms(during, 50):.1f} ms, p99 {ms(during, 99):.1f} ms, "
              f"max {max(during) * 1000 if during else float('nan'):.1f} ms; "
              f"{writers.errors} errors; load {common.load_average():.1f}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
