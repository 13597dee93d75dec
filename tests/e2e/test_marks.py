"""Stars, order and time in state (issue 20, items 4 and 5), end to end:
the real skydeck against a real skydeckd. A star and a position survive a
daemon restart and are no spec change; `exp list --starred`; the time an
experiment has been in its observed state and a job in its status, shown
and filtered ("running>1s", "pending>1s"), awaited, never slept for."""

import json
import urllib.request

import harness
from fake_skypilot import FakeSkyPilotTestCase


class MarksTest(harness.E2ETestCase):

    def names(self, *args):
        return self.cli("exp", "list", "-o", "name", *args).stdout.split()

    def post(self, path, body):
        req = urllib.request.Request(f"http://{self.daemon.http_address}{path}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def test_star_and_order_persist_across_a_restart(self):
        for name, sweep in (("a", "x"), ("b", "y"), ("c", "x")):
            self.cli("exp", "create", name, "--cmd", "sleep 60", "--label", f"sweep={sweep}")
        before = self.cli_json("exp", "get", "a")

        out = self.cli("exp", "star", "a").stdout
        self.assertIn("a \u2605", out)  # the table marks the name
        self.assertEqual(self.names("--starred"), ["a"])
        # By selector too, in one request; already starred ones are left alone.
        starred = self.cli_json("exp", "star", "-l", "sweep=x")
        self.assertEqual([e["name"] for e in starred["experiments"]], ["a", "c"])
        self.assertEqual(self.names("--starred"), ["a", "c"])

        # Not a spec change: same generation, nothing launched, no Updated event.
        after = self.cli_json("exp", "get", "a")
        self.assertTrue(after["starred"])
        self.assertEqual(after["generation"], before["generation"])
        self.assertEqual(after["desired_state"], "DESIRED_STATE_STOPPED")
        types = [e["type"] for e in self.cli_json("exp", "events", "a")["events"]]
        self.assertEqual(types.count("Starred"), 1)
        self.assertNotIn("Updated", types)

        # The dashboard's drag: one position write over HTTP.
        c_id = self.cli_json("exp", "get", "c")["id"]
        self.assertEqual(self.cli_json("exp", "get", "c")["position"], float(c_id))
        moved = self.post(f"/api/experiments/{c_id}/position", {"position": 0.5})
        self.assertEqual(moved["experiment"]["position"], 0.5)
        # The dashboard's star button and starred filter, over HTTP.
        self.post("/api/experiments/b/starred", {"starred": True})
        shown = self.post("/api/experiments/starred",
                          {"filter": {"starred": True, "label_selector": "sweep=y"},
                           "starred": False})
        self.assertEqual(shown["matched"], 1)

        self.daemon.stop()
        self.daemon.start()
        self.assertEqual(self.names("--starred"), ["a", "c"])
        self.assertEqual(self.cli_json("exp", "get", "c")["position"], 0.5)
        self.assertEqual(self.cli_json("exp", "get", "a")["generation"], before["generation"])

        self.cli("exp", "unstar", "a")
        self.assertEqual(self.names("--starred"), ["c"])

    def test_time_in_state_is_shown_and_filtered(self):
        self.cli("exp", "create", "r", "--cmd", "sleep 120", "--start")
        self.cli("exp", "create", "idle", "--cmd", "true")
        self.wait_experiment("r", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        running = self.cli_json("exp", "get", "r")
        self.assertIn("state_since", running)

        self.assertEqual(self.names("--in-state", "running>1h"), [])
        # Awaited, not slept: the filter finds it once a second has passed.
        harness.wait_for(lambda: self.names("--in-state", "running > 1s") == ["r"],
                         timeout=30, what="r running for more than 1s")
        self.assertEqual(self.names("--in-state", "running<1h"), ["r"])
        self.assertEqual(self.names("--in-state", "running>1s", "--in-state", "running<1s"), [])
        # Time-in-state and text words together; "idle" alone is still text.
        self.assertEqual(self.names("--search", "idle<1h idle"), ["idle"])
        self.assertEqual(self.names("--search", "idle>1h idle"), [])

        table = self.cli("exp", "list").stdout.splitlines()
        self.assertIn("SINCE", table[0].split())
        jobs = self.cli("exp", "jobs", "r").stdout.splitlines()
        self.assertIn("SINCE", jobs[0].split())
        listed = self.cli_json("job", "list", "--in-state", "running>1s")["jobs"]
        self.assertEqual(len(listed), 1)
        self.assertIn("status_since", listed[0])

        bad = self.cli("exp", "list", "--in-state", "sleeping>1d", expect=2)
        self.assertIn("observed state", bad.stderr)
        self.cli("job", "list", "--in-state", "running>1week", expect=2)


class PendingJobTest(FakeSkyPilotTestCase):

    def test_a_job_pending_longer_than_a_threshold_is_found(self):
        self.fake.script("skydeck-", ["PENDING"])  # never leaves PENDING
        self.cli("exp", "create", "stuck", "--cmd", "python train.py", "--start")

        def pending_jobs(expr):
            return self.cli_json("job", "list", "--in-state", expr)["jobs"]

        harness.wait_for(lambda: pending_jobs("pending>0s"), timeout=30,
                         what="the job to be PENDING")
        self.assertEqual(pending_jobs("pending>1h"), [])
        found = harness.wait_for(lambda: pending_jobs("pending>1s"), timeout=30,
                                 what="the job pending for more than 1s")
        self.assertEqual(found[0]["status"], "JOB_STATUS_PENDING")
        out = self.cli("job", "list", "--in-state", "pending>1s").stdout
        self.assertIn("stuck", out)
        self.assertIn("PENDING", out)


if __name__ == "__main__":
    import unittest
    unittest.main()
