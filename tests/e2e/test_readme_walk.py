"""The README walked top to bottom as a newcomer reads it: every shell block
in README.md, in order, against one real skydeckd (local backend, free
loopback ports, a new database) from a folder that holds a train.py.

The README marks each ```sh block with the comment line just above it:
`<!-- readme-walk: run -->`, or `<!-- readme-walk: skip: REASON -->` for
blocks that need SkyPilot, a fixed port, root or a build. An unmarked shell
block fails this test, so a new example is either run or skipped with its
reason. The commands live only in the README."""

import os
import re
import subprocess

import harness
from test_seed_startup import make_seed_db
from test_workloads import PythonJobsTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")

MARKER = re.compile(r"^<!-- readme-walk: (run|skip: (?P<reason>.+)) -->$")

TRAIN_PY = """\
import sys
print("training with", " ".join(sys.argv[1:]))
for step in range(1, 4):
    print("step", step)
print("done")
"""


def readme_blocks(path=README):
    """[(line, action, reason, code)] for every ```sh block, in order.
    Raises AssertionError naming the line of a block without a marker."""
    with open(path) as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        fence = lines[i]
        if not fence.startswith("```") or fence == "```":
            i += 1
            continue
        end = lines.index("```", i + 1)
        if fence.strip() == "```sh":
            above = lines[i - 1] if i > 0 else ""
            marker = MARKER.match(above)
            if marker is None:
                raise AssertionError(
                    f"README.md:{i + 1}: shell block without a readme-walk marker above it "
                    "(<!-- readme-walk: run --> or <!-- readme-walk: skip: REASON -->)")
            action = "run" if marker.group(1) == "run" else "skip"
            blocks.append((i + 1, action, marker.group("reason"),
                           "\n".join(lines[i + 1:end]) + "\n"))
        i = end + 1
    return blocks


class ReadmeWalkTest(PythonJobsTestCase):
    """The README's jobs say `python`."""

    def test_every_marked_block_runs_in_order_and_succeeds(self):
        blocks = readme_blocks()
        home = os.path.join(self.tmp, "home")
        project = os.path.join(home, "my-project")  # the quick start's folder
        os.makedirs(os.path.join(home, ".skydeck"))
        os.makedirs(project)
        with open(os.path.join(project, "train.py"), "w") as f:
            f.write(TRAIN_PY)
        # What "Coming from the earlier dashboard" imports.
        make_seed_db(os.path.join(home, ".skydeck", "skydeck.db"))
        env = dict(os.environ, HOME=home, SKYDECK_SERVER=self.daemon.address,
                   PATH=os.path.dirname(os.path.abspath(harness.SKYDECK)) + os.pathsep
                   + os.environ["PATH"])
        env.pop("NO_COLOR", None)
        ran = []
        for line, action, reason, code in blocks:
            if action == "skip":
                self.assertTrue(reason.strip(), f"README.md:{line}: a skip needs a reason")
                continue
            # A user's terminal stays in the project folder after the quick
            # start's `cd`; each block runs there, stopping at its first
            # failing command (bash -x names it).
            proc = subprocess.run(["/bin/bash", "-e", "-o", "pipefail", "-x", "-c", code],
                                  cwd=project, env=env, capture_output=True, text=True,
                                  timeout=240)
            self.assertEqual(
                proc.returncode, 0,
                f"README.md:{line}: block failed (exit {proc.returncode})\n{code}\n"
                f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")
            ran.append((line, code, proc.stdout))
        codes = "".join(code for _, code, _ in ran)
        # The quick start, the grid search and the CLI session all ran.
        for must in ("skydeck exp create lr-3e-4", "for l in 1 4 16 64",
                     "skydeck exp logs lr-3e-4 --tail 2", "skydeck import --seed-db"):
            self.assertIn(must, codes)
        # The quick start's `exp logs -f` followed the job to its end.
        self.assertIn("training with model.layers=4 trainer.lr=0.0003", ran[0][2])
        self.assertIn("done", ran[0][2])

    def test_an_unmarked_shell_block_is_refused(self):
        path = os.path.join(self.tmp, "README.md")
        with open(path, "w") as f:
            f.write("# x\n\n<!-- readme-walk: run -->\n```sh\ntrue\n```\n\n```sh\nfalse\n```\n")
        with self.assertRaisesRegex(AssertionError, r"README.md:8: shell block without"):
            readme_blocks(path)


if __name__ == "__main__":
    import unittest
    unittest.main()
