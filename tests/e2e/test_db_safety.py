"""skydeckd's start-up safety and backups, end to end (issue 14, items 1, 2,
5, 6 and 11): one daemon per database and data directory, no shared gRPC
port, a read-only or damaged database refused with what to do, and
`skydeck backup` of a live daemon restored with every acknowledged write.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import harness

# Exit statuses of skydeckd (daemon/daemon.h, daemon_options.h).
EXIT_START_FAILED = 1
EXIT_USAGE = 2
EXIT_IN_USE = 3
EXIT_DATABASE_DAMAGED = 4

def run_to_exit(args, timeout=60, **popen):
    """Runs skydeckd, which is expected to refuse to start; returns
    (exit code, its output). A daemon that starts instead is killed and
    reported."""
    proc = subprocess.Popen([harness.SKYDECKD] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            **popen)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"skydeckd started although it should have refused:\n{out}")
    return proc.returncode, out


def local_args(data_dir, *extra):
    return ["--grpc-port", "0", "--port", "0", "--data-dir", data_dir, "--backend", "local",
            "--log-level", "info", *extra]


class InstanceLockTest(harness.E2ETestCase):
    """One daemon per database and per data directory (item 1), one per
    gRPC port (item 2)."""

    def setUp(self):
        super().setUp()
        self.other = tempfile.mkdtemp(prefix="skydeck-e2e-other-")

    def tearDown(self):
        harness.kill_processes_under(self.other)
        shutil.rmtree(self.other, ignore_errors=True)
        super().tearDown()

    def assert_names_first_daemon(self, out):
        self.assertIn(f"pid {self.daemon.proc.pid}", out)
        self.assertIn(f"gRPC {self.daemon.address}", out)
        self.assertIn(f"HTTP {self.daemon.http_address}", out)

    def test_a_second_daemon_on_the_same_data_directory_is_refused(self):
        self.cli("exp", "create", "only-one", "--cmd", "true")
        code, out = run_to_exit(local_args(self.tmp))
        self.assertEqual(code, EXIT_IN_USE, out)
        self.assertIn("another skydeckd", out)
        self.assert_names_first_daemon(out)
        # The first one never noticed.
        self.assertEqual(self.cli_json("exp", "get", "only-one")["name"], "only-one")

    def test_a_second_daemon_on_the_same_database_is_refused(self):
        db = os.path.join(self.tmp, "skydeck.db")
        code, out = run_to_exit(local_args(self.other, "--db-path", db))
        self.assertEqual(code, EXIT_IN_USE, out)
        self.assertIn(f"database {db}", out)
        self.assert_names_first_daemon(out)

    def test_a_second_daemon_on_the_same_data_directory_with_another_database_is_refused(self):
        # Its local jobs would live in the same jobs/ directory.
        code, out = run_to_exit(local_args(self.tmp, "--db-path",
                                           os.path.join(self.other, "other.db")))
        self.assertEqual(code, EXIT_IN_USE, out)
        self.assertIn(f"data directory {self.tmp}", out)
        self.assertFalse(os.path.exists(os.path.join(self.other, "other.db")),
                         "the refused daemon created its database")

    def test_after_kill_9_a_new_daemon_starts_while_jobs_still_run(self):
        self.cli("exp", "create", "survivor", "--cmd", "sleep 60", "--start")
        self.wait_experiment("survivor", lambda e: e["observed_state"] == "OBSERVED_STATE_RUNNING")
        self.daemon.kill9()
        # The job and its monitor (started by the dead daemon) live on; they
        # must not hold its lock.
        self.assertTrue(harness.processes_under(self.tmp))
        self.daemon.start()
        exp = self.wait_experiment(
            "survivor", lambda e: e["observed_state"] == "OBSERVED_STATE_RUNNING")
        self.assertEqual(exp["name"], "survivor")

    def test_a_second_daemon_on_the_same_grpc_port_is_refused(self):
        port = self.daemon.address.rsplit(":", 1)[1]
        args = local_args(self.other)
        args[args.index("--grpc-port") + 1] = port
        code, out = run_to_exit(args)
        self.assertEqual(code, EXIT_START_FAILED, out)
        self.assertIn(f"cannot listen for gRPC on 127.0.0.1:{port}", out)
        self.assertIn("Address already in use", out)
        # Every call still reaches the first daemon's database.
        self.cli("exp", "create", "first", "--cmd", "true")
        for _ in range(10):
            self.assertEqual(self.cli("exp", "list", "-o", "name").stdout.split(), ["first"])

    def test_the_same_port_for_grpc_and_http_is_a_usage_error(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = str(s.getsockname()[1])
        args = local_args(self.other)
        args[args.index("--port") + 1] = port
        args[args.index("--grpc-port") + 1] = port
        code, out = run_to_exit(args)
        self.assertEqual(code, EXIT_USAGE, out)
        self.assertIn("--grpc-port", out)


class DatabaseFileTest(unittest.TestCase):
    """A read-only (item 5) or damaged (item 6) database is refused at
    start with what to do, and a restore brings it back (item 11)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="skydeck-e2e-db-")
        self.db = os.path.join(self.tmp, "skydeck.db")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()
        harness.kill_processes_under(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, popen=None, extra=()):
        d = harness.Daemon(self.tmp, extra, popen_kwargs=popen)
        self.daemons.append(d)
        return d.start()

    def cli(self, daemon, *args):
        proc = subprocess.run([harness.SKYDECK, "--server", daemon.address, *args],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def names(self, daemon):
        return self.cli(daemon, "exp", "list", "-o", "name").split()

    def test_a_read_only_database_is_refused_and_starts_once_writable(self):
        d = self.start()
        self.cli(d, "exp", "create", "before", "--cmd", "true")
        d.stop()
        popen = harness.unprivileged(self.tmp)
        os.chmod(self.db, 0o444)

        code, out = run_to_exit(local_args(self.tmp), **popen)
        self.assertEqual(code, EXIT_START_FAILED, out)
        self.assertIn("read-only", out)
        self.assertIn(f"must be able to write {self.db}", out)
        # Refused before reading: SQLite would have left a -shm as read-only
        # as the file, which keeps it unwritable after a chmod.
        self.assertFalse(os.path.exists(self.db + "-shm"))

        os.chmod(self.db, 0o644)
        d = self.start(popen=popen)
        self.assertEqual(self.names(d), ["before"])
        self.cli(d, "exp", "create", "after", "--cmd", "true")
        self.assertEqual(self.names(d), ["before", "after"])
        health = json.loads(self.cli(d, "health", "-o", "json"))
        self.assertEqual(health["status"], "STATUS_SERVING")
        self.assertNotIn("database_problem", health)

    def test_a_damaged_database_is_refused_and_restored_from_a_backup(self):
        d = self.start()
        grid = ",".join(str(i) for i in range(300))
        self.cli(d, "sweep", "s", "--cmd", "true", "--grid", f"i={grid}")
        backup = os.path.join(self.tmp, "backup.db")
        self.cli(d, "backup", backup)
        d.stop()

        harness.damage_table(self.db, "experiments")

        code, out = run_to_exit(local_args(self.tmp))
        self.assertEqual(code, EXIT_DATABASE_DAMAGED, out)
        self.assertIn("is damaged", out)
        self.assertIn("--restore-from", out)

        d = self.start(extra=["--restore-from", backup])
        self.assertEqual(len(self.names(d)), 300)
        self.assertIn("database restored", d.log())
        kept = [f for f in os.listdir(self.tmp) if ".before-restore-" in f]
        self.assertTrue(kept, os.listdir(self.tmp))

    def test_damage_in_the_history_met_at_start_is_refused_with_how_to_restore(self):
        # Start-up reads the newest job: damage there is met before the
        # background check gets to it, and refused like the check's.
        d = self.start()
        self.cli(d, "exp", "create", "before", "--cmd", "true")
        d.stop()
        harness.damage_table(self.db, "jobs")

        code, out = run_to_exit(local_args(self.tmp))
        self.assertEqual(code, EXIT_DATABASE_DAMAGED, out)
        self.assertIn("is damaged", out)
        self.assertIn("--restore-from", out)

    def test_damage_in_the_history_found_after_start_refuses_writes(self):
        # The history (jobs, events) is checked while the daemon serves:
        # it starts, then the check finds the damage, health says so with
        # how to restore, and writes are refused instead of spreading it.
        d = self.start()
        grid = ",".join(str(i) for i in range(300))
        self.cli(d, "sweep", "s", "--cmd", "true", "--grid", f"i={grid}")
        d.stop()
        damage_oldest_events_page(self.db)

        d = self.start()
        self.assertEqual(len(self.names(d)), 300)

        def damaged():
            health = json.loads(self.cli(d, "health", "-o", "json"))
            return health if "is damaged" in health.get("database_problem", "") else None
        health = harness.wait_for(damaged, timeout=60, what="health to report the damage")
        self.assertEqual(health["status"], "STATUS_DEGRADED")
        self.assertIn("quick_check of table events", health["database_problem"])
        self.assertIn("--restore-from", health["database_problem"])

        proc = subprocess.run([harness.SKYDECK, "--server", d.address, "exp", "create", "after",
                               "--cmd", "true"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("--restore-from", proc.stderr)
        self.assertEqual(len(self.names(d)), 300)
        self.assertIn("database damaged", d.log())


def damage_oldest_events_page(db_path):
    """Overwrites the header of the events table's first leaf page (its
    oldest rows: nothing reads them at start, unlike the newest), in the
    closed database at `db_path`."""
    conn = sqlite3.connect(db_path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    leaves = conn.execute("SELECT pageno FROM dbstat WHERE name = 'events' AND "
                          "pagetype = 'leaf' ORDER BY path").fetchall()
    conn.close()
    assert len(leaves) > 1, "the events table must span several pages"
    with open(db_path, "r+b") as f:
        f.seek((leaves[0][0] - 1) * page_size)
        f.write(b"\x5a" * 64)


class BackupTest(harness.E2ETestCase):
    """`skydeck backup` of a daemon under write load (item 11)."""

    def setUp(self):
        super().setUp()
        self.restore_dir = tempfile.mkdtemp(prefix="skydeck-e2e-restore-")
        self.restored = None

    def tearDown(self):
        if self.restored:
            self.restored.stop()
        shutil.rmtree(self.restore_dir, ignore_errors=True)
        super().tearDown()

    def test_a_backup_under_load_restores_every_write_acknowledged_before_it(self):
        writers = 4
        for w in range(writers):
            self.cli("exp", "create", f"w{w}", "--cmd", "true", "--flag", "step=0")
        acked = [[] for _ in range(writers)]  # (ack time, step or name)
        stop = threading.Event()
        failures = []

        def write(w):
            step = 0
            while not stop.is_set():
                step += 1
                if step % 3 == 0:
                    args = ("exp", "create", f"w{w}-{step}", "--cmd", "true")
                    what = f"w{w}-{step}"
                else:
                    args = ("exp", "flags", f"w{w}", "set", f"step={step}")
                    what = step
                proc = self.cli(*args, expect=None)
                if proc.returncode != 0:
                    failures.append(proc.stderr)
                    continue
                acked[w].append((time.monotonic(), what))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        try:
            harness.wait_for(lambda: all(len(a) >= 10 for a in acked), timeout=60,
                             what="writes before the backup")
            backup = os.path.join(self.restore_dir, "backup.db")
            began = time.monotonic()
            summary = self.cli_json("backup", backup)
            ended = time.monotonic()
            harness.wait_for(lambda: all(a and a[-1][0] > ended for a in acked), timeout=60,
                             what="writes after the backup")
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(failures, [])
        with open(backup, "rb") as f:
            data = f.read()
        self.assertEqual(len(data), int(summary["size_bytes"]))
        self.assertEqual(hashlib.sha256(data).hexdigest(), summary["sha256"])
        self.assertEqual(os.stat(backup).st_mode & 0o077, 0, "a backup holds secrets")

        self.restored = harness.Daemon(self.restore_dir, ["--restore-from", backup]).start()
        server = self.restored.address
        names = {e["name"]: e for e in json.loads(
            self.cli("exp", "list", "-o", "json", server=server).stdout)
            ["experiments"]}
        for w in range(writers):
            before = [what for t, what in acked[w] if t < began]
            steps = [s for s in before if isinstance(s, int)]
            created = [n for n in before if isinstance(n, str)]
            for name in created:
                self.assertIn(name, names, f"create of {name} acknowledged before the backup")
            restored_step = int(names[f"w{w}"]["flags"]["step"]["int_value"])
            if steps:
                self.assertGreaterEqual(restored_step, steps[-1],
                                        f"w{w}: flag set acknowledged before the backup")
            sent = [s for _, s in acked[w] if isinstance(s, int)]
            self.assertIn(restored_step, [0] + sent)
        # Nothing the backup holds was lost on the way (the restored daemon
        # may have appended events of its own since).
        self.assertGreaterEqual(int(json.loads(self.cli("health", "-o", "json", server=server)
                                               .stdout)["revision"]), int(summary["revision"]))

    def test_the_backup_route_streams_the_same_file_over_http(self):
        self.cli("exp", "create", "over-http", "--cmd", "true")
        host, port = self.daemon.http_address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("GET", "/api/backup")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        messages = [json.loads(line[len(b"data:"):]) for line in resp.read().splitlines()
                    if line.startswith(b"data:")]
        conn.close()
        data = b"".join(base64.b64decode(m.get("data", "")) for m in messages)
        self.assertEqual(len(data), int(messages[0]["size_bytes"]))
        self.assertEqual(hashlib.sha256(data).hexdigest(), messages[-1]["sha256"])
        copy = os.path.join(self.restore_dir, "copy.db")
        with open(copy, "wb") as f:
            f.write(data)
        conn = sqlite3.connect(copy)
        self.assertEqual(conn.execute("SELECT name FROM experiments").fetchall(),
                         [("over-http",)])
        conn.close()

    def test_a_backup_into_a_missing_directory_is_a_usage_error(self):
        proc = self.cli("backup", "/nonexistent-dir/backup.db", expect=2)
        self.assertIn("cannot create /nonexistent-dir/backup.db.partial-", proc.stderr)


if __name__ == "__main__":
    unittest.main()
