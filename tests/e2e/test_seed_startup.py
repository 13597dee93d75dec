"""A user of SkyDeck's predecessor (github.com/Metta-AI/skydeck) starting
skydeckd the way its README said (issue 17, "Start-up and configuration do
what a seed user means"): `--host 0.0.0.0 --port 8000 --db-path X` serves
the dashboard and HTTP API on that port, SKYDECK_POLL_INTERVAL=30 is
seconds and both intervals are printed, and the predecessor's own database
is refused at start and brought over with `skydeck import --seed-db`.

The seed database is built here with Python's sqlite3 from the schema in
the predecessor's skydeck/database.py (its `experiments`, `jobs`,
`experiment_groups`, `experiment_group_members` tables), filled the way its
code wrote rows (isoformat() times, JSON flags and tags).
"""

import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import unittest

import harness

SEED_SCHEMA = """
CREATE TABLE experiments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    desired_state TEXT NOT NULL,
    current_state TEXT NOT NULL,
    flags TEXT NOT NULL,
    base_command TEXT NOT NULL,
    run_name TEXT,
    git_branch TEXT,
    current_job_id TEXT,
    cluster_name TEXT,
    nodes INTEGER NOT NULL DEFAULT 1,
    gpus INTEGER NOT NULL DEFAULT 0,
    instance_type TEXT,
    cloud TEXT,
    spot INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    wandb_link TEXT,
    description TEXT,
    tags TEXT NOT NULL,
    exp_group TEXT,
    exp_order INTEGER NOT NULL DEFAULT 0,
    is_expanded INTEGER NOT NULL DEFAULT 0,
    tool_path TEXT,
    starred INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    experiment_id TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    sky_job_id INTEGER,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    started_at TEXT,
    ended_at TEXT,
    command TEXT NOT NULL,
    logs_path TEXT,
    exit_code INTEGER,
    error_message TEXT,
    nodes INTEGER NOT NULL DEFAULT 1,
    gpus INTEGER NOT NULL DEFAULT 0,
    instance_type TEXT,
    cloud TEXT,
    FOREIGN KEY (experiment_id) REFERENCES experiments(id) ON DELETE CASCADE
);
CREATE TABLE experiment_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    flags TEXT NOT NULL,
    group_order INTEGER NOT NULL DEFAULT 0,
    collapsed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE experiment_group_members (
    group_id TEXT NOT NULL,
    experiment_id TEXT NOT NULL,
    member_order INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, experiment_id)
);
"""


def make_seed_db(path):
    conn = sqlite3.connect(path)
    conn.executescript(SEED_SCHEMA)
    exp = ("INSERT INTO experiments (name, desired_state, current_state, flags, base_command, "
           "tool_path, git_branch, nodes, gpus, cloud, spot, created_at, updated_at, "
           "description, tags, exp_group, starred, deleted) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    conn.execute(exp, ("ppo-4layers", "STOPPED", "SUCCEEDED",
                       json.dumps({"trainer.losses.ppo.enabled": True,
                                   "policy_architecture.core_resnet_layers": 4,
                                   "trainer.lr": 0.001, "tag": "x"}),
                       "lt", "recipes.arena.train", "main", 2, 4, "aws", 1,
                       "2025-03-01T10:00:00.123456", "2025-03-02T10:00:00", "first try",
                       json.dumps(["baseline", "ppo v2"]), "ablations", 1, 0))
    conn.execute(exp, ("was-running", "RUNNING", "RUNNING", "{}", "lt", None, None, 1, 0,
                       None, 0, "2025-03-03T09:00:00", "2025-03-03T09:00:00", None, "[]",
                       None, 0, 0))
    conn.execute(exp, ("gone", "TERMINATED", "INIT", "{}", "lt", None, None, 1, 0, None, 0,
                       "2025-03-04T09:00:00", "2025-03-04T09:00:00", None, "[]", None, 0, 1))
    job = ("INSERT INTO jobs (id, experiment_id, cluster_name, sky_job_id, status, created_at, "
           "submitted_at, started_at, ended_at, command, exit_code, error_message, nodes, gpus, "
           "cloud) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    # jobs.experiment_id holds the experiment's id or, after the
    # predecessor's id migration, its name: one of each.
    conn.execute(job, ("1-1", "1", "sky-ppo-1", 7, "FAILED", "2025-03-01T10:01:00",
                       "2025-03-01T10:01:00", "2025-03-01T10:05:00", "2025-03-01T11:00:00",
                       "lt --gpus=4 --nodes=2 recipes.arena.train run=ppo-4layers", 1,
                       "NCCL timeout", 2, 4, "aws"))
    conn.execute(job, ("1-2", "ppo-4layers", "sky-ppo-2", 9, "SUCCEEDED",
                       "2025-03-01T12:00:00", "2025-03-01T12:00:00", "2025-03-01T12:03:00",
                       "2025-03-01T18:00:00", "lt run=ppo-4layers", 0, None, 2, 4, "aws"))
    conn.execute(job, ("2-1", "2", "sky-run-1", 11, "RUNNING", "2025-03-03T09:01:00",
                       "2025-03-03T09:01:00", "2025-03-03T09:02:00", None, "lt run=was-running",
                       None, None, 1, 0, None))
    conn.execute("INSERT INTO experiment_groups VALUES ('g1', 'Arena sweep', '[]', 0, 0, "
                 "'2025-03-01T00:00:00', '2025-03-01T00:00:00')")
    conn.execute("INSERT INTO experiment_group_members VALUES ('g1', '1', 0)")
    conn.commit()
    conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SeedCommandLineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="skydeck-seed-")
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        harness.kill_processes_under(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_the_seeds_command_line_serves_the_dashboard_on_port(self):
        port = free_port()
        ready = os.path.join(self.tmp, "ready")
        log_path = os.path.join(self.tmp, "log")
        env = dict(os.environ, SKYDECK_AUTH_TOKEN="seed-token", SKYDECK_POLL_INTERVAL="30")
        with open(log_path, "wb") as log:
            # Exactly the seed's command line (plus what makes a test
            # hermetic: a data dir, a free gRPC port, a ready file).
            self.proc = subprocess.Popen(
                [harness.SKYDECKD, "--host", "0.0.0.0", "--port", str(port), "--db-path",
                 os.path.join(self.tmp, "x.db"), "--data-dir", self.tmp, "--grpc-port", "0",
                 "--backend", "local", "--ready-file", ready],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        harness.wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None,
                         what="skydeckd to listen")
        with open(log_path) as f:
            log = f.read()
        self.assertIsNone(self.proc.poll(), log)
        with open(ready) as f:
            grpc_addr, http_addr = f.read().split()
        self.assertEqual(http_addr, f"0.0.0.0:{port}")
        # The dashboard and the HTTP API answer on --port.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/", headers={"Authorization": "Bearer seed-token"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertIn(b"<html", resp.read().lower())
        conn.request("GET", "/api/experiments", headers={"Authorization": "Bearer seed-token"})
        resp = conn.getresponse()
        body = resp.read()
        self.assertEqual(resp.status, 200, body)
        self.assertEqual(json.loads(body)["experiments"], [])
        conn.close()
        # Plain seconds, and the effective intervals are printed.
        self.assertIn("poll_interval=30s", log)
        self.assertIn("reconcile_interval=1m", log)
        # The CLI talks gRPC on the other port.
        proc = subprocess.run([harness.SKYDECK, "--server", "127.0.0.1:" + grpc_addr.rsplit(":", 1)[1],
                               "health"], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, SKYDECK_AUTH_TOKEN="seed-token"))
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_off_loopback_without_a_token_is_refused(self):
        env = {k: v for k, v in os.environ.items() if k != "SKYDECK_AUTH_TOKEN"}
        proc = subprocess.run([harness.SKYDECKD, "--host", "0.0.0.0", "--port", "0",
                               "--grpc-port", "0", "--data-dir", self.tmp],
                              capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--auth-token-file", proc.stderr)


class SeedDatabaseTest(harness.E2ETestCase):
    def setUp(self):
        super().setUp()
        self.seed_db = os.path.join(self.tmp, "seed.db")
        make_seed_db(self.seed_db)

    def test_skydeckd_refuses_the_seeds_database_and_leaves_it_unchanged(self):
        with open(self.seed_db, "rb") as f:
            before = f.read()
        proc = subprocess.run([harness.SKYDECKD, "--port", "0", "--grpc-port", "0", "--data-dir",
                               os.path.join(self.tmp, "other"), "--db-path", self.seed_db,
                               "--backend", "local"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("earlier SkyDeck dashboard", proc.stderr)
        self.assertIn(f"skydeck import --seed-db {self.seed_db}", proc.stderr)
        with open(self.seed_db, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(self.seed_db + "-wal"))

    def test_import_brings_experiments_and_history_over_once(self):
        out = self.cli("import", "--seed-db", self.seed_db).stdout
        self.assertIn("imported 2 of 2 experiments", out)
        self.assertIn("1 deleted left out", out)

        exp = self.cli_json("exp", "get", "ppo-4layers")
        # The CLI's JSON keeps the proto's typed form: unwrap it.
        flags = {k: (int(v["int_value"]) if "int_value" in v else next(iter(v.values())))
                 for k, v in exp["flags"].items()}
        self.assertEqual(flags, {"trainer.losses.ppo.enabled": True,
                                        "policy_architecture.core_resnet_layers": 4,
                                        "trainer.lr": 0.001, "tag": "x"})
        self.assertTrue(exp["desired_state"].endswith("STOPPED"), exp["desired_state"])
        self.assertEqual(exp["base_command"], "lt recipes.arena.train")
        self.assertEqual((exp["nodes"], exp["gpus"], exp["spot"]), (2, 4, True))
        self.assertEqual(exp["labels"], {"imported-from": "seed", "group": "ablations",
                                         "group/Arena-sweep": "", "tag/baseline": "",
                                         "tag/ppo-v2": "", "git-branch": "main",
                                         "starred": "true"})
        self.assertTrue(exp["starred"])  # the seed's star is a star here too
        jobs = self.cli_json("exp", "jobs", "ppo-4layers")
        jobs = jobs.get("jobs", jobs) if isinstance(jobs, dict) else jobs
        by_attempt = {j["attempt"]: j for j in jobs}
        self.assertTrue(by_attempt[1]["status"].endswith("_FAILED"), by_attempt[1])
        self.assertEqual(by_attempt[1]["exit_code"], 1)
        self.assertEqual(by_attempt[1]["failure_reason"], "NCCL timeout")
        self.assertEqual(by_attempt[1]["backend_name"], "sky-ppo-1")
        self.assertTrue(by_attempt[2]["status"].endswith("SUCCEEDED"), by_attempt[2])

        # RUNNING comes over STOPPED (its old cluster may still run),
        # marked so that one command resumes them.
        running = self.cli_json("exp", "get", "was-running")
        self.assertTrue(running["desired_state"].endswith("STOPPED"), running)
        self.assertEqual(running["labels"]["seed-desired"], "RUNNING")
        old = self.cli_json("exp", "jobs", "was-running")
        old = old.get("jobs", old) if isinstance(old, dict) else old
        self.assertEqual([j["status"].rsplit("_", 1)[-1] for j in old], ["LOST"])
        self.assertIn("imported while RUNNING", old[0]["failure_reason"])

        again = self.cli("import", "--seed-db", self.seed_db).stdout
        self.assertIn("ppo-4layers: exists", again)
        self.assertIn("imported 0 of 2", again)

    def test_import_of_a_file_that_is_not_a_seed_database_is_a_usage_error(self):
        other = os.path.join(self.tmp, "other.db")
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
        proc = self.cli("import", "--seed-db", other, expect=2)
        self.assertIn("not a database of the earlier SkyDeck dashboard", proc.stderr)


if __name__ == "__main__":
    unittest.main()
