"""Invariants the chaos loop checks, each returning a list of violations
(strings); empty means it holds.

Database checks open the SQLite file read-only (`mode=ro`), so they can run
while skydeckd is dead (before the restart: what a kill -9 left on disk) or
alive (SQLite's WAL lets a reader in beside the writer). Process checks look
at what really runs: every process whose working directory is a local job
directory (DATA_DIR/jobs/<job name>/, see daemon/backend/local/job_dir.h).
"""

import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import processes_under  # noqa: E402

# skydeck-<installation>-<experiment id>-<attempt> (reconciler.cc, JobName).
JOB_NAME = re.compile(r"^skydeck-([0-9a-f]+)-(\d+)-(\d+)$")
FAKE_LIVE = {"PENDING", "SUBMITTED", "STARTING", "RUNNING", "RECOVERING", "CANCELLING"}


def experiment_of(job_name):
    m = JOB_NAME.match(job_name)
    return int(m.group(2)) if m else None


def open_ro(db_path):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def integrity(db_path):
    with open_ro(db_path) as conn:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    problems = [] if rows == ["ok"] else [f"integrity_check: {rows[:10]}"]
    if fk:
        problems.append(f"foreign_key_check: {[tuple(r) for r in fk[:10]]}")
    return problems


def jobs(db_path):
    """Every job row as a dict."""
    with open_ro(db_path) as conn:
        return [dict(r) for r in conn.execute(
            "SELECT id, experiment_id, attempt, backend, backend_name, backend_job_id, "
            "status, ended_at, nodes FROM jobs ORDER BY id")]


def one_live_job_per_experiment(job_rows):
    live = {}
    for j in job_rows:
        if j["ended_at"] is None:
            live.setdefault(j["experiment_id"], []).append(j["backend_name"])
    return [f"experiment {e} has {len(names)} live jobs: {names}"
            for e, names in live.items() if len(names) > 1]


def intents(job_rows):
    """Launch intents not yet resolved: jobs still LAUNCHING."""
    return {j["id"]: j["backend_name"] for j in job_rows if j["status"] == "LAUNCHING"}


def job_names_unique(job_rows):
    seen = {}
    for j in job_rows:
        seen[j["backend_name"]] = seen.get(j["backend_name"], 0) + 1
    return [f"job name {n} has {c} rows" for n, c in seen.items() if c > 1]


# ----- local backend: what really runs ---------------------------------------

def _proc_stat(pid):
    """(state, pgid) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[2])


def job_processes(data_dir):
    """{job name: {pgid: [pids]}} of live processes whose cwd is in a job
    directory (DATA_DIR/jobs/<name>/...); zombies excluded."""
    root = os.path.realpath(os.path.join(data_dir, "jobs"))
    out = {}
    for pid, cwd in processes_under(root):
        stat = _proc_stat(pid)
        if cwd == root or stat is None or stat[0] in ("Z", "X"):
            continue
        name = cwd[len(root) + 1:].split(os.sep)[0]
        out.setdefault(name, {}).setdefault(stat[1], []).append(pid)
    return out


def _local_once(data_dir, job_rows):
    """[(key, text)] of violations; the key identifies one across samples."""
    rows = {j["backend_name"]: j for j in job_rows}
    problems = []
    procs = job_processes(data_dir)
    per_experiment = {}
    for name, groups in procs.items():
        row = rows.get(name)
        if row is None:
            problems.append((("no-row", name),
                             f"processes {groups} run for job {name}, which has no job row"))
            continue
        if row["ended_at"] is not None:
            problems.append((("ended", name), f"processes {groups} still run for job {name}, "
                                              f"whose row ended ({row['status']})"))
        if len(groups) > row["nodes"]:
            problems.append((("groups", name), f"job {name} has {len(groups)} process groups "
                                               f"for {row['nodes']} nodes: {groups}"))
        per_experiment.setdefault(row["experiment_id"], {}).update(
            {pgid: name for pgid in groups})
    for exp, groups in per_experiment.items():
        names = set(groups.values())
        if len(names) > 1:
            problems.append((("two-jobs", exp), f"experiment {exp} has processes of "
                                                f"{len(names)} jobs at once: {groups}"))
    jobs_dir = os.path.join(data_dir, "jobs")
    dirs = os.listdir(jobs_dir) if os.path.isdir(jobs_dir) else []
    for d in dirs:
        if d not in rows:
            problems.append((("dir", d), f"job directory jobs/{d} has no job row"))
    return problems


def running_jobs_without_processes(data_dir, job_rows):
    """[(key, text)]: a job the store says RUNNING must have processes."""
    procs = job_processes(data_dir)
    return [(("ghost", j["backend_name"]),
             f"job {j['backend_name']} is RUNNING in the store but no process runs for it")
            for j in job_rows if j["status"] == "RUNNING" and j["ended_at"] is None
            and j["backend"] == "local" and j["backend_name"] not in procs]


def local_processes(data_dir, read_rows, final=False):
    """Processes and directories against job rows (`read_rows()` reads them
    fresh). A violation must be seen twice, 300 ms apart, with the rows
    re-read in between, so a process group being SIGKILLed at this very
    moment, or a launch between reading rows and listing processes, is
    not blamed. `final`: also no RUNNING row without processes."""
    def sample():
        rows = read_rows()
        found = _local_once(data_dir, rows)
        if final:
            found += running_jobs_without_processes(data_dir, rows)
        return found

    first = sample()
    if not first:
        return []
    time.sleep(0.3)
    again = {key for key, _ in sample()}
    return [text for key, text in first if key in again]


# ----- SkyPilot fake ---------------------------------------------------------

def fake_launches(fake_state, job_rows):
    """Each name the fake was asked to launch was launched once and has a
    job row; at most one live managed job per experiment; a live managed
    job belongs to a live job row."""
    rows = {j["backend_name"]: j for j in job_rows}
    problems = []
    by_name = fake_state["counters"]["launches_by_name"]
    for name, count in by_name.items():
        if count != 1:
            problems.append(f"{name} was launched {count} times")
        if name not in rows:
            problems.append(f"{name} was launched but has no job row")
    live = {}
    for job in fake_state["jobs"]:
        if job["status"] in FAKE_LIVE:
            live.setdefault(experiment_of(job["job_name"]), []).append(job["job_name"])
            row = rows.get(job["job_name"])
            if row is not None and row["ended_at"] is not None:
                problems.append(f"managed job {job['job_name']} is {job['status']} on SkyPilot "
                                f"but its row ended ({row['status']})")
    for exp, names in live.items():
        if len(names) > 1:
            problems.append(f"experiment {exp} has {len(names)} live managed jobs: {names}")
    return problems
