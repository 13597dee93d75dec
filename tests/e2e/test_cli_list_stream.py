"""`skydeck exp list` prints page by page (issue 19 goal 5): the output of a
list longer than one page is complete, ordered and valid in every format,
byte for byte what one page would print; its first bytes arrive before the
last page was asked for (counted in the daemon's metrics while the CLI is
held by a full pipe); a daemon lost midway gives a non-zero exit and a
message on stderr after the partial output."""

import fcntl
import json
import os
import re
import subprocess
import unittest
import urllib.request

import yaml

import harness

EXPERIMENTS = 250  # sweep grid 25 x 10
LIST_CALLS = re.compile(
    r'^skydeck_grpc_requests_total\{(?=[^}]*method="skydeck\.v1\.SkyDeck/ListExperiments")'
    r'(?=[^}]*code="OK")[^}]*\} (\S+)$', re.M)


class CliListStreamTest(harness.E2ETestCase):

    def setUp(self):
        super().setUp()
        try:
            out = self.cli("sweep", "big", "--cmd", "true",
                           "--grid", "a=" + ",".join(str(i) for i in range(25)),
                           "--grid", "b=" + ",".join(str(i) for i in range(10))).stdout
            self.assertIn(f"{EXPERIMENTS} created", out)
        except BaseException:
            # unittest skips tearDown when setUp fails: stop the daemon here.
            self.tearDown()
            raise

    def list_calls(self):
        """ListExperiments calls the daemon answered OK so far."""
        with urllib.request.urlopen(f"http://{self.daemon.http_address}/metrics",
                                    timeout=10) as resp:
            text = resp.read().decode()
        return sum(int(float(m)) for m in LIST_CALLS.findall(text))

    def test_every_format_is_complete_ordered_and_the_same_as_one_page(self):
        for fmt in ("json", "yaml", "name", "table", "wide"):
            before = self.list_calls()
            paged = self.cli("exp", "list", "-o", fmt, "--page-size", "100").stdout
            # 100 + 100 + 50: three pages, printed as one list.
            self.assertEqual(self.list_calls() - before, 3, fmt)
            if fmt in ("json", "yaml", "name"):
                one_page = self.cli("exp", "list", "-o", fmt, "--page-size", "1000").stdout
                self.assertEqual(paged, one_page, fmt)

            if fmt == "json":
                listed = json.loads(paged)["experiments"]
            elif fmt == "yaml":
                listed = yaml.safe_load(paged)["experiments"]
            elif fmt == "name":
                listed = [{"name": n} for n in paged.splitlines()]
            else:
                lines = paged.splitlines()
                self.assertTrue(lines[0].startswith("ID "), fmt)
                self.assertEqual(sum(line.startswith("ID ") for line in lines), 1, fmt)
                listed = [{"id": line.split()[0], "name": line.split()[1]} for line in lines[1:]]
            self.assertEqual(len(listed), EXPERIMENTS, fmt)
            if "id" in listed[0]:
                ids = [int(e["id"]) for e in listed]
                self.assertEqual(ids, sorted(ids), fmt)
                self.assertEqual(len(set(ids)), EXPERIMENTS, fmt)
            names = [e["name"] for e in listed]
            self.assertEqual(names[0], "big-a-0-b-0", fmt)
            self.assertEqual(len(set(names)), EXPERIMENTS, fmt)

        # By default the first page is small (100) and the rest 1,000 each.
        before = self.list_calls()
        default = self.cli("exp", "list", "-o", "name").stdout
        self.assertEqual(self.list_calls() - before, 2)
        self.assertEqual(len(default.splitlines()), EXPERIMENTS)
        # --limit still stops at N, across pages.
        limited = self.cli("exp", "list", "-o", "json", "--page-size", "40",
                           "--limit", "90").stdout
        self.assertEqual(len(json.loads(limited)["experiments"]), 90)
        self.cli("exp", "list", "--page-size", "0", expect=2)
        self.cli("exp", "list", "--page-size", "1001", expect=2)

    def start_held_list(self, *args):
        """Starts `skydeck exp list ARGS` writing into a one-page pipe this
        test has not read yet, so the CLI blocks as soon as it printed
        4 KiB. Returns (process, read end)."""
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
        proc = subprocess.Popen(
            [harness.SKYDECK, "--server", self.daemon.address, "exp", "list", *args],
            stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            cwd=self.workdir)
        os.close(write_end)
        self.addCleanup(os.close, read_end)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc, read_end

    @staticmethod
    def drain(read_end):
        chunks = []
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                return b"".join(chunk for chunk in chunks)
            chunks.append(chunk)

    def test_output_starts_before_the_last_page_is_asked_for(self):
        before = self.list_calls()
        # 25 pages of 10 experiments (~1 KB of JSON each, so one page is
        # more than the pipe holds).
        proc, read_end = self.start_held_list("-o", "json", "--page-size", "10")
        first = os.read(read_end, 1)
        self.assertEqual(first, b"{")
        # The CLI is now blocked writing its first page: it cannot have asked
        # for more than the next one. (Printing the whole list at the end
        # asked for all 25 before the first byte.)
        self.assertLessEqual(self.list_calls() - before, 2)
        rest = self.drain(read_end)
        self.assertEqual(proc.wait(timeout=60), 0, proc.stderr.read())
        listed = json.loads(first + rest)["experiments"]
        self.assertEqual(len(listed), EXPERIMENTS)
        self.assertGreaterEqual(self.list_calls() - before, 25)

    def test_a_daemon_lost_midway_exits_non_zero_with_a_message(self):
        proc, read_end = self.start_held_list("-o", "json", "--page-size", "10")
        first = os.read(read_end, 1)
        # The first page is being written; the daemon goes away before the
        # CLI asks for the second.
        self.daemon.stop()
        out = first + self.drain(read_end)
        code = proc.wait(timeout=60)
        stderr = proc.stderr.read().decode()
        self.assertEqual(code, 3, stderr)  # unreachable
        self.assertIn("skydeck: error:", stderr)
        # What was printed is the start of the document, not a whole one.
        self.assertTrue(out.startswith(b'{\n  "experiments": [\n    {'), out[:100])
        with self.assertRaises(ValueError):
            json.loads(out)


if __name__ == "__main__":
    unittest.main()
