#!/usr/bin/python3
"""What compressing the bridge's Server-Sent Event streams saves on the wire
and costs in CPU (issue 19, goal 6). Against a real skydeckd with N
experiments:

- Watch replay: `GET /api/watch?since_revision=0` (every event of history,
  one small event each, ~N of them, each carrying its experiment), read to
  the last event, plain / `Accept-Encoding: gzip` / `br` taking turns:
  bytes on the wire (head, chunk framing and body), the time to the last
  event, and the daemon's CPU seconds for the stream (user + system, from
  /proc; the bridge runs inside skydeckd).
- List-sized events: the list answers of 1,000 experiments (what the
  list stream sends as one event each), compressed as one stream with a
  flush after each page, by the same C libraries the bridge links (zlib
  level 1; brotli quality 1 with python3-brotli): bytes and CPU per
  event, next to the time the daemon takes to answer that page.

- Memory: STREAMS Watch streams held open at once, plain and then gzip,
  each read for its first 200 KB (so the compressor's state is in use):
  the daemon's RSS growth per stream.

  bench/sse_compress_cost.py --skydeckd build/release/daemon/skydeckd \\
      [--experiments 10000] [--repeats 5] [--streams 200]

Brotli rows need Debian's python3-brotli (skipped without it).
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from compress_cost import seed  # noqa: E402

try:
    import brotli
except ImportError:
    brotli = None


class Decoder:
    """Undoes a Content-Encoding as the bytes arrive."""

    def __init__(self, coding):
        if coding == "gzip":
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.feed = self.inflater.decompress
        elif coding == "br":
            self.decoder = brotli.Decompressor()
            self.feed = self.decoder.process
        else:
            self.feed = lambda data: data


def replay_watch(address, accept_encoding, events, daemon):
    """Reads the Watch replay to its `events`-th event; (wire bytes,
    seconds, daemon CPU seconds, Content-Encoding)."""
    host, port = address.rsplit(":", 1)
    cpu_before = daemon.cpu_seconds()
    started = time.perf_counter()
    sock = socket.create_connection((host, int(port)), timeout=60)
    extra = f"Accept-Encoding: {accept_encoding}\r\n" if accept_encoding else ""
    sock.sendall(f"GET /api/watch?since_revision=0 HTTP/1.1\r\nHost: {address}\r\n"
                 f"{extra}\r\n".encode())
    raw, wire = b"", 0
    while b"\r\n\r\n" not in raw:
        data = sock.recv(1 << 20)
        wire += len(data)
        raw += data
    head, raw = raw.split(b"\r\n\r\n", 1)
    coding = None
    for line in head.decode().split("\r\n"):
        if line.lower().startswith("content-encoding:"):
            coding = line.split(":", 1)[1].strip()
    decoder = Decoder(coding)
    seen, pending = 0, b""
    while seen < events:
        # Chunk framing: "<hex size>\r\n<data>\r\n".
        while b"\r\n" not in raw:
            data = sock.recv(1 << 20)
            wire += len(data)
            raw += data
        size_line, rest = raw.split(b"\r\n", 1)
        size = int(size_line, 16)
        while len(rest) < size + 2:
            data = sock.recv(1 << 20)
            wire += len(data)
            rest += data
        chunk, raw = rest[:size], rest[size + 2:]
        frames = (pending + decoder.feed(chunk)).split(b"\n\n")
        pending = frames.pop()  # an event not complete yet
        seen += sum(frame.startswith(b"data: ") for frame in frames)
    seconds = time.perf_counter() - started
    sock.close()
    # The stream's own CPU: the stream ends (the call is cancelled) after
    # the close; what the daemon spent until then is in the delta.
    return wire, seconds, daemon.cpu_seconds() - cpu_before, coding


def cpu_time(fn):
    started = time.process_time()
    out = fn()
    return time.process_time() - started, out


def list_pages(address, experiments):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    pages, token, seconds = [], "", []
    while True:
        started = time.perf_counter()
        conn.request("GET", f"/api/experiments?page_size=1000&page_token={token}")
        resp = conn.getresponse()
        body = resp.read()
        seconds.append(time.perf_counter() - started)
        if resp.status != 200:
            raise RuntimeError(f"listing: HTTP {resp.status}")
        pages.append(b"data: " + body + b"\n\n")
        token = json.loads(body).get("next_page_token", "")
        if not token or len(pages) * 1000 >= experiments:
            break
    conn.close()
    return pages, statistics.median(seconds)


def stream_codecs():
    def gzip_stream(pages):
        c = zlib.compressobj(1, zlib.DEFLATED, 31)
        return sum(len(c.compress(p) + c.flush(zlib.Z_SYNC_FLUSH)) for p in pages) + len(c.flush())

    codecs = [("gzip 1, flushed per event", gzip_stream)]
    if brotli:
        def brotli_stream(pages):
            c = brotli.Compressor(quality=1, mode=brotli.MODE_TEXT)
            return sum(len(c.process(p) + c.flush()) for p in pages) + len(c.finish())
        codecs.append(("brotli 1, flushed per event", brotli_stream))
    return codecs


def stream_memory(address, accept_encoding, n, daemon):
    """RSS growth of the daemon, in KB per stream, while `n` Watch streams
    are open, each read for its first 200 KB."""
    host, port = address.rsplit(":", 1)
    before = daemon.rss_kb()
    socks = []
    try:
        for _ in range(n):
            sock = socket.create_connection((host, int(port)), timeout=10)
            extra = f"Accept-Encoding: {accept_encoding}\r\n" if accept_encoding else ""
            sock.sendall(f"GET /api/watch?since_revision=0 HTTP/1.1\r\nHost: {address}\r\n"
                         f"{extra}\r\n".encode())
            socks.append(sock)
        for sock in socks:
            got = 0
            while got < 200_000:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        return (daemon.rss_kb() - before) / n
    finally:
        for sock in socks:
            sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("--experiments", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--streams", type=int, default=200)
    args = ap.parse_args()
    daemon = common.Daemon(args.skydeckd, ["--sse-keepalive", "15s"])
    rows = []
    try:
        seed(daemon.http, args.experiments)
        host, port = daemon.http.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("GET", "/api/health")
        events = int(json.loads(conn.getresponse().read())["health"]["revision"])
        conn.close()
        variants = {"plain": "", "gzip": "gzip"}
        if brotli:
            variants["br"] = "br"
        results = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, accept in variants.items():
                results[name].append(replay_watch(daemon.http, accept, events, daemon))
        plain_wire = statistics.median(r[0] for r in results["plain"])
        plain_cpu = statistics.median(r[2] for r in results["plain"])
        for name, runs in results.items():
            wire = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            rows.append({"stream": "watch replay", "events": events, "variant": name,
                         "content_encoding": runs[-1][3], "wire_bytes": wire,
                         "wire_ratio": round(wire / plain_wire, 3),
                         "seconds": round(statistics.median(r[1] for r in runs), 3),
                         "daemon_cpu_s": round(cpu, 3),
                         "daemon_cpu_ratio": round(cpu / plain_cpu, 2) if plain_cpu else None})
        pages, page_seconds = list_pages(daemon.http, args.experiments)
        plain_bytes = sum(len(p) for p in pages)
        rows.append({"stream": "list pages of 1,000", "events": len(pages), "variant": "plain",
                     "bytes": plain_bytes, "page_request_ms": round(page_seconds * 1e3, 1)})
        for name, fn in stream_codecs():
            times, size = [], 0
            for _ in range(args.repeats):
                seconds, size = cpu_time(lambda: fn(pages))
                times.append(seconds)
            per_event = statistics.median(times) / len(pages)
            rows.append({"stream": "list pages of 1,000", "events": len(pages), "variant": name,
                         "bytes": size, "ratio": round(size / plain_bytes, 3),
                         "cpu_ms_per_event": round(per_event * 1e3, 2),
                         "pct_of_page_request": round(100 * per_event / page_seconds, 1)})
        for name, accept in (("plain", ""), ("gzip", "gzip")):
            rows.append({"stream": f"{args.streams} watch streams open", "variant": name,
                         "rss_kb_per_stream": round(
                             stream_memory(daemon.http, accept, args.streams, daemon), 1)})
    finally:
        daemon.stop()
    print(json.dumps({"machine": common.machine(), "load": common.load_average(),
                      "experiments": args.experiments, "rows": rows}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
