"""Code snapshots on the SkyPilot backend, end to end: the CLI snapshots a
local workdir and sends it to skydeckd (which never reads the directory);
at launch skydeckd uploads it to the API server with SkyPilot's own
protocol (POST /upload in chunks, file_mounts_mapping), and the fake server
(tests/skypilot_fake) extracts and translates it as the real one does;
retries run the same snapshot without uploading it again; .gitignore and
.skydeckignore are honoured, too-big snapshots refused; template file
mounts travel the same way; unreferenced snapshots are collected."""

import json
import os
import random
import shutil
import sqlite3
import urllib.request

import yaml

import harness
from fake_skypilot import FakeSkyPilotTestCase


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def make_project(root):
    """A project with code, a binary file bigger than one upload chunk,
    and files .gitignore / .skydeckignore leave out."""
    write(os.path.join(root, "train.py"), "print('trained')\n")
    write(os.path.join(root, "pkg", "model.py"), "LAYERS = 4\n")
    rng = random.Random(5)
    write(os.path.join(root, "pkg", "weights.bin"),
          bytes(rng.getrandbits(8) for _ in range(6000)), "wb")
    write(os.path.join(root, ".gitignore"), "*.pyc\noutputs/\n")
    write(os.path.join(root, ".skydeckignore"), "data/\n")
    write(os.path.join(root, "cache.pyc"), "x")
    write(os.path.join(root, "outputs", "run1.log"), "log")
    write(os.path.join(root, "data", "big.csv"), "1,2,3\n" * 100)


def files_under(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


class SnapshotTest(FakeSkyPilotTestCase):
    # 1 KiB chunks: the project's zip goes in several.
    extra_daemon_args = ("--skypilot-upload-chunk-bytes", "1KiB", "--snapshot-grace", "0s")

    def uploads(self):
        return self.fake.call("uploads")

    def job_name(self, exp_id, attempt=1):
        with sqlite3.connect(os.path.join(self.tmp, "skydeck.db"), timeout=5) as conn:
            installation = conn.execute(
                "SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]
        return f"skydeck-{installation}-{exp_id}-{attempt}"

    def translated(self, name, timeout=60):
        """The task of launch `name` as the server translated it."""
        return harness.wait_for(lambda: self.uploads()["translated"].get(name),
                                timeout=timeout, interval=0.1,
                                what=f"the launch of {name} on the server")[1]

    def snapshot_files(self):
        trees = os.path.join(self.tmp, "snapshots", "trees")
        return sorted(os.listdir(trees))

    def test_the_cli_sends_the_snapshot_and_the_server_gets_it_in_chunks(self):
        project = os.path.join(self.tmp, "project")
        make_project(project)
        exp = self.cli_json("exp", "create", "demo", "--cmd", "python train.py", cwd=project)
        snap = exp["code_snapshot"]
        self.assertEqual(exp["workdir"], project)
        self.assertEqual(len(snap["id"]), 64)
        # train.py, pkg/model.py, pkg/weights.bin and the two ignore files.
        self.assertEqual(snap["file_count"], 5)
        self.assertEqual(self.snapshot_files(), [snap["id"]])  # sent by the CLI
        # skydeckd never needs the directory again: remove it, then run.
        expected = {k: v for k, v in files_under(project).items()
                    if k in ("train.py", "pkg/model.py", "pkg/weights.bin", ".gitignore",
                             ".skydeckignore")}
        shutil.rmtree(project)
        self.cli("exp", "start", "demo")
        name = self.job_name(exp["id"])
        task = self.translated(name)
        self.assertEqual(files_under(task["workdir"]), expected)

        uploads = self.uploads()
        self.assertEqual(len(uploads["completed"]), 1)
        self.assertGreaterEqual(uploads["completed"][0]["total_chunks"], 3)
        # What skydeckd sent: the snapshot's path and its mapping.
        launch = [l for l in self.fake.state()["launches"] if l["name"] == name][0]
        sent = list(yaml.safe_load_all(launch["body"]["task"]))[1]
        path = "/skydeck/snapshots/" + snap["id"]
        self.assertEqual(sent["workdir"], path)
        self.assertEqual(sent["file_mounts_mapping"], {path: path})

        self.wait_experiment("demo", lambda e: e["observed_state"] == "OBSERVED_STATE_RUNNING")
        job = self.cli_json("exp", "jobs", "demo")["jobs"][0]
        self.assertEqual(job["code_snapshot"], snap["id"])
        shown = self.cli("job", "get", job["id"]).stdout
        self.assertIn(f"snapshot {snap['id'][:12]}", shown)
        described = self.cli("exp", "describe", "demo").stdout
        self.assertIn(f"snapshot {snap['id'][:12]} (5 files,", described)

    def test_a_retry_runs_the_same_snapshot_without_uploading_it_again(self):
        project = os.path.join(self.tmp, "project")
        make_project(project)
        self.fake.script("skydeck-", ["PENDING", "RUNNING", "FAILED"])
        exp = self.cli_json("exp", "create", "retry", "--cmd", "python train.py",
                            "--max-restarts", "1", "--start", cwd=project)
        # The code changes after the create: the retry still runs the snapshot.
        write(os.path.join(project, "train.py"), "print('edited')\n")
        self.translated(self.job_name(exp["id"], 1))
        second = self.translated(self.job_name(exp["id"], 2))
        with open(os.path.join(second["workdir"], "train.py")) as f:
            self.assertEqual(f.read(), "print('trained')\n")
        self.assertEqual(len(self.uploads()["completed"]), 1)
        jobs = self.cli_json("exp", "jobs", "retry")["jobs"]
        self.assertEqual({j["code_snapshot"] for j in jobs}, {exp["code_snapshot"]["id"]})

        # `exp update --workdir .` takes a new snapshot: a spec change.
        updated = self.cli_json("exp", "update", "retry", "--workdir", ".", cwd=project)
        self.assertNotEqual(updated["code_snapshot"]["id"], exp["code_snapshot"]["id"])
        self.assertEqual(updated["generation"], str(int(exp["generation"]) + 1))
        again = self.cli_json("exp", "update", "retry", "--workdir", ".", cwd=project)
        self.assertEqual(again["generation"], updated["generation"])  # same content: no change

    def test_too_big_is_refused_with_the_biggest_paths(self):
        self.daemon.stop()
        self.daemon.start(("--max-snapshot-bytes", "4KiB"))
        project = os.path.join(self.tmp, "project")
        make_project(project)
        refused = self.cli("exp", "create", "big", "--cmd", "python train.py", "--workdir",
                           project, expect=1)
        self.assertIn("the code snapshot would hold", refused.stderr)
        self.assertIn("more than the limit of 4.0 KiB", refused.stderr)
        self.assertIn("pkg/weights.bin 5.9 KiB", refused.stderr)
        self.assertIn(".skydeckignore", refused.stderr)
        # The current directory is only a default: a warning, no workdir.
        made = self.cli("exp", "create", "nodir", "--cmd", "true", "-o", "json", cwd=project)
        self.assertIn("it is not sent as the workdir", made.stderr)
        self.assertEqual(json.loads(made.stdout).get("workdir", ""), "")
        # Leaving the big file out makes it fit.
        write(os.path.join(project, ".skydeckignore"), "data/\n*.bin\n")
        ok = self.cli_json("exp", "create", "fits", "--cmd", "true", "--workdir", project)
        self.assertEqual(ok["code_snapshot"]["file_count"], 4)

    def test_template_file_mounts_travel_as_snapshots(self):
        configs = os.path.join(self.tmp, "configs")
        write(os.path.join(configs, "cfg.yaml"), "lr: 3e-4\n")
        write(os.path.join(configs, "data", "small.csv"), "a,b\n")
        write(os.path.join(configs, "t.yaml"),
              "name: mounts\nfile_mounts:\n  /cfg.yaml: ./cfg.yaml\n  /data: ./data\n"
              "  /bucket: s3://b/c\n")
        self.cli("template", "apply", "-f", "t.yaml", cwd=configs)
        t = self.cli_json("template", "get", "mounts")
        self.assertEqual(set(t["mount_snapshots"]), {"./cfg.yaml", "./data"})
        self.assertEqual(t["mount_snapshots"]["./cfg.yaml"]["file_name"], "cfg.yaml")
        # The same text with other contents is a new version.
        write(os.path.join(configs, "cfg.yaml"), "lr: 1e-3\n")
        self.cli("template", "apply", "-f", "t.yaml", cwd=configs)
        self.assertEqual(self.cli_json("template", "get", "mounts")["version"], "2")

        exp = self.cli_json("exp", "create", "m", "--cmd", "true", "--template", "mounts",
                            "--no-workdir", "--start")
        task = self.translated(self.job_name(exp["id"]))
        with open(task["file_mounts"]["/cfg.yaml"]) as f:
            self.assertEqual(f.read(), "lr: 1e-3\n")
        self.assertEqual(files_under(task["file_mounts"]["/data"]), {"small.csv": b"a,b\n"})
        self.assertEqual(task["file_mounts"]["/bucket"], "s3://b/c")

    def test_clients_that_upload_nothing_get_the_daemons_own_snapshot(self):
        project = os.path.join(self.tmp, "project")
        make_project(project)
        body = json.dumps({"experiment": {"name": "web", "base_command": "python train.py",
                                          "workdir": project}}).encode()
        req = urllib.request.Request(f"http://{self.daemon.http_address}/api/experiments",
                                     data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            exp = json.loads(resp.read())["experiment"]
        cli_exp = self.cli_json("exp", "create", "cli", "--cmd", "python train.py",
                                "--workdir", project)
        # The same tree gives the same id wherever it was scanned.
        self.assertEqual(exp["code_snapshot"]["id"], cli_exp["code_snapshot"]["id"])
        # The upload RPCs are on the HTTP API too (the bridge's generic
        # routes): "have it" for a stored snapshot.
        manifest = {"files": [{"path": "x.py", "size": 0,
                               "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}
        req = urllib.request.Request(f"http://{self.daemon.http_address}/api/code-snapshots",
                                     data=json.dumps(manifest).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
        self.assertEqual(answer["missing"], [manifest["files"][0]["sha256"]])

    def test_unreferenced_snapshots_are_collected(self):
        first, second, third = (os.path.join(self.tmp, n) for n in ("a", "b", "c"))
        for i, d in enumerate((first, second, third)):
            write(os.path.join(d, "train.py"), f"print({i})\n")
        ran = self.cli_json("exp", "create", "ran", "--cmd", "python train.py", "--start",
                            cwd=first)
        self.translated(self.job_name(ran["id"]))
        # Superseded after its job ran: kept for the job's history.
        self.cli("exp", "update", "ran", "--workdir", second)
        never = self.cli_json("exp", "create", "never", "--cmd", "true", cwd=third)
        # Superseded before any job ran it: nothing references it any more.
        self.cli("exp", "update", "never", "--workdir", second)
        self.assertEqual(len(self.snapshot_files()), 3)
        self.daemon.stop()
        self.daemon.start()  # collects at start-up (grace 0s)
        harness.wait_for(lambda: len(self.snapshot_files()) == 2,
                         what="the unreferenced snapshot to be collected")
        kept = set(self.snapshot_files())
        self.assertIn(ran["code_snapshot"]["id"], kept)
        self.assertNotIn(never["code_snapshot"]["id"], kept)


if __name__ == "__main__":
    import unittest
    unittest.main()
