"""Notifications (skydeckd --notify) end to end: a real skydeckd, real
failing jobs on the local backend, and a webhook receiver on loopback.
Covers delivery, a failing sink in `skydeck health` and /metrics, the
secret in the URL never shown, `skydeck notify test`, and kill -9 between
an event and its delivery (delivered after restart with the same
idempotency key; each key once after dedup)."""

import json
import os
import urllib.request

import harness
from webhook_receiver import WebhookReceiver

SECRET = "SECRET-TOKEN"


def notify_file(tmp, sinks, name="notify.yaml"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(sinks)
    return path


class NotifyTest(harness.E2ETestCase):

    def setUp(self):
        super().setUp()
        self.receivers = []
        self.daemon.stop()  # each test starts it with its own notify file

    def tearDown(self):
        for r in self.receivers:
            r.stop()
        super().tearDown()

    def receiver(self, listen=True):
        r = WebhookReceiver()
        self.receivers.append(r)
        return r.start() if listen else r

    def start_daemon(self, yaml_text):
        path = notify_file(self.tmp, yaml_text)
        self.daemon.start(["--notify", path])

    def fail_a_job(self, name="broken"):
        self.cli("exp", "create", name, "--cmd", "echo boom; exit 3", "--max-restarts", "0",
                 "--label", "team=nlp", "--start")

    def health(self):
        return self.cli_json("health")

    def test_a_failed_job_reaches_the_webhook(self):
        r = self.receiver()
        self.start_daemon(f"""
- name: team
  url: {r.url()}
  events: [job_failed, stalled]
  selector: team=nlp
- name: slack
  url: {r.url('/slack/' + SECRET)}
  format: slack
  events: [job_failed]
""")
        self.fail_a_job()
        self.cli("exp", "create", "other", "--cmd", "exit 1", "--max-restarts", "0",
                 "--label", "team=cv", "--start")
        got = r.wait(lambda a, ok: {d["body"].get("event") for d in ok
                                    if d["path"] == f"/hook/{SECRET}"} >= {"job_failed",
                                                                           "stalled"}
                     and sum(1 for d in ok if d["path"].startswith("/slack/")) >= 2)
        generic = [d for d in got if d["path"] == f"/hook/{SECRET}"]
        failed = [d for d in generic if d["body"]["event"] == "job_failed"][0]
        self.assertEqual(failed["body"]["experiment"]["name"], "broken")
        self.assertEqual(failed["body"]["experiment"]["labels"], {"team": "nlp"})
        self.assertEqual(failed["key"], failed["body"]["idempotency_key"])
        self.assertEqual(failed["content_type"], "application/json")
        self.assertIn("exit 3", failed["body"]["message"])
        stalled = [d for d in generic if d["body"]["event"] == "stalled"][0]
        self.assertTrue(stalled["body"]["reason"])
        self.assertTrue(stalled["body"]["message"])
        # The selector kept "other" (team=cv) away from the generic sink.
        self.assertFalse([d for d in generic if d["body"]["experiment"]["name"] == "other"])
        slack = [d for d in got if d["path"].startswith("/slack/")]
        self.assertEqual(set(slack[0]["body"]), {"text"})
        self.assertTrue(any("job failed · experiment other" in d["body"]["text"] for d in slack))
        self.assertNotIn(SECRET, self.daemon.log())

    def test_a_failing_sink_shows_in_health_and_metrics(self):
        r = self.receiver()
        r.set_status(500)
        self.start_daemon(f"- name: broken-hook\n  url: {r.url()}\n")
        self.fail_a_job()

        def failing():
            sinks = self.health().get("notify_sinks", [])
            return sinks and sinks[0].get("failing") and sinks[0]

        sink = harness.wait_for(failing, timeout=60, interval=0.2, what="the sink to fail")
        self.assertEqual(sink["name"], "broken-hook")
        self.assertEqual(sink["url"], f"http://127.0.0.1:{r.port}/…")
        self.assertIn("HTTP 500", sink["last_error"])
        self.assertGreaterEqual(int(sink["consecutive_failures"]), 3)
        text = self.cli("health").stdout
        self.assertIn("Notify broken-hook", text)
        self.assertIn("FAILING", text)
        self.assertNotIn(SECRET, text)
        self.assertNotIn(SECRET, json.dumps(self.health()))
        with urllib.request.urlopen(f"http://{self.daemon.http_address}/metrics") as resp:
            metrics = resp.read().decode()
        self.assertIn('skydeck_notify_sink_failing{sink="broken-hook"} 1', metrics)
        self.assertRegex(metrics,
                         r'skydeck_notify_delivery_failures_total\{sink="broken-hook"\} [3-9]')
        self.assertNotIn(SECRET, self.daemon.log())
        # The receiver is fixed: the same events go through, and it recovers.
        r.set_status(200)
        r.wait(lambda a, ok: any(d["body"]["event"] == "job_failed" for d in ok), timeout=60)
        harness.wait_for(lambda: not self.health()["notify_sinks"][0].get("failing"),
                         timeout=30, what="the sink to recover")

    def test_notify_test_reports_each_sink(self):
        good = self.receiver()
        bad = self.receiver(listen=False)  # nobody answers there
        self.start_daemon(f"""
- name: good
  url: {good.url()}
- name: bad
  url: {bad.url()}
  timeout: 2s
""")
        proc = self.cli("notify", "test", expect=1)
        self.assertIn("good", proc.stdout)
        self.assertIn("ok", proc.stdout)
        self.assertIn("FAILED", proc.stdout)
        self.assertIn("1 of 2 sinks failed", proc.stderr)
        self.assertNotIn(SECRET, proc.stdout + proc.stderr)
        msgs = good.wait(lambda a, ok: len(ok) >= 1)
        self.assertTrue(msgs[0]["body"]["test"])
        out = self.cli_json("notify", "test", "--sink", "good")
        self.assertEqual([x["sink"] for x in out["results"]], ["good"])
        self.assertTrue(out["results"][0]["ok"])
        self.cli("notify", "test", "--sink", "nope", expect=1)

    def test_a_bad_notify_file_stops_startup_with_the_line(self):
        path = notify_file(self.tmp, "- name: a\n  url: http://127.0.0.1:1/\n  events: [oops]\n")
        with self.assertRaises(AssertionError) as caught:
            self.daemon.start(["--notify", path])
        self.assertEqual(self.daemon.proc.returncode, 2)
        self.assertIn("notify.yaml:3: sink 'a': unknown event 'oops'", str(caught.exception))

    def test_kill9_before_delivery_then_delivered_with_the_same_key(self):
        r = self.receiver()
        r.set_status(500)  # receives attempts, accepts none
        self.start_daemon(f"- name: audit\n  url: {r.url()}\n  events: [job_failed, stalled]\n")
        self.fail_a_job()
        first = r.wait(lambda a, ok: len(a) >= 2, timeout=60, what="two failed attempts")
        del first
        tried = [a for a in r.attempts]
        key_before = tried[0]["key"]
        event_before = tried[0]["body"]["event_id"]
        self.daemon.kill9()
        r.set_status(200)
        self.daemon.start(["--notify", os.path.join(self.tmp, "notify.yaml")])
        ok = r.wait(lambda a, ok: {d["body"]["event"] for d in ok} >= {"job_failed", "stalled"},
                    timeout=60, what="both events after the restart")
        first_ok = [d for d in ok if d["body"]["event_id"] == event_before][0]
        self.assertEqual(first_ok["key"], key_before)
        # Every attempt of one event carried one key, and each key is one event.
        by_key = {}
        for a in r.attempts:
            by_key.setdefault(a["key"], set()).add(a["body"]["event_id"])
        self.assertTrue(all(len(ids) == 1 for ids in by_key.values()))
        delivered_keys = [d["key"] for d in ok]
        self.assertEqual(len(set(delivered_keys)), 2)  # after dedup: each event once

    def test_kill9_while_the_receiver_is_down(self):
        r = self.receiver(listen=False)
        self.start_daemon(f"- name: audit\n  url: {r.url()}\n  events: [job_failed]\n")
        self.fail_a_job()

        def retrying():
            sinks = self.health().get("notify_sinks", [])
            return sinks and int(sinks[0].get("consecutive_failures", 0)) >= 1

        harness.wait_for(retrying, timeout=60, interval=0.2, what="a failed attempt")
        self.daemon.kill9()
        r.start()
        self.daemon.start(["--notify", os.path.join(self.tmp, "notify.yaml")])
        ok = r.wait(lambda a, ok: len(ok) >= 1, timeout=60)
        self.assertEqual(ok[0]["body"]["event"], "job_failed")
        self.assertEqual(ok[0]["body"]["experiment"]["name"], "broken")


if __name__ == "__main__":
    import unittest
    unittest.main()
