#!/usr/bin/python3
"""What compressing the bridge's JSON costs next to the request itself
(issue 19, goal 6: gzip, or brotli at a level that costs < 5% of the
request). Against a real skydeckd with N experiments, for a page of 100
and of 1,000 experiments:

- the request's own time over HTTP without compression (median of R);
- the time to compress that body with zlib (gzip) levels 1, 6, 9 and
  brotli qualities 0, 1, 4, 5, 11 (the same C libraries the server would
  link; Python only calls them), its ratio to the request, and the size;
- the request end to end with a browser's Accept-Encoding ("gzip,
  deflate, br"), i.e. with what the bridge really does (kJsonGzipLevel in
  web/bridge/http_bridge.cc), and with --baseline-skydeckd what another
  build did (cpp-httplib chose brotli at its default quality).

  bench/compress_cost.py --skydeckd build/release/daemon/skydeckd \
      [--baseline-skydeckd OLD/skydeckd] [--experiments 10000]

Needs Debian's python3-brotli for the brotli rows (skipped without it).
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import statistics
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

try:
    import brotli
except ImportError:
    brotli = None


def seed(address, n):
    host, port = address.rsplit(":", 1)

    def create(start):
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for i in range(start, n, 8):
            body = json.dumps({"experiment": {
                "name": f"exp-{i}", "base_command": "python train.py --data /datasets/imagenet",
                "labels": {"sweep": f"s{i % 20}", "team": "vision"},
                "flags": {"trainer.lr": {"double_value": 1e-4 * (1 + i % 7)},
                          "model.layers": {"int_value": 1 + i % 64},
                          "optimizer": {"string_value": "adamw"}}}})
            conn.request("POST", "/api/experiments", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"seeding: HTTP {resp.status}")
        conn.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(8)))


def get(conn, path, headers):
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    return time.perf_counter() - started, body, resp.getheader("Content-Encoding")


def interleaved(conn, path, variants, repeats):
    """Medians of each variant's request time, the variants taking turns
    (so that load from elsewhere hits them alike); and each one's last body
    and Content-Encoding."""
    times = {name: [] for name in variants}
    last = {}
    for _ in range(repeats):
        for name, headers in variants.items():
            seconds, body, encoding = get(conn, path, headers)
            times[name].append(seconds)
            last[name] = (body, encoding)
    return {name: (statistics.median(times[name]),) + last[name] for name in variants}


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def gzip_level(level):
    def compress(data):
        c = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip wrapper
        return c.compress(data) + c.flush()
    return compress


BROWSER = {"Accept-Encoding": "gzip, deflate, br"}  # what Chromium sends


def measure_binary(skydeckd, args, codecs):
    """Plain, gzip-only and browser-encoded requests, taking turns, for both
    pages; the codec table (when `codecs`) on the plain bodies."""
    daemon = common.Daemon(skydeckd)
    rows = []
    try:
        seed(daemon.http, args.experiments)
        host, port = daemon.http.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        for page in (100, 1000):
            path = f"/api/experiments?page_size={page}"
            m = interleaved(conn, path, {"plain": {}, "gzip": {"Accept-Encoding": "gzip"},
                                         "browser": BROWSER}, args.repeats)
            plain_s, body, _ = m["plain"]
            row = {"binary": skydeckd, "page": page, "json_bytes": len(body),
                   "plain_request_ms": round(plain_s * 1e3, 2)}
            for name in ("gzip", "browser"):
                seconds, encoded, encoding = m[name]
                row.update({f"{name}_request_ms": round(seconds * 1e3, 2),
                            f"{name}_content_encoding": encoding,
                            f"{name}_bytes": len(encoded),
                            f"{name}_extra_pct": round(100 * (seconds - plain_s) / plain_s, 1)})
            rows.append(row)
            for name, fn in codecs:
                seconds, out = timed(lambda: fn(body), max(3, args.repeats // 3))
                rows.append({"page": page, "codec": name, "json_bytes": len(body),
                             "compressed_bytes": len(out),
                             "compress_ms": round(seconds * 1e3, 3),
                             "request_ms": round(plain_s * 1e3, 2),
                             "cost_pct_of_request": round(100 * seconds / plain_s, 1)})
        conn.close()
    finally:
        daemon.stop()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--baseline-skydeckd", help="measured first, in the same run")
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=21)
    args = ap.parse_args()
    codecs = [(f"gzip -{lvl}", gzip_level(lvl)) for lvl in (1, 6, 9)]
    if brotli:
        codecs += [(f"brotli q{q}", lambda d, q=q: brotli.compress(d, quality=q))
                   for q in (0, 1, 4, 5, 11)]
    rows = []
    if args.baseline_skydeckd:
        rows += measure_binary(args.baseline_skydeckd, args, [])
    rows += measure_binary(args.skydeckd, args, codecs)
    print(json.dumps({"machine": common.machine(), "load": common.load_average(),
                      "experiments": args.experiments, "rows": rows}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
