#!/usr/bin/env python3
"""dashboard_scale: the dashboard at N experiments with J jobs each, before
and after, in one run: tests/browser/run_scale_test.py (measure only) with a
baseline skydeckd (e.g. a build of an older commit, its own embedded
dashboard) and then this tree's, on databases seeded the same way by
seed_dashboard (through the Store API). Prints one table row per build and
the ratios.

    bench/dashboard_scale.py --base-skydeckd OLD/skydeckd --skydeckd NEW/skydeckd \\
        --seed NEW/bench/seed_dashboard [--small 100] [--experiments 10000] [--jobs 10] \\
        [--base-schema]

--base-schema: the baseline binary predates the jobs_by_experiment index
(schema version 3); its databases are opened as version 3.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(os.path.dirname(HERE), "tests", "browser", "run_scale_test.py")


def run(skydeckd, seed, small, large, jobs, base_schema):
    cmd = [sys.executable, RUNNER, "--measure-only", "--skydeckd", skydeckd, "--seed", seed,
           "--small", str(small), "--large", str(large), "--jobs", str(jobs)]
    if base_schema:
        cmd.append("--base-schema")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    figures = [json.loads(line.split("FIGURES ", 1)[1]) for line in out.splitlines() if "FIGURES " in line]
    if len(figures) != 2:
        raise SystemExit(f"expected two FIGURES lines, got:\n{out}")
    return figures


def row(name, small, large):
    k = large["keys"]
    return (f"| {name} | {small['requestsOnLoad']} / {large['requestsOnLoad']} | {large['perExperiment']} | "
            f"{large['domRows']} | {large['listAnswerMs']:.0f} | {large['paintAfterListMs']:.0f} | "
            f"{large['scroll']['p50']:.1f} / {large['scroll']['p95']:.1f} | "
            f"{k['typingMedian']:.0f} / {k['typingMax']:.0f} | {k['clear']:.0f} | {k['filter']:.0f} | "
            f"{k['regroup']:.0f} / {k['ungroup']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-skydeckd", required=True)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--base-schema", action="store_true")
    args = ap.parse_args()
    base = run(args.base_skydeckd, args.seed, args.small, args.experiments, args.jobs, args.base_schema)
    new = run(args.skydeckd, args.seed, args.small, args.experiments, args.jobs, False)
    print(f"{args.experiments} experiments, {args.experiments * args.jobs} jobs "
          f"(requests: at {args.small} / at {args.experiments})")
    print("| build | requests on load | per-experiment requests | DOM rows | list answer ms | "
          "paint after list ms | scroll frame p50 / p95 ms | keystroke median / max ms | "
          "clear ms | filter ms | regroup / ungroup ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(row("base", *base))
    print(row("new", *new))
    b, n = base[1], new[1]
    ratios = {
        "paint after list": b["paintAfterListMs"] / max(n["paintAfterListMs"], 1e-9),
        "scroll p95": b["scroll"]["p95"] / max(n["scroll"]["p95"], 1e-9),
        "keystroke max": b["keys"]["typingMax"] / max(n["keys"]["typingMax"], 1e-9),
        "regroup": b["keys"]["regroup"] / max(n["keys"]["regroup"], 1e-9),
    }
    print("base / new: " + ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items()))
    print("raw: " + json.dumps({"base": base, "new": new}))


if __name__ == "__main__":
    main()
