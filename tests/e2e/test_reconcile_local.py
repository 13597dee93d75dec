"""Desired state becomes real with the real daemon and the local backend:
experiments run as processes, succeed with logs and exit codes in history,
fail and retry then stall, stop and terminate; a kill -9 during launches
leaves exactly one job per launch intent."""

import os
import sqlite3
import time
import unittest

import harness


def jobs_of(test, ref):
    return test.cli_json("exp", "jobs", str(ref)).get("jobs", [])


class ReconcileLocalTest(harness.E2ETestCase):

    def test_twenty_experiments_run_and_succeed(self):
        script = os.path.join(self.tmp, "train.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\necho "training $SKYDECK_EXPERIMENT rank=$SKYPILOT_NODE_RANK $*"\n')
        os.chmod(script, 0o755)
        for i in range(20):
            self.cli("exp", "create", f"grid-{i}", "--cmd", script, "--flag", f"seed={i}",
                     "--label", "sweep=grid")
        self.cli("exp", "start", "-l", "sweep=grid")
        for i in range(20):
            exp = self.wait_experiment(
                f"grid-{i}", lambda e: e.get("observed_state") == "OBSERVED_STATE_SUCCEEDED",
                timeout=60)
            self.assertEqual(exp["desired_state"], "DESIRED_STATE_RUNNING")
        jobs = jobs_of(self, "grid-7")
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs[0]["status"], "JOB_STATUS_SUCCEEDED")
        self.assertEqual(jobs[0].get("exit_code", 0), 0)
        self.assertIn("'seed=7'", jobs[0]["command"])
        log = self.cli("exp", "logs", "grid-7").stdout
        self.assertIn("training grid-7 rank=0 seed=7", log)

    def test_failure_is_retried_then_stalled(self):
        self.cli("exp", "create", "flaky", "--cmd", "echo failing; exit 3",
                 "--max-restarts", "1", "--start")
        exp = self.wait_experiment(
            "flaky", lambda e: any(c["type"] == "Stalled" and c.get("status")
                                   for c in e.get("conditions", [])), timeout=60)
        self.assertEqual(exp["observed_state"], "OBSERVED_STATE_FAILED")
        jobs = jobs_of(self, "flaky")
        self.assertEqual(len(jobs), 2)  # first attempt + one restart
        self.assertTrue(all(j["status"] == "JOB_STATUS_FAILED" for j in jobs))
        self.assertTrue(all(j["exit_code"] == 3 for j in jobs))
        events = [e["type"] for e in self.cli_json("exp", "events", "flaky")["events"]]
        self.assertIn("RetryScheduled", events)
        self.assertIn("Stalled", events)

    def test_stop_and_terminate(self):
        self.cli("exp", "create", "sleeper", "--cmd", "sleep 300", "--start")
        self.wait_experiment("sleeper",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        self.cli("exp", "stop", "sleeper")
        self.wait_experiment("sleeper",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED")
        jobs = jobs_of(self, "sleeper")
        self.assertEqual(jobs[0]["status"], "JOB_STATUS_CANCELLED")
        # start resumes as a new attempt; terminate ends it for good.
        self.cli("exp", "start", "sleeper")
        self.wait_experiment("sleeper",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        self.cli("exp", "terminate", "sleeper")
        self.wait_experiment("sleeper",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_TERMINATED")
        jobs = jobs_of(self, "sleeper")
        self.assertEqual([j["attempt"] for j in jobs], [2, 1])
        self.cli("reconcile", "sleeper")
        self.cli("refresh")
        self.assertEqual(len(jobs_of(self, "sleeper")), 2)  # never relaunched

    def test_delete_refuses_a_live_job_unless_forced(self):
        self.cli("exp", "create", "busy", "--cmd", "sleep 300", "--start")
        self.wait_experiment("busy",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        err = self.cli("exp", "delete", "busy", expect=1)
        self.assertIn("live job", err.stderr)
        self.cli("exp", "delete", "busy", "--force")
        self.assertEqual(self.cli_json("exp", "list")["experiments"], [])
        archived = self.cli_json("exp", "list", "--include-deleted")["experiments"][0]
        self.assertEqual(archived["desired_state"], "DESIRED_STATE_TERMINATED")
        jobs = jobs_of(self, archived["id"])
        self.assertEqual(jobs[0]["status"], "JOB_STATUS_CANCELLED")

    def test_kill9_during_launches_leaves_one_job_per_intent(self):
        for i in range(10):
            self.cli("exp", "create", f"crash-{i}", "--cmd", "sleep 300", "--label", "g=crash")
        self.cli("exp", "start", "-l", "g=crash")
        # Kill as soon as the first launch intent is durable.
        db = os.path.join(self.tmp, "skydeck.db")

        def intents():
            with sqlite3.connect(db, timeout=5) as conn:
                return conn.execute("SELECT count(*) FROM jobs").fetchone()[0]

        harness.wait_for(lambda: intents() > 0, what="a launch intent")
        self.daemon.kill9()
        self.daemon.start()
        for i in range(10):
            self.wait_experiment(f"crash-{i}",
                                 lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                                 timeout=60)
        with sqlite3.connect(db, timeout=5) as conn:
            self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            per_exp = conn.execute(
                "SELECT experiment_id, count(*) FROM jobs GROUP BY experiment_id").fetchall()
            self.assertEqual(len(per_exp), 10)
            self.assertTrue(all(n == 1 for _, n in per_exp), per_exp)
            names = conn.execute("SELECT backend_name FROM jobs").fetchall()
        # Exactly one process tree per intent: one job directory each.
        job_dirs = os.listdir(os.path.join(self.tmp, "jobs"))
        self.assertEqual(sorted(job_dirs), sorted(n for (n,) in names))
        self.cli("exp", "stop", "-l", "g=crash")
        for i in range(10):
            self.wait_experiment(f"crash-{i}",
                                 lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED",
                                 timeout=60)


if __name__ == "__main__":
    unittest.main()
