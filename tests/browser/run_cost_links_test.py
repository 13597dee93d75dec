#!/usr/bin/env python3
"""Runs the cost-and-links browser test (cost_links.test.mjs) against a
fresh skydeckd (local backend, loopback, temporary data directory) started
with a price table (--prices) and a link template (--link). Everything it
started is stopped afterwards. Environment and skips as
run_dashboard_test.py; SCREENSHOT_DIR also receives cost-links.png."""

import os
import shutil
import subprocess
import sys
import tempfile

from run_dashboard_test import browser_or_skip, serves_dashboard, skip, start_daemon, stop_daemons


HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    skydeckd = os.environ.get("SKYDECKD")
    if not skydeckd:
        raise SystemExit("SKYDECKD must name the skydeckd binary")
    chromium = browser_or_skip()
    tmp = tempfile.mkdtemp(prefix="skydeck-browser-cost-")
    prices = os.path.join(tmp, "prices.csv")
    with open(prices, "w") as f:
        f.write("gpu_type,on_demand,spot\nH100,2.50,1.00\n")
    daemons = []
    code = 1
    try:
        grpc_addr, http_addr = start_daemon(
            daemons, skydeckd, os.path.join(tmp, "d"), os.environ.get("WEB_ROOT"),
            ["--prices", prices,
             "--link", "W&B=https://wandb.ai/acme/llm/runs/{run_name}",
             "--link", "Grafana=https://grafana.example/d/gpu?var-job={backend_job_id}"])
        if not serves_dashboard(http_addr):
            skip("this skydeckd was built without the dashboard (no npm at build time)")
        env = dict(os.environ)
        env.update({
            "SKYDECK_HTTP": f"http://{http_addr}",
            "SCREENSHOT_DIR": os.environ.get(
                "SCREENSHOT_DIR", os.path.join(tempfile.gettempdir(), "skydeck-screenshots")),
            "CHROMIUM": chromium,
        })
        code = subprocess.call([os.environ.get("NODE", "node"), "--test", "--test-reporter=spec",
                                os.path.join(HERE, "cost_links.test.mjs")], env=env)
    finally:
        stop_daemons(daemons, show_logs=code != 0)
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
