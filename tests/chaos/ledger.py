"""The client-side log of acknowledged writes and what they promise.

Each experiment has the values the daemon acknowledged last (`confirmed`,
taken from the RPC's answer) and, while a write's outcome is unknown (the
daemon died or the call timed out before answering), the values that write
would set (`pending`). After a restart every field must read back as the
confirmed value or, for an unanswered write, the pending one: anything else
is an acknowledged write that was lost. Writes to one experiment are issued
one at a time (each worker owns its experiments), so at most one write per
experiment is ever unanswered.

Every acknowledged write is also appended to a JSON-lines file, so a failure
can be replayed by hand.

Thread-safety: all methods take the ledger's lock.
"""

import json
import threading

from chaos_env import flag_of

# Spec fields a write can change, compared after every restart.
FIELDS = ("name", "base_command", "flags", "labels", "max_restarts", "desired_state",
          "deleted")


def snapshot(exp, pb):
    """The comparable spec of an Experiment proto."""
    return {
        "id": exp.id,
        "name": exp.name,
        "base_command": exp.base_command,
        "flags": {k: flag_of(v) for k, v in exp.flags.items()},
        "labels": dict(exp.labels),
        "max_restarts": exp.max_restarts,
        "desired_state": pb.DesiredState.Name(exp.desired_state),
        "deleted": exp.HasField("delete_time"),
        "generation": exp.generation,
    }


class Entry:
    def __init__(self, confirmed):
        self.confirmed = confirmed
        self.pending = None  # dict of field -> value while a write is unanswered

    @property
    def uncertain(self):
        return self.pending is not None


class Ledger:
    def __init__(self, log_path):
        self._lock = threading.Lock()
        self._log = open(log_path, "a", buffering=1)
        self.entries = {}          # id -> Entry
        self.pending_creates = {}  # name -> expected snapshot (no id yet)
        self.acked = 0
        self.unanswered = 0
        self.unanswered_applied = 0
        self.unanswered_not_applied = 0

    def close(self):
        self._log.close()

    def _write_log(self, kind, body):
        self._log.write(json.dumps({"ack": kind, **body}, sort_keys=True, default=str) + "\n")

    # ----- recording writes ------------------------------------------------

    def begin_create(self, name, expected):
        with self._lock:
            self.pending_creates[name] = expected

    def ack_create(self, name, snap):
        with self._lock:
            self.pending_creates.pop(name, None)
            self.entries[snap["id"]] = Entry(snap)
            self.acked += 1
            self._write_log("create", snap)

    def begin(self, exp_id, changes):
        with self._lock:
            self.entries[exp_id].pending = dict(changes)

    def ack(self, exp_id, snap, op, check=None):
        """The write was answered OK; `snap` is the experiment it returned.
        Returns the asked-for fields (all pending ones, or `check`) that the
        answer does not show."""
        with self._lock:
            entry = self.entries[exp_id]
            asked = entry.pending or {}
            problems = [f"{op} on {exp_id}: answered {f}={snap[f]!r}, asked for {asked[f]!r}"
                        for f in (check if check is not None else asked)
                        if snap[f] != asked[f]]
            entry.confirmed = snap
            entry.pending = None
            self.acked += 1
            self._write_log(op, snap)
            return problems

    def ack_fields(self, exp_id, changes, op):
        """The write was answered OK without the experiment (the CLI)."""
        with self._lock:
            entry = self.entries[exp_id]
            entry.confirmed = dict(entry.confirmed, **changes)
            entry.pending = None
            self.acked += 1
            self._write_log(op, {"id": exp_id, **changes})

    def refused(self, exp_id):
        """The daemon answered with an error that means nothing changed."""
        with self._lock:
            self.entries[exp_id].pending = None
            self.acked += 1

    def unknown(self, exp_id=None, name=None):
        """No answer: the write may or may not have happened."""
        with self._lock:
            self.unanswered += 1

    # ----- reading -----------------------------------------------------------

    def view(self):
        """{id: (confirmed, uncertain)} copies, for choosing operations."""
        with self._lock:
            return {i: (dict(e.confirmed), e.uncertain) for i, e in self.entries.items()}

    def verify(self, actual, run_label):
        """Checks every experiment the daemon returned (`actual`: snapshots
        of ListExperiments with deleted ones) against the ledger; adopts
        what was read as the new confirmed state. Returns violations."""
        problems = []
        with self._lock:
            by_id = {s["id"]: s for s in actual}
            names = [s["name"] for s in actual
                     if s["labels"].get("chaos") == run_label and not s["deleted"]]
            if len(names) != len(set(names)):
                problems.append(f"duplicate live names: {sorted(names)}")
            for exp_id, entry in self.entries.items():
                got = by_id.get(exp_id)
                if got is None:
                    problems.append(f"experiment {exp_id} ({entry.confirmed['name']}) was "
                                    "acknowledged but is gone")
                    continue
                for f in FIELDS:
                    allowed = [entry.confirmed[f]]
                    if entry.pending and f in entry.pending:
                        allowed.append(entry.pending[f])
                    if got[f] not in allowed:
                        problems.append(f"experiment {exp_id}: {f} is {got[f]!r}, acknowledged "
                                        f"{entry.confirmed[f]!r}"
                                        + (f" (unanswered write: {entry.pending[f]!r})"
                                           if len(allowed) > 1 else ""))
                if got["generation"] < entry.confirmed["generation"]:
                    problems.append(f"experiment {exp_id}: generation went back from "
                                    f"{entry.confirmed['generation']} to {got['generation']}")
                if entry.pending is not None:
                    applied = any(got[f] != entry.confirmed[f] for f in entry.pending)
                    if applied:
                        self.unanswered_applied += 1
                    else:
                        self.unanswered_not_applied += 1
                entry.confirmed = got
                entry.pending = None
            known = set(self.entries)
            for name, expected in self.pending_creates.items():
                found = [s for s in actual if s["name"] == name and s["id"] not in known]
                if len(found) > 1:
                    problems.append(f"unanswered create of {name} made {len(found)} experiments")
                if found:
                    self.unanswered_applied += 1
                    got = found[0]
                    for f, v in expected.items():
                        if got[f] != v:
                            problems.append(f"unanswered create of {name}: {f} is {got[f]!r}, "
                                            f"sent {v!r}")
                    self.entries[got["id"]] = Entry(got)
                    known.add(got["id"])
                else:
                    self.unanswered_not_applied += 1
            self.pending_creates = {}
            for s in actual:
                if s["labels"].get("chaos") == run_label and s["id"] not in known:
                    problems.append(f"experiment {s['id']} ({s['name']}) exists but was "
                                    "never created by this run")
        return problems
