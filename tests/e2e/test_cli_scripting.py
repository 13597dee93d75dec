"""The CLI for scripting (issue 7), with the real skydeck against a real
skydeckd: sweeps, selectors and bulk verbs, wait, machine output, colour and
progress on a terminal (pseudo-terminals from `pty`), shell completion
through bash's own readline, and the README's shell-loop grid search."""

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import textwrap
import threading
import time
import tty
import unittest

import harness

ESC = "\x1b["


def open_terminal(columns=200):
    """A pseudo-terminal pair, raw (so "\n" is not turned into "\r\n" and a
    "\r" seen is one the program wrote) and `columns` wide."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    return master, slave


def read_until_closed(fd, sink):
    """Appends everything read from `fd` to `sink` until the other side is
    closed by every process (EIO on Linux)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        sink.append(data)


def run_on_terminal(args, env, stdout_tty=True, stderr_tty=False, timeout=60):
    """Runs `args` with stdout and/or stderr on a pseudo-terminal. Returns
    (exit code, what reached the terminal, piped stdout, piped stderr)."""
    master, slave = open_terminal()
    seen = []
    reader = threading.Thread(target=read_until_closed, args=(master, seen))
    reader.start()
    try:
        with subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                              stdout=slave if stdout_tty else subprocess.PIPE,
                              stderr=slave if stderr_tty else subprocess.PIPE) as proc:
            os.close(slave)
            slave = None
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    finally:
        if slave is not None:
            os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    text = b"".join(seen).decode(errors="replace")
    return proc.returncode, text, (out or b"").decode(), (err or b"").decode()


class InteractiveBash:
    """bash -i on a pseudo-terminal with skydeck's completion loaded. complete()
    types a line, presses TAB, and returns what readline then holds in its
    line buffer plus what it listed, so tests see bash's own word splitting
    (at = and :), quoting and insertion, not a model of them."""

    PROMPT = "skydeck-test-prompt$ "

    def __init__(self, env, directory, timeout=20):
        self.timeout = timeout
        inputrc = os.path.join(directory, "inputrc")
        with open(inputrc, "w") as f:
            f.write("set enable-bracketed-paste off\n"
                    "set show-all-if-ambiguous on\n"
                    "set completion-query-items 0\n"
                    "set page-completions off\n"
                    "set bell-style none\n")
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        env = dict(env, PS1=self.PROMPT, TERM="xterm", INPUTRC=inputrc, HISTFILE="/dev/null")

        def controlling_terminal():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(["bash", "--norc", "--noprofile", "-i"], env=env,
                                     stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, preexec_fn=controlling_terminal)
        os.close(slave)
        self.buffer = ""
        try:
            # C-t prints the line buffer between markers, then empties it.
            self.run(textwrap.dedent("""\
                bind -x '"\\C-t": printf "<<<%s>>>\\n" "$READLINE_LINE"; READLINE_LINE=; READLINE_POINT=0'
                source <(skydeck completion bash)
                """))
        except BaseException:
            self.close()
            raise

    def read_until(self, pattern):
        deadline = time.monotonic() + self.timeout
        while True:
            match = re.search(pattern, self.buffer, re.S)
            if match:
                self.buffer = self.buffer[match.end():]
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"bash never printed {pattern!r}; got {self.buffer!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.buffer += os.read(self.master, 65536).decode(errors="replace")
                except OSError as e:
                    raise AssertionError(f"bash went away: {e}; got {self.buffer!r}")

    def run(self, commands):
        """Runs `commands`, returning once bash has finished them and its
        readline waits for input again (keys typed earlier would reach the
        terminal driver, not readline)."""
        os.write(self.master, commands.encode() + b"printf '%s\\n' DONE-$((6 * 7))\n")
        self.read_until(r"DONE-42\r?\n" + re.escape(self.PROMPT))

    def complete(self, line):
        """(line after TAB, text readline printed meanwhile, e.g. a listing)."""
        os.write(self.master, line.encode() + b"\t\x14")
        match = self.read_until(r"(.*?)<<<(.*?)>>>")
        return match.group(2), match.group(1)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


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

        # Desired STOPPED: nothing will start it, so the wait fails at once
        # (not after its 10 minutes) and says what to do.
        self.cli("exp", "create", "idle", "--cmd", "sleep 60")
        started = time.monotonic()
        refused = self.cli("wait", "idle", "--for", "state=RUNNING", expect=1)
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn("its desired state is STOPPED", refused.stderr)
        self.assertIn("skydeck exp start idle", refused.stderr)
        # A wait that can still succeed times out as before.
        self.cli("exp", "create", "blocked", "--cmd", "sleep 60", "--start", "--label", "x=1")
        timed_out = self.cli("wait", "-l", "x=1", "--for", "state=SUCCEEDED", "--timeout", "1s",
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
        # The with block closes both pipes (and waits), however the test ends.
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            try:
                # One object per line from the first line on: the listed
                # experiments (event null), then the changes.
                first = json.loads(proc.stdout.readline())
                self.assertIsNone(first["event"])
                self.assertEqual(first["experiment"]["name"], "w1")
                self.cli("exp", "create", "w2", "--cmd", "sleep 60")
                change = json.loads(proc.stdout.readline())
                self.assertEqual(change["experiment"]["name"], "w2")
                self.assertEqual(change["event"]["type"], "Created")
            finally:
                proc.kill()
        self.assertTrue(proc.stdout.closed and proc.stderr.closed)

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

    def shell_env(self):
        bindir = os.path.dirname(os.path.abspath(harness.SKYDECK))
        return dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                    SKYDECK_SERVER=self.daemon.address)

    def test_bash_completes_flags_and_option_values_through_readline(self):
        path = os.path.join(self.tmp, "flags.yaml")
        with open(path, "w") as f:
            f.write("base_command: python train.py\nflags:\n"
                    "  - {name: trainer.optim, type: choice, choices: [adam, sgd]}\n"
                    "  - {name: trainer.lr, type: float}\n"
                    "  - {name: debug, type: bool}\n")
        self.cli("schema", "apply", "-f", path)
        self.cli("exp", "create", "lr-a", "--cmd", "python train.py",
                 "--flag", "trainer.optim=adam", "--flag", "tag=x")
        # No declared schema for eval.py: flags inferred from what is used.
        self.cli("exp", "create", "ev", "--cmd", "python eval.py", "--flag", "model.layers=4")

        bash = InteractiveBash(self.shell_env(), self.tmp)
        try:
            create = "skydeck exp create b --cmd 'python train.py' --flag "
            line, listed = bash.complete(create + "trainer.o")
            self.assertEqual(line, create + "trainer.optim=", listed)  # no space after =
            self.assertIn("trainer.optim=sgd", listed)
            self.assertEqual(bash.complete(create + "trainer.optim=s")[0],
                             create + "trainer.optim=sgd ")
            line, listed = bash.complete(create + "trainer.optim=")
            self.assertEqual(line, create + "trainer.optim=")
            self.assertIn("adam", listed)
            self.assertIn("sgd", listed)
            self.assertEqual(bash.complete(create + "debug=t")[0], create + "debug=true ")
            # Only the declared schema of --cmd: eval.py's flags are not offered.
            self.assertEqual(bash.complete(create + "model.")[0], create + "model.")

            # No --cmd yet: every schema, inferred ones (with seen values) too.
            grid = "skydeck sweep s --grid "
            self.assertEqual(bash.complete(grid + "model.l")[0], grid + "model.layers=")
            self.assertEqual(bash.complete(grid + "model.layers=")[0], grid + "model.layers=4 ")

            # exp flags ID set|unset: that experiment's command, its own keys.
            flags = "skydeck exp flags lr-a "
            line, listed = bash.complete(flags)
            self.assertIn("unset", listed)
            self.assertEqual(bash.complete(flags + "s")[0], flags + "set ")
            self.assertEqual(bash.complete(flags + "set trainer.o")[0],
                             flags + "set trainer.optim=")
            self.assertEqual(bash.complete(flags + "unset ta")[0], flags + "unset tag ")

            # Option values from fixed sets.
            self.assertEqual(bash.complete("skydeck exp list -o j")[0],
                             "skydeck exp list -o json ")
            line, listed = bash.complete("skydeck exp list -o ")
            for word in ("table", "wide", "yaml", "name"):
                self.assertIn(word, listed)
            self.assertEqual(bash.complete("skydeck exp list --state FA")[0],
                             "skydeck exp list --state FAILED ")
            self.assertEqual(bash.complete("skydeck wait lr-a --for state=SU")[0],
                             "skydeck wait lr-a --for state=SUCCEEDED ")
            self.assertEqual(bash.complete("skydeck completion z")[0], "skydeck completion zsh ")
            self.assertEqual(bash.complete("skydeck apply -f " + path[:-6])[0],
                             "skydeck apply -f " + path + " ")
            # Still: commands and experiment names.
            self.assertEqual(bash.complete("skydeck exp get lr")[0], "skydeck exp get lr-a ")
            self.assertEqual(bash.complete("skydeck sw")[0], "skydeck sweep ")
        finally:
            bash.close()

    def test_complete_flags_helper(self):
        self.cli("exp", "create", "h", "--cmd", "python x.py", "--flag", "mode=fast")
        out = self.cli("__complete-flags", "--cmd", "python x.py").stdout
        self.assertEqual(out.splitlines(), ["mode=", "mode=fast"])
        out = self.cli("__complete-flags", "--", "exp", "flags", "h", "unset").stdout
        self.assertEqual(out, "mode\n")
        self.assertEqual(self.cli("__complete-flags", "--cmd", "python none.py").stdout, "")
        self.assertNotIn("__complete-flags", self.cli("--help").stdout)

    def test_colour_only_on_a_terminal_and_never_with_no_color(self):
        self.cli("exp", "create", "c1", "--cmd", "sleep 60", "--start")
        self.wait_experiment("c1", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        env = dict(os.environ, TERM="xterm")
        env.pop("NO_COLOR", None)
        base = [harness.SKYDECK, "--server", self.daemon.address]
        green_running = ESC + "32mRUNNING" + ESC + "0m"

        code, shown, _, _ = run_on_terminal(base + ["exp", "list"], env)
        self.assertEqual(code, 0, shown)
        self.assertIn(green_running, shown)
        self.assertTrue(shown.startswith("ID "))  # headers stay plain
        code, shown, _, _ = run_on_terminal(base + ["exp", "jobs", "c1"], env)
        self.assertIn(green_running, shown)

        for name, value in (("NO_COLOR", "1"), ("TERM", "dumb")):
            code, shown, _, _ = run_on_terminal(base + ["exp", "list"], dict(env, **{name: value}))
            self.assertEqual(code, 0, shown)
            self.assertIn("RUNNING", shown)
            self.assertNotIn("\x1b", shown, f"{name}={value}")
        piped = self.cli("exp", "list", env={"TERM": "xterm"}).stdout
        self.assertIn("RUNNING", piped)
        self.assertNotIn("\x1b", piped)
        # Machine formats are data, even on a terminal.
        for fmt in ("json", "yaml", "name"):
            code, shown, _, _ = run_on_terminal(base + ["exp", "list", "-o", fmt], env)
            self.assertEqual(code, 0, shown)
            self.assertNotIn("\x1b", shown, fmt)
        code, shown, _, _ = run_on_terminal(base + ["exp", "list", "-o", "json"], env)
        self.assertEqual(json.loads(shown)["experiments"][0]["name"], "c1")

    def test_wait_progress_is_one_redrawn_line_on_a_terminal(self):
        self.cli("exp", "create", "p1", "--cmd", "sleep 60")
        env = dict(os.environ, TERM="xterm")
        base = [harness.SKYDECK, "--server", self.daemon.address]

        code, shown, out, _ = run_on_terminal(
            base + ["exp", "start", "p1", "--wait", "--timeout", "30s"], env,
            stdout_tty=False, stderr_tty=True)
        self.assertEqual(code, 0, shown)
        self.assertIn("p1", out)  # the table, on the piped stdout
        self.assertEqual(shown.count("\n"), 1, shown)  # one line, redrawn in place
        self.assertTrue(shown.startswith("\r"), shown)
        final = shown.rsplit("\r", 1)[1]
        self.assertRegex(final, r"^p1: (\S+ -> )*RUNNING \(\d+s\)\x1b\[K\n$")

        # A wait that lasts (p1 runs `sleep 60`): the spinner turns and the
        # time is shown.
        code, shown, _, err = run_on_terminal(
            base + ["wait", "p1", "--for", "state=SUCCEEDED", "--timeout", "1s"], env,
            stdout_tty=False, stderr_tty=True)
        self.assertEqual(code, 4, shown)
        frames = [f for f in shown.split("\r") if f]
        self.assertGreaterEqual(len(frames), 3, shown)
        self.assertGreaterEqual(len({f[0] for f in frames[:-1]} & set("|/-\\")), 2, shown)
        self.assertRegex(frames[-1], r"^p1: RUNNING \(1s\)\x1b\[K\n")
        self.assertIn("timed out", frames[-1])  # the error follows the final line

        # Not a terminal (or TERM=dumb): plain lines, one per state.
        self.cli("exp", "stop", "p1")
        self.cli("wait", "p1", "--for", "state=STOPPED", "--timeout", "30s")
        plain = self.cli("exp", "start", "p1", "--wait", "--timeout", "30s")
        self.assertNotIn("\r", plain.stderr)
        self.assertIn("p1: RUNNING\n", plain.stderr)
        code, shown, _, _ = run_on_terminal(
            base + ["wait", "p1", "--for", "state=RUNNING", "--timeout", "30s"],
            dict(env, TERM="dumb"), stdout_tty=False, stderr_tty=True)
        self.assertEqual((code, shown), (0, "p1: RUNNING\n"))

    def test_no_headers_on_every_table(self):
        # Flags are appended to the command: sh -c ignores them ($0, $1).
        cmd = "sh -c 'exec sleep 60'"
        path = os.path.join(self.tmp, "flags.yaml")
        with open(path, "w") as f:
            f.write(f"base_command: {cmd}\nflags:\n  - {{name: lr, type: float}}\n")
        self.cli("schema", "apply", "-f", path)
        self.cli("exp", "create", "nh", "--cmd", cmd, "--flag", "lr=0.1", "--start")
        self.wait_experiment("nh", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        for args, header, rows_from in ((["exp", "events", "nh"], "TYPE", 1),
                                        (["exp", "flags", "nh"], "KEY", 1),
                                        (["exp", "jobs", "nh"], "ATTEMPT", 1),
                                        (["schema", "get", "--cmd", cmd], "FLAG", 4),
                                        (["exp", "list"], "NAME", 1)):
            full = self.cli(*args).stdout.splitlines()
            self.assertIn(header, full[rows_from - 1], args)
            bare = self.cli(*args, "--no-headers").stdout.splitlines()
            self.assertTrue(bare, args)
            # Ages ("1s", "2s ago") may tick between the two calls.
            ages = lambda lines: [re.sub(r"\b\d+[smhd]\b", "<age>", l) for l in lines]  # noqa: E731
            self.assertEqual(ages(bare), ages(full[rows_from:]), args)

    def test_job_cancel_says_what_happened(self):
        self.cli("exp", "create", "jc", "--cmd", "sleep 60", "--start")
        self.wait_experiment("jc", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")
        job = self.cli_json("exp", "jobs", "jc")["jobs"][0]["id"]
        out = self.cli("job", "cancel", job).stdout
        self.assertIn(f"cancel requested for job {job} (jc, attempt 1)", out)
        self.assertIn("jc is now desired STOPPED", out)
        self.wait_experiment("jc", lambda e: e.get("observed_state") == "OBSERVED_STATE_STOPPED")
        self.assertIn(f"job {job} (jc, attempt 1) had already ended (CANCELLED)",
                      self.cli("job", "cancel", job).stdout)
        self.assertEqual(self.cli_json("job", "cancel", job)["status"], "JOB_STATUS_CANCELLED")

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
