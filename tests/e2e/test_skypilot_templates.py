"""Task templates on the SkyPilot backend, end to end: a template with
resources (any_of, image_id), file_mounts, envs and secrets renders, under
the experiment's own fields, to exactly the task the API server receives
(the wire-level fake of tests/skypilot_fake, parsed with PyYAML as the real
server does); secret values reach the task's `secrets` and nowhere else;
what SkyPilot can never run is refused when the experiment is created."""

import json
import os
import secrets
import sqlite3
import tempfile

import yaml

import harness
from fake_skypilot import FakeSkyPilotTestCase

TEMPLATE = """\
name: h100-train
resources:
  accelerators: H100:8
  image_id: docker:nvcr.io/nvidia/pytorch:24.01-py3
  disk_size: 512
  any_of:
    - infra: aws
    - infra: gcp
      accelerators: A100-80GB:8
envs:
  WANDB_PROJECT: from-template
  NCCL_DEBUG: INFO
secrets:
  WANDB_API_KEY: null
file_mounts:
  /data: s3://my-bucket/data
  /ckpt:
    name: my-ckpts
    store: s3
    mode: MOUNT
setup: pip install -r requirements.txt
"""


def paths_holding(value, node, path=()):
    """Every path in a parsed YAML document whose value contains `value`."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in paths_holding(value, v, path + (k,))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in paths_holding(value, v, path + (i,))]
    return [path] if isinstance(node, str) and value in node else []


class SkyPilotTemplateTest(FakeSkyPilotTestCase):

    def setUp(self):
        self.wandb = "wandb-" + secrets.token_hex(16)
        self.hf = "hf-" + secrets.token_hex(16)
        fd, self.secrets_file = tempfile.mkstemp(prefix="skydeck-secrets-")
        with os.fdopen(fd, "w") as f:  # mkstemp makes it 0600
            f.write(f"WANDB_API_KEY={self.wandb}\nHF_TOKEN={self.hf}\n")
        self.extra_daemon_args = ("--secrets-file", self.secrets_file)
        super().setUp()

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            os.remove(self.secrets_file)

    def launched_task(self, name):
        """The task document of the one launch of managed job `name`, as the
        server's PyYAML reads it, and the launch request's body."""
        launches = harness.wait_for(
            lambda: [l for l in self.fake.state()["launches"] if l["name"] == name],
            what=f"the launch of {name}")
        self.assertEqual(len(launches), 1)
        body = launches[0]["body"]
        docs = list(yaml.safe_load_all(body["task"]))
        self.assertEqual(docs[0], {"name": name})
        return docs[1], body

    def test_a_template_renders_to_the_task_the_server_receives(self):
        path = os.path.join(self.tmp, "h100-train.yaml")
        with open(path, "w") as f:
            f.write(TEMPLATE)
        self.cli("template", "apply", "-f", path)  # named by its own name:
        exp = self.cli_json("exp", "create", "big", "--cmd", "python train.py", "--flag",
                            "lr=3e-4", "--template", "h100-train", "--nodes", "2", "--gpus",
                            "4", "--env", "WANDB_PROJECT=mine", "--secret", "HF_TOKEN",
                            "--no-workdir", "--start")
        name = self.job_name(exp["id"])
        task, body = self.launched_task(name)

        self.assertEqual(task["name"], name)
        self.assertEqual(task["num_nodes"], 2)
        self.assertEqual(task["run"], "python train.py 'lr=0.0003'")
        res = task["resources"]
        self.assertEqual(res["accelerators"], "H100:4")  # --gpus 4 sets the template's count
        self.assertEqual(res["image_id"], "docker:nvcr.io/nvidia/pytorch:24.01-py3")
        self.assertEqual(res["disk_size"], 512)
        self.assertEqual(res["any_of"], [{"infra": "aws"},
                                         {"infra": "gcp", "accelerators": "A100-80GB:4"}])
        self.assertIs(res["use_spot"], False)
        self.assertEqual(res["job_recovery"], {"strategy": "EAGER_NEXT_REGION",
                                               "max_restarts_on_errors": 0})
        self.assertEqual(set(res), {"accelerators", "image_id", "disk_size", "any_of",
                                    "use_spot", "job_recovery"})
        self.assertEqual(task["envs"], {
            "WANDB_PROJECT": "mine",  # the experiment's wins
            "NCCL_DEBUG": "INFO",
            "SKYDECK_EXPERIMENT": "big",
            "SKYDECK_EXPERIMENT_ID": str(exp["id"]),
            "SKYDECK_JOB": task["envs"]["SKYDECK_JOB"],
            "SKYDECK_ATTEMPT": "1",
            "SKYDECK_RUN_NAME": "big",
        })
        self.assertEqual(task["secrets"], {"WANDB_API_KEY": self.wandb, "HF_TOKEN": self.hf})
        self.assertEqual(task["file_mounts"], {
            "/data": "s3://my-bucket/data",
            "/ckpt": {"name": "my-ckpts", "store": "s3", "mode": "MOUNT"}})
        self.assertEqual(task["setup"], "pip install -r requirements.txt")
        self.assertNotIn("workdir", task)
        self.assertEqual(set(task), {"name", "num_nodes", "resources", "envs", "secrets",
                                     "file_mounts", "setup", "run"})

        # Each secret is in the task's `secrets` and nowhere else: not in
        # envs, not in the request's env_vars, once in the whole request.
        raw = json.dumps(body)
        for key, value in (("WANDB_API_KEY", self.wandb), ("HF_TOKEN", self.hf)):
            self.assertEqual(paths_holding(value, task), [("secrets", key)])
            self.assertEqual(body["task"].count(value), 1)
            self.assertEqual(raw.count(value), 1)
            self.assertNotIn(value, json.dumps(body.get("env_vars")))

        # The job records the template version and what was sent, redacted.
        self.wait_experiment("big", lambda e: e["observed_state"] == "OBSERVED_STATE_RUNNING")
        job = self.cli_json("exp", "jobs", "big")["jobs"][0]
        self.assertEqual(job["template"], "h100-train")
        self.assertEqual(job["template_version"], "1")
        recorded = list(yaml.safe_load_all(job["rendered_task"]))[1]
        self.assertEqual(recorded["secrets"], {"WANDB_API_KEY": "<redacted>",
                                               "HF_TOKEN": "<redacted>"})
        recorded["secrets"] = task["secrets"]
        self.assertEqual(recorded, task)
        for answer in (json.dumps(job), self.cli("job", "get", job["id"]).stdout,
                       self.cli("exp", "describe", "big").stdout):
            self.assertNotIn(self.wandb, answer)
            self.assertNotIn(self.hf, answer)
        with open(self.daemon.log_path) as f:
            log = f.read()
        self.assertNotIn(self.wandb, log)
        self.assertNotIn(self.hf, log)

    def test_a_local_workdir_goes_as_a_code_snapshot(self):
        project = os.path.join(self.tmp, "project")
        os.makedirs(project)
        exp = self.cli_json("exp", "create", "here", "--cmd", "python train.py", "--start",
                            cwd=project)
        self.assertEqual(exp["workdir"], project)
        task, _ = self.launched_task(self.job_name(exp["id"]))
        path = "/skydeck/snapshots/" + exp["code_snapshot"]["id"]
        self.assertEqual(task["workdir"], path)
        self.assertEqual(task["file_mounts_mapping"], {path: path})
        # (test_skypilot_snapshots.py follows the files to the server.)

    def test_what_skypilot_can_never_run_is_refused_at_create(self):
        # The seed's example: GPUs without a type (and no template).
        refused = self.cli("exp", "create", "seed", "--cmd", "python train.py", "--nodes", "4",
                           "--gpus", "4", expect=1)
        self.assertIn("without a GPU type", refused.stderr)
        self.assertIn("--gpu-type", refused.stderr)
        self.cli("exp", "create", "typed", "--cmd", "python train.py", "--nodes", "4", "--gpus",
                 "4", "--gpu-type", "H100", "--no-workdir")
        self.assertEqual(self.fake.state()["counters"]["launch_calls"], 0)

    def job_name(self, exp_id):
        """The deterministic name of attempt 1, i.e. the managed job's."""
        with sqlite3.connect(os.path.join(self.tmp, "skydeck.db"), timeout=5) as conn:
            installation = conn.execute(
                "SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]
        return f"skydeck-{installation}-{exp_id}-1"


if __name__ == "__main__":
    import unittest
    unittest.main()
