#!/usr/bin/python3
"""Wall time of the scripting CLI against a real skydeckd (issue 7):
`skydeck exp list -o json` with 10,000 experiments (hyperfine), a
1,000-experiment `skydeck sweep` (10x10x10 grid), and the README's shell
loop of 1,000 `skydeck exp create` calls for comparison, in one run.

  bench/cli_bench.py --skydeckd build/release/daemon/skydeckd \\
      --skydeck build/release/cli/skydeck --skydeck-load build/release/bench/skydeck_load \\
      [--experiments 10000] [--runs 3] [--from-seed DIR]

The 10,000 experiments are created with `skydeck_load create` (8 gRPC
clients); --from-seed DIR starts from a database saved by
`load_test.py --save-seed DIR` instead (10,000 experiments with 100,000
jobs of history). Needs hyperfine (apt-get install hyperfine).
"""

import argparse
import datetime
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

GRID = [f"model.layers={','.join(str(n) for n in range(1, 11))}",
        f"model.width={','.join(str(64 * n) for n in range(1, 11))}",
        f"seed={','.join(str(n) for n in range(10))}"]

LOOP = """
for l in 1 2 3 4 5 6 7 8 9 10; do
  for w in 64 128 192 256 320 384 448 512 576 640; do
    for s in 0 1 2 3 4 5 6 7 8 9; do
      skydeck exp create "$PREFIX-$l-$w-$s" --cmd 'python train.py' \\
        --flag model.layers=$l --flag model.width=$w --flag seed=$s --label sweep=$PREFIX
    done
  done
done > /dev/null
"""


def hyperfine(commands, env, runs, warmup):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    subprocess.run(["hyperfine", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
                    "--export-json", out] + commands, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        results = json.load(f)["results"]
    os.remove(out)
    return {r["command"]: {"mean_ms": round(r["mean"] * 1000, 1),
                           "stddev_ms": round(r["stddev"] * 1000, 1),
                           "median_ms": round(r["median"] * 1000, 1),
                           "min_ms": round(r["min"] * 1000, 1),
                           "max_ms": round(r["max"] * 1000, 1), "runs": len(r["times"])}
            for r in results}


def timed(cmd, env, shell=False):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, shell=shell, capture_output=True, text=True,
                          executable="/bin/bash" if shell else None)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({proc.returncode}): {proc.stderr[-1000:]}")
    return seconds, proc.stdout


def count(skydeck, env, selector):
    _, out = timed([skydeck, "exp", "list", "-l", selector, "-o", "name"], env)
    return len(out.split())


def summary(values):
    return {"median_s": round(statistics.median(values), 2), "min_s": round(min(values), 2),
            "max_s": round(max(values), 2), "runs": len(values)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--skydeck", required=True)
    ap.add_argument("--skydeck-load", required=True)
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3, help="sweeps and shell loops each")
    ap.add_argument("--list-runs", type=int, default=10)
    ap.add_argument("--from-seed")
    args = ap.parse_args()
    skydeck = os.path.abspath(args.skydeck)
    data_dir = tempfile.mkdtemp(prefix="skydeck-cli-bench-")
    if args.from_seed:
        shutil.copy(os.path.join(args.from_seed, "skydeck.db"), data_dir)
    daemon = common.Daemon(args.skydeckd, data_dir=data_dir)
    results = {"machine": common.machine(), "date": str(datetime.date.today()), "loads": []}
    try:
        env = dict(os.environ, SKYDECK_SERVER=daemon.grpc,
                   PATH=os.path.dirname(skydeck) + os.pathsep + os.environ["PATH"])
        if not args.from_seed:
            subprocess.run([args.skydeck_load, "--grpc", daemon.grpc, "--grpc-clients", "8",
                            "--ledger", os.path.join(data_dir, "ledger.jsonl"), "create",
                            "--count", str(args.experiments)], check=True,
                           stdout=subprocess.DEVNULL)
        _, listing = timed([skydeck, "exp", "list", "-o", "json"], env)
        experiments = len(json.loads(listing)) if listing.strip().startswith("[") else \
            len(json.loads(listing).get("experiments", []))
        results["experiments"] = experiments
        results["list_json_bytes"] = len(listing)

        results["loads"].append(common.load_average())
        results["list"] = hyperfine(
            [f"{skydeck} exp list -o json > /dev/null",
             f"{skydeck} exp list -o name > /dev/null",
             f"{skydeck} exp list > /dev/null",
             f"{skydeck} health > /dev/null"], env, args.list_runs, 2)
        results["loads"].append(common.load_average())

        sweeps, loops = [], []
        for r in range(1, args.runs + 1):
            name = f"bench-sweep-{r}"
            seconds, out = timed([skydeck, "sweep", name, "--cmd", "python train.py"] +
                                 [a for g in GRID for a in ("--grid", g)], env)
            if count(skydeck, env, f"sweep={name}") != 1000:
                raise RuntimeError(f"sweep {name} did not create 1,000 experiments")
            sweeps.append(seconds)
            results["loads"].append(common.load_average())
            prefix = f"bench-loop-{r}"
            seconds, _ = timed(LOOP, dict(env, PREFIX=prefix), shell=True)
            if count(skydeck, env, f"sweep={prefix}") != 1000:
                raise RuntimeError(f"loop {prefix} did not create 1,000 experiments")
            loops.append(seconds)
            results["loads"].append(common.load_average())
        rerun, out = timed([skydeck, "sweep", "bench-sweep-1", "--cmd", "python train.py"] +
                           [a for g in GRID for a in ("--grid", g)], env)
        if "1000 unchanged" not in out:
            raise RuntimeError(f"re-running the sweep changed something: {out[-300:]}")
        results["sweep_1000"] = summary(sweeps)
        results["sweep_1000_rerun_s"] = round(rerun, 2)
        results["shell_loop_1000"] = summary(loops)
        results["loop_to_sweep_ratio"] = round(statistics.median(loops) /
                                               statistics.median(sweeps), 1)
    finally:
        daemon.stop(cleanup=False)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"experiments listed: {results['experiments']} ({results['list_json_bytes']} bytes "
          f"of JSON)")
    for cmd, r in results["list"].items():
        print(f"  {cmd.replace(skydeck, 'skydeck'):45s} mean {r['mean_ms']:8.1f} ms "
              f"± {r['stddev_ms']:6.1f}  median {r['median_ms']:8.1f}  (n={r['runs']})")
    print(f"sweep of 1,000 (10x10x10): {results['sweep_1000']}; idempotent re-run "
          f"{results['sweep_1000_rerun_s']} s")
    print(f"shell loop of 1,000 `exp create`: {results['shell_loop_1000']}; "
          f"loop/sweep {results['loop_to_sweep_ratio']}x")
    print(f"machine: {results['machine']}; date: {results['date']}; load average during run "
          f"{min(results['loads'])}-{max(results['loads'])}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
