#!/usr/bin/python3
"""Mutating RPCs/s from 16 clients (issue 19 goal 7), per daemon binary in
the same run, binaries taking turns round by round: creates, desired-state
changes (STOPPED <-> TERMINATED: no launches) and flag updates, over gRPC
(grpc_load) and through the HTTP bridge (wrk with a Lua script), plus the
ceiling of a cheap call (GetExperiment by id) measured the same way. Every
write changes something (no no-op updates). Each binary gets a fresh data
directory with 2N experiments per round: gRPC writes the first N, HTTP the
others, so neither meets what the other left behind.

  bench/write_throughput.py --skydeckd base=OLD --skydeckd new=build/release/daemon/skydeckd \\
      --grpc-load build/release/bench/grpc_load [--experiments 1000] [--seconds 10] [--rounds 2]

Needs Debian's wrk (apt-get install wrk).
"""

import argparse
import collections
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import wrk_writes  # noqa: E402
from http_vs_grpc import populate, run_grpc  # noqa: E402


def measure(binary, args, pb, round_no, tmp):
    """{(case, transport): (rps, p50, p99, errors)} for one fresh daemon."""
    daemon = common.Daemon(binary)
    results = {}
    try:
        # Each transport writes its own half, which starts as populated
        # (STOPPED, no load.step flag): its first write to any experiment is
        # a change, whatever the other transport left behind.
        populate(daemon, 2 * args.experiments, pb)
        count = args.experiments
        first = {"grpc": 1, "http": 1 + count}
        for mode in wrk_writes.MODES:
            prefix = f"r{round_no}"
            grpc_args = ["--rpc", mode, "--channels", str(args.channels)]
            if mode == "get":
                grpc_args += ["--id", str(first["grpc"])]
            elif mode == "create":
                grpc_args += ["--name-prefix", f"{prefix}-grpc"]
            else:
                grpc_args += ["--first-id", str(first["grpc"]), "--count", str(count)]
            results[(mode, "grpc")] = run_grpc(args.grpc_load, daemon.grpc, args.clients,
                                               args.seconds, grpc_args)
            results[(mode, "http")], _ = wrk_writes.run_mode(
                f"http://{daemon.http}", mode, first["http"], count, args.wrk_threads,
                args.clients, args.seconds, tmp, f"{prefix}-http")
        results[("cpu_s", "")] = daemon.cpu_seconds()
    finally:
        daemon.stop()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", action="append", required=True, help="NAME=PATH, repeatable")
    ap.add_argument("--grpc-load", required=True)
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--channels", type=int, default=1, help="gRPC connections the clients share")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    binaries = [tuple(s.split("=", 1)) for s in args.skydeckd]
    pb = common.load_stubs()
    table = collections.defaultdict(list)
    print(f"experiments={args.experiments} clients={args.clients} duration={args.seconds}s "
          f"rounds={args.rounds}")
    with tempfile.TemporaryDirectory(prefix="skydeck-writes-") as tmp:
        for round_no in range(args.rounds):
            for name, binary in binaries:
                for key, value in measure(binary, args, pb, round_no, tmp).items():
                    table[(name,) + key].append(value)
                print(f" round {round_no + 1} {name} done, load average {common.load_average()}",
                      flush=True)
    for mode in ("get", "create", "desired", "flags"):
        for transport in ("grpc", "http"):
            print(f" {mode:8s} {transport}")
            for name, _ in binaries:
                rows = table[(name, mode, transport)]
                rps = ", ".join(f"{r[0]:.0f}" for r in rows)
                p99 = ", ".join(f"{r[2]:.2f}" for r in rows)
                errors = sum(r[3] for r in rows)
                print(f"  {name:10s} req/s {rps:24s} p99 ms {p99:20s} errors {errors}")
            if len(binaries) == 2:
                a = [r[0] for r in table[(binaries[0][0], mode, transport)]]
                b = [r[0] for r in table[(binaries[1][0], mode, transport)]]
                ratios = ", ".join(f"{y / x:.2f}" for x, y in zip(a, b))
                print(f"  {binaries[1][0]}/{binaries[0][0]}: {ratios}")
    for name, _ in binaries:
        cpu = ", ".join(f"{c:.1f}" for c in table[(name, "cpu_s", "")])
        print(f" daemon CPU seconds per round, {name}: {cpu}")
    print(f"machine: {common.machine()}; date: {datetime.date.today()}")


if __name__ == "__main__":
    main()
