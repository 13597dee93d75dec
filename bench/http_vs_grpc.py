#!/usr/bin/python3
"""Requests/s and latency of listing experiments (a page of 100 out of
10,000) through the HTTP bridge (wrk) and directly over gRPC (grpc_load),
side by side in the same run on the same daemon; then the same for the small
calls, where per-request overheads show: getting one experiment and
GetHealth, from 16 clients (throughput) and from one client (latency).

  bench/http_vs_grpc.py --skydeckd build/release/daemon/skydeckd \
      --grpc-load build/release/bench/grpc_load [--experiments 10000]

Needs Debian's wrk (apt-get install wrk).
"""

import argparse
import concurrent.futures
import datetime
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


def populate(daemon, n, pb):
    resources_pb2, service_pb2, service_pb2_grpc = pb
    stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))

    def create(i):
        exp = resources_pb2.Experiment(name=f"exp-{i}", base_command="python train.py")
        exp.flags["trainer.lr"].double_value = 1e-4 * (1 + i % 7)
        exp.flags["model.layers"].int_value = 1 + i % 64
        exp.labels["sweep"] = f"s{i % 20}"
        stub.CreateExperiment(service_pb2.CreateExperimentRequest(experiment=exp), timeout=60)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))


def run_wrk(url, threads, connections, seconds, script=None):
    """wrk against `url` (with a Lua `script`, if given): req/s, p50 and p99 ms, errors."""
    return parse_wrk(wrk_output(url, threads, connections, seconds, script))


def wrk_output(url, threads, connections, seconds, script=None):
    """wrk's whole report (with what the script's `done` printed), for parse_wrk."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    return subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout


def parse_wrk(out):
    """req/s, p50 and p99 ms, errors (non-2xx/3xx answers and socket errors)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    return (rps, ms("50"), ms("99"),
            (int(errors.group(1)) if errors else 0) +
            (sum(int(g) for g in socket.groups()) if socket else 0))


def run_grpc(tool, server, threads, seconds, rpc_args=("--rpc", "list", "--page-size", "100")):
    out = subprocess.run([tool, "--server", server] + list(rpc_args) +
                         ["--threads", str(threads), "--seconds", str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    f = dict(zip(out.split()[0::2], out.split()[1::2]))
    return float(f["req/s"]), float(f["p50_ms"]), float(f["p99_ms"]), int(f["errors"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--grpc-load", required=True)
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    pb = common.load_stubs()
    daemon = common.Daemon(args.skydeckd)
    try:
        populate(daemon, args.experiments, pb)
        one = args.experiments // 2
        # (title, HTTP path, grpc_load arguments, clients)
        cases = [("list, page_size=100", "/api/experiments?page_size=100",
                  ("--rpc", "list", "--page-size", "100"), args.connections)]
        for clients in (args.connections, 1):
            cases += [(f"get experiment {one}", f"/api/experiments/{one}",
                       ("--rpc", "get", "--id", str(one)), clients),
                      ("health", "/api/health", ("--rpc", "health"), clients)]
        print(f"experiments={args.experiments} duration={args.seconds}s")
        for title, path, rpc_args, clients in cases:
            http = run_wrk(f"http://{daemon.http}{path}", min(2, clients), clients, args.seconds)
            direct = run_grpc(args.grpc_load, daemon.grpc, clients, args.seconds, rpc_args)
            print(f" {title}, {clients} client(s)")
            for name, (rps, p50, p99, errors) in (("http bridge (wrk)", http),
                                                  ("grpc direct", direct)):
                print(f"  {name:18s} {rps:9.1f} req/s  p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  "
                      f"errors {errors}")
            print(f"  http/grpc throughput: {http[0] / direct[0]:.2f}  "
                  f"http/grpc p50: {http[1] / direct[1]:.2f}  p99: {http[2] / direct[2]:.2f}")
        print(f"machine: {common.machine()}; date: {datetime.date.today()}")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
