#!/usr/bin/env python3
"""Runs the notifications browser test (notify.test.mjs) against a fresh
skydeckd (local backend, loopback, temporary data directory) started with
--notify and two webhook sinks on loopback receivers: team-ok answers 200,
team-broken answers 500. Each sink's URL carries a secret path
(NOTIFY_SECRETS, which the page must never show). Everything it started is
stopped afterwards. Environment and skips as run_dashboard_test.py;
SCREENSHOT_DIR also receives notifications.png."""

import os
import shutil
import subprocess
import sys
import tempfile

from run_dashboard_test import browser_or_skip, REPO, serves_dashboard, skip, start_daemon, stop_daemons

sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from webhook_receiver import WebhookReceiver  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OK_SECRET = "OKSECRET456"
BROKEN_SECRET = "SECRET123"


def main():
    skydeckd = os.environ.get("SKYDECKD")
    if not skydeckd:
        raise SystemExit("SKYDECKD must name the skydeckd binary")
    chromium = browser_or_skip()
    tmp = tempfile.mkdtemp(prefix="skydeck-browser-notify-")
    receivers = []
    daemons = []
    code = 1
    try:
        ok = WebhookReceiver().start()
        receivers.append(ok)
        broken = WebhookReceiver().start()
        receivers.append(broken)
        broken.set_status(500)
        notify = os.path.join(tmp, "notify.yaml")
        with open(notify, "w") as f:
            f.write(f"- name: team-ok\n  url: {ok.url('/hooks/' + OK_SECRET)}\n"
                    f"- name: team-broken\n  url: {broken.url('/hooks/' + BROKEN_SECRET)}\n")
        _, http_addr = start_daemon(daemons, skydeckd, os.path.join(tmp, "d"),
                                    os.environ.get("WEB_ROOT"), ["--notify", notify])
        if not serves_dashboard(http_addr):
            skip("this skydeckd was built without the dashboard (no npm at build time)")
        env = dict(os.environ)
        env.update({
            "SKYDECK_HTTP": f"http://{http_addr}",
            "NOTIFY_SECRETS": f"{OK_SECRET},{BROKEN_SECRET}",
            "SCREENSHOT_DIR": os.environ.get(
                "SCREENSHOT_DIR", os.path.join(tempfile.gettempdir(), "skydeck-screenshots")),
            "CHROMIUM": chromium,
        })
        code = subprocess.call([os.environ.get("NODE", "node"), "--test", "--test-reporter=spec",
                                os.path.join(HERE, "notify.test.mjs")], env=env)
        if code == 0:
            # The receivers' side of what the page showed: team-ok was
            # sent the failed job, team-broken was tried and answered 500.
            code = 1  # until both hold
            ok.wait(lambda attempts, accepted: any(
                d["body"].get("event") == "job_failed" for d in accepted), timeout=10,
                what="team-ok to receive job_failed")
            broken.wait(lambda attempts, accepted: len(attempts) >= 3 and not accepted,
                        timeout=10, what="team-broken to be tried 3 times")
            code = 0
    finally:
        stop_daemons(daemons, show_logs=code != 0)
        for r in receivers:
            r.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
