"""Bulk changes by selector (issues 14 and 19): `skydeck exp
stop|terminate|delete -l SELECTOR` over more than 1,000 experiments is one
request that the daemon applies as one transaction, all or nothing; the
same over HTTP with a filter. Real skydeck against a real skydeckd."""

import json
import unittest
import urllib.request

import harness

N = 1200  # more than the 1,000 ids a request may name one by one


class BulkSelectorTest(harness.E2ETestCase):

    def names(self, *args):
        return self.cli("exp", "list", "-o", "name", *args).stdout.split()

    def create_sweep(self):
        values = ",".join(str(i) for i in range(N))
        created = self.cli_json("sweep", "big", "--cmd", "sleep 60", "--grid", f"i={values}")
        self.assertEqual(created["created"], N)
        self.cli("exp", "create", "other", "--cmd", "sleep 60", "--label", "sweep=small")

    def test_more_than_1000_by_selector_from_the_cli(self):
        self.create_sweep()
        out = self.cli("exp", "terminate", "-l", "sweep=big", "--reason", "bulk").stdout
        self.assertIn(f"{N} experiments matched; desired state TERMINATED set on {N}", out)
        self.assertEqual(len(self.names("--state", "TERMINATED")), N)
        self.assertEqual(self.names("--state", "STOPPED"), ["other"])

        # -o json: the counts and the ids (an answer of more than 1,000 does
        # not carry the experiments themselves).
        stopped = self.cli_json("exp", "stop", "-l", "sweep=big", "--state", "TERMINATED")
        self.assertEqual((stopped["matched"], stopped["changed"]), (N, N))
        self.assertEqual(len(stopped["ids"]), N)
        again = self.cli_json("exp", "stop", "-l", "sweep=big")
        self.assertEqual((again["matched"], again["changed"]), (N, 0))

        # Every change is one event, written by the bulk request.
        events = [e for e in self.cli_json("exp", "events", "big-i-7")["events"]
                  if e["type"] == "DesiredStateChanged"]
        self.assertEqual([e["reason"] for e in events], ["STOPPED", "TERMINATED"])
        self.assertEqual(events[1]["message"], "STOPPED -> TERMINATED: bulk")

        out = self.cli("exp", "delete", "-l", "sweep=big").stdout
        self.assertIn(f"{N} experiments deleted", out)
        self.assertEqual(self.names(), ["other"])

    def test_bulk_delete_is_all_or_nothing_and_force_terminates_first(self):
        self.create_sweep()
        self.cli("exp", "create", "busy", "--cmd", "sleep 300", "--label", "sweep=big",
                 "--start")
        self.wait_experiment("busy",
                             lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        refused = self.cli("exp", "delete", "-l", "sweep=big", expect=1)
        self.assertIn("busy", refused.stderr)
        self.assertIn("nothing was changed", refused.stderr)
        self.assertEqual(len(self.names("-l", "sweep=big")), N + 1)

        out = self.cli("exp", "delete", "-l", "sweep=big", "--force").stdout
        self.assertIn(f"{N + 1} experiments deleted", out)
        self.assertEqual(self.names(), ["other"])
        busy = [e for e in self.cli_json("exp", "list", "--include-deleted",
                                         "--name-contains", "busy")["experiments"]]
        self.assertEqual(busy[0]["desired_state"], "DESIRED_STATE_TERMINATED")

    def test_http_filter_with_the_dashboards_search(self):
        self.create_sweep()
        body = json.dumps({"filter": {"label_selector": "sweep=big", "text": "big-i-11"},
                           "desired_state": "DESIRED_STATE_TERMINATED"}).encode()
        req = urllib.request.Request(f"http://{self.daemon.http_address}/api/experiments/state",
                                     data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.load(resp)
        # big-i-11, big-i-110..119 and big-i-1100..1199: 111 experiments,
        # all of them in the answer (at most 1,000 are).
        self.assertEqual(answer["matched"], 111)
        self.assertEqual(len(answer["experiments"]), 111)
        self.assertEqual(sorted(e["name"] for e in answer["experiments"])[:3],
                         ["big-i-11", "big-i-110", "big-i-1100"])
        self.assertEqual(len(self.names("--state", "TERMINATED")), 111)


if __name__ == "__main__":
    unittest.main()
