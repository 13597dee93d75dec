"""Desired state becomes real with the real daemon and the local backend:
experiments run as processes, succeed with logs and exit codes in history,
fail and retry then stall, stop and terminate; a kill -9 during launches
leaves exactly one job per launch intent."""

import os
import shutil
import sqlite3
import time
import unittest
from unittest import mock

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

    def test_jobs_run_under_the_monitor_beside_skydeckd(self):
        self.cli("exp", "create", "watched", "--cmd", "sleep 300", "--start")
        self.wait_experiment("watched",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        (job_dir,) = os.listdir(os.path.join(self.tmp, "jobs"))
        with open(os.path.join(self.tmp, "jobs", job_dir, "node-0.pid")) as f:
            monitor_pid = int(f.read().split()[0])
        monitor = os.path.join(os.path.dirname(os.path.realpath(harness.SKYDECKD)),
                               "skydeck-monitor")
        self.assertEqual(os.readlink(f"/proc/{monitor_pid}/exe"), monitor)

    def test_without_its_monitor_skydeckd_says_where_it_looked(self):
        """A skydeckd installed without skydeck-monitor beside it: health is
        DEGRADED naming the path, and launches fail and are retried."""
        self.daemon.stop()
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        lonely = shutil.copy(harness.SKYDECKD, bin_dir)
        missing = os.path.join(bin_dir, "skydeck-monitor")
        with mock.patch.object(harness, "SKYDECKD", lonely):
            self.daemon = harness.Daemon(self.tmp).start()
        health = self.cli_json("health")
        self.assertEqual(health["status"], "STATUS_DEGRADED")
        self.assertIn(f'cannot run skydeck-monitor at "{missing}"', health["last_poll_error"])
        self.cli("exp", "create", "stuck", "--cmd", "true", "--start")
        harness.wait_for(
            lambda: any(e["type"] == "LaunchFailed" and missing in e["message"]
                        for e in self.cli_json("exp", "events", "stuck")["events"]),
            what="a LaunchFailed event naming the monitor's path")
        self.assertEqual(os.listdir(os.path.join(self.tmp, "jobs")), [])

    def test_kill9_during_launches_leaves_one_job_per_intent(self):
        """kill -9 while launch intents are unresolved (job row written, no
        backend id yet), restart: every intent resolves to exactly one job
        and one process tree. A round whose kill found every launch already
        finished proves nothing, so rounds repeat until one caught at least
        one intent in flight."""
        db = os.path.join(self.tmp, "skydeck.db")
        caught = []
        for round_no in range(6):
            label = f"g=crash{round_no}"
            names = [f"crash{round_no}-{i}" for i in range(10)]
            for name in names:
                self.cli("exp", "create", name, "--cmd", "sleep 300", "--label", label)

            def jobs():
                with sqlite3.connect(db, timeout=5) as conn:
                    return conn.execute(
                        "SELECT count(*), sum(backend_job_id = '') FROM jobs j "
                        "JOIN experiments e ON e.id = j.experiment_id "
                        "WHERE e.name LIKE ?", (f"crash{round_no}-%",)).fetchone()

            self.cli("exp", "start", "-l", label)
            harness.wait_for(lambda: jobs()[0] > 0, what="a launch intent")
            self.daemon.kill9()
            total, unresolved = jobs()
            caught.append(unresolved or 0)
            self.daemon.start()
            for name in names:
                self.wait_experiment(name,
                                     lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                                     timeout=60)
            self.check_one_job_and_one_process_tree_per_intent(db)
            self.cli("exp", "stop", "-l", label)
            for name in names:
                self.wait_experiment(name,
                                     lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED",
                                     timeout=60)
            if unresolved:
                break
        print(f"unresolved intents at each kill: {caught}")
        self.assertTrue(any(caught), f"no kill caught a launch in flight: {caught}")

    def check_one_job_and_one_process_tree_per_intent(self, db):
        with sqlite3.connect(db, timeout=5) as conn:
            self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            per_exp = conn.execute(
                "SELECT e.name, count(j.id), sum(j.backend_job_id = '') FROM experiments e "
                "LEFT JOIN jobs j ON j.experiment_id = e.id GROUP BY e.id").fetchall()
            names = [n for (n,) in conn.execute("SELECT backend_name FROM jobs")]
        self.assertTrue(all(n == 1 for _, n, _ in per_exp), per_exp)
        self.assertTrue(all(u == 0 for _, _, u in per_exp), f"unresolved intents: {per_exp}")
        # Exactly one process tree per intent: one job directory each.
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, "jobs"))), sorted(names))

if __name__ == "__main__":
    unittest.main()
