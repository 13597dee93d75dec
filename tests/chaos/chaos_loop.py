#!/usr/bin/python3
"""Crash-safety chaos loop: kill -9 skydeckd at random moments while
experiments are created, started, stopped, terminated, updated and deleted,
restart it on the same data directory, and check after every round that
nothing was lost or duplicated.

Each round:
  1. start skydeckd; check what the last kill left (see check_after_restart);
  2. workers drive random writes through gRPC (and some through the CLI),
     recording every acknowledged write in the ledger (ledger.py);
  3. kill -9 at a random moment: after a random delay, right after a new
     launch intent is written, while a job is being cancelled, or during
     start-up;
  4. with the daemon dead, check the database read-only and what runs.
After the last round the daemon is not killed: every experiment must reach
its desired state within --converge-timeout, and a graceful stop must leave
a sound database.

  chaos_loop.py --backend local|skypilot --rounds N [--seed S] [--build DIR]

The seed is printed first; the same seed replays the same choices (timing
still varies). Exit status 1 and every violation printed when an invariant
breaks; a JSON summary is printed last (and written to --json-out).
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import chaos_env  # noqa: E402
import convergence  # noqa: E402
import invariants  # noqa: E402
from ledger import Ledger, snapshot  # noqa: E402
from workload import JOB_SCRIPT, LONG_DUR, RoundContext, Worker, fake_steps  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["local", "skypilot"], default="local")
    p.add_argument("--rounds", type=int, default=4, help="rounds ending in kill -9")
    p.add_argument("--seed", type=int, default=os.environ.get("SKYDECK_CHAOS_SEED") and
                   int(os.environ["SKYDECK_CHAOS_SEED"]), help="default: $SKYDECK_CHAOS_SEED, "
                   "else random (printed)")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--max-experiments", type=int, default=5, help="per worker")
    p.add_argument("--round-seconds", type=float, default=3.0,
                   help="longest a round runs before its kill")
    p.add_argument("--converge-timeout", type=float, default=60.0)
    p.add_argument("--poll-interval", default="100ms")
    p.add_argument("--build", help="build directory (else $SKYDECKD, $SKYDECK)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json-out", help="also write the summary here")
    return p.parse_args(argv)


class Chaos:
    KILL_MODES = ("timer", "intent", "stopping", "startup")

    def __init__(self, args):
        self.args = args
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
        print(f"chaos_loop: backend={args.backend} rounds={args.rounds} seed={self.seed}",
              flush=True)
        self.rng = random.Random(self.seed)
        self.harness, Fake, _ = chaos_env.import_e2e()
        self.tmp = tempfile.mkdtemp(prefix=f"skydeck-chaos-{args.backend}-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.db = os.path.join(self.data_dir, "skydeck.db")
        self.ledger = Ledger(os.path.join(self.tmp, "acknowledged-writes.jsonl"))
        self.run_label = f"run{self.seed}"
        self.poll_s = self._seconds(args.poll_interval)
        self.fake = None
        extra = []
        if args.backend == "skypilot":
            self.fake = Fake(self.tmp)
            self.fake.script("skydeck-", ["PENDING", "STARTING", "RUNNING"])
            # Late launch POSTs (below) reach the fake at most 0.8 s after
            # they were sent: a 2 s settle covers them (default 30 s).
            extra = ["--backend", "skypilot", "--skypilot-endpoint", self.fake.endpoint,
                     "--skypilot-launch-settle", "2s"]
            self.command = "python train.py"
        else:
            self.command = os.path.join(self.tmp, "chaos_job.sh")
            with open(self.command, "w") as f:
                f.write(JOB_SCRIPT)
            os.chmod(self.command, 0o755)
        self.daemon = self.harness.Daemon(self.data_dir, extra, poll_interval=args.poll_interval)
        self.installation = None
        self.owned = {}  # worker index -> experiment ids it writes to
        self.violations = []
        self.seen = set()
        self.stats = {"kills": 0, "kill_modes": {}, "intents_at_kill": 0,
                      "intents_unrecorded_at_kill": 0,
                      "intents_unrecorded_on_backend_at_kill": 0,
                      "intent_resolve_max_s": 0.0, "restarts": 0, "ops": {},
                      "restart_s_max": 0.0}

    @staticmethod
    def _seconds(text):
        if text.endswith("ms"):
            return float(text[:-2]) / 1000
        return float(text.rstrip("s"))

    # ----- helpers -----------------------------------------------------------

    def violate(self, where, problems):
        """Records violations; one seen before (in an earlier round) is
        counted once."""
        for p in problems:
            if p in self.seen:
                continue
            self.seen.add(p)
            line = f"VIOLATION [{where}] {p}"
            print(line, flush=True)
            self.violations.append(line)

    def job_rows(self):
        return invariants.jobs(self.db)

    def start_daemon(self):
        started = time.monotonic()
        self.daemon.start()
        self.stats["restart_s_max"] = max(self.stats["restart_s_max"],
                                          time.monotonic() - started)
        self.stats["restarts"] += 1
        self.api = chaos_env.Api(self.daemon.address)
        if self.installation is None:
            with invariants.open_ro(self.db) as conn:
                self.installation = conn.execute(
                    "SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]

    def on_flags(self, exp_id, flags):
        if self.fake is None:
            return
        self.fake.script(f"skydeck-{self.installation}-{exp_id}-", fake_steps(flags, self.poll_s))

    def reached_backend(self, job_name):
        """Whether the backend had heard of an unresolved intent at the
        kill: the launch was in flight (the case intent resolution is for)."""
        if self.fake is None:
            return os.path.isdir(os.path.join(self.data_dir, "jobs", job_name))
        return job_name in self.fake.state()["counters"]["launches_by_name"]

    def snapshots(self):
        return [snapshot(e, self.api.pb) for e in self.api.list_all()]

    # ----- checks --------------------------------------------------------------

    def check_dead(self, where):
        """With skydeckd dead: what the kill left on disk and running."""
        self.violate(where, invariants.integrity(self.db))
        rows = self.job_rows()
        self.violate(where, invariants.one_live_job_per_experiment(rows))
        self.violate(where, invariants.job_names_unique(rows))
        if self.fake is None:
            self.violate(where, invariants.local_processes(self.data_dir, self.job_rows))
        else:
            self.violate(where, invariants.fake_launches(self.fake.state(), rows))
        return invariants.intents(rows)

    def check_after_restart(self, where, intents_at_kill):
        """Through the daemon: acknowledged writes, launch intents resolved."""
        self.violate(where, invariants.integrity(self.db))
        self.violate(where, self.ledger.verify(self.snapshots(), self.run_label))
        started = time.monotonic()
        deadline = started + 30
        left = dict(intents_at_kill)
        while left and time.monotonic() < deadline:
            rows = {j["id"]: j for j in self.job_rows()}
            left = {i: n for i, n in left.items() if rows[i]["status"] == "LAUNCHING"}
            if left:
                time.sleep(0.05)
        if left:
            self.violate(where, [f"launch intents still unresolved 30 s after restart: {left}"])
        elif intents_at_kill:
            self.stats["intent_resolve_max_s"] = max(self.stats["intent_resolve_max_s"],
                                                     time.monotonic() - started)
        rows = self.job_rows()
        self.violate(where, invariants.one_live_job_per_experiment(rows))
        if self.fake is None:
            self.violate(where, invariants.local_processes(self.data_dir, self.job_rows))
        else:
            self.violate(where, invariants.fake_launches(self.fake.state(), rows))

    # ----- rounds --------------------------------------------------------------

    def workers(self, round_no):
        n = self.args.workers
        for i in range(n):
            self.owned[i] = [e for e in self.ledger.entries if e % n == i]
        ctx = RoundContext(self.api, self.daemon.address, self.ledger, self.run_label,
                           self.command, self.seed * 100 + round_no, self.on_flags,
                           max_experiments=self.args.max_experiments)
        threads = [Worker(ctx, i, round_no, self.owned[i]) for i in range(n)]
        for t in threads:
            t.start()
        return ctx, threads

    def finish_workers(self, ctx, threads, where):
        ctx.stop.set()
        for t in threads:
            t.join(timeout=60)
            if t.is_alive():
                self.violate(where, [f"{t.name} did not finish within 60 s"])
        self.violate(where, ctx.problems)
        for op, n in ctx.ops.items():
            self.stats["ops"][op] = self.stats["ops"].get(op, 0) + n

    def wait_kill_moment(self, mode, ctx):
        limit = time.monotonic() + self.args.round_seconds * 2
        if mode == "startup":
            time.sleep(self.rng.uniform(0, 0.1))
            return
        if mode == "timer":
            time.sleep(self.rng.uniform(0.2, self.args.round_seconds))
            return
        wanted = "LAUNCHING" if mode == "intent" else "CANCELLING"
        with invariants.open_ro(self.db) as conn:
            def newest():
                row = conn.execute("SELECT max(id) FROM jobs WHERE status = ?",
                                   (wanted,)).fetchone()
                return row[0] or 0
            before = newest() if mode == "intent" else 0
            while time.monotonic() < limit and not ctx.daemon_gone.is_set():
                if newest() > before:
                    time.sleep(self.rng.uniform(0, 0.03))
                    return
                time.sleep(0.002)

    def kill_round(self, round_no):
        where = f"round {round_no}"
        if self.fake is not None:
            # Launches in flight at the kill: a launch request the server
            # runs for a while (registered, visible to Find), or one that
            # reaches the server late (not registered yet when the
            # restarted daemon looks).
            delay = self.rng.choice([0, 0, 300, 1500])
            self.fake.call("config", {"launch_delay_ms": delay})
            late = self.rng.choice([0, 0, 200, 800])
            self.fake.call("fault", {"slow_ms": late, "slow_routes": ["/jobs/launch"]})
        ctx, threads = self.workers(round_no)
        mode = self.rng.choice(self.KILL_MODES)
        self.wait_kill_moment(mode, ctx)
        self.daemon.kill9()
        self.stats["kills"] += 1
        self.stats["kill_modes"][mode] = self.stats["kill_modes"].get(mode, 0) + 1
        self.finish_workers(ctx, threads, where)
        self.api.close()
        intents = self.check_dead(where + " (daemon dead)")
        self.stats["intents_at_kill"] += len(intents)
        # Intents whose launch outcome was never recorded (no backend id):
        # the backend may or may not have the job; resolution must find out.
        rows = {j["id"]: j for j in self.job_rows()}
        unrecorded = [n for i, n in intents.items() if not rows[i]["backend_job_id"]]
        self.stats["intents_unrecorded_at_kill"] += len(unrecorded)
        self.stats["intents_unrecorded_on_backend_at_kill"] += len(
            [n for n in unrecorded if self.reached_backend(n)])
        print(f"round {round_no}: kill -9 ({mode}), {len(intents)} launch intents open, "
              f"{len(self.ledger.entries)} experiments, {self.ledger.acked} writes acknowledged",
              flush=True)
        return intents

    def converge(self):
        """No more kills: steady flags for everything that should run, then
        every experiment must reach its desired state."""
        svc, pb = self.api.svc, self.api.pb
        steady = {"dur": LONG_DUR, "fail_pct": 0}
        for s in self.snapshots():
            if s["labels"].get("chaos") != self.run_label or s["deleted"]:
                continue
            if s["desired_state"] != "DESIRED_STATE_RUNNING":
                continue
            req = svc.UpdateFlagsRequest(id=str(s["id"]))
            for k, v in steady.items():
                chaos_env.set_flag(req.set[k], v)
            self.ledger.begin(s["id"], {})
            self.ledger.ack(s["id"], snapshot(self.api.call("UpdateFlags", req).experiment, pb),
                            "flags")
            self.on_flags(s["id"], steady)
        restarted = set()

        def start_again(e):
            # A user pressing start again: a new run launches at once
            # instead of after the retry backoff (up to minutes).
            if e.id in restarted:
                return
            restarted.add(e.id)
            self.ledger.begin(e.id, {"desired_state": "DESIRED_STATE_RUNNING"})
            resp = self.api.call("SetDesiredState", svc.SetDesiredStateRequest(
                id=str(e.id), desired_state=e.desired_state, reason="chaos: converge"))
            self.ledger.ack(e.id, snapshot(resp.experiments[0], pb), "start-again")

        seconds, pending = convergence.wait_converged(
            self.api, self.job_rows, self.run_label, self.args.converge_timeout,
            start_again=start_again)
        if pending:
            self.violate("convergence", [f"not at desired state after "
                                         f"{self.args.converge_timeout:.0f} s: {p}"
                                         for p in pending])
        return seconds

    def final_checks(self):
        where = "final"
        self.violate(where, self.ledger.verify(self.snapshots(), self.run_label))
        rows = self.job_rows()
        self.violate(where, invariants.integrity(self.db))
        self.violate(where, invariants.one_live_job_per_experiment(rows))
        self.violate(where, invariants.job_names_unique(rows))
        left = invariants.intents(rows)
        if left:
            self.violate(where, [f"launch intents never resolved: {left}"])
        if self.fake is None:
            self.violate(where, invariants.local_processes(self.data_dir, self.job_rows,
                                                           final=True))
        else:
            state, rows, fake_live, db_live = self.fake_and_store_read_together()
            self.violate(where, invariants.fake_launches(state, rows))
            if fake_live != db_live:
                self.violate(where, [f"live on SkyPilot but not in the store: "
                                     f"{sorted(fake_live - db_live)}; live in the store but "
                                     f"not on SkyPilot: {sorted(db_live - fake_live)}"])
        self.stats["jobs"] = len(rows)
        self.stats["experiments"] = len(self.ledger.entries)

    def fake_and_store_read_together(self, timeout=15.0):
        """The fake's state, the job rows, and the names live in each, read
        again until the live names agree or `timeout` passes. The fake moves
        a job on when the daemon asks for the queue, and the daemon writes
        what it saw a moment later: read between the two, a job that just
        ended is live in the store only. Refresh makes the daemon poll and
        write before the next read; a real disagreement outlasts it."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.fake.state()
            rows = self.job_rows()
            fake_live = {j["job_name"] for j in state["jobs"]
                         if j["status"] in invariants.FAKE_LIVE}
            db_live = {j["backend_name"] for j in rows if j["ended_at"] is None}
            if fake_live == db_live or time.monotonic() > deadline:
                return state, rows, fake_live, db_live
            try:
                self.api.call("Refresh", self.api.svc.RefreshRequest())
            except self.api.grpc.RpcError:
                time.sleep(0.2)  # the daemon is busy; the loop is bounded

    # ----- the run -------------------------------------------------------------

    def run(self):
        intents = {}
        try:
            for round_no in range(1, self.args.rounds + 1):
                self.start_daemon()
                if round_no > 1:
                    self.check_after_restart(f"round {round_no} (restarted)", intents)
                intents = self.kill_round(round_no)
            self.start_daemon()
            if self.args.rounds:
                self.check_after_restart("final restart", intents)
            ctx, threads = self.workers(self.args.rounds + 1)
            time.sleep(self.rng.uniform(0.5, self.args.round_seconds))
            self.finish_workers(ctx, threads, "final round")
            self.violate("final round", self.ledger.verify(self.snapshots(), self.run_label))
            converge_s = self.converge()
            self.stats["converge_s"] = converge_s and round(converge_s, 2)
            self.final_checks()
            self.api.close()
            code = self.daemon.stop()
            if code != 0:
                self.violate("shutdown", [f"skydeckd exited {code} on SIGTERM"])
            self.violate("after shutdown", invariants.integrity(self.db))
        except BaseException as e:
            self.violations.append(f"ERROR {e!r}")
            raise
        finally:
            self.cleanup()
        return self.summary()

    def cleanup(self):
        self.daemon.kill9()
        self.harness.kill_processes_under(self.data_dir)
        if self.fake is not None:
            self.fake_counters = self.fake.state()["counters"]
            self.fake.stop()
        self.ledger.close()
        if self.violations:
            print(f"--- skydeckd log tail ({self.daemon.log_path}) ---")
            print(self.daemon.log()[-6000:])
        if self.violations or self.args.keep:
            print(f"kept {self.tmp} (acknowledged writes in acknowledged-writes.jsonl)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def summary(self):
        s = dict(self.stats, backend=self.args.backend, seed=self.seed,
                 rounds=self.args.rounds, acknowledged_writes=self.ledger.acked,
                 unanswered_writes=self.ledger.unanswered,
                 unanswered_applied=self.ledger.unanswered_applied,
                 unanswered_not_applied=self.ledger.unanswered_not_applied,
                 violations=len(self.violations))
        s["intent_resolve_max_s"] = round(s["intent_resolve_max_s"], 2)
        s["restart_s_max"] = round(s["restart_s_max"], 2)
        if self.fake is not None:
            by_name = self.fake_counters["launches_by_name"]
            s["fake_launch_calls"] = self.fake_counters["launch_calls"]
            s["fake_names_launched"] = len(by_name)
            s["fake_names_launched_twice"] = sum(1 for n in by_name.values() if n > 1)
        return s


def main(argv=None):
    args = parse_args(argv)
    chaos_env.use_build_dir(args.build)
    chaos = Chaos(args)
    summary = None
    try:
        summary = chaos.run()
    finally:
        if summary is None:
            print(f"chaos_loop: aborted; reproduce with --seed {chaos.seed}", flush=True)
    text = json.dumps(summary, sort_keys=True)
    print("SUMMARY " + text, flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text + "\n")
    if chaos.violations:
        print(f"chaos_loop: {len(chaos.violations)} violations; reproduce with "
              f"--seed {chaos.seed}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
