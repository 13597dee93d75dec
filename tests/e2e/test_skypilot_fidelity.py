"""`skydeckd --backend skypilot` where a real SkyPilot API server (1.0.0-dev0,
API 31) behaved differently from what SkyDeck expected (issue 16). Each test
drives the real daemon and CLI against the wire-level fake, made to answer
the way the real server did (see ../skypilot_fake/README.md, "Scenarios
copied from a real server").
"""

import json
import os
import re
import subprocess
import threading
import time
import urllib.request

import harness
from fake_skypilot import STEADY, FakeSkyPilotTestCase

ANSI = re.compile("\x1b")
# Verbatim from a real server: `sky jobs queue` of a job its jobs controller
# could not start for lack of cloud access.
NO_CLOUD_REASON = ("[sky.exceptions.NoCloudAccessError] Cloud access is not set up. "
                   "Run: \x1b[1msky check\x1b[0m")


class SkyPilotFidelityTest(FakeSkyPilotTestCase):

    # ----- helpers -----------------------------------------------------------

    def installation_id(self):
        import sqlite3
        with sqlite3.connect(os.path.join(self.tmp, "skydeck.db"), timeout=5) as conn:
            return conn.execute(
                "SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]

    def job_name(self, exp_id, attempt=1):
        return f"skydeck-{self.installation_id()}-{exp_id}-{attempt}"

    def create(self, name, *args):
        return self.cli_json("exp", "create", name, "--cmd", "python train.py",
                             "--label", "sweep=fid", *args)["id"]

    def jobs(self, ref):
        return self.cli_json("exp", "jobs", str(ref)).get("jobs", [])

    def events(self, ref):
        return self.cli_json("exp", "events", str(ref), "--limit", "0").get("events", [])

    def condition(self, exp, kind):
        for c in exp.get("conditions", []):
            if c["type"] == kind:
                return c
        return {}

    def wait_job(self, ref, predicate, timeout=30, what=None):
        def check():
            jobs = self.jobs(ref)
            return jobs[0] if jobs and predicate(jobs[0]) else None
        return harness.wait_for(check, timeout=timeout, interval=0.1,
                                what=what or f"the newest job of {ref}")

    def restart_daemon(self, *extra_args):
        self.daemon.stop()
        self.daemon.start(extra_args=list(extra_args))

    def metric(self, name, **labels):
        """The value of one series of skydeckd's /metrics (0 when absent)."""
        with urllib.request.urlopen(f"http://{self.daemon.http_address}/metrics",
                                    timeout=10) as resp:
            text = resp.read().decode()
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if line.startswith("#") or series.split("{")[0] != name:
                continue
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                return float(value)
        return 0.0

    # ----- 1. stop during LAUNCHING ------------------------------------------

    def test_stop_while_launching_leaves_no_managed_job_on_the_server(self):
        # The real server had created managed job 21 when the launch request
        # was cancelled; it stayed PENDING for 15+ minutes.
        self.fake.call("config", {"launch_hold": True, "launch_cancel_leaves_job": True})
        exp = self.create("stop-early", "--start")
        self.wait_job(exp, lambda j: j["status"] == "JOB_STATUS_LAUNCHING" and
                      j.get("backend_job_id", "").startswith("request:"),
                      what="the launch request to be in flight")
        self.cli("exp", "stop", "stop-early")
        self.wait_experiment(exp, lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED",
                             what="stop-early to stop")
        managed = self.fake.job(self.job_name(exp))
        self.assertEqual(managed["status"], "CANCELLED", managed)
        job = self.jobs(exp)[0]
        self.assertEqual(job["status"], "JOB_STATUS_CANCELLED")
        # SkyDeck followed the job the launch left, not the request.
        self.assertEqual(job["backend_job_id"], str(managed["job_id"]))
        self.assertEqual(self.fake.state()["counters"]["launch_calls"], 1)

    # ----- 2. logs of a job that has not started, and of a failed one ------

    def test_logs_of_a_pending_job_answer_at_once_and_follow_waits_visibly(self):
        exp = self.create("waits")
        self.fake.script(self.job_name(exp), ["PENDING"])
        self.cli("exp", "start", "waits")
        self.wait_job(exp, lambda j: j["status"] == "JOB_STATUS_PENDING")

        started = time.monotonic()
        proc = self.cli("exp", "logs", "waits", expect=1)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("PENDING", proc.stderr)
        self.assertIn("-f", proc.stderr)
        self.assertNotIn("did not answer", proc.stderr)

        follow = subprocess.Popen(
            [harness.SKYDECK, "--server", self.daemon.address, "exp", "logs", "waits", "-f"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err_lines = []
        reader = threading.Thread(target=lambda: err_lines.extend(follow.stderr), daemon=True)
        reader.start()
        try:
            # It says at once that it waits (the server would send only
            # spinner lines and heartbeats).
            harness.wait_for(lambda: any("waiting" in line for line in err_lines),
                             timeout=15, what="logs -f to say it waits")
            self.fake.force(self.job_name(exp), "RUNNING")
            self.fake.force(self.job_name(exp), "SUCCEEDED")
            out = follow.stdout.read()
            follow.wait(timeout=60)
            reader.join(timeout=10)
        finally:
            if follow.poll() is None:
                follow.kill()
                follow.wait()
            follow.stdout.close()
            follow.stderr.close()
        err = "".join(err_lines)
        self.assertEqual(follow.returncode, 0, err)
        self.assertIn("PENDING", err)
        self.assertIn("waiting", err)
        self.assertIn(f"{self.job_name(exp)}: line 1", out)
        self.cli("exp", "logs", "waits")  # done: exit 0

    def test_logs_of_a_failed_job_exit_5_without_terminal_codes(self):
        exp = self.create("no-cloud-logs")
        self.fake.script(self.job_name(exp), ["PENDING", "STARTING", "FAILED_PRECHECKS"],
                         failure_reason=NO_CLOUD_REASON)
        self.cli("exp", "start", "no-cloud-logs")
        self.wait_job(exp, lambda j: j["status"] == "JOB_STATUS_FAILED_PRECHECKS")
        proc = self.cli("exp", "logs", "no-cloud-logs", expect=5)  # stdout is a pipe
        self.assertIn("is already in terminal state FAILED_PRECHECKS", proc.stdout)
        self.assertIn("Run: sky check", proc.stdout)
        self.assertIsNone(ANSI.search(proc.stdout), repr(proc.stdout))
        self.assertIn("ended FAILED_PRECHECKS", proc.stderr)
        job = self.jobs(exp)[0]
        self.assertIsNone(ANSI.search(job["failure_reason"]), job)
        self.assertIn("Run: sky check", job["failure_reason"])
        for e in self.events(exp):
            self.assertIsNone(ANSI.search(e.get("message", "")), e)
        table = self.cli("exp", "jobs", "no-cloud-logs", "-o", "wide").stdout
        self.assertIsNone(ANSI.search(table), table)

    # ----- 5. one cause, one handling ------------------------------------------

    def test_no_cloud_access_from_the_launch_or_the_controller_is_handled_alike(self):
        self.restart_daemon("--environment-retry-limit", "4s")
        at_launch = self.create("nc-launch", "--max-restarts", "1")
        in_controller = self.create("nc-controller", "--max-restarts", "1")
        # Default mode: the launch request itself fails (no jobs controller).
        self.fake.script(self.job_name(at_launch)[:-1], STEADY, launch_error={
            "type": "NoCloudAccessError",
            "message": "Cloud access is not set up. Run: \x1b[1msky check\x1b[0m"})
        # Consolidation mode: the controller ends the job FAILED_PRECHECKS.
        self.fake.script(self.job_name(in_controller)[:-1],
                         ["PENDING", "STARTING", "FAILED_PRECHECKS"],
                         failure_reason=NO_CLOUD_REASON)
        self.cli("exp", "start", "-l", "sweep=fid")
        for ref in (at_launch, in_controller):
            exp = self.wait_experiment(
                ref, lambda e: self.condition(e, "Degraded").get("status") or
                self.condition(e, "Stalled").get("status"),
                what=f"{ref} to show the missing cloud access")
            shown = self.condition(exp, "Degraded") if self.condition(
                exp, "Degraded").get("status") else self.condition(exp, "Stalled")
            self.assertEqual(shown["reason"], "NoCloudAccess", exp)
            self.assertIn("sky check", shown["message"])
            self.assertNotIn("fix the experiment", shown["message"])
            self.assertIsNone(ANSI.search(shown["message"]), shown)
            self.assertEqual(exp.get("restart_count", 0), 0)
            self.assertEqual(self.jobs(ref)[0]["status"], "JOB_STATUS_FAILED_PRECHECKS")
        # Past the (here 4 s) limit, both are Stalled the same way.
        for ref in (at_launch, in_controller):
            exp = self.wait_experiment(ref, lambda e: self.condition(e, "Stalled").get("status"),
                                       timeout=40, what=f"{ref} to stall")
            stalled = self.condition(exp, "Stalled")
            self.assertEqual(stalled["reason"], "NoCloudAccess")
            self.assertIn("sky check", stalled["message"])
            self.assertNotIn("fix the experiment", stalled["message"])
            for e in self.events(ref):
                self.assertNotIn("retry 1/1", e.get("message", ""), e)

    # ----- 3, 4 and the endpoint: health and Degraded while polls fail --------

    def test_experiments_whose_jobs_cannot_be_observed_are_degraded(self):
        health = self.cli_json("health")
        self.assertEqual(health.get("backend_endpoint"), self.fake.endpoint)
        self.assertIn(f"Backend endpoint:  {self.fake.endpoint}", self.cli("health").stdout)
        exp = self.create("watched", "--start")
        self.wait_experiment(exp, lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                             what="watched to run")
        self.fake.call("down")
        exp_seen = self.wait_experiment(
            exp, lambda e: self.condition(e, "Degraded").get("status"), timeout=20,
            what="watched to be Degraded while polls fail")
        degraded = self.condition(exp_seen, "Degraded")
        self.assertEqual(degraded["reason"], "PollFailing")
        self.assertIn("SkyPilot API server", degraded["message"])
        self.assertIn("polls failing since", degraded["message"])
        self.assertEqual(exp_seen["observed_state"], "OBSERVED_STATE_RUNNING")
        self.fake.call("up")
        self.wait_experiment(exp, lambda e: not self.condition(e, "Degraded").get("status"),
                             timeout=30, what="Degraded to clear once polls work")

    def test_last_poll_does_not_advance_while_the_server_is_down_and_nothing_is_live(self):
        harness.wait_for(lambda: self.cli_json("health").get("last_successful_poll_time"),
                         what="a first successful exchange")
        self.fake.call("down")
        harness.wait_for(lambda: not self.cli_json("health").get("backend_reachable", False),
                         timeout=15, what="health to see the server down")
        before = self.cli_json("health")["last_successful_poll_time"]
        errors = self.metric("skydeck_backend_polls_total", outcome="error")
        harness.wait_for(
            lambda: self.metric("skydeck_backend_polls_total", outcome="error") >= errors + 5,
            timeout=20, what="five more failed poll ticks")
        health = self.cli_json("health")
        self.assertEqual(health["last_successful_poll_time"], before)
        self.assertEqual(health["status"], "STATUS_DEGRADED")
        self.fake.call("up")
        harness.wait_for(lambda: self.cli_json("health")["last_successful_poll_time"] != before,
                         timeout=20, what="the last poll to advance once the server answers")

    # ----- 7. slow is not down ---------------------------------------------------

    def test_a_slow_queue_after_a_server_restart_is_slow_not_an_outage(self):
        self.restart_daemon("--skypilot-timeout", "queue=1s")
        exp = self.create("slow", "--start")
        self.wait_experiment(exp, lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                             what="slow to run")
        # The first queue answers after a real restart took 24-38 s: here
        # 2.5 s, past this daemon's 1 s.
        self.fake.call("restart", {"queue_delay_ms": 2500, "queue_delay_count": -1})
        health = harness.wait_for(
            lambda: (lambda h: h if "did not finish" in h.get("last_poll_error", "") else None)(
                self.cli_json("health")),
            timeout=20, what="a poll to time out")
        self.assertIn("did not finish it within 1s", health["last_poll_error"])
        self.assertTrue(health.get("backend_reachable"), health)  # it answers: not an outage
        self.assertNotIn("not retrying", health["last_poll_error"])
        # With the deadline the operation needs, the same server is healthy.
        self.restart_daemon("--skypilot-timeout", "queue=10s")
        harness.wait_for(
            lambda: (lambda h: h["status"] == "STATUS_SERVING" and
                     not h.get("last_poll_error"))(self.cli_json("health")),
            timeout=30, what="polls to succeed, slowly")
        exp_now = self.cli_json("exp", "get", "slow")
        self.assertFalse(self.condition(exp_now, "Degraded").get("status"), exp_now)

    # ----- 8. smaller ones -------------------------------------------------------

    def test_logs_of_a_launch_failure_survive_a_server_restart(self):
        exp = self.create("refused")
        self.fake.script(self.job_name(exp)[:-1], STEADY, launch_error={
            "type": "ValueError", "message": "Invalid accelerator 'H1000'"})
        self.cli("exp", "start", "refused")
        self.wait_job(exp, lambda j: j["status"] == "JOB_STATUS_FAILED_PRECHECKS")
        self.fake.call("restart")  # forgets finished requests, like a real one
        # Once the daemon sees the server again (it may have found it down).
        harness.wait_for(lambda: self.cli_json("health").get("backend_reachable"),
                         timeout=30, what="the server to be reachable again")
        proc = harness.wait_for(
            lambda: (lambda p: p if "does not know" in p.stderr else None)(
                self.cli("exp", "logs", "refused", expect=1)),
            timeout=30, what="logs to get past the daemon's backoff after the restart")
        self.assertIn("ValueError: Invalid accelerator 'H1000'", proc.stderr)
        self.assertIn("FAILED_PRECHECKS", proc.stderr)

    def test_stops_share_cancel_requests(self):
        ids = [self.create(f"c-{i}", "--start") for i in range(4)]
        for ref in ids:
            self.wait_experiment(ref, lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                                 what=f"{ref} to run")
        self.cli("exp", "stop", "-l", "sweep=fid")
        for ref in ids:
            self.wait_experiment(ref, lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED",
                                 what=f"{ref} to stop")
        requests = self.fake.state()["counters"]["cancel_requests"]
        cancelled = sorted(i for r in requests for i in r)
        self.assertEqual(cancelled, sorted(self.fake.job(self.job_name(i))["job_id"] for i in ids))
        self.assertLess(len(requests), len(ids), requests)

    def test_launches_at_the_limit_are_not_looked_up_by_name(self):
        self.restart_daemon("--max-concurrent-launches", "1")
        self.fake.call("config", {"launch_hold": True})
        first = self.create("l-1", "--start")
        self.wait_job(first, lambda j: j.get("backend_job_id", "").startswith("request:"))
        second = self.create("l-2", "--start")
        harness.wait_for(
            lambda: sum(e["type"] == "LaunchFailed" for e in self.events(second)) >= 3,
            timeout=30, what="l-2 to be refused at the launch limit three times")
        self.assertEqual(self.fake.state()["counters"]["queue_name_lookups"], 0)
        self.fake.call("config", {"launch_hold": False})
        self.fake.call("release_launches")
        self.wait_experiment(second, lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                             timeout=60, what="l-2 to run once a slot is free")
        self.assertEqual(self.fake.state()["counters"]["launch_calls"], 2)


if __name__ == "__main__":
    import unittest
    unittest.main()
