"""End-to-end test harness: a real skydeckd on a free loopback port with a
temporary data directory, driven by the real skydeck binary.

Binaries come from the environment (set by ctest): SKYDECKD, SKYDECK.
Every wait is for a condition with a deadline; nothing is left running.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

SKYDECKD = os.environ.get("SKYDECKD", "skydeckd")
SKYDECK = os.environ.get("SKYDECK", "skydeck")


def wait_for(condition, timeout=15.0, interval=0.02, what="condition"):
    """Polls condition() until it returns a truthy value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def processes_under(directory):
    """[(pid, cwd)] of the processes whose working directory is `directory`
    or inside it (local-backend jobs run in the data directory)."""
    directory = os.path.realpath(directory)
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == directory or cwd.startswith(directory + os.sep):
            out.append((int(pid), cwd))
    return out


def kill_processes_under(directory):
    """Kills every process whose working directory is inside `directory`
    (jobs the local backend started for this test), so nothing outlives it."""
    for pid, _ in processes_under(directory):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


NOBODY = 65534


def unprivileged(directory):
    """subprocess.Popen arguments that run a process as nobody when this runs
    as root (root may write any file, so a 0444 database is only read-only
    to someone else), with `directory` handed to that user; {} otherwise."""
    if os.geteuid() != 0:
        return {}
    for root, dirs, files in os.walk(directory):
        for name in [root] + [os.path.join(root, f) for f in dirs + files]:
            os.chown(name, NOBODY, NOBODY)
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def damage_table(db_path, table):
    """Overwrites the b-tree header of `table`'s root page in the closed
    database at `db_path`, as a bad sector or a stray write would."""
    import sqlite3
    conn = sqlite3.connect(db_path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?",
                        (table,)).fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x5a" * 64)


class Daemon:
    """One skydeckd process. start() may be called again after stop()/kill()
    to restart on the same data directory (and a new free port)."""

    def __init__(self, data_dir, extra_args=(), poll_interval="100ms", popen_kwargs=None):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.poll_interval = poll_interval
        # Extra subprocess.Popen arguments, e.g. user= to run unprivileged.
        self.popen_kwargs = dict(popen_kwargs or {})
        self.proc = None
        self.address = None
        self.log_path = os.path.join(data_dir, "skydeckd.log")

    def start(self, extra_args=()):
        ready = os.path.join(self.data_dir, "ready")
        if os.path.exists(ready):
            os.remove(ready)
        args = [SKYDECKD, "--grpc-port", "0", "--port", "0", "--data-dir", self.data_dir,
                "--ready-file", ready, "--log-level", "debug",
                "--local-cancel-grace", "2s", "--poll-interval", self.poll_interval,
                "--backend", "local"]
        args += self.extra_args + list(extra_args)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, **self.popen_kwargs)
        log.close()

        def is_ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"skydeckd exited with {self.proc.returncode}:\n{self.log()}")
            return os.path.exists(ready)

        wait_for(is_ready, what="skydeckd to listen")
        with open(ready) as f:
            lines = f.read().splitlines()
        self.address = lines[0]
        self.http_address = lines[1] if len(lines) > 1 and lines[1] else None
        return self

    def stop(self, timeout=15):
        """Graceful stop (SIGTERM); returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("skydeckd did not stop on SIGTERM")
        return self.proc.returncode if self.proc else None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class E2ETestCase(unittest.TestCase):
    """Starts a daemon per test; `self.cli(...)` runs skydeck against it."""

    daemon_args = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="skydeck-e2e-")
        # The CLI's current directory: `exp create` sends it as the job's
        # workdir, so local jobs run here, inside the test's directory
        # (never in the source tree, and found by kill_processes_under).
        self.workdir = os.path.join(self.tmp, "work")
        os.makedirs(self.workdir)
        self.daemon = Daemon(self.tmp, self.daemon_args).start()

    def tearDown(self):
        try:
            self.daemon.stop()
            kill_processes_under(self.tmp)
        finally:
            if self._outcome_failed():
                print(f"--- skydeckd log ({self.daemon.log_path}) ---")
                print(self.daemon.log()[-20000:])
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return bool(result.failures or result.errors)

    def cli(self, *args, expect=0, stdin=None, server=None, env=None, timeout=60, cwd=None):
        """Runs skydeck in `cwd` (default self.workdir); asserts its exit
        code is `expect` (None: any)."""
        cmd = [SKYDECK, "--server", server or self.daemon.address] + list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=cwd or self.workdir)
        if expect is not None and proc.returncode != expect:
            self.fail(f"{' '.join(cmd)} exited {proc.returncode}, expected {expect}\n"
                      f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def cli_json(self, *args, cwd=None):
        proc = self.cli(*args, "-o", "json", cwd=cwd)
        return json.loads(proc.stdout)

    def wait_experiment(self, ref, predicate, timeout=30, what=None):
        """Polls `exp get` until predicate(experiment) holds; returns it."""
        last = {}

        def check():
            last["exp"] = self.cli_json("exp", "get", str(ref))
            return last["exp"] if predicate(last["exp"]) else None

        try:
            return wait_for(check, timeout=timeout, interval=0.1,
                            what=what or f"experiment {ref}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last seen: {json.dumps(last.get('exp'), indent=1)}")


class TokenTestCase(E2ETestCase):
    """A daemon that requires `token` (from --auth-token-file)."""
    token = "t0ps3cret-token"

    def setUp(self):
        self.token_file = tempfile.NamedTemporaryFile("w", delete=False)
        self.token_file.write(self.token + "\n")
        self.token_file.close()
        self.daemon_args = ("--auth-token-file", self.token_file.name)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        os.unlink(self.token_file.name)
