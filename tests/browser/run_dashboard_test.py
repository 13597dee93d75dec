#!/usr/bin/env python3
"""Runs the dashboard browser test (dashboard.test.mjs) against a fresh
skydeckd: local backend, temporary data directory, free loopback ports,
serving the built dashboard. Everything it started is stopped afterwards,
including jobs the local backend launched.

Environment:
  SKYDECKD        skydeckd binary (required)
  SKYDECK         skydeck CLI binary (optional; the test cross-checks with it)
  WEB_ROOT        serve the dashboard from this directory (default: the copy
                  embedded in skydeckd, which is what users get)
  SCREENSHOT_DIR  where screenshots go (default: <tmp>/skydeck-screenshots)
  NODE            node binary (default: node)
  CHROMIUM        browser (default: /usr/bin/chromium)

The test can stop and start the open daemon (to see the dashboard resume
its live stream) through a loopback control endpoint it gets as
SKYDECK_CONTROL: POST /stop, POST /start?ports=same|free.

Exit code 77 (ctest SKIP_RETURN_CODE) when a prerequisite is missing:
Chromium, playwright-core (npm ci in web/ui) or a skydeckd built without
the dashboard.
"""

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from harness import kill_processes_under, wait_for  # noqa: E402


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def browser_or_skip():
    """The Chromium to drive ($CHROMIUM, else Debian's); skips the test
    (exit 77) when it or playwright-core (npm ci in web/ui) is missing."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        skip(f"{chromium} not found (apt-get install chromium)")
    if not os.path.isdir(os.path.join(REPO, "web", "ui", "node_modules", "playwright-core")):
        skip("playwright-core not installed (npm ci in web/ui)")
    return chromium


def start_daemon(daemons, skydeckd, data_dir, web_root, extra=(), ports=("0", "0")):
    """Starts skydeckd in `data_dir` (created if needed) on `ports` (gRPC,
    HTTP; "0": a free one); returns the (grpc, http) addresses."""
    os.makedirs(data_dir, exist_ok=True)
    web_root_args = ["--web-root", web_root] if web_root else []
    ready = os.path.join(data_dir, "ready")
    if os.path.exists(ready):
        os.remove(ready)
    with open(os.path.join(data_dir, "skydeckd.log"), "ab") as log:
        daemon = subprocess.Popen(
            [skydeckd, "--grpc-port", ports[0], "--port", ports[1], "--data-dir", data_dir,
             "--ready-file", ready, "--poll-interval", "100ms",
             "--local-cancel-grace", "2s", "--backend", "local", *web_root_args, *extra],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    daemons.append((daemon, data_dir))

    def is_ready():
        if daemon.poll() is not None:
            raise SystemExit(f"skydeckd exited with {daemon.returncode}")
        if not os.path.exists(ready):
            return False
        with open(ready) as f:
            return len(f.read().splitlines()) >= 2
    wait_for(is_ready, timeout=30, what="skydeckd to listen")
    with open(ready) as f:
        grpc_addr, http_addr = f.read().splitlines()[:2]
    return grpc_addr, http_addr


def serves_dashboard(http_addr):
    try:
        with urllib.request.urlopen(f"http://{http_addr}/", timeout=10) as r:
            return b"<div id=" in r.read()
    except urllib.error.HTTPError:
        return False


def stop_daemon(daemon):
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def stop_daemons(daemons, show_logs, tail=20000):
    """Stops every daemon start_daemon started and what they started;
    prints the tail of each one's log when `show_logs` (a failed run)."""
    for daemon, data_dir in daemons:
        stop_daemon(daemon)
        kill_processes_under(data_dir)
    if show_logs:
        for data_dir in sorted({d for _, d in daemons}):
            with open(os.path.join(data_dir, "skydeckd.log"), errors="replace") as f:
                print(f"--- skydeckd log {data_dir} (tail) ---")
                print(f.read()[-tail:])


def port_of(address):
    return address.rsplit(":", 1)[1]


class DaemonControl:
    """Stops and starts one daemon on the test's request, from a loopback
    HTTP endpoint served on a thread: POST /stop, and POST /start with
    ports=same (the addresses it first had, which the open page uses) or
    ports=free (elsewhere: changes made there are ones the page cannot
    see until the daemon is back). Answers {"grpc": ..., "http": ...}."""

    def __init__(self, daemons, start):
        self.daemons = daemons
        self.start_daemon = start  # ports -> (grpc, http); appends to daemons
        self.first = None
        self.current = None
        self.lock = threading.Lock()
        control = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                ports = urllib.parse.parse_qs(url.query).get("ports", ["same"])[0]
                try:
                    with control.lock:
                        body = control.handle(url.path, ports)
                    status = 200
                except Exception as e:  # reported to the test, which fails
                    body, status = {"error": str(e)}, 500
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self, ports):
        addresses = self.start_daemon(ports)
        self.current = self.daemons[-1][0]
        return addresses

    def begin(self):
        self.first = self.start(("0", "0"))
        return self.first

    def handle(self, path, ports):
        if path == "/stop":
            stop_daemon(self.current)
            return {}
        if path == "/start":
            if ports == "same":
                grpc_addr, http_addr = self.start((port_of(self.first[0]), port_of(self.first[1])))
            else:
                grpc_addr, http_addr = self.start(("0", "0"))
            return {"grpc": grpc_addr, "http": http_addr}
        raise ValueError(f"unknown control {path}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    skydeckd = os.environ.get("SKYDECKD")
    if not skydeckd:
        raise SystemExit("SKYDECKD must name the skydeckd binary")
    web_root = os.environ.get("WEB_ROOT")
    chromium = browser_or_skip()
    node = os.environ.get("NODE", "node")
    if web_root and not os.path.exists(os.path.join(web_root, "index.html")):
        skip(f"dashboard not built in {web_root} (npm run build in web/ui)")

    tmp = tempfile.mkdtemp(prefix="skydeck-browser-")
    # A secret the daemons read from their environment (the test's job
    # prints only its length).
    os.environ["UI_TEST_SECRET"] = "ui-s3cr3t"
    token = "browser-test-token"
    with open(os.path.join(tmp, "token"), "w") as f:
        f.write(token)
    daemons = []
    code = 1
    open_dir = os.path.join(tmp, "open")
    control = DaemonControl(
        daemons, lambda ports: start_daemon(daemons, skydeckd, open_dir, web_root, ports=ports))
    try:
        # One open daemon for the flows (the test may restart it), one that
        # requires a token for the prompt.
        grpc_addr, http_addr = control.begin()
        _, auth_http_addr = start_daemon(daemons, skydeckd, os.path.join(tmp, "auth"), web_root,
                                         ["--auth-token-file", os.path.join(tmp, "token")])
        if not serves_dashboard(http_addr):
            skip("this skydeckd was built without the dashboard (no npm at build time)")
        env = dict(os.environ)
        env.update({
            "SKYDECK_HTTP": f"http://{http_addr}",
            "SKYDECK_SERVER": grpc_addr,
            "SKYDECK_HTTP_AUTH": f"http://{auth_http_addr}",
            "SKYDECK_TOKEN": token,
            "SKYDECK_CONTROL": control.url,
            "SCREENSHOT_DIR": os.environ.get(
                "SCREENSHOT_DIR", os.path.join(tempfile.gettempdir(), "skydeck-screenshots")),
            "CHROMIUM": chromium,
        })
        print(f"skydeckd at grpc={grpc_addr} http={http_addr} (token: {auth_http_addr}); "
              f"screenshots in {env['SCREENSHOT_DIR']}", flush=True)
        code = subprocess.call([node, "--test", "--test-reporter=spec",
                                os.path.join(HERE, "dashboard.test.mjs")], env=env)
    finally:
        control.close()
        stop_daemons(daemons, show_logs=code != 0)
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
