"""The chaos harness's own checks catch what they claim to catch: each
invariant fails on a made-up violation, the ledger flags a lost write, and
the fault modes added to the SkyPilot fake for these runs behave."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "skypilot_fake"))

import invariants  # noqa: E402
from ledger import Ledger  # noqa: E402
from skypilot_fake import FakeSkyPilot  # noqa: E402


def job(id, exp, attempt, status="RUNNING", ended=None, nodes=1):
    return {"id": id, "experiment_id": exp, "attempt": attempt, "backend": "local",
            "backend_name": f"skydeck-ab12-{exp}-{attempt}", "backend_job_id": "",
            "status": status, "ended_at": ended, "nodes": nodes}


class JobRowChecksTest(unittest.TestCase):

    def test_two_live_jobs_for_one_experiment(self):
        rows = [job(1, 7, 1), job(2, 7, 2), job(3, 8, 1, "SUCCEEDED", 5)]
        self.assertEqual(len(invariants.one_live_job_per_experiment(rows)), 1)
        self.assertEqual(invariants.one_live_job_per_experiment(rows[1:]), [])

    def test_intents_are_launching_jobs(self):
        rows = [job(1, 7, 1, "LAUNCHING"), job(2, 8, 1)]
        self.assertEqual(invariants.intents(rows), {1: "skydeck-ab12-7-1"})

    def test_experiment_of_job_name(self):
        self.assertEqual(invariants.experiment_of("skydeck-ab12-42-3"), 42)
        self.assertIsNone(invariants.experiment_of("sky-cmd"))


class FakeLaunchChecksTest(unittest.TestCase):

    def state(self, by_name, jobs):
        return {"counters": {"launches_by_name": by_name}, "jobs": jobs}

    def test_clean(self):
        rows = [job(1, 7, 1), job(2, 8, 1, "SUCCEEDED", 9)]
        state = self.state({"skydeck-ab12-7-1": 1, "skydeck-ab12-8-1": 1},
                           [{"job_name": "skydeck-ab12-7-1", "status": "RUNNING"},
                            {"job_name": "skydeck-ab12-8-1", "status": "SUCCEEDED"}])
        self.assertEqual(invariants.fake_launches(state, rows), [])

    def test_duplicate_launch_orphan_and_missing_row(self):
        rows = [job(1, 7, 1, "CANCELLED", 3)]
        state = self.state({"skydeck-ab12-7-1": 2, "skydeck-ab12-9-1": 1},
                           [{"job_name": "skydeck-ab12-7-1", "status": "RUNNING"},
                            {"job_name": "skydeck-ab12-7-1", "status": "PENDING"}])
        problems = " | ".join(invariants.fake_launches(state, rows))
        self.assertIn("launched 2 times", problems)
        self.assertIn("skydeck-ab12-9-1 was launched but has no job row", problems)
        self.assertIn("but its row ended", problems)
        self.assertIn("2 live managed jobs", problems)


class LocalProcessChecksTest(unittest.TestCase):
    """Real processes in fake job directories."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="skydeck-chaos-check-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def run_in(self, name):
        d = os.path.join(self.data, "jobs", name)
        os.makedirs(d, exist_ok=True)
        self.procs.append(subprocess.Popen(["sleep", "30"], cwd=d, start_new_session=True))

    def check(self, rows):
        return invariants.local_processes(self.data, lambda: rows)

    def test_a_live_job_with_its_processes_is_fine(self):
        self.run_in("skydeck-ab12-7-1")
        self.assertEqual(self.check([job(1, 7, 1)]), [])

    def test_processes_without_a_row_or_of_an_ended_job(self):
        self.run_in("skydeck-ab12-7-1")
        self.run_in("skydeck-ab12-8-1")
        problems = " | ".join(self.check([job(2, 8, 1, "FAILED", 5)]))
        self.assertIn("skydeck-ab12-7-1, which has no job row", problems)
        self.assertIn("job directory jobs/skydeck-ab12-7-1 has no job row", problems)
        self.assertIn("whose row ended (FAILED)", problems)

    def test_two_jobs_of_one_experiment_running_at_once(self):
        self.run_in("skydeck-ab12-7-1")
        self.run_in("skydeck-ab12-7-2")
        problems = self.check([job(1, 7, 1), job(2, 7, 2)])
        self.assertTrue(any("processes of 2 jobs at once" in p for p in problems), problems)

    def test_more_process_groups_than_nodes(self):
        self.run_in("skydeck-ab12-7-1")
        self.run_in("skydeck-ab12-7-1")
        problems = self.check([job(1, 7, 1)])
        self.assertTrue(any("2 process groups for 1 nodes" in p for p in problems), problems)
        self.assertEqual(self.check([job(1, 7, 1, nodes=2)]), [])

    def test_running_job_without_processes_only_in_final_checks(self):
        rows = [job(1, 7, 1)]
        self.assertEqual(self.check(rows), [])
        final = invariants.local_processes(self.data, lambda: rows, final=True)
        self.assertTrue(any("no process runs for it" in p for p in final), final)


class LedgerTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="skydeck-ledger-")
        self.ledger = Ledger(os.path.join(self.tmp, "log.jsonl"))

    def tearDown(self):
        self.ledger.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def snap(self, id, **kw):
        s = {"id": id, "name": f"e{id}", "base_command": "x", "flags": {}, "labels":
             {"chaos": "L"}, "max_restarts": 3, "desired_state": "DESIRED_STATE_STOPPED",
             "deleted": False, "generation": 1}
        s.update(kw)
        return s

    def test_acknowledged_write_must_survive(self):
        self.ledger.ack_create("e1", self.snap(1))
        self.ledger.begin(1, {"desired_state": "DESIRED_STATE_RUNNING"})
        self.ledger.ack(1, self.snap(1, desired_state="DESIRED_STATE_RUNNING", generation=2),
                        "state")
        lost = self.ledger.verify([self.snap(1)], "L")
        self.assertTrue(any("desired_state" in p for p in lost), lost)
        self.assertTrue(any("generation went back" in p for p in lost), lost)

    def test_unanswered_write_may_or_may_not_apply(self):
        for applied in (True, False):
            self.ledger.ack_create("e1", self.snap(1))
            self.ledger.begin(1, {"desired_state": "DESIRED_STATE_RUNNING"})
            state = "DESIRED_STATE_RUNNING" if applied else "DESIRED_STATE_STOPPED"
            self.assertEqual(self.ledger.verify([self.snap(1, desired_state=state)], "L"), [])
        self.assertEqual((self.ledger.unanswered_applied, self.ledger.unanswered_not_applied),
                         (1, 1))

    def test_answer_that_ignores_the_request_is_flagged(self):
        self.ledger.ack_create("e1", self.snap(1))
        self.ledger.begin(1, {"max_restarts": 0})
        self.assertEqual(len(self.ledger.ack(1, self.snap(1), "max_restarts")), 1)

    def test_vanished_phantom_and_unanswered_creates(self):
        self.ledger.ack_create("e1", self.snap(1))
        self.ledger.begin_create("e2", {"name": "e2", "desired_state": "DESIRED_STATE_STOPPED"})
        self.ledger.begin_create("e3", {"name": "e3"})
        problems = self.ledger.verify([self.snap(2), self.snap(4)], "L")
        self.assertTrue(any("acknowledged but is gone" in p for p in problems), problems)
        self.assertTrue(any("e4) exists but was never created" in p for p in problems),
                        problems)
        self.assertEqual(self.ledger.unanswered_applied, 1)      # e2 made it
        self.assertEqual(self.ledger.unanswered_not_applied, 1)  # e3 did not
        self.assertIn(2, self.ledger.entries)


class FakeFaultModesTest(unittest.TestCase):
    """The modes tests/skypilot_fake gained for the chaos runs."""

    def setUp(self):
        self.fake = FakeSkyPilot(advance_on_queue=False)
        self.port = self.fake.start()

    def tearDown(self):
        self.fake.stop()

    def http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json", "X-SkyPilot-API-Version": "31",
                     "X-SkyPilot-Version": "test"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read().decode()

    def launch(self, name):
        task = f'name: "{name}"\n---\nname: "{name}"\nrun: "true"\n'
        _, headers, _ = self.http("POST", "/jobs/launch", {
            "task": task, "name": name,
            "env_vars": {"SKYPILOT_USER_ID": "u", "SKYPILOT_USER": "u"}})
        return headers["X-Skypilot-Request-ID"]

    def request_status(self, request_id):
        _, _, body = self.http("GET", f"/api/status?request_ids={request_id}")
        return json.loads(body)[0]["status"]

    def test_launch_delay_keeps_the_request_running_then_names_the_job(self):
        self.fake.configure(launch_delay_ms=400)
        request_id = self.launch("skydeck-x-1-1")
        self.assertEqual(self.request_status(request_id), "RUNNING")
        self.assertEqual(self.fake.state()["jobs"], [])
        deadline = time.monotonic() + 5
        while self.request_status(request_id) != "SUCCEEDED":
            self.assertLess(time.monotonic(), deadline, "the delayed launch never finished")
            time.sleep(0.05)
        self.assertEqual([j["job_name"] for j in self.fake.state()["jobs"]], ["skydeck-x-1-1"])

    def test_down_refuses_connections_but_keeps_the_port(self):
        self.fake.go_down()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        # No other process may take the port meanwhile: the daemon's
        # requests would reach it (two tests' fakes crossed this way).
        other = socket.socket()
        try:
            with self.assertRaises(OSError):
                other.bind(("127.0.0.1", self.port))
        finally:
            other.close()
        self.fake.go_up()
        self.assertEqual(self.http("GET", "/api/health")[0], 200)

    def test_api_requests_counts_every_request_even_failed_ones(self):
        self.fake.set_fault(http500=-1)
        with self.assertRaises(urllib.error.HTTPError):
            self.http("POST", "/jobs/queue/v2", {})
        self.http("GET", "/api/health")
        self.assertEqual(self.fake.state()["counters"]["api_requests"], 2)

    def test_malformed_health_only_when_routed_there(self):
        self.fake.set_fault(malformed="garbage")
        self.assertEqual(json.loads(self.http("GET", "/api/health")[2])["status"], "healthy")
        self.fake.set_fault(malformed_routes=["/api/get", "/api/health"])
        body = self.http("GET", "/api/health")[2]
        with self.assertRaises(ValueError):
            json.loads(body)


if __name__ == "__main__":
    unittest.main()
