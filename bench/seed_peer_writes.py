#!/usr/bin/python3
"""Issue 19 goal 7 against its baseline: the seed's own implementation (GitHub
Metta-AI/skydeck: Python, FastAPI + aiosqlite) and skydeckd side by side in
the same run, over HTTP, the loads of write_throughput.py (wrk, 16
connections, one Lua script per mode, bench/wrk_writes.py): GET by id,
creates, desired-state changes (STOPPED <-> TERMINATED, no launches) and flag
updates, every write a change. Rounds take turns (seed first in even rounds,
last in odd ones); each server gets a fresh database with N experiments
created through its own API each round. Prints req/s, p50/p99, non-2xx and
socket errors, the server's CPU per request, and skydeckd/seed ratios.

  bench/seed_peer_writes.py [--skydeckd new=build/release/daemon/skydeckd ...] \\
      [--experiments 1000] [--seconds 10] [--rounds 2]

The seed is run from a `git archive` of a local copy of its repository
(--seed-repo-git) with /work/shared/seed-peer's launcher (run_seed.py: S3
syncer off, the `datetime` import its app.py lacks) and its `sky` stub (no
SkyPilot: the poller sees no jobs), with --pylib (fastapi, starlette,
uvicorn, pydantic 2; see /work/shared/skypilot-real/README.md) first on
PYTHONPATH, under Debian's python3 with python3-aiosqlite. It logs at
WARNING, as skydeckd runs at warn (common.Daemon); uvicorn picks uvloop and
httptools when they are importable (Debian's python3-uvloop,
python3-httptools), as it would for a user.

What is verified (the run exits 1 if any check fails), after each server's
round, from the experiments it lists over HTTP:
- ids 1..N after populating (the loads address experiments by those ids);
- creates: every experiment named r<round>-http-<thread>-<n> is one wrk sent,
  none twice, and all that were sent are there but at most one per
  connection (a request unanswered when wrk stopped);
- desired-state changes and flag updates: each experiment holds what its last
  request set (wrk's script prints how many requests each thread made, which
  fixes the last value per experiment), or the value of the request before
  if its last one was among the newest of its wrk thread (perhaps unanswered
  when wrk stopped: its connections, plus twice what the thread sent during
  the slowest answer). A 200 that wrote nothing fails this: every flag write
  sets a new value, so a dropped one shows; for desired states, which only
  alternate, a dropped write shows where the experiment's expected state is
  not the one it already had (about half of them), so writes that are never
  made fail the check, a few dropped ones may not. The seed answers 200
  without writing when the state asked for is already the desired one: the
  script never asks for that (each experiment's first change is to
  TERMINATED, then alternating).
The seed replaces the whole flag map ({"flags": {...}}); skydeckd merges
({"set": {...}}): each call sends one changed flag to either.

Needs Debian's wrk, python3-aiosqlite and python3-grpcio (skydeckd's
experiments are created over gRPC, as write_throughput.py does).
"""

import argparse
import collections
import concurrent.futures
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import wrk_writes  # noqa: E402
from http_vs_grpc import populate  # noqa: E402

SEED_NAME = "seed"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def http_call(conn, method, path, body=None):
    """One request on `conn` (http.client, kept alive): (status, parsed JSON)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    return answer.status, json.loads(data) if data else None


def experiment_body(i):
    """The populated experiments, as http_vs_grpc.populate creates them."""
    return {"name": f"exp-{i}", "base_command": "python train.py",
            "flags": {"trainer.lr": 1e-4 * (1 + i % 7), "model.layers": 1 + i % 64}}


class SeedCheckout:
    """The seed's package from a `git archive` of --seed-repo-git's HEAD, and
    a `sky` package holding the launcher's stub, in `root`."""

    def __init__(self, seed_git, launcher_dir, root):
        self.commit = subprocess.run(["git", "--git-dir", seed_git, "rev-parse", "HEAD"],
                                     capture_output=True, text=True, check=True).stdout.strip()
        self.repo = os.path.join(root, "seed")
        os.makedirs(self.repo)
        archive = subprocess.Popen(["git", "--git-dir", seed_git, "archive", "HEAD", "skydeck"],
                                   stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", self.repo], stdin=archive.stdout, check=True)
        archive.stdout.close()
        if archive.wait() != 0:
            raise RuntimeError(f"git archive of {seed_git} failed")
        self.stub_path = os.path.join(root, "stub")
        os.makedirs(os.path.join(self.stub_path, "sky"))
        shutil.copy(os.path.join(launcher_dir, "sky_stub.py"),
                    os.path.join(self.stub_path, "sky", "__init__.py"))
        self.launcher = os.path.join(launcher_dir, "run_seed.py")

    def env(self, pylib):
        return dict(os.environ, SEED_REPO=self.repo,
                    PYTHONPATH=os.pathsep.join([pylib, self.stub_path]))

    def runtime(self, python, pylib):
        """The versions the seed runs with, for the record."""
        probe = ("import importlib.util as u, sys, fastapi, pydantic, uvicorn, aiosqlite\n"
                 "has = lambda m: 'yes' if u.find_spec(m) else 'no'\n"
                 "print(f'Python {sys.version.split()[0]}, fastapi {fastapi.__version__}, '\n"
                 "      f'uvicorn {uvicorn.__version__}, pydantic {pydantic.VERSION}, '\n"
                 "      f'aiosqlite {aiosqlite.__version__}, uvloop {has(\"uvloop\")}, '\n"
                 "      f'httptools {has(\"httptools\")}')")
        return subprocess.run([python, "-c", probe], env=self.env(pylib), capture_output=True,
                              text=True, check=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SeedServer:
    """The seed's server on a free loopback port with a fresh database in
    `data_dir`, answering /api/health when the constructor returns."""

    def __init__(self, checkout, args, data_dir):
        env = checkout.env(args.pylib)
        self.log = open(os.path.join(data_dir, "seed.log"), "ab")
        for _ in range(3):  # another process may take the free port first
            self.port = free_port()
            self.proc = subprocess.Popen(
                [args.python, checkout.launcher, "--host", "127.0.0.1", "--port", str(self.port),
                 "--db-path", os.path.join(data_dir, "seed.db"),
                 "--log-level", args.seed_log_level],
                stdout=self.log, stderr=self.log, env=env)
            if self._wait_ready():
                self.url = f"http://127.0.0.1:{self.port}"
                return
        raise RuntimeError("the seed did not start; see " + self.log.name)

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                if http_call(conn, "GET", "/api/health")[0] == 200:
                    conn.close()
                    return True
                conn.close()
            except OSError:
                pass
            time.sleep(0.02)
        self._end()
        return False

    def populate(self, n):
        local = threading.local()

        def create(i):
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            status, answer = http_call(local.conn, "POST", "/api/experiments", experiment_body(i))
            if status != 200:
                raise RuntimeError(f"seed create {i}: {status} {answer}")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(n)))

    def experiments(self):
        """Every experiment, as {id (int), name, desired_state, flags}."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        status, answer = http_call(conn, "GET", "/api/experiments")
        conn.close()
        if status != 200:
            raise RuntimeError(f"seed list: {status} {answer}")
        return [dict(e, id=int(e["id"])) for e in answer["experiments"]]

    def cpu_seconds(self):
        return common.process_cpu_seconds(self.proc.pid)

    def stop(self):
        self._end()
        self.log.close()

    def _end(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class SkydeckdServer:
    """A fresh skydeckd (common.Daemon) with N experiments created over gRPC,
    as write_throughput.py populates it."""

    def __init__(self, binary, pb):
        self.daemon = common.Daemon(binary)
        self.pb = pb
        self.url = f"http://{self.daemon.http}"

    def populate(self, n):
        populate(self.daemon, n, self.pb)

    def experiments(self):
        host, port = self.daemon.http.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        found, token = [], ""
        while True:
            status, answer = http_call(conn, "GET", "/api/experiments?page_size=1000&page_token="
                                       + urllib.parse.quote(token))
            if status != 200:
                raise RuntimeError(f"skydeckd list: {status} {answer}")
            found += [dict(e, id=int(e["id"])) for e in answer["experiments"]]
            token = answer.get("next_page_token", "")
            if not token:
                conn.close()
                return found

    def cpu_seconds(self):
        return self.daemon.cpu_seconds()

    def stop(self):
        self.daemon.stop()


def verify(server, args, prefix, made):
    """The checks of the module's doc string: [(ok, description)]."""
    listed = server.experiments()
    by_id = {e["id"]: e for e in listed}
    n = args.experiments
    missing = [i for i in range(1, n + 1) if i not in by_id]
    checks = [(not missing, f"populated: {n - len(missing)} of ids 1..{n} present")]
    checks.append(wrk_writes.check_creates(prefix, args.clients, made["create"],
                                           [e["name"] for e in listed]))
    held = {"desired": {i: e["desired_state"] for i, e in by_id.items()},
            "flags": {i: (e.get("flags") or {}).get("load.step") for i, e in by_id.items()}}
    for mode in ("desired", "flags"):
        checks.append(wrk_writes.check_updates(mode, 1, n, args.wrk_threads, made[mode],
                                               held[mode]))
    return checks


def measure(server, args, round_no, tmp, flags_key):
    """{mode: (req/s, p50 ms, p99 ms, errors, server CPU ms per request)} and
    the checks, for one started server."""
    try:
        server.populate(args.experiments)
        results, made = {}, {}
        prefix = f"r{round_no}-http"
        for mode in wrk_writes.MODES:
            cpu = server.cpu_seconds()
            (rps, p50, p99, errors), made[mode] = wrk_writes.run_mode(
                server.url, mode, 1, args.experiments, args.wrk_threads, args.clients,
                args.seconds, tmp, prefix, flags_key)
            cpu = server.cpu_seconds() - cpu
            results[mode] = (rps, p50, p99, errors, 1000 * cpu / max(1.0, rps * args.seconds))
        return results, verify(server, args, prefix, made)
    finally:
        server.stop()


def print_table(table, names):
    seed = table[SEED_NAME]
    for mode in wrk_writes.MODES:
        print(f" {mode}")
        for name in names:
            rows = table[name][mode]
            cols = [", ".join(f"{r[k]:{fmt}}" for r in rows)
                    for k, fmt in ((0, ".0f"), (1, ".2f"), (2, ".2f"), (4, ".3f"))]
            print(f"  {name:10s} req/s {cols[0]:16s} p50 ms {cols[1]:14s} p99 ms {cols[2]:14s} "
                  f"errors {sum(r[3] for r in rows):<4d} CPU ms/req {cols[3]}")
        for name in names:
            if name == SEED_NAME:
                continue
            rps = ", ".join(f"{b[0] / a[0]:.2f}" for a, b in zip(seed[mode], table[name][mode]))
            cpu = ", ".join(f"{b[4] / a[4]:.2f}" for a, b in zip(seed[mode], table[name][mode]))
            print(f"  {name}/{SEED_NAME}: req/s {rps}; CPU per request {cpu}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", action="append", default=[], help="NAME=PATH, repeatable")
    ap.add_argument("--seed-repo-git", default="/work/.mirror/Metta-AI+skydeck/repo",
                    help="git directory of a copy of Metta-AI/skydeck")
    ap.add_argument("--pylib", default="/work/skyreal/pylib",
                    help="fastapi, starlette, uvicorn, pydantic 2 (first on PYTHONPATH)")
    ap.add_argument("--seed-launcher", default="/work/shared/seed-peer",
                    help="directory of run_seed.py and sky_stub.py")
    ap.add_argument("--python", default="/usr/bin/python3", help="runs the seed (Debian's)")
    ap.add_argument("--seed-log-level", default="WARNING",
                    choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=16, help="wrk connections")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    binaries = [tuple(s.split("=", 1)) for s in args.skydeckd]
    if any(name == SEED_NAME for name, _ in binaries):
        ap.error(f"--skydeckd: the name {SEED_NAME} is the seed's")
    pb = common.load_stubs() if binaries else None
    names = [SEED_NAME] + [name for name, _ in binaries]
    table = collections.defaultdict(lambda: collections.defaultdict(list))
    failed = False
    with tempfile.TemporaryDirectory(prefix="skydeck-seed-peer-") as tmp:
        checkout = SeedCheckout(args.seed_repo_git, args.seed_launcher, tmp)
        print(f"seed: Metta-AI/skydeck {checkout.commit}; experiments={args.experiments} "
              f"clients={args.clients} duration={args.seconds}s rounds={args.rounds}")
        print(f"seed runtime: {checkout.runtime(args.python, args.pylib)}")
        for round_no in range(args.rounds):
            order = [(SEED_NAME, None)] + binaries
            for name, binary in order if round_no % 2 == 0 else reversed(order):
                data_dir = tempfile.mkdtemp(prefix=f"{name}-", dir=tmp)
                if binary is None:
                    server, flags_key = SeedServer(checkout, args, data_dir), "flags"
                else:
                    server, flags_key = SkydeckdServer(binary, pb), "set"
                results, checks = measure(server, args, round_no, data_dir, flags_key)
                for mode, row in results.items():
                    table[name][mode].append(row)
                print(f" round {round_no + 1} {name} done, load average {common.load_average()}",
                      flush=True)
                for ok, text in checks:
                    print(f"  {'verified' if ok else 'FAILED'}: {text}")
                    failed |= not ok
    print_table(table, names)
    print(f"machine: {common.machine()}; date: {datetime.date.today()}")
    if failed:
        print("FAILED: a server did not hold what was written (above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
