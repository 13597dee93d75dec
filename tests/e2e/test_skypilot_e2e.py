"""`skydeckd --backend skypilot` end to end: the real daemon and the real CLI
against the wire-level fake SkyPilot API server (../skypilot_fake).

A grid of experiments goes through start by label, a preemption SkyPilot
recovers (shown, not counted against the restart budget), a failure that is
retried, one that ends Stalled, stop and terminate; then the API server goes
down for a while and comes back, and every job name is launched exactly once.

The fake runs as a subprocess in its default tick mode: every queue call
(i.e. every daemon poll, here every 100 ms) moves each job one step along its
script; a job stays at the last step of its script until the test forces a
status through the fake's control port.
"""

import json
import os
import sqlite3
import time
import unittest

import harness
# Fake is re-exported: tests and benches elsewhere import it from here.
from fake_skypilot import STEADY, Fake, FakeSkyPilotTestCase  # noqa: F401

# Long enough in RUNNING that several polls see it, then a user-code failure.
FAILING = ["PENDING", "STARTING", "RUNNING", "RUNNING", "RUNNING", "FAILED"]


class SkyPilotE2ETest(FakeSkyPilotTestCase):

    # ----- helpers -----------------------------------------------------------

    def installation_id(self):
        with sqlite3.connect(os.path.join(self.tmp, "skydeck.db"), timeout=5) as conn:
            return conn.execute(
                "SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]

    def job_name(self, exp_id, attempt):
        """The deterministic intent name, i.e. the managed job's name."""
        return f"skydeck-{self.installation_id()}-{exp_id}-{attempt}"

    def create(self, name, *args):
        return self.cli_json("exp", "create", name, "--cmd", "python train.py",
                             "--label", "sweep=sky", *args)["id"]

    def jobs(self, ref):
        return self.cli_json("exp", "jobs", str(ref)).get("jobs", [])

    def events(self, ref):
        return self.cli_json("exp", "events", str(ref)).get("events", [])

    def health(self):
        return self.cli_json("health")

    def wait_state(self, ref, state, timeout=30):
        return self.wait_experiment(
            ref, lambda e: e.get("observed_state") == f"OBSERVED_STATE_{state}",
            timeout=timeout, what=f"{ref} to be observed {state}")

    def wait_job(self, ref, predicate, timeout=30, what=None):
        """Waits until the newest job of `ref` satisfies predicate."""
        last = {}

        def check():
            jobs = self.jobs(ref)
            last["jobs"] = jobs
            return jobs[0] if jobs and predicate(jobs[0]) else None

        try:
            return harness.wait_for(check, timeout=timeout, interval=0.1,
                                    what=what or f"the newest job of {ref}")
        except AssertionError as e:
            raise AssertionError(f"{e}; jobs: {json.dumps(last.get('jobs'), indent=1)}")

    def condition(self, exp, kind):
        for c in exp.get("conditions", []):
            if c["type"] == kind:
                return c
        return {}

    def assert_launched_once_each(self, expected_names):
        counters = self.fake.state()["counters"]
        by_name = counters["launches_by_name"]
        self.assertEqual(sorted(by_name), sorted(expected_names))
        self.assertTrue(all(n == 1 for n in by_name.values()), by_name)
        self.assertEqual(counters["launch_calls"], len(expected_names))
        # Polls never ask SkyPilot to refresh (it would restart the controller).
        self.assertEqual(counters["refresh_calls"], 0)
        self.assertGreater(counters["queue_v2_calls"], 0)
        self.assertEqual(counters["queue_v1_calls"], 0)

    # ----- tests -------------------------------------------------------------

    def test_grid_start_preempt_fail_retry_stall_stop_terminate(self):
        preempt = self.create("g-preempt", "--flag", "lr=0.0001", "--flag", "name=spot run")
        retry = self.create("g-retry", "--flag", "lr=0.0003", "--max-restarts", "1")
        stall = self.create("g-stall", "--flag", "lr=0.001", "--max-restarts", "1")
        steady = self.create("g-steady", "--flag", "lr=0.003", "--gpus", "4",
                             "--gpu-type", "H100", "--spot")
        # Scripts by intent name: g-retry's first attempt fails, every
        # attempt of g-stall fails; all others stay RUNNING.
        self.fake.script(self.job_name(retry, 1), FAILING, failure_reason="exit code 1")
        self.fake.script(f"skydeck-{self.installation_id()}-{stall}-", FAILING,
                         failure_reason="exit code 2")

        self.cli("exp", "start", "-l", "sweep=sky")
        for ref in (preempt, steady):
            self.wait_state(ref, "RUNNING")
        # The failing ones pass through RUNNING before they fail.
        for ref in (retry, stall):
            exp = self.wait_experiment(
                ref, lambda e: e.get("next_retry_time") and
                e.get("observed_state") == "OBSERVED_STATE_FAILED",
                what=f"experiment {ref} to fail and schedule a retry")
            kinds = [(e["type"], e.get("reason")) for e in self.events(ref)]
            self.assertIn(("ObservedStateChanged", "RUNNING"), kinds)
            self.assertIn(("RetryScheduled", "BackoffAfterFailure"), kinds)
            self.assertEqual(exp.get("restart_count", 0), 1)
            job = self.jobs(ref)[0]
            self.assertEqual(job["status"], "JOB_STATUS_FAILED")
            self.assertIn("exit code", job.get("failure_reason", ""))

        # What the fake received: the rendered, quoted command as `run`, the
        # intent name as the job name, a stable SkyPilot user.
        launches = {l["name"]: l["body"] for l in self.fake.state()["launches"]}
        body = launches[self.job_name(preempt, 1)]
        command = self.jobs(preempt)[0]["command"]
        self.assertEqual(command, "python train.py 'lr=0.0001' 'name=spot run'")
        task = body["task"]
        self.assertIn(f'run: {json.dumps(command)}', task)
        name_line = f'name: "{self.job_name(preempt, 1)}"'
        self.assertEqual(task.count(name_line), 2, task)  # DAG name and task name
        self.assertTrue(task.startswith(name_line + "\n---\n"), task)
        self.assertEqual(body["name"], self.job_name(preempt, 1))
        self.assertIn('SKYDECK_EXPERIMENT: "g-preempt"', task)
        self.assertIn("use_spot: false", task)
        steady_task = launches[self.job_name(steady, 1)]["task"]
        self.assertIn('accelerators: "H100:4"', steady_task)
        self.assertIn("use_spot: true", steady_task)
        users = {b["env_vars"]["SKYPILOT_USER_ID"] for b in launches.values()}
        self.assertEqual(len(users), 1, users)

        # Preemption: SkyPilot recovers the same job; shown, not counted.
        name = self.job_name(preempt, 1)
        self.fake.force(name, "RECOVERING")
        job = self.wait_job(preempt, lambda j: j["status"] == "JOB_STATUS_RECOVERING")
        self.assertEqual(job.get("recovery_count"), 1)
        self.fake.force(name, "RUNNING")
        job = self.wait_job(preempt, lambda j: j["status"] == "JOB_STATUS_RUNNING")
        self.assertEqual(job.get("recovery_count"), 1)
        # The recovery is a gap in its GPU-hours (SkyPilot's job_duration
        # leaves it out), and SkyPilot's dashboard page of the managed job
        # is among its links.
        self.assertGreater(int(job.get("paused_ms", "0")), 0)
        links = {l["name"]: l["url"] for l in job.get("links", [])}
        self.assertEqual(links.get("SkyPilot"),
                         f"{self.fake.endpoint}/dashboard/jobs/{self.fake.job(name)['job_id']}")
        self.assertEqual(self.fake.job(name)["recovery_count"], 1)
        exp = self.wait_state(preempt, "RUNNING")
        self.assertEqual(exp.get("restart_count", 0), 0)
        self.assertEqual(len(self.jobs(preempt)), 1)
        preempted = [e for e in self.events(preempt) if e["type"] == "Preempted"]
        self.assertEqual(len(preempted), 1, preempted)
        self.assertIn("not counted against the restart budget", preempted[0]["message"])

        # Stop: SkyPilot cancels the managed job; observed STOPPED.
        self.cli("exp", "stop", "g-preempt")
        self.wait_state(preempt, "STOPPED")
        self.assertEqual(self.fake.job(name)["status"], "CANCELLED")
        self.assertEqual(self.jobs(preempt)[0]["status"], "JOB_STATUS_CANCELLED")
        self.assertEqual(self.fake.state()["last_cancel"]["job_ids"],
                         [self.fake.job(name)["job_id"]])

        # Failure retried after the backoff (10 s +-20%): attempt 2 runs.
        exp = self.wait_experiment(
            retry, lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING" and
            e.get("job_count") == 2, timeout=40, what="g-retry's second attempt to run")
        self.assertEqual(exp.get("restart_count", 0), 1)
        self.assertEqual([j["attempt"] for j in self.jobs(retry)], [2, 1])
        # Failure on every attempt: Stalled once the budget (1 restart) is spent.
        exp = self.wait_experiment(
            stall, lambda e: self.condition(e, "Stalled").get("status"), timeout=40,
            what="g-stall to stall")
        self.assertEqual(exp["observed_state"], "OBSERVED_STATE_FAILED")
        self.assertEqual(self.condition(exp, "Stalled")["reason"], "RestartBudgetExhausted")
        self.assertEqual(exp.get("restart_count", 0), 1)
        stall_jobs = self.jobs(stall)
        self.assertEqual([j["status"] for j in stall_jobs], ["JOB_STATUS_FAILED"] * 2)
        self.assertIn("Stalled", [e["type"] for e in self.events(stall)])

        # Terminate: cancelled on SkyPilot, observed TERMINATED, never relaunched.
        self.cli("exp", "terminate", "g-retry")
        self.wait_state(retry, "TERMINATED")
        self.assertEqual(self.fake.job(self.job_name(retry, 2))["status"], "CANCELLED")
        self.cli("reconcile", "g-retry")
        self.cli("refresh")
        self.wait_state(retry, "TERMINATED")
        self.assertEqual(len(self.jobs(retry)), 2)

        # g-steady was never disturbed; every name was launched exactly once.
        self.wait_state(steady, "RUNNING")
        self.assertEqual(len(self.jobs(steady)), 1)
        self.assert_launched_once_each([
            self.job_name(preempt, 1), self.job_name(retry, 1), self.job_name(retry, 2),
            self.job_name(stall, 1), self.job_name(stall, 2), self.job_name(steady, 1)])

    def test_api_server_outage_degrades_then_converges_without_duplicates(self):
        ids = [self.create(f"o-{i}", "--flag", f"seed={i}") for i in range(4)]
        self.cli("exp", "start", "-l", "sweep=sky")
        for ref in ids:
            self.wait_state(ref, "RUNNING")
        harness.wait_for(lambda: self.health()["status"] == "STATUS_SERVING",
                         what="a healthy backend")

        self.fake.call("down")
        # A poll cut off by the outage can report DEGRADED a moment before
        # the next probe finds the server unreachable: wait for both.
        health = harness.wait_for(
            lambda: (lambda h: h if h["status"] == "STATUS_DEGRADED" and
                     not h.get("backend_reachable", False) else None)(self.health()),
            timeout=15, what="health to show the backend degraded and unreachable")
        self.assertIn("SkyPilot API server", health.get("last_poll_error", ""))
        self.assertIn("last_successful_poll_time", health)
        # The daemon keeps answering while SkyPilot is down.
        started = time.monotonic()
        listed = self.cli_json("exp", "list", "-l", "sweep=sky")["experiments"]
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertEqual(len(listed), 4)
        # Jobs it cannot see are not given up on (not LOST, not relaunched).
        self.assertTrue(all(e["observed_state"] == "OBSERVED_STATE_RUNNING" for e in listed),
                        listed)
        # A start during the outage: its launch fails, the intent is kept.
        late = self.cli_json("exp", "create", "o-late", "--cmd", "python train.py",
                             "--flag", "seed=99", "--start")["id"]
        exp = self.wait_experiment(late, lambda e: self.condition(e, "Degraded").get("status"),
                                   timeout=15, what="o-late to be degraded")
        self.assertEqual(exp["observed_state"], "OBSERVED_STATE_LAUNCHING")
        self.assertIn("LaunchFailed", [e["type"] for e in self.events(late)])
        # A stop during the outage is carried out once the server is back.
        self.cli("exp", "stop", "o-0")
        started = time.monotonic()
        self.cli_json("exp", "get", "o-0")
        self.assertLess(time.monotonic() - started, 2.0)

        self.fake.call("up")
        harness.wait_for(
            lambda: (lambda h: h["status"] == "STATUS_SERVING" and
                     h.get("backend_reachable"))(self.health()),
            timeout=15, what="health to show the backend reachable again")
        exp = self.wait_state(late, "RUNNING", timeout=60)
        self.assertFalse(self.condition(exp, "Degraded").get("status"))
        self.wait_state(ids[0], "STOPPED", timeout=60)
        self.assertEqual(self.fake.job(self.job_name(ids[0], 1))["status"], "CANCELLED")
        for ref in ids[1:]:
            exp = self.wait_state(ref, "RUNNING")
            self.assertEqual(exp.get("job_count"), 1)
            self.assertEqual(self.jobs(ref)[0]["status"], "JOB_STATUS_RUNNING")
        self.cli("refresh")
        self.assert_launched_once_each([self.job_name(i, 1) for i in ids + [late]])
        self.assertEqual(len(self.jobs(late)), 1)


if __name__ == "__main__":
    unittest.main()
