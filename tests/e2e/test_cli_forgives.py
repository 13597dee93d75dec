"""The CLI forgives and explains (issue 17): a mistyped command names the
one meant, `exp update --flag` points to `exp flags set`, a wrong --server
says what to pass, a command that does not exist fails once with "command
not found", and `exp list -w` prints a row only when it changed."""

import json
import queue
import subprocess
import threading

import harness


class CliForgivesTest(harness.E2ETestCase):
    def test_a_mistyped_command_names_the_one_meant(self):
        for typo, meant in (("lst", "list"), ("strat", "start")):
            proc = self.cli("exp", typo, "a", expect=2)
            self.assertIn(f'did you mean "{meant}"?', proc.stderr)
            self.assertNotIn("A subcommand is required", proc.stderr)

    def test_exp_update_flag_points_to_exp_flags_set(self):
        self.cli("exp", "create", "a", "--cmd", "true")
        proc = self.cli("exp", "update", "a", "--flag", "lr=2", expect=2)
        self.assertIn("skydeck exp flags a set lr=2", proc.stderr.replace("'", ""))

    def test_logs_tail_counts_lines_and_sizes_take_suffixes(self):
        # Lines of different lengths: a byte count could not pick them.
        self.cli("exp", "create", "talk", "--start", "--cmd",
                 "echo a-long-first-line-of-output; echo 2; echo third-line; printf 'last'")
        self.wait_experiment("talk", lambda e: e["observed_state"] == "OBSERVED_STATE_SUCCEEDED")
        self.assertEqual(self.cli("exp", "logs", "talk", "--tail", "2").stdout, "third-line\nlast")
        self.assertEqual(self.cli("exp", "logs", "talk", "--tail", "1", "-f").stdout, "last")
        job = self.cli_json("exp", "jobs", "talk")["jobs"][0]["id"]
        self.assertEqual(self.cli("job", "logs", job, "--tail", "3").stdout,
                         "2\nthird-line\nlast")
        self.assertEqual(self.cli("exp", "logs", "talk", "--tail-bytes", "1KiB").stdout,
                         "a-long-first-line-of-output\n2\nthird-line\nlast")
        self.assertEqual(self.cli("exp", "logs", "talk", "--tail", "3", "--tail-bytes", "8").stdout,
                         "ine\nlast")
        bad = self.cli("exp", "logs", "talk", "--tail-bytes", "10XB", expect=2)
        self.assertIn("KiB", bad.stderr)
        negative = self.cli("job", "logs", job, "--tail", "-1", expect=2)
        self.assertIn("0 or more", negative.stderr)

    def test_a_wrong_server_says_what_to_pass(self):
        http = self.cli("health", server=self.daemon.http_address, expect=3)
        self.assertIn("dashboard and HTTP API port", http.stderr)
        self.assertIn("--grpc-port", http.stderr)
        url = self.cli("health", server="http://" + self.daemon.http_address, expect=3)
        self.assertIn("is a URL", url.stderr)
        no_port = self.cli("health", server="127.0.0.1", expect=3)
        self.assertIn("has no port", no_port.stderr)

    def test_a_missing_command_fails_once_with_command_not_found(self):
        self.cli("exp", "create", "lt", "--cmd", "skydeck-no-such-program-lt", "--start")
        def stalled(e):
            return next((c for c in e["conditions"] if c["type"] == "Stalled" and c.get("status")),
                        None)

        exp = self.wait_experiment("lt", stalled)
        self.assertEqual(stalled(exp)["reason"], "CommandNotFound")
        self.assertIn("not retried", stalled(exp)["message"])
        jobs = self.cli_json("exp", "jobs", "lt")
        jobs = jobs.get("jobs", jobs) if isinstance(jobs, dict) else jobs
        self.assertEqual(len(jobs), 1, jobs)
        self.assertEqual(jobs[0]["exit_code"], 127)
        self.assertEqual(jobs[0]["failure_reason"],
                         "command not found: skydeck-no-such-program-lt")

    def test_list_watch_prints_a_row_only_when_it_changed(self):
        self.cli("exp", "create", "w1", "--cmd", "sleep 60")
        cmd = [harness.SKYDECK, "--server", self.daemon.address, "exp", "list", "-w",
               "--no-headers"]
        lines = queue.Queue()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            reader = threading.Thread(
                target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
            reader.start()
            try:
                self.assertIn("w1", lines.get(timeout=30))
                # The description is not in the table: no row for it.
                self.cli("exp", "update", "w1", "--description", "not shown")
                # The desired state is: one row.
                self.cli("exp", "start", "w1")
                row = lines.get(timeout=30)
                self.assertIn("RUNNING", row)
            finally:
                proc.kill()
                reader.join(timeout=10)
