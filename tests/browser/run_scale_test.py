#!/usr/bin/env python3
"""Runs the dashboard scale test (scale.test.mjs): seeds two databases with
bench/seed_dashboard (SMALL and LARGE experiments, JOBS ended jobs each,
through the Store API), starts a skydeckd on each (temporary data
directories, free loopback ports, the dashboard embedded in the binary),
and lets Chromium load and measure the dashboard from both. Everything it
started is stopped afterwards.

    run_scale_test.py [--small 100] [--large 2000] [--jobs 3]
                      [--skydeckd BIN] [--seed BIN] [--base-schema] [--measure-only]

Environment: SKYDECKD and SEED_DASHBOARD (the defaults of --skydeckd and
--seed), CHROMIUM (default /usr/bin/chromium), NODE (default node).
--base-schema opens the databases as schema version 3 (without the
jobs_by_experiment index) for a skydeckd built before that migration: the
baseline of bench/dashboard_scale.py. --measure-only prints the figures and
asserts nothing. Exit code 77 (ctest SKIP_RETURN_CODE) when Chromium,
playwright-core or the embedded dashboard is missing.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_dashboard_test import browser_or_skip, serves_dashboard, skip, start_daemon, stop_daemons  # noqa: E402


def seed(seed_bin, data_dir, experiments, jobs, base_schema):
    os.makedirs(data_dir)
    db = os.path.join(data_dir, "skydeck.db")
    subprocess.run([seed_bin, "--db", db, "--experiments", str(experiments),
                    "--jobs-per-experiment", str(jobs)], check=True, stdout=subprocess.DEVNULL)
    if base_schema:
        # The same rows as an older skydeckd's schema (version 3) holds them.
        with sqlite3.connect(db) as conn:
            conn.execute("DROP INDEX jobs_by_experiment")
            conn.execute("PRAGMA user_version = 3")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=3, help="ended jobs per experiment")
    ap.add_argument("--skydeckd", default=os.environ.get("SKYDECKD"))
    ap.add_argument("--seed", default=os.environ.get("SEED_DASHBOARD"))
    ap.add_argument("--base-schema", action="store_true")
    ap.add_argument("--measure-only", action="store_true")
    args = ap.parse_args()
    if not args.skydeckd or not args.seed:
        raise SystemExit("--skydeckd and --seed (or SKYDECKD, SEED_DASHBOARD) are required")
    chromium = browser_or_skip()

    tmp = tempfile.mkdtemp(prefix="skydeck-scale-")
    daemons = []
    code = 1
    try:
        env = dict(os.environ, CHROMIUM=chromium, SCALE_ASSERT="0" if args.measure_only else "1")
        for size, n in (("SMALL", args.small), ("LARGE", args.large)):
            data_dir = os.path.join(tmp, size.lower())
            seed(args.seed, data_dir, n, args.jobs, args.base_schema)
            _, http_addr = start_daemon(daemons, args.skydeckd, data_dir, None)
            if not serves_dashboard(http_addr):
                skip("this skydeckd was built without the dashboard (no npm at build time)")
            env[f"SKYDECK_HTTP_{size}"] = f"http://{http_addr}"
            env[f"SCALE_{size}"] = str(n)
        code = subprocess.call([os.environ.get("NODE", "node"), "--test", "--test-reporter=spec",
                                os.path.join(HERE, "scale.test.mjs")], env=env)
    finally:
        stop_daemons(daemons, show_logs=code != 0, tail=5000)
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
