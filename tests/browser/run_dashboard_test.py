#!/usr/bin/env python3
"""Runs the dashboard browser test (dashboard.test.mjs) against a fresh
skydeckd: local backend, temporary data directory, free loopback ports,
serving the built dashboard. Everything it started is stopped afterwards,
including jobs the local backend launched.

Environment:
  SKYDECKD        skydeckd binary (required)
  SKYDECK         skydeck CLI binary (optional; the test cross-checks with it)
  WEB_ROOT        built dashboard (default: <repo>/web/ui/dist)
  SCREENSHOT_DIR  where screenshots go (default: <tmp>/skydeck-screenshots)
  NODE            node binary (default: node)
  CHROMIUM        browser (default: /usr/bin/chromium)

Exit code 77 (ctest SKIP_RETURN_CODE) when a prerequisite is missing:
Chromium, playwright-core (npm ci in web/ui) or the built dashboard.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def kill_processes_under(directory):
    """Jobs of the local backend run inside the data directory."""
    directory = os.path.realpath(directory)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == directory or cwd.startswith(directory + os.sep):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def main():
    skydeckd = os.environ.get("SKYDECKD")
    if not skydeckd:
        raise SystemExit("SKYDECKD must name the skydeckd binary")
    web_root = os.environ.get("WEB_ROOT", os.path.join(REPO, "web", "ui", "dist"))
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    node = os.environ.get("NODE", "node")
    if not os.path.exists(chromium):
        skip(f"{chromium} not found (apt-get install chromium)")
    if not os.path.isdir(os.path.join(REPO, "web", "ui", "node_modules", "playwright-core")):
        skip("playwright-core not installed (npm ci in web/ui)")
    if not os.path.exists(os.path.join(web_root, "index.html")):
        skip(f"dashboard not built in {web_root} (npm run build in web/ui)")

    tmp = tempfile.mkdtemp(prefix="skydeck-browser-")
    ready = os.path.join(tmp, "ready")
    log_path = os.path.join(tmp, "skydeckd.log")
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [skydeckd, "--port", "0", "--http-port", "0", "--data-dir", tmp,
             "--ready-file", ready, "--poll-interval", "100ms",
             "--local-cancel-grace", "2s", "--web-root", web_root],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    code = 1
    try:
        def is_ready():
            if daemon.poll() is not None:
                raise SystemExit(f"skydeckd exited with {daemon.returncode}")
            if not os.path.exists(ready):
                return False
            with open(ready) as f:
                return len(f.read().splitlines()) >= 2
        wait_for(is_ready, 30, "skydeckd to listen")
        with open(ready) as f:
            grpc_addr, http_addr = f.read().splitlines()[:2]
        env = dict(os.environ)
        env.update({
            "SKYDECK_HTTP": f"http://{http_addr}",
            "SKYDECK_SERVER": grpc_addr,
            "SCREENSHOT_DIR": os.environ.get(
                "SCREENSHOT_DIR", os.path.join(tempfile.gettempdir(), "skydeck-screenshots")),
            "CHROMIUM": chromium,
        })
        print(f"skydeckd at grpc={grpc_addr} http={http_addr}; screenshots in {env['SCREENSHOT_DIR']}",
              flush=True)
        code = subprocess.call([node, "--test", "--test-reporter=spec",
                                os.path.join(HERE, "dashboard.test.mjs")], env=env)
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        kill_processes_under(tmp)
        if code != 0:
            with open(log_path, errors="replace") as f:
                print("--- skydeckd log (tail) ---")
                print(f.read()[-20000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
