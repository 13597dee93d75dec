"""Real workloads on the local backend, end to end: the README's quick start
run verbatim from a folder that holds a train.py; a sweep with a task
template, envs and a secret; secrets that never reach the database, the
daemon's log or any API answer; a job environment that never holds the
daemon's tokens; launches that cannot start stall at once, naming why."""

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time

import harness
from test_http_bridge import Http, proto_routes

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")

# Prints what it ran with; a secret only as a digest, so logs (an API
# answer too) never hold it.
TRAIN_PY = """\
import hashlib, os, sys
print("args", " ".join(sys.argv[1:]))
print("cwd", os.getcwd())
for name in ("WANDB_PROJECT", "NCCL_DEBUG", "SKYDECK_RUN_NAME"):
    print(name, os.environ.get(name))
secret = os.environ.get("WANDB_API_KEY")
print("secret", hashlib.sha256(secret.encode()).hexdigest() if secret else None)
print("token", os.environ.get("SKYDECK_AUTH_TOKEN"), os.environ.get("SKYPILOT_SERVICE_ACCOUNT_TOKEN"))
print("setup", open("setup.marker").read().strip() if os.path.exists("setup.marker") else None)
"""


def quick_start_commands():
    """The README's quick-start shell block: the lines to run, without the
    `cd` and `export PATH` that only place the user and the binary."""
    with open(README) as f:
        text = f.read()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        if "skydeck exp create lr-3e-4" in block:
            return [line for line in block.splitlines()
                    if line.strip() and not line.startswith(("cd ", "export PATH"))]
    raise AssertionError("README.md has no quick-start block with skydeck exp create lr-3e-4")


def python_on_path():
    """A new directory holding a `python` (Debian has only python3), for
    jobs whose command says python, as the README's does."""
    directory = tempfile.mkdtemp(prefix="skydeck-e2e-bin-")
    os.symlink("/usr/bin/python3", os.path.join(directory, "python"))
    return directory


class PythonJobsTestCase(harness.E2ETestCase):
    """A daemon whose jobs find `python` on their PATH."""

    def setUp(self):
        # Before the daemon starts: jobs inherit its PATH.
        self.bin = python_on_path()
        self.saved_path = os.environ["PATH"]
        os.environ["PATH"] = self.bin + os.pathsep + self.saved_path
        super().setUp()

    def tearDown(self):
        os.environ["PATH"] = self.saved_path
        try:
            super().tearDown()
        finally:
            shutil.rmtree(self.bin, ignore_errors=True)


class QuickStartTest(PythonJobsTestCase):

    def test_readme_quick_start_runs_verbatim_from_the_train_py_folder(self):
        project = os.path.join(self.tmp, "my-project")
        os.makedirs(project)
        with open(os.path.join(project, "train.py"), "w") as f:
            f.write(TRAIN_PY)
        env = dict(os.environ, SKYDECK_SERVER=self.daemon.address,
                   PATH=os.path.dirname(harness.SKYDECK) + os.pathsep + os.environ["PATH"])
        outputs = []
        for line in quick_start_commands():
            proc = subprocess.run(["/bin/bash", "-c", line], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, f"{line}\n{proc.stdout}\n{proc.stderr}")
            outputs.append(proc.stdout)
        # `exp logs -f` followed the job to its end.
        log = outputs[-1]
        self.assertIn("args model.layers=4 trainer.lr=0.0003", log)
        self.assertIn(f"cwd {os.path.realpath(project)}", log)
        exp = self.wait_experiment("lr-3e-4",
                                   lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
        self.assertEqual(exp["workdir"], project)
        job = self.cli_json("exp", "jobs", "lr-3e-4")["jobs"][0]
        self.assertEqual(job["status"], "JOB_STATUS_SUCCEEDED")
        self.assertEqual(job["workdir"], project)
        # Its directory still keeps the log and the state.
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "jobs", job["backend_name"],
                                                    "run.log")))

    def test_a_git_workdir_records_its_commit_and_dirty_flag(self):
        project = os.path.join(self.tmp, "repo")
        os.makedirs(project)
        with open(os.path.join(project, "train.py"), "w") as f:
            f.write(TRAIN_PY)
        git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        subprocess.run(git + ["add", "train.py"], cwd=project, check=True)
        subprocess.run(git + ["commit", "-q", "-m", "one"], cwd=project, check=True)
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True,
                                text=True, check=True).stdout.strip()
        self.cli("exp", "create", "clean", "--cmd", "python train.py", "--start", cwd=project)
        # The commit is read when the job launches: let it launch first.
        self.wait_experiment("clean", lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
        with open(os.path.join(project, "notes.txt"), "w") as f:
            f.write("not committed\n")
        self.cli("exp", "create", "dirty", "--cmd", "python train.py", "--start", cwd=project)
        for name, dirty in (("clean", False), ("dirty", True)):
            self.wait_experiment(name, lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
            job = self.cli_json("exp", "jobs", name)["jobs"][0]
            self.assertEqual(job["code_commit"], commit)
            self.assertEqual(job.get("code_dirty", False), dirty)
            shown = self.cli("job", "get", job["id"]).stdout
            self.assertIn(commit + (" (uncommitted changes)" if dirty else ""), shown)

    def test_the_local_backend_runs_the_directory_not_a_snapshot(self):
        # The CLI sends no snapshot here (Health.code_snapshots is false),
        # and one a client names anyway is ignored: the job must not claim
        # to have run a snapshot it did not run.
        self.assertFalse(self.cli_json("health").get("code_snapshots", False))
        project = os.path.join(self.tmp, "inplace")
        os.makedirs(project)
        with open(os.path.join(project, "train.py"), "w") as f:
            f.write(TRAIN_PY)
        http = Http(self.daemon.http_address)
        made = http.ok("POST", "/api/experiments", {
            "experiment": {"name": "inplace", "base_command": "python train.py",
                           "workdir": project, "code_snapshot": {"id": "a" * 64}},
            "start": True})["experiment"]
        self.assertNotIn("code_snapshot", made)
        self.wait_experiment("inplace", lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
        job = self.cli_json("exp", "jobs", "inplace")["jobs"][0]
        self.assertEqual(job.get("code_snapshot", ""), "")
        self.assertEqual(job["workdir"], project)


class WorkloadTest(harness.E2ETestCase):
    """A daemon with a secrets file, tokens in its own environment, and a
    `python` on its PATH."""

    def setUp(self):
        self.secret = "s3cr3t-" + secrets.token_hex(16)
        self.token = "tok-" + secrets.token_hex(8)
        self.sky_token = "sky-" + secrets.token_hex(8)
        self.secrets_file = os.path.join(tempfile.gettempdir(),
                                         f"skydeck-secrets-{os.getpid()}-{id(self)}")
        with open(self.secrets_file, "w") as f:
            f.write(f"# for the e2e test\nWANDB_API_KEY={self.secret}\n")
        os.chmod(self.secrets_file, 0o600)
        self.daemon_args = ("--secrets-file", self.secrets_file)
        self.saved_env = dict(os.environ)
        self.bin = python_on_path()
        os.environ["PATH"] = self.bin + os.pathsep + os.environ["PATH"]
        # The daemon inherits these; no job may.
        os.environ["SKYDECK_AUTH_TOKEN"] = self.token
        os.environ["SKYPILOT_SERVICE_ACCOUNT_TOKEN"] = self.sky_token
        super().setUp()
        with open(os.path.join(self.workdir, "train.py"), "w") as f:
            f.write(TRAIN_PY)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        try:
            super().tearDown()
        finally:
            os.remove(self.secrets_file)
            shutil.rmtree(self.bin, ignore_errors=True)

    def template(self, name, yaml_text):
        path = os.path.join(self.tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(yaml_text)
        return self.cli("template", "apply", "-f", path)

    def test_a_sweep_with_a_template_envs_and_a_secret(self):
        out = self.template("train", """\
name: train
resources:
  accelerators: H100:8
envs:
  WANDB_PROJECT: from-template
  NCCL_DEBUG: INFO
secrets:
  WANDB_API_KEY: null
setup: echo made-by-setup > setup.marker
""").stdout
        self.assertIn("task template train: version 1", out)
        self.cli("sweep", "lr", "--cmd", "python train.py", "--grid", "trainer.lr=1e-4,3e-4",
                 "--template", "train", "--env", "WANDB_PROJECT=mine", "--start")
        names = self.cli("exp", "list", "-l", "sweep=lr", "-o", "name").stdout.split()
        self.assertEqual(len(names), 2)
        digest = hashlib.sha256(self.secret.encode()).hexdigest()
        for name in names:
            exp = self.wait_experiment(
                name, lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
            self.assertEqual(exp["template"], "train")
            self.assertEqual(exp["envs"], {"WANDB_PROJECT": "mine"})
            log = self.cli("exp", "logs", name).stdout
            self.assertIn("WANDB_PROJECT mine", log)       # the experiment's wins
            self.assertIn("NCCL_DEBUG INFO", log)          # the template's
            self.assertIn(f"secret {digest}", log)         # the secret's value
            self.assertIn("setup made-by-setup", log)      # the template's setup ran first
            self.assertIn(f"SKYDECK_RUN_NAME {name}", log)
            self.assertIn("token None None", log)          # issue 14, item 7
            job = self.cli_json("exp", "jobs", name)["jobs"][0]
            self.assertEqual(job["template"], "train")
            self.assertEqual(job["template_version"], "1")
            self.assertIn('WANDB_API_KEY: "<redacted>"', job["rendered_task"])
            shown = self.cli("job", "get", job["id"]).stdout
            self.assertIn("Template:", shown)
            self.assertIn("train (version 1)", shown)
            self.assertIn('setup: "echo made-by-setup > setup.marker"', shown)
        self.assert_secret_nowhere()

    def assert_secret_nowhere(self):
        """The secret's value is in no file the daemon writes, no line of its
        log and no answer of its API (gRPC through the CLI, every HTTP GET
        route, the event and log streams)."""
        answers = []
        for args in (["exp", "list"], ["template", "list"], ["template", "get", "train"],
                     ["health"], ["schema", "get"]):
            answers.append(self.cli(*args, "-o", "json").stdout)
        http = Http(self.daemon.http_address, token=self.token)
        experiments = http.ok("GET", "/api/experiments")["experiments"]
        for e in experiments:
            for args in (["exp", "get", e["name"]], ["exp", "describe", e["name"]],
                         ["exp", "jobs", e["name"]], ["exp", "events", e["name"]],
                         ["exp", "logs", e["name"]]):
                answers.append(self.cli(*args, "-o", "json").stdout)
            for job in self.cli_json("exp", "jobs", e["name"])["jobs"]:
                answers.append(self.cli("job", "get", job["id"], "-o", "json").stdout)
                answers.append(self.cli("job", "get", job["id"]).stdout)
        # Every GET route the API declares, with its path parameters filled.
        exp, job = experiments[0], self.cli_json("exp", "jobs", experiments[0]["name"])["jobs"][0]
        values = {"id": exp["name"], "experiment_id": exp["id"], "name": "train"}
        for route in sorted(proto_routes()):
            verb, path = route.split(" ", 1)
            # Streams, and the backup (the database's bytes, not JSON).
            if verb != "GET" or path in ("/api/watch", "/api/jobs/{id}/logs", "/api/backup"):
                continue
            if path.startswith("/api/jobs/"):
                path = path.replace("{id}", str(job["id"]))
            path = re.sub(r"\{([a-z_]+)\}", lambda m: str(values[m.group(1)]), path)
            status, parsed, _ = http.request("GET", path)
            self.assertEqual(status, 200, f"{path}: {parsed!r:.200}")
            # /api/backup answers the database file itself: it too must not
            # hold the value.
            answers.append(parsed.decode("latin-1") if isinstance(parsed, bytes)
                           else json.dumps(parsed))
        status, metrics, _ = http.request("GET", "/metrics")
        self.assertEqual(status, 200)
        answers.append(metrics.decode() if isinstance(metrics, bytes) else json.dumps(metrics))
        for stream in ("/api/watch?since_revision=0", f"/api/jobs/{job['id']}/logs"):
            sock = http.open_stream(stream)
            try:
                data = b""
                sock.settimeout(2)
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    try:
                        chunk = sock.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    data += chunk
                answers.append(data.decode(errors="replace"))
            finally:
                sock.close()
        for i, answer in enumerate(answers):
            self.assertNotIn(self.secret, answer, f"API answer {i}")
        self.assertTrue(any("WANDB_API_KEY" in a for a in answers))  # the name is shown
        self.daemon.stop()  # flushes the WAL into the database file
        for name in os.listdir(self.tmp):
            path = os.path.join(self.tmp, name)
            if name.startswith("skydeck.db") and os.path.isfile(path):
                with open(path, "rb") as f:
                    self.assertNotIn(self.secret.encode(), f.read(), name)
        with open(self.daemon.log_path, "rb") as f:
            log = f.read()
        self.assertNotIn(self.secret.encode(), log)
        # Nor the job directories' records.
        for root, _, files in os.walk(os.path.join(self.tmp, "jobs")):
            for name in files:
                if name != "run.log":
                    with open(os.path.join(root, name), "rb") as f:
                        self.assertNotIn(self.secret.encode(), f.read(), name)

    def test_a_missing_secret_is_refused_at_create_and_stalls_at_launch(self):
        refused = self.cli("exp", "create", "m1", "--cmd", "python train.py", "--secret",
                           "HF_TOKEN", "--start", expect=1)
        self.assertIn("secret HF_TOKEN is not set in the secrets file", refused.stderr)
        self.assertIn("add a line NAME=value", refused.stderr)
        # Present at create, gone at launch: Stalled at once, no job.
        with open(self.secrets_file, "a") as f:
            f.write("HF_TOKEN=hf-value\n")
        self.cli("exp", "create", "m2", "--cmd", "python train.py", "--secret", "HF_TOKEN")
        with open(self.secrets_file, "w") as f:
            f.write(f"WANDB_API_KEY={self.secret}\n")
        started = time.monotonic()
        self.cli("exp", "start", "m2")
        exp = self.wait_experiment(
            "m2", lambda e: any(c["type"] == "Stalled" and c.get("status")
                                for c in e.get("conditions", [])),
            timeout=10)
        self.assertLess(time.monotonic() - started, 10)  # not the ~60 s resync
        stalled = [c for c in exp["conditions"] if c["type"] == "Stalled"][0]
        self.assertEqual(stalled["reason"], "SecretMissing")
        self.assertIn("HF_TOKEN", stalled["message"])
        self.assertEqual(self.cli_json("exp", "jobs", "m2").get("jobs", []), [])
        # Put back, `start` launches it.
        with open(self.secrets_file, "a") as f:
            f.write("HF_TOKEN=hf-value\n")
        self.cli("exp", "start", "m2")
        self.wait_experiment("m2", lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")

    def test_what_can_never_launch_is_refused_at_the_edge(self):
        missing = self.cli("exp", "create", "t1", "--cmd", "python train.py", "--template",
                           "nope", expect=1)
        self.assertIn('task template "nope" does not exist', missing.stderr)
        gone = self.cli("exp", "create", "t2", "--cmd", "python train.py", "--workdir",
                        "/nonexistent/project", expect=1)
        self.assertIn("is not a directory on the daemon's machine", gone.stderr)
        git = self.cli("exp", "create", "t3", "--cmd", "python train.py", "--workdir",
                       "https://github.com/org/repo.git@main", expect=1)
        self.assertIn("does not clone git repositories", git.stderr)
        bad = self.template_refused("run: python train.py\n")
        self.assertIn("line 1: run:", bad)
        reserved = self.cli("exp", "create", "t4", "--cmd", "true", "--secret",
                            "SKYDECK_AUTH_TOKEN", expect=2)
        self.assertIn("reserved", reserved.stderr)
        # validate_only (apply --dry-run) refuses the same way.
        manifest = "name: t5\nbase_command: python train.py\ntemplate: nope\n"
        dry = self.cli("apply", "-f", "-", "--dry-run", stdin=manifest, expect=1)
        self.assertIn("does not exist", dry.stderr)

    def template_refused(self, text):
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w") as f:
            f.write(text)
        return self.cli("template", "apply", "-f", path, expect=1).stderr

    def test_manifests_carry_template_envs_secrets_and_workdir(self):
        self.template("train", "envs:\n  NCCL_DEBUG: INFO\n")
        os.makedirs(os.path.join(self.tmp, "code"))
        manifest_path = os.path.join(self.tmp, "exps.yaml")
        with open(manifest_path, "w") as f:
            f.write("name: m\nbase_command: python train.py\ntemplate: train\n"
                    "envs:\n  WANDB_PROJECT: p\nsecrets: [WANDB_API_KEY]\nworkdir: code\n")
        self.cli("apply", "-f", manifest_path)
        exp = self.cli_json("exp", "get", "m")
        self.assertEqual(exp["template"], "train")
        self.assertEqual(exp["envs"], {"WANDB_PROJECT": "p"})
        self.assertEqual(exp["secrets"], ["WANDB_API_KEY"])
        self.assertEqual(exp["workdir"], os.path.join(self.tmp, "code"))  # relative to the file
        as_yaml = self.cli("exp", "get", "m", "-o", "yaml").stdout
        self.assertIn("template: train", as_yaml)
        self.assertIn("WANDB_PROJECT: p", as_yaml)
        self.cli("diff", "-f", manifest_path)  # exit 0: nothing to change
        # A change of template is a spec change.
        with open(manifest_path, "w") as f:
            f.write("name: m\ntemplate: \"\"\n")
        plan = self.cli("apply", "-f", manifest_path).stdout
        self.assertIn("template: train -> ", plan)
        self.assertEqual(self.cli_json("exp", "get", "m")["generation"], "2")


if __name__ == "__main__":
    import unittest
    unittest.main()
