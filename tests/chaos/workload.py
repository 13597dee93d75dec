"""The random operations a chaos round drives through the real API (and
sometimes the real CLI), and the jobs they run.

Each Worker owns the experiments it created and issues one write at a time
to each, recording every write in the Ledger before it is sent and when it
is answered. A worker stops at the first sign that the daemon is gone.

Jobs behave according to their flags, so a flag update changes what the
next attempt does: `dur` seconds of work, then a failure when
(job id * 37 + attempt * 11) % 100 < fail_pct, else success. With the local
backend that is a shell script; with the SkyPilot fake the same flags pick
the managed job's script of statuses (see fake_steps).
"""

import random
import threading
import time

import grpc

from chaos_env import cli, set_flag, typed
from ledger import snapshot

JOB_SCRIPT = r"""#!/bin/sh
# A chaos job: `dur=S` seconds of work, then exit 3 for a pseudo-random
# share `fail_pct=P` of jobs (from the job id and attempt), else 0.
dur=1
fail=0
for a in "$@"; do
  case "$a" in
    dur=*) dur=${a#dur=} ;;
    fail_pct=*) fail=${a#fail_pct=} ;;
  esac
done
echo "chaos job $SKYDECK_EXPERIMENT attempt $SKYDECK_ATTEMPT node $SKYPILOT_NODE_RANK dur=$dur"
sleep "$dur"
roll=$(( (SKYDECK_JOB * 37 + SKYDECK_ATTEMPT * 11) % 100 ))
if [ "$roll" -lt "$fail" ]; then echo "failing ($roll < $fail)"; exit 3; fi
echo done
"""

LONG_DUR = 600.0
# gRPC codes that mean the write was refused and nothing changed.
REFUSED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
           grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}
STATES = ("DESIRED_STATE_RUNNING", "DESIRED_STATE_STOPPED", "DESIRED_STATE_TERMINATED")


def random_flags(rng):
    """Half the jobs run until stopped, half end after a few seconds; some
    fail. The note carries shell syntax, which must stay inert."""
    dur = LONG_DUR if rng.random() < 0.5 else round(rng.uniform(0.2, 4.0), 2)
    return {"dur": dur, "fail_pct": rng.choice([0, 0, 30, 100]),
            "note": rng.choice(["plain", "it's $(id) ; `x` | y", "a b\tc"])}


def fake_steps(flags, poll_s):
    """The fake's status script for a managed job with these flags; jobs
    advance one step per poll of the daemon."""
    dur = flags.get("dur", 1.0)
    fail = flags.get("fail_pct", 0) >= 50
    steps = ["PENDING", "STARTING", "RUNNING"]
    if dur >= LONG_DUR:
        return steps  # stays RUNNING until cancelled
    running = max(1, int(dur / poll_s))
    if running > 3:
        steps += ["RECOVERING"]  # a preemption SkyPilot recovers
    steps += ["RUNNING"] * running
    return steps + (["FAILED"] if fail else ["SUCCEEDED"])


class RoundContext:
    """What every worker of one round shares."""

    def __init__(self, api, address, ledger, run_label, command, rng_seed, on_flags,
                 cli_share=0.15, max_experiments=8):
        self.api = api
        self.address = address
        self.ledger = ledger
        self.run_label = run_label
        self.command = command
        self.rng_seed = rng_seed
        # Called with (experiment id, flags dict) after a create or a flag
        # update is answered (the SkyPilot fake scripts the job from them).
        self.on_flags = on_flags
        self.cli_share = cli_share
        self.max_experiments = max_experiments
        self.stop = threading.Event()
        self.daemon_gone = threading.Event()
        self.problems = []
        self.ops = {}
        self._lock = threading.Lock()

    def count(self, op):
        with self._lock:
            self.ops[op] = self.ops.get(op, 0) + 1

    def problem(self, text):
        with self._lock:
            self.problems.append(text)


class Worker(threading.Thread):
    def __init__(self, ctx, index, round_no, owned):
        super().__init__(daemon=True, name=f"chaos-worker-{index}")
        self.ctx = ctx
        self.index = index
        self.round_no = round_no
        self.owned = owned  # experiment ids this worker writes to (shared list)
        self.rng = random.Random(ctx.rng_seed * 1000 + index)
        self.created = 0

    def run(self):
        try:
            while not self.ctx.stop.is_set() and not self.ctx.daemon_gone.is_set():
                self.step()
                time.sleep(self.rng.uniform(0, 0.05))
        except Exception as e:  # a bug in the driver must fail the run
            self.ctx.problem(f"worker {self.index} crashed: {e!r}")
            raise

    # ----- choosing -----------------------------------------------------------

    def step(self):
        view = self.ctx.ledger.view()
        mine = [(i, view[i][0]) for i in self.owned if i in view and not view[i][1]]
        live = [(i, s) for i, s in mine if not s["deleted"]]
        deleted = [(i, s) for i, s in mine if s["deleted"]]
        choices = [("create", 3 if len(self.owned) < self.ctx.max_experiments else 0)]
        if live:
            choices += [("state", 6), ("flags", 3), ("delete", 1), ("max_restarts", 1)]
        if deleted:
            choices += [("undelete", 1)]
        op = self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]
        if op == "create":
            self.create()
        elif op == "undelete":
            self.undelete(*self.rng.choice(deleted))
        else:
            exp_id, spec = self.rng.choice(live)
            getattr(self, op)(exp_id, spec)

    # ----- calling -------------------------------------------------------------

    def _failed(self, err, exp_id=None, name=None):
        """Books an RPC error; returns True when the daemon is gone."""
        code = err.code() if isinstance(err, grpc.RpcError) else None
        if code in REFUSED and exp_id is not None:
            self.ctx.ledger.refused(exp_id)
            self.ctx.count("refused")
            return False
        self.ctx.ledger.unknown(exp_id, name)
        self.ctx.count("unanswered")
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
                    grpc.StatusCode.DEADLINE_EXCEEDED, None):
            self.ctx.daemon_gone.set()
            return True
        self.ctx.problem(f"unexpected error {code}: {err}")
        return False

    def _answered(self, exp_id, exp, op, check=None):
        for p in self.ctx.ledger.ack(exp_id, snapshot(exp, self.ctx.api.pb), op, check):
            self.ctx.problem(p)
        self.ctx.count(op)

    def create(self):
        api, pb, svc = self.ctx.api, self.ctx.api.pb, self.ctx.api.svc
        name = f"r{self.round_no}-w{self.index}-{self.created}"
        self.created += 1
        flags = random_flags(self.rng)
        start = self.rng.random() < 0.6
        exp = pb.Experiment(name=name, base_command=self.ctx.command,
                            nodes=2 if self.rng.random() < 0.15 else 1,
                            max_restarts=self.rng.choice([0, 1, 2]))
        for k, v in flags.items():
            set_flag(exp.flags[k], v)
        exp.labels["chaos"] = self.ctx.run_label
        exp.labels["worker"] = str(self.index)
        expected = {"name": name, "flags": {k: typed(v) for k, v in flags.items()},
                    "desired_state": "DESIRED_STATE_RUNNING" if start else "DESIRED_STATE_STOPPED",
                    "deleted": False}
        self.ctx.ledger.begin_create(name, expected)
        try:
            resp = api.call("CreateExperiment",
                            svc.CreateExperimentRequest(experiment=exp, start=start))
        except grpc.RpcError as e:
            self._failed(e, name=name)
            return
        snap = snapshot(resp.experiment, pb)
        self.ctx.ledger.ack_create(name, snap)
        for f, v in expected.items():
            if snap[f] != v:
                self.ctx.problem(f"create {name}: answered {f}={snap[f]!r}, sent {v!r}")
        self.owned.append(snap["id"])
        self.ctx.on_flags(snap["id"], flags)
        self.ctx.count("create")

    def state(self, exp_id, spec):
        target = self.rng.choice(STATES)
        self.ctx.ledger.begin(exp_id, {"desired_state": target})
        if self.rng.random() < self.ctx.cli_share:
            verb = {"DESIRED_STATE_RUNNING": "start", "DESIRED_STATE_STOPPED": "stop",
                    "DESIRED_STATE_TERMINATED": "terminate"}[target]
            try:
                proc = cli(self.ctx.address, "exp", verb, str(exp_id), "--reason", "chaos")
            except Exception as e:  # timeout
                self._failed(e, exp_id)
                return
            if proc.returncode == 0:
                self.ctx.ledger.ack_fields(exp_id, {"desired_state": target}, "cli-" + verb)
                self.ctx.count("cli-" + verb)
            elif proc.returncode == 3 or "UNAVAILABLE" in proc.stderr:
                self._failed(RuntimeError(proc.stderr), exp_id)
            else:
                self.ctx.problem(f"skydeck exp {verb} {exp_id} exited {proc.returncode}: "
                                 f"{proc.stderr.strip()}")
                self.ctx.ledger.refused(exp_id)
            return
        svc = self.ctx.api.svc
        try:
            resp = self.ctx.api.call("SetDesiredState", svc.SetDesiredStateRequest(
                id=str(exp_id), desired_state=self.ctx.api.pb.DesiredState.Value(target),
                reason="chaos"))
        except grpc.RpcError as e:
            self._failed(e, exp_id)
            return
        self._answered(exp_id, resp.experiments[0], "state")

    def flags(self, exp_id, spec):
        flags = random_flags(self.rng)
        changes = dict(spec["flags"])
        changes.update({k: typed(v) for k, v in flags.items()})
        self.ctx.ledger.begin(exp_id, {"flags": changes})
        req = self.ctx.api.svc.UpdateFlagsRequest(id=str(exp_id))
        for k, v in flags.items():
            set_flag(req.set[k], v)
        try:
            resp = self.ctx.api.call("UpdateFlags", req)
        except grpc.RpcError as e:
            self._failed(e, exp_id)
            return
        self._answered(exp_id, resp.experiment, "flags")
        self.ctx.on_flags(exp_id, flags)

    def max_restarts(self, exp_id, spec):
        value = self.rng.choice([0, 1, 2, 3])
        self.ctx.ledger.begin(exp_id, {"max_restarts": value})
        api = self.ctx.api
        req = api.svc.UpdateExperimentRequest(
            id=str(exp_id), experiment=api.pb.Experiment(max_restarts=value),
            update_mask=api.fm.FieldMask(paths=["max_restarts"]))
        try:
            resp = api.call("UpdateExperiment", req)
        except grpc.RpcError as e:
            self._failed(e, exp_id)
            return
        self._answered(exp_id, resp.experiment, "max_restarts")

    def delete(self, exp_id, spec):
        force = self.rng.random() < 0.5
        changes = {"deleted": True}
        if force:
            changes["desired_state"] = "DESIRED_STATE_TERMINATED"
        self.ctx.ledger.begin(exp_id, changes)
        try:
            resp = self.ctx.api.call("DeleteExperiment", self.ctx.api.svc.DeleteExperimentRequest(
                id=str(exp_id), force=force), timeout=20)
        except grpc.RpcError as e:
            if force and e.code() in REFUSED:
                # A forced delete may have set TERMINATED before it failed.
                self.ctx.ledger.unknown(exp_id)
                self.ctx.count("unanswered")
                return
            self._failed(e, exp_id)
            return
        # force only terminates when there is a live job: desired state may
        # be unchanged.
        self._answered(exp_id, resp.experiment, "delete-force" if force else "delete",
                       check=["deleted"])

    def undelete(self, exp_id, spec):
        self.ctx.ledger.begin(exp_id, {"deleted": False})
        try:
            resp = self.ctx.api.call("UndeleteExperiment",
                                     self.ctx.api.svc.UndeleteExperimentRequest(id=str(exp_id)))
        except grpc.RpcError as e:
            self._failed(e, exp_id)
            return
        self._answered(exp_id, resp.experiment, "undelete")
