#!/usr/bin/python3
"""`skydeck exp list` at scale, per CLI binary in one run (issue 19 goal 5):
time to the first byte on stdout, total time, peak RSS of the CLI, and the
bytes printed, for `-o json`, `-o name` (and any other -o given), against
one skydeckd serving a database of N experiments written through the Store
API (`seed_dashboard --jobs-per-experiment 0`).

  bench/cli_list_stream.py --skydeckd build/release/daemon/skydeckd \\
      --seed build/release/bench/seed_dashboard \\
      --skydeck base=BASE/cli/skydeck --skydeck new=build/release/cli/skydeck \\
      [--experiments 10000,100000] [--formats json,name] [--runs 5] [--warmups 1] [--db-dir DIR]

Binaries take turns run by run (the order flips each run), after
--warmups unmeasured runs each (default 1), once the daemon's start-up resync is over (its CPU idle).
Times are from spawning the CLI (exec and dynamic linking included) to its
first byte and to its exit; peak RSS is the child's ru_maxrss. The outputs
of the binaries are compared (SHA-256): json, yaml and name must match
byte for byte.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def run_cli(skydeck, server, fmt):
    """One `skydeck exp list -o FMT`: (first byte s, total s, peak RSS KB,
    bytes, sha256, exit code)."""
    args = [skydeck, "--server", server, "exp", "list"] + (["-o", fmt] if fmt != "table" else [])
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, bufsize=0)
    digest, size, first = hashlib.sha256(), 0, None
    fd = proc.stdout.fileno()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic() - t0
        size += len(chunk)
        digest.update(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    total = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    return {"first_byte_s": first if first is not None else total, "total_s": total,
            "peak_rss_kb": usage.ru_maxrss, "bytes": size, "sha256": digest.hexdigest(),
            "exit": proc.returncode}


def wait_idle(daemon, timeout=300):
    """Until the daemon used < 5% of a core over 1 s (its start-up resync
    of every experiment is over), or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = daemon.cpu_seconds()
        time.sleep(1.0)
        if daemon.cpu_seconds() - before < 0.05:
            return True
    return False


def seeded_db(seed, db_dir, n):
    path = os.path.join(db_dir, f"seed-{n}.db")
    if not os.path.exists(path):
        subprocess.run([seed, "--db", path, "--experiments", str(n),
                        "--jobs-per-experiment", "0"], check=True, stdout=subprocess.DEVNULL)
    return path


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def measure(args, clis, n, db):
    data_dir = tempfile.mkdtemp(prefix="skydeck-list-stream-")
    shutil.copy(db, os.path.join(data_dir, "skydeck.db"))
    daemon = common.Daemon(args.skydeckd, data_dir=data_dir)
    out = {"experiments": n, "formats": {}}
    try:
        out["daemon_idle"] = wait_idle(daemon)
        out["load_before"] = common.load_average()
        for fmt in args.formats:
            rows = {name: [] for name, _ in clis}
            for _ in range(args.warmups):  # the page cache, the daemon's
                for name, path in clis:
                    run_cli(path, daemon.grpc, fmt)
            for r in range(args.runs):
                order = clis if r % 2 == 0 else list(reversed(clis))
                for name, path in order:
                    result = run_cli(path, daemon.grpc, fmt)
                    if result["exit"] != 0:
                        raise RuntimeError(f"{name} exp list -o {fmt} exited {result['exit']}")
                    rows[name].append(result)
                    print(f"{n} -o {fmt} {name}: first byte {result['first_byte_s']:.3f} s, "
                          f"total {result['total_s']:.2f} s, "
                          f"peak RSS {result['peak_rss_kb'] / 1024:.1f} MB", file=sys.stderr,
                          flush=True)
            summary = {}
            for name, _ in clis:
                summary[name] = {
                    "first_byte_ms": round(median(rows[name], "first_byte_s") * 1000, 1),
                    "first_byte_ms_max": round(max(x["first_byte_s"] for x in rows[name]) * 1000,
                                               1),
                    "total_ms": round(median(rows[name], "total_s") * 1000, 1),
                    "peak_rss_mb": round(median(rows[name], "peak_rss_kb") / 1024, 1),
                    "bytes": rows[name][0]["bytes"], "runs": len(rows[name])}
            hashes = {rows[name][0]["sha256"] for name, _ in clis}
            summary["same_output"] = len(hashes) == 1
            out["formats"][fmt] = summary
        out["load_after"] = common.load_average()
    finally:
        daemon.stop(cleanup=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--seed", required=True, help="seed_dashboard binary")
    ap.add_argument("--skydeck", action="append", required=True, metavar="NAME=PATH")
    ap.add_argument("--experiments", default="10000,100000")
    ap.add_argument("--formats", default="json,name")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmups", type=int, default=1, help="unmeasured runs per binary first")
    ap.add_argument("--db-dir", help="keep seeded databases here (reused when present)")
    args = ap.parse_args()
    args.formats = args.formats.split(",")
    clis = [(s.split("=", 1)[0], os.path.abspath(s.split("=", 1)[1])) for s in args.skydeck]
    db_dir = args.db_dir or tempfile.mkdtemp(prefix="skydeck-list-stream-db-")
    os.makedirs(db_dir, exist_ok=True)
    results = {"machine": common.machine(), "date": str(datetime.date.today()), "sizes": []}
    try:
        for n in (int(x) for x in args.experiments.split(",")):
            results["sizes"].append(measure(args, clis, n, seeded_db(args.seed, db_dir, n)))
    finally:
        if not args.db_dir:
            shutil.rmtree(db_dir, ignore_errors=True)

    for size in results["sizes"]:
        print(f"{size['experiments']} experiments (daemon idle: {size['daemon_idle']}; "
              f"load {size['load_before']}-{size['load_after']})")
        for fmt, summary in size["formats"].items():
            print(f"  -o {fmt}: same output: {summary['same_output']}")
            for name, _ in clis:
                r = summary[name]
                print(f"    {name:8s} first byte {r['first_byte_ms']:9.1f} ms "
                      f"(max {r['first_byte_ms_max']:.1f})  total {r['total_ms']:9.1f} ms  "
                      f"peak RSS {r['peak_rss_mb']:7.1f} MB  {r['bytes']} bytes")
    print(f"machine: {results['machine']}; date: {results['date']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
