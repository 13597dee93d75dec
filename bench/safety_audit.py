#!/usr/bin/python3
"""The audit's start-up findings (issue 14 items 1, 2, 5, 6), replayed
against a skydeckd binary, so the before/after figures in bench/README.md
come from one command:

    bench/safety_audit.py --skydeckd NEW --skydeck CLI [--baseline-skydeckd OLD]

For each binary: a second daemon on the same data directory, on the same
database, and on the same gRPC port (did it start? how many of 20
`exp list` answers came from which daemon?); a 0444 database (as nobody
when run as root: root writes any file) before and after `chmod 644`; a
database with a damaged table page. Prints one line per scenario.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import common  # noqa: E402
from harness import damage_table, unprivileged  # noqa: E402

def start(skydeckd, data_dir, *extra, popen=None, timeout=20, port="0"):
    """Starts skydeckd; returns (proc, grpc address or None, exit code or
    None, seconds to ready/exit, output path)."""
    ready = os.path.join(data_dir, f"ready-{time.monotonic_ns()}")
    log_path = os.path.join(data_dir, f"log-{time.monotonic_ns()}")
    log = open(log_path, "wb")
    t = time.monotonic()
    proc = subprocess.Popen([skydeckd, "--grpc-port", port, "--port", "0", "--data-dir", data_dir,
                             "--ready-file", ready, "--backend", "local", *extra],
                            stdout=log, stderr=log, **(popen or {}))
    log.close()
    while time.monotonic() - t < timeout:
        if os.path.exists(ready):
            with open(ready) as f:
                return proc, f.read().split()[0], None, time.monotonic() - t, log_path
        if proc.poll() is not None:
            return proc, None, proc.returncode, time.monotonic() - t, log_path
        time.sleep(0.005)
    raise RuntimeError("skydeckd neither listened nor exited")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli(skydeck, address, *args):
    return subprocess.run([skydeck, "--server", address, *args], capture_output=True, text=True,
                          timeout=60)


def outcome(address, code, seconds):
    return (f"started ({seconds * 1000:.0f} ms)" if address
            else f"refused, exit {code} ({seconds * 1000:.0f} ms)")


def last_error(log_path):
    with open(log_path, errors="replace") as f:
        lines = [l.strip() for l in f if "level=error" in l or "error=" in l]
    return lines[-1][:300] if lines else ""


def second_daemons(skydeckd, skydeck, work):
    a = os.path.join(work, "a")
    b = os.path.join(work, "b")
    os.makedirs(a)
    os.makedirs(b)
    first, addr, _, _, _ = start(skydeckd, a)
    try:
        cli(skydeck, addr, "exp", "create", "in-a", "--cmd", "true")
        for label, data_dir, extra in [
                ("same data dir", a, ()),
                ("same database", b, ("--db-path", os.path.join(a, "skydeck.db")))]:
            p, addr2, code, secs, log = start(skydeckd, data_dir, *extra)
            print(f"  second daemon, {label}: {outcome(addr2, code, secs)}"
                  + ("" if addr2 else f"; {last_error(log)}"))
            stop(p)
        port = addr.rsplit(":", 1)[1]
        p, addr2, code, secs, log = start(skydeckd, b, "--db-path", os.path.join(b, "other.db"),
                                          port=port)
        if addr2:
            cli(skydeck, addr2, "exp", "create", "in-b", "--cmd", "true")
            answers = [cli(skydeck, addr, "exp", "list", "-o", "name").stdout.split()
                       for _ in range(20)]
            from_a = sum(1 for x in answers if x == ["in-a"])
            print(f"  second daemon, same gRPC port: {outcome(addr2, code, secs)}; "
                  f"20 `exp list`: {from_a} from the first, {20 - from_a} from the second")
        else:
            print(f"  second daemon, same gRPC port: {outcome(addr2, code, secs)}; "
                  f"{last_error(log)}")
        stop(p)
    finally:
        stop(first)


def read_only(skydeckd, skydeck, work):
    d = os.path.join(work, "ro")
    os.makedirs(d)
    p, addr, _, _, _ = start(skydeckd, d)
    cli(skydeck, addr, "exp", "create", "before", "--cmd", "true")
    stop(p)
    popen = unprivileged(d)
    db = os.path.join(d, "skydeck.db")
    os.chmod(db, 0o444)
    p, addr, code, secs, log = start(skydeckd, d, popen=popen)
    if addr:
        health = json.loads(cli(skydeck, addr, "health", "-o", "json").stdout or "{}")
        writes = [cli(skydeck, addr, "exp", "create", f"w{i}", "--cmd", "true") for i in range(5)]
        failed = [w for w in writes if w.returncode != 0]
        os.chmod(db, 0o644)
        after = [cli(skydeck, addr, "exp", "create", f"x{i}", "--cmd", "true") for i in range(5)]
        failed_after = [w for w in after if w.returncode != 0]
        print(f"  0444 database: {outcome(addr, code, secs)}, health {health.get('status')}; "
              f"{len(failed)}/5 creates failed ({(failed[0].stderr.strip() if failed else '')[:90]}); "
              f"after chmod 644: {len(failed_after)}/5 failed")
        stop(p)
    else:
        print(f"  0444 database: {outcome(addr, code, secs)}; {last_error(log)}")
        os.chmod(db, 0o644)
        p, addr, code, secs, _ = start(skydeckd, d, popen=popen)
        ok = addr and cli(skydeck, addr, "exp", "create", "after", "--cmd", "true").returncode == 0
        print(f"  after chmod 644: {outcome(addr, code, secs)}, create "
              f"{'ok' if ok else 'failed'}")
        stop(p)


def damaged(skydeckd, skydeck, work):
    d = os.path.join(work, "damaged")
    os.makedirs(d)
    p, addr, _, _, _ = start(skydeckd, d)
    grid = ",".join(str(i) for i in range(300))
    cli(skydeck, addr, "sweep", "s", "--cmd", "true", "--grid", f"i={grid}")
    stop(p)
    damage_table(os.path.join(d, "skydeck.db"), "experiments")
    p, addr, code, secs, log = start(skydeckd, d)
    if addr:
        health = cli(skydeck, addr, "health")
        listed = cli(skydeck, addr, "exp", "list")
        print(f"  damaged page: {outcome(addr, code, secs)}; health exit {health.returncode} "
              f"({health.stderr.strip()[:80]}), exp list exit {listed.returncode}")
    else:
        print(f"  damaged page: {outcome(addr, code, secs)}; {last_error(log)}")
    stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--skydeck", required=True)
    ap.add_argument("--baseline-skydeckd")
    args = ap.parse_args()
    print(f"machine: {common.machine()}; load {common.load_average():.1f}")
    binaries = [("this tree", args.skydeckd)]
    if args.baseline_skydeckd:
        binaries.insert(0, ("baseline", args.baseline_skydeckd))
    for name, binary in binaries:
        print(f"{name}: {binary}")
        for scenario in (second_daemons, read_only, damaged):
            work = tempfile.mkdtemp(prefix="skydeck-audit-")
            os.chmod(work, 0o755)
            try:
                scenario(binary, args.skydeck, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
