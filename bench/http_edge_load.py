#!/usr/bin/python3
"""The HTTP edge under slow clients and many open streams (issue 14, item 4):
while SLOW slowloris connections (headers dribbled, a header line per
second, reconnecting when cut) and WATCHERS open /api/watch streams are
held, one client asks GET /api/health and a page of experiments in turn;
their latencies, the connections held, and the daemon's RSS, threads and
open files are reported. With --baseline-skydeckd the same runs first
against another binary (e.g. the build before a change), so both are
measured in the same run on the same machine.

  bench/http_edge_load.py --skydeckd build/release/daemon/skydeckd \\
      [--baseline-skydeckd OLD/skydeckd] [--watchers 1000] [--slow 500] [--seconds 30]

Watchers come from 127.0.0.2-9 and slow clients from 127.0.0.10-13, so no
client address exceeds skydeckd's default per-client connection limit
(256); the probing client is 127.0.0.1. --assert-p99-ms makes it a test:
exit 1 when a probe failed or either p99 is over the bound (tests/chaos).
Python standard library only.
"""

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

WATCH_SOURCES = [f"127.0.0.{i}" for i in range(2, 10)]
SLOW_SOURCES = [f"127.0.0.{i}" for i in range(10, 14)]


def seed(http_address, n):
    host, port = http_address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    for i in range(n):
        body = json.dumps({"experiment": {"name": f"edge-{i}", "base_command": "python train.py",
                                          "labels": {"sweep": f"s{i % 20}"},
                                          "flags": {"lr": {"double_value": 0.001 * (i % 7)}}}})
        conn.request("POST", "/api/experiments", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"seeding: HTTP {resp.status}")
    conn.close()


class Counters:
    def __init__(self):
        self.watch_open = 0       # streams that said ": connected"
        self.watch_refused = 0    # answered with an error status (e.g. 429)
        self.watch_failed = 0     # connection failed or closed without an answer
        self.slow_open = 0        # slow connections open now
        self.slow_cut = 0         # closed by the server (header timeout)
        self.slow_failed = 0      # could not connect


async def watcher(host, port, source, counters, stop):
    """Opens a quiet /api/watch stream and reads it until told to stop."""
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except OSError:
        counters.watch_failed += 1
        return
    writer.write(f"GET /api/watch?since_revision=999999999 HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    seen, state = b"", "waiting"
    try:
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(65536), timeout=1)
            except asyncio.TimeoutError:
                continue
            if not data:
                break
            if state != "waiting":
                continue
            seen += data
            if b": connected" in seen:
                state = "open"
                counters.watch_open += 1
            elif b"\r\n\r\n" in seen and not seen.startswith(b"HTTP/1.1 200"):
                state = "refused"
                counters.watch_refused += 1
                break
    except OSError:
        pass
    if state == "waiting":
        counters.watch_failed += 1
    elif state == "open":
        counters.watch_open -= 1
    writer.close()


async def slow_client(host, port, source, counters, stop, interval):
    """Dribbles header lines forever; reconnects when the server cuts it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        except OSError:
            counters.slow_failed += 1
            await asyncio.sleep(interval)
            continue
        counters.slow_open += 1
        try:
            writer.write(f"GET /api/health HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())
            i = 0
            while not stop.is_set():
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(1024), timeout=interval)
                    if not data:
                        counters.slow_cut += 1
                        break
                except asyncio.TimeoutError:
                    pass
                writer.write(f"X-Slow-{i}: {'a' * 8}\r\n".encode())
                i += 1
        except OSError:
            counters.slow_cut += 1
        finally:
            counters.slow_open -= 1
            writer.close()


def probe(http_address, seconds, timeout, results):
    """GET /api/health and a page of experiments in turn on one keep-alive
    connection (a new one after a failure); (route, ms or None) per probe."""
    host, port = http_address.rsplit(":", 1)
    paths = [("health", "/api/health"), ("page", "/api/experiments?page_size=50")]
    conn = None
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        name, path = paths[i % 2]
        i += 1
        started = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=timeout,
                                                  source_address=("127.0.0.1", 0))
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn = None
        elapsed = (time.monotonic() - started) * 1000
        results.append((name, elapsed if ok else None))
        time.sleep(0.01)


def proc_stats(pids):
    """{name: stats} for a {name: pid} map."""
    return {name: one_proc_stats(pid) for name, pid in pids.items()}


def one_proc_stats(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def summarize(results):
    out = {}
    for name in ("health", "page"):
        ok = [ms for n, ms in results if n == name and ms is not None]
        failed = sum(1 for n, ms in results if n == name and ms is None)
        out[name] = {"n": len(ok), "failed": failed,
                     "p50_ms": round(common.percentile(ok, 50), 2),
                     "p99_ms": round(common.percentile(ok, 99), 2),
                     "max_ms": round(max(ok), 2) if ok else None}
    return out


async def attack_and_probe(http_address, args, pids):
    host, port = http_address.rsplit(":", 1)
    port = int(port)
    counters = Counters()
    stop = asyncio.Event()
    idle = []
    await asyncio.to_thread(probe, http_address, 3, args.probe_timeout, idle)
    stats = {"idle": proc_stats(pids)}
    tasks = [asyncio.create_task(watcher(host, port, WATCH_SOURCES[i % len(WATCH_SOURCES)],
                                         counters, stop))
             for i in range(args.watchers)]
    tasks += [asyncio.create_task(slow_client(host, port, SLOW_SOURCES[i % len(SLOW_SOURCES)],
                                              counters, stop, args.slow_interval))
              for i in range(args.slow)]
    # Let them connect (a refused or stuck one is counted, not waited for).
    settle_until = time.monotonic() + args.settle
    while time.monotonic() < settle_until:
        if (counters.watch_open + counters.watch_refused + counters.watch_failed >= args.watchers
                and counters.slow_open >= args.slow):
            break
        await asyncio.sleep(0.1)
    held = {"watch_open": counters.watch_open, "watch_refused": counters.watch_refused,
            "slow_open": counters.slow_open}
    results = []
    peak = proc_stats(pids)
    probe_thread = asyncio.create_task(
        asyncio.to_thread(probe, http_address, args.seconds, args.probe_timeout, results))
    low_watch, low_slow = counters.watch_open, counters.slow_open
    while not probe_thread.done():
        await asyncio.sleep(0.25)
        for name, s in proc_stats(pids).items():
            for k in s:
                peak[name][k] = max(peak[name].get(k, 0), s[k])
        low_watch = min(low_watch, counters.watch_open)
        low_slow = min(low_slow, counters.slow_open)
    await probe_thread
    stats["under_load"] = peak
    held.update({"watch_open_end": counters.watch_open, "watch_open_min": low_watch,
                 "slow_open_min": low_slow, "slow_cut": counters.slow_cut,
                 "watch_failed": counters.watch_failed, "slow_failed": counters.slow_failed})
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"idle_probes": summarize(idle), "probes": summarize(results), "held": held,
            "daemon": stats}


class StandaloneWeb:
    """skydeck-web in front of a daemon serving gRPC only: the bridge's own
    process, so its threads and memory can be told apart from skydeckd's."""

    def __init__(self, skydeck_web, target, data_dir):
        ready = os.path.join(data_dir, "web-ready")
        self.log = open(os.path.join(data_dir, "skydeck-web.log"), "ab")
        self.proc = subprocess.Popen([skydeck_web, "--target", target, "--port", "0",
                                      "--ready-file", ready], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("skydeck-web did not start; see " + self.log.name)
            time.sleep(0.01)
        with open(ready) as f:
            self.http = f.read().strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def run_one(skydeckd, args, skydeck_web=None):
    extra = list(args.daemon_arg) + (["--no-http"] if skydeck_web else [])
    daemon = common.Daemon(skydeckd, extra_args=extra)
    web = None
    try:
        if skydeck_web:
            web = StandaloneWeb(skydeck_web, daemon.grpc, daemon.data_dir)
        http_address = web.http if web else daemon.http
        seed(http_address, args.experiments)
        pids = {"daemon": daemon.proc.pid}
        if web:
            pids["skydeck_web"] = web.proc.pid
        result = asyncio.run(attack_and_probe(http_address, args, pids))
        result["binary"] = skydeck_web or skydeckd
        return result
    finally:
        if web:
            web.stop()
        daemon.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", default=os.environ.get("SKYDECKD"))
    ap.add_argument("--baseline-skydeckd", help="measured first, in the same run")
    ap.add_argument("--skydeck-web",
                    help="also run the bridge as its own process (skydeck-web in front of "
                         "skydeckd --no-http), after the others, to tell its cost apart")
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--slow", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--settle", type=float, default=20,
                    help="seconds to wait for the connections before probing")
    ap.add_argument("--slow-interval", type=float, default=1.0,
                    help="seconds between a slow client's header lines")
    ap.add_argument("--experiments", type=int, default=200)
    ap.add_argument("--probe-timeout", type=float, default=5.0)
    ap.add_argument("--daemon-arg", action="append", default=[],
                    help="extra skydeckd argument (repeatable)")
    ap.add_argument("--assert-p99-ms", type=float,
                    help="exit 1 unless every probe answered and both p99 are under this")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    if not args.skydeckd:
        ap.error("--skydeckd (or $SKYDECKD) is required")
    report = {"machine": common.machine(), "load_before": common.load_average(),
              "args": {k: v for k, v in vars(args).items() if k != "json_out"}}
    if args.baseline_skydeckd:
        report["baseline"] = run_one(args.baseline_skydeckd, args)
        print("baseline", json.dumps(report["baseline"]), flush=True)
    report["after"] = run_one(args.skydeckd, args)
    print("after", json.dumps(report["after"]), flush=True)
    if args.skydeck_web:
        report["standalone"] = run_one(args.skydeckd, args, args.skydeck_web)
        print("standalone", json.dumps(report["standalone"]), flush=True)
    report["load_after"] = common.load_average()
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
    if args.assert_p99_ms is not None:
        probes = report["after"]["probes"]
        bad = [f"{name}: {p['failed']} failed, p99 {p['p99_ms']} ms"
               for name, p in probes.items()
               if p["failed"] or not p["n"] or p["p99_ms"] > args.assert_p99_ms]
        held = report["after"]["held"]
        if held["watch_open"] < args.watchers:
            bad.append(f"only {held['watch_open']} of {args.watchers} streams opened")
        if bad:
            print("FAIL:", "; ".join(bad))
            return 1
        print(f"OK: every probe answered, p99 under {args.assert_p99_ms} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
