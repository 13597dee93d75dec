"""The foundation round trip: the real skydeck CLI against a real skydeckd,
through create/list/get/flags/start/stop/delete/undelete, then a daemon
restart that finds everything still there; plus the CLI's exit codes (3 only
when the daemon cannot be reached, not when it answers UNAVAILABLE itself)."""

import json
import os
import socket
import subprocess
import threading
import unittest

import harness
from fake_skypilot import FakeSkyPilotTestCase


class RoundTripTest(harness.E2ETestCase):

    def test_full_round_trip_survives_restart(self):
        created = self.cli_json("exp", "create", "lr-a", "--cmd", "python train.py",
                                "--flag", "trainer.lr=3e-4", "--flag", "model.layers=4",
                                "--flag", "ppo.enabled=true", "--flag", "tag:=42",
                                "--nodes", "2", "--gpus", "4", "--label", "sweep=lr")
        exp_id = created["id"]
        self.assertEqual(created["name"], "lr-a")
        self.assertEqual(created["flags"]["trainer.lr"], {"double_value": 0.0003})
        self.assertEqual(created["flags"]["model.layers"], {"int_value": "4"})
        self.assertEqual(created["flags"]["ppo.enabled"], {"bool_value": True})
        self.assertEqual(created["flags"]["tag"], {"string_value": "42"})
        self.cli("exp", "create", "lr-b", "--cmd", "python train.py", "--label", "sweep=lr")

        listed = self.cli_json("exp", "list")["experiments"]
        self.assertEqual([e["name"] for e in listed], ["lr-a", "lr-b"])
        table = self.cli("exp", "list").stdout
        self.assertIn("lr-a", table)
        self.assertIn("NAME", table)

        got = self.cli_json("exp", "get", "lr-a")
        self.assertEqual(got["id"], exp_id)
        self.assertEqual(self.cli_json("exp", "get", exp_id)["name"], "lr-a")

        self.cli("exp", "flags", "lr-a", "set", "model.layers=16", "optim=adam")
        self.cli("exp", "flags", "lr-a", "unset", "tag")
        flags = self.cli_json("exp", "get", "lr-a")["flags"]
        self.assertEqual(flags["model.layers"], {"int_value": "16"})
        self.assertEqual(flags["optim"], {"string_value": "adam"})
        self.assertNotIn("tag", flags)

        self.cli("exp", "start", "lr-a")
        self.assertEqual(self.cli_json("exp", "get", "lr-a")["desired_state"],
                         "DESIRED_STATE_RUNNING")
        self.cli("exp", "stop", "lr-a")
        self.assertEqual(self.cli_json("exp", "get", "lr-a")["desired_state"],
                         "DESIRED_STATE_STOPPED")

        self.cli("exp", "delete", "lr-b")
        names = [e["name"] for e in self.cli_json("exp", "list")["experiments"]]
        self.assertEqual(names, ["lr-a"])
        deleted = self.cli_json("exp", "list", "--include-deleted")["experiments"]
        lr_b = [e for e in deleted if e["name"] == "lr-b"][0]
        self.assertIn("delete_time", lr_b)
        self.cli("exp", "undelete", lr_b["id"])
        self.assertEqual(len(self.cli_json("exp", "list")["experiments"]), 2)

        events = self.cli_json("exp", "events", "lr-a")["events"]
        types = [e["type"] for e in events]
        self.assertIn("Created", types)
        self.assertIn("DesiredStateChanged", types)

        # Restart: everything is still there.
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon.start()
        after = self.cli_json("exp", "get", "lr-a")
        self.assertEqual(after["flags"]["model.layers"], {"int_value": "16"})
        self.assertEqual(after["desired_state"], "DESIRED_STATE_STOPPED")
        self.assertEqual(len(self.cli_json("exp", "list")["experiments"]), 2)
        self.assertEqual(len(self.cli_json("exp", "events", "lr-a")["events"]), len(events))

    def test_machine_output_is_pure_data(self):
        self.cli("exp", "create", "clean", "--cmd", "true")
        out = self.cli("exp", "list", "-o", "json")
        json.loads(out.stdout)  # nothing else on stdout
        yaml_out = self.cli("exp", "get", "clean", "-o", "yaml").stdout
        self.assertIn("name: clean", yaml_out)

    def test_exit_codes(self):
        # 2: usage errors, caught before any request.
        self.cli("exp", "create", "x", expect=2)  # --cmd missing
        self.cli("exp", "create", "x", "--cmd", "true", "--flag", "novalue", expect=2)
        self.cli("exp", "create", "x", "--cmd", "true", "--flag", "1bad=3", expect=2)
        self.cli("no-such-command", expect=2)
        # 1: the server refused.
        err = self.cli("exp", "get", "missing", expect=1)
        self.assertIn("not found", err.stderr)
        self.cli("exp", "create", "dup", "--cmd", "true")
        err = self.cli("exp", "create", "dup", "--cmd", "true", expect=1)
        self.assertIn("already exists", err.stderr)
        self.cli("exp", "create", "big", "--cmd", "x" * (20 * 1024), expect=1)
        # 3: no daemon there.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = f"127.0.0.1:{s.getsockname()[1]}"
        err = self.cli("exp", "list", server=free, expect=3)
        self.assertIn("cannot reach skydeckd at " + free, err.stderr)

    def test_server_from_environment(self):
        self.cli("exp", "create", "envsrv", "--cmd", "true")
        direct = subprocess.run([harness.SKYDECK, "exp", "get", "envsrv", "-o", "json"],
                                capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, SKYDECK_SERVER=self.daemon.address))
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertEqual(json.loads(direct.stdout)["name"], "envsrv")


class GracefulShutdownTest(harness.E2ETestCase):
    """SIGTERM while clients are writing: every write the daemon
    acknowledged is there after a restart."""

    def test_sigterm_during_writes_loses_no_acknowledged_write(self):
        acknowledged = []
        stop = threading.Event()

        def writer(worker):
            for i in range(10000):
                if stop.is_set():
                    return
                name = f"w{worker}-{i}"
                proc = self.cli("exp", "create", name, "--cmd", "true", "--flag", f"i={i}",
                                expect=None)
                if proc.returncode != 0:
                    return  # the daemon went away (exit 3) or refused during shutdown
                acknowledged.append((name, i))

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        try:
            harness.wait_for(lambda: len(acknowledged) >= 30, timeout=60,
                             what="writes to be acknowledged")
            self.assertEqual(self.daemon.stop(), 0)  # SIGTERM, graceful
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        self.daemon.start()
        stored = {e["name"]: e for e in self.cli_json("exp", "list")["experiments"]}
        missing = [n for n, _ in acknowledged if n not in stored]
        self.assertEqual(missing, [])
        for name, i in acknowledged:
            self.assertEqual(stored[name]["flags"]["i"], {"int_value": str(i)})


class DaemonUnavailableTest(FakeSkyPilotTestCase):
    """UNAVAILABLE from the daemon itself (its SkyPilot API server is down)
    is the daemon's answer, exit 1 with its message; only a daemon that
    cannot be reached is exit 3."""

    def test_backend_outage_is_exit_1_and_no_daemon_is_exit_3(self):
        self.cli("exp", "create", "sky", "--cmd", "python train.py", "--start")
        self.wait_experiment("sky", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING",
                             what="sky to run on the fake SkyPilot")
        self.assertIn("polled 1 job", self.cli("refresh").stdout)

        self.fake.call("down")
        err = self.cli("refresh", expect=1)
        self.assertIn("skydeck: error:", err.stderr)
        self.assertNotIn("cannot reach skydeckd", err.stderr)
        # The daemon's own words about its backend reach the user.
        self.assertIn("127.0.0.1:%d" % self.fake.port, err.stderr)

        address = self.daemon.address
        self.assertEqual(self.daemon.stop(), 0)
        err = self.cli("refresh", server=address, expect=3)
        self.assertIn("cannot reach skydeckd at " + address, err.stderr)


if __name__ == "__main__":
    unittest.main()
