#!/usr/bin/python3
"""Daemon CPU per write (issue 19 goal 7), per skydeckd binary, binaries
taking turns round by round: a fresh daemon with N experiments, grpc_load
writing for S seconds from 16 clients (desired-state changes STOPPED <->
TERMINATED, or flag updates), the daemon's CPU seconds over the run divided
by the writes, and grpc_load's own CPU (it shares the machine). With
--perf-dir, `perf record` samples the daemon for P seconds in the middle of
each run (perf.<name>.<mode>.<round>.data; read with `perf report -i`).

  bench/write_cost.py --skydeckd base=OLD --skydeckd new=build/release/daemon/skydeckd \\
      --grpc-load build/release/bench/grpc_load [--modes desired,flags] [--seconds 8] \\
      [--rounds 2] [--perf-dir DIR [--perf-seconds 6] [--dwarf]]
"""

import argparse
import datetime
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from http_vs_grpc import populate  # noqa: E402


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(binary, mode, args, pb, perf_out):
    """(writes, req/s, p99 ms, errors, daemon CPU s, grpc_load CPU s)."""
    daemon = common.Daemon(binary)
    try:
        populate(daemon, args.experiments, pb)
        cmd = [args.grpc_load, "--server", daemon.grpc, "--rpc", mode, "--threads",
               str(args.clients), "--seconds", str(args.seconds),
               "--first-id", "1", "--count", str(args.experiments)]
        cpu_before, client_before = daemon.cpu_seconds(), children_cpu()
        load = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        perf = None
        if perf_out:
            time.sleep(max(0, (args.seconds - args.perf_seconds) / 2))
            graph = ["--call-graph", "dwarf,16384"] if args.dwarf else ["-g"]
            perf = subprocess.Popen(["perf", "record", "-F", "299", *graph, "-p",
                                     str(daemon.proc.pid), "-o", perf_out, "--", "sleep",
                                     str(args.perf_seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = load.communicate()[0]
        client_cpu = children_cpu() - client_before  # before perf is reaped
        if perf:
            perf.wait()
        daemon_cpu = daemon.cpu_seconds() - cpu_before
    finally:
        daemon.stop()
    f = dict(zip(out.split()[0::2], out.split()[1::2]))
    return (int(f["requests"]), float(f["req/s"]), float(f["p99_ms"]), int(f["errors"]),
            daemon_cpu, client_cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", action="append", required=True, help="NAME=PATH, repeatable")
    ap.add_argument("--grpc-load", required=True)
    ap.add_argument("--modes", default="desired,flags")
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--perf-dir")
    ap.add_argument("--perf-seconds", type=int, default=6)
    ap.add_argument("--dwarf", action="store_true", help="DWARF call graphs (big files)")
    args = ap.parse_args()
    binaries = [tuple(s.split("=", 1)) for s in args.skydeckd]
    pb = common.load_stubs()
    print(f"experiments={args.experiments} clients={args.clients} duration={args.seconds}s")
    for round_no in range(1, args.rounds + 1):
        for mode in args.modes.split(","):
            for name, binary in binaries:
                perf_out = (os.path.join(args.perf_dir, f"perf.{name}.{mode}.{round_no}.data")
                            if args.perf_dir else None)
                n, rps, p99, errors, cpu, client = run(binary, mode, args, pb, perf_out)
                print(f" round {round_no} {mode:8s} {name:8s} req/s {rps:8.1f} p99 ms {p99:7.2f} "
                      f"errors {errors}  daemon CPU {cpu:5.1f} s = {1000 * cpu / max(n, 1):.3f} ms "
                      f"per write  grpc_load CPU {client:4.1f} s  load {common.load_average()}",
                      flush=True)
    print(f"machine: {common.machine()}; date: {datetime.date.today()}")


if __name__ == "__main__":
    main()
