"""The CLI for scripting (issue 7), with the real skydeck against a real
skydeckd: sweeps, selectors and bulk verbs, wait, machine output, and the
README's shell-loop grid search."""

import json
import os
import subprocess
import unittest

import harness


class CliScriptingTest(harness.E2ETestCase):

    def names(self, *args):
        return sorted(e["name"] for e in self.cli_json("exp", "list", *args)["experiments"])

    def test_sweep_4x4_creates_16_and_rerun_creates_none(self):
        args = ["sweep", "grid", "--cmd", "python train.py",
                "--grid", "lr=1e-4,3e-4,1e-3,3e-3", "--grid", "model.layers=1,4,16,64",
                "--flag", "seed=7", "--label", "team=nlp"]
        dry = self.cli(*args, "--dry-run")
        self.assertIn("would create 16", dry.stdout)
        self.assertEqual(self.cli_json("exp", "list")["experiments"], [])

        out = self.cli(*args).stdout
        self.assertIn("16 created, 0 unchanged, 0 failed", out)
        listed = self.cli_json("exp", "list", "-l", "sweep=grid")["experiments"]
        self.assertEqual(len(listed), 16)
        by_name = {e["name"]: e for e in listed}
        e = by_name["grid-lr-3e-4-model.layers-16"]
        self.assertEqual(e["labels"], {"sweep": "grid", "lr": "0.0003",
                                       "model.layers": "16", "team": "nlp"})
        self.assertEqual(e["flags"]["lr"], {"double_value": 0.0003})
        self.assertEqual(e["flags"]["model.layers"], {"int_value": "16"})
        self.assertEqual(e["flags"]["seed"], {"int_value": "7"})
        self.assertEqual(len(self.names("-l", "sweep=grid,model.layers=64")), 4)

        again = self.cli_json(*args)
        self.assertEqual((again["created"], again["unchanged"], again["failed"]), (0, 16, 0))
        self.assertEqual(len(self.cli_json("exp", "list")["experiments"]), 16)

        # Same names, different spec: reported, never rewritten.
        changed = self.cli(*args[:3], "python other.py", *args[4:], expect=1)
        self.assertIn("16 failed", changed.stdout)

    def test_bulk_stop_by_selector_and_state(self):
        for name, sweep in [("a1", "a"), ("a2", "a"), ("b1", "b")]:
            self.cli("exp", "create", name, "--cmd", "sleep 60", "--label", f"sweep={sweep}",
                     "--start")
        stopped = self.cli_json("exp", "stop", "-l", "sweep=a")["experiments"]
        self.assertEqual(sorted(e["name"] for e in stopped), ["a1", "a2"])
        self.assertEqual(self.names("--state", "STOPPED"), ["a1", "a2"])
        self.assertEqual(self.names("--state", "RUNNING"), ["b1"])

        # --all without a terminal needs --yes; nothing happens otherwise.
        refused = self.cli("exp", "terminate", "--all", expect=2, stdin="")
        self.assertIn("--yes", refused.stderr)
        self.assertEqual(self.names("--state", "RUNNING"), ["b1"])
        self.cli("exp", "stop", "--all", "--yes")
        self.assertEqual(self.names("--state", "STOPPED"), ["a1", "a2", "b1"])

        # Bulk delete by state; nothing matching is not an error.
        self.cli("exp", "delete", "-l", "sweep=a", "--state", "STOPPED")
        self.assertEqual(self.names(), ["b1"])
        self.cli("exp", "start", "-l", "sweep=nothing")
        self.cli("exp", "stop", expect=2)

    def test_wait_exit_codes(self):
        self.cli("exp", "create", "runs", "--cmd", "sleep 60", "--start")
        self.cli("wait", "runs", "--for", "state=RUNNING", "--timeout", "30s")
        self.assertEqual(self.cli_json("exp", "get", "runs")["observed_state"],
                         "OBSERVED_STATE_RUNNING")

        self.cli("exp", "create", "idle", "--cmd", "sleep 60")
        timed_out = self.cli("wait", "idle", "--for", "state=RUNNING", "--timeout", "1s",
                             expect=4)
        self.assertIn("timed out", timed_out.stderr)

        self.cli("exp", "create", "ok", "--cmd", "true", "--start", "--label", "w=1")
        self.cli("wait", "-l", "w=1", "--for", "state=SUCCEEDED", "--timeout", "30s")

        self.cli("exp", "create", "bad", "--cmd", "false", "--max-restarts", "0", "--start")
        failed = self.cli("wait", "bad", "--for", "state=SUCCEEDED", "--timeout", "30s",
                          expect=1)
        self.assertIn("bad will not reach SUCCEEDED", failed.stderr)

        self.cli("exp", "stop", "runs")
        self.cli("wait", "runs", "--for", "state=STOPPED", "--timeout", "30s")
        started = self.cli("exp", "start", "runs", "--wait", "--timeout", "30s")
        self.assertIn("runs: RUNNING", started.stderr)
        self.cli("wait", "--for", "state=RUNNING", expect=2)

    def test_machine_output_is_pure_data(self):
        self.cli("sweep", "s", "--cmd", "true", "--grid", "x=1,2")
        for args in (["exp", "list"], ["sweep", "s", "--cmd", "true", "--grid", "x=1,2"],
                     ["exp", "stop", "-l", "sweep=s"]):
            out = self.cli(*args, "-o", "json").stdout
            json.loads(out)

    def test_name_wide_and_no_headers(self):
        self.cli("sweep", "s", "--cmd", "true", "--grid", "x=1,2", "--label", "team=a")
        self.assertEqual(self.cli("exp", "list", "-o", "name").stdout, "s-x-1\ns-x-2\n")
        self.assertEqual(self.cli("exp", "get", "s-x-1", "-o", "name").stdout, "s-x-1\n")
        rows = self.cli("exp", "list", "--no-headers").stdout.splitlines()
        self.assertEqual(len(rows), 2)
        self.assertNotIn("NAME", rows[0])
        wide = self.cli("exp", "list", "-o", "wide").stdout
        self.assertIn("LABELS", wide)
        self.assertIn("team=a", wide)

    def test_list_watch_streams_changes(self):
        self.cli("exp", "create", "w1", "--cmd", "sleep 60")
        cmd = [harness.SKYDECK, "--server", self.daemon.address, "exp", "list", "-w",
               "-o", "json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = proc.stdout.readline()
            # The list document is multi-line JSON; read until it closes.
            doc = first
            while not doc.rstrip().endswith("}") or doc.count("{") != doc.count("}"):
                doc += proc.stdout.readline()
            self.assertEqual([e["name"] for e in json.loads(doc)["experiments"]], ["w1"])
            self.cli("exp", "create", "w2", "--cmd", "sleep 60")
            change = json.loads(proc.stdout.readline())
            self.assertEqual(change["experiment"]["name"], "w2")
            self.assertEqual(change["event"]["type"], "Created")
        finally:
            proc.kill()
            proc.wait()

    def test_apply_diff_edit_apply(self):
        path = os.path.join(self.tmp, "exps.yaml")
        with open(path, "w") as f:
            f.write("name: m1\nbase_command: python train.py\n"
                    "flags:\n  lr: 3e-4\n  layers: 4\n  tag: \"42\"\n"
                    "labels:\n  sweep: m\n"
                    "---\nname: m2\nbase_command: sleep 60\nnodes: 2\n"
                    "desired_state: STOPPED\n")
        self.assertEqual(self.cli("diff", "-f", path, expect=1).returncode, 1)
        plan = self.cli("apply", "-f", path).stdout
        self.assertIn("created  m1", plan)
        self.assertIn("created  m2", plan)
        m1 = self.cli_json("exp", "get", "m1")
        self.assertEqual(m1["flags"]["lr"], {"double_value": 0.0003})
        self.assertEqual(m1["flags"]["layers"], {"int_value": "4"})
        self.assertEqual(m1["flags"]["tag"], {"string_value": "42"})
        self.cli("diff", "-f", path)  # exit 0: nothing to do
        self.assertIn("unchanged  m1", self.cli("apply", "-f", path).stdout)

        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("layers: 4", "layers: 16").replace("nodes: 2", "nodes: 3"))
        self.assertIn("flags.layers: 4 -> 16", self.cli("diff", "-f", path, expect=1).stdout)
        plan = self.cli("apply", "-f", path).stdout
        self.assertIn("changed  m1", plan)
        self.assertIn("flags.layers: 4 -> 16", plan)
        self.assertIn("nodes: 2 -> 3", plan)
        self.assertEqual(self.cli_json("exp", "get", "m1")["flags"]["layers"],
                         {"int_value": "16"})
        self.cli("diff", "-f", path)

        # exp get -o yaml is a manifest apply reads back unchanged.
        manifest = self.cli("exp", "get", "m1", "-o", "yaml").stdout
        self.assertNotIn("generation", manifest)
        self.cli("diff", "-f", "-", stdin=manifest)
        self.cli("diff", "-f", "-", stdin=manifest.replace("python train.py", "python x.py"),
                 expect=1)

        bad = self.cli("apply", "-f", "-", stdin="name: x\nbase_command: y\ncolour: red\n",
                       expect=2)
        self.assertIn("line 3", bad.stderr)
        self.assertIn("colour", bad.stderr)
        self.cli("diff", "-f", "-", stdin="name: [", expect=2)

    def test_bash_completion_completes_commands_flags_and_names(self):
        self.cli("exp", "create", "lr-a", "--cmd", "true")
        bindir = os.path.dirname(os.path.abspath(harness.SKYDECK))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                   SKYDECK_SERVER=self.daemon.address)

        def complete(*words):
            script = ('source <(skydeck completion bash); COMP_WORDS=(skydeck %s); '
                      'COMP_CWORD=%d; _skydeck; echo "${COMPREPLY[@]}"'
                      % (" ".join(f"'{w}'" for w in words), len(words)))
            proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True,
                                  text=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return proc.stdout.split()

        self.assertIn("sweep", complete("sw"))
        self.assertIn("describe", complete("exp", "d"))
        self.assertIn("--grid", complete("sweep", "--g"))
        self.assertEqual(complete("exp", "get", "lr"), ["lr-a"])
        for shell in ("zsh", "fish"):
            self.assertIn("skydeck", self.cli("completion", shell).stdout)

    def test_readme_shell_loop_grid_search(self):
        # The block exactly as the README shows it.
        readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              "README.md")
        with open(readme) as f:
            text = f.read()
        start = text.index("```sh\n", text.index("A grid search is a shell loop"))
        script = text[start + len("```sh\n"):text.index("```", start + 5)]
        self.assertIn("for l in 1 4 16 64", script)
        bindir = os.path.dirname(os.path.abspath(harness.SKYDECK))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                   SKYDECK_SERVER=self.daemon.address)
        proc = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        listed = self.cli_json("exp", "list", "-l", "sweep=layers")["experiments"]
        self.assertEqual(sorted(e["name"] for e in listed),
                         ["layers-1", "layers-16", "layers-4", "layers-64"])
        self.assertEqual({e["flags"]["model.layers"]["int_value"] for e in listed},
                         {"1", "4", "16", "64"})
        self.assertEqual({e["desired_state"] for e in listed}, {"DESIRED_STATE_RUNNING"})


if __name__ == "__main__":
    unittest.main()
