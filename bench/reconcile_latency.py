#!/usr/bin/python3
"""Time from a desired=RUNNING write to the backend launch call, with the
local backend and a command that does nothing (`true`).

  bench/reconcile_latency.py --skydeckd build/release/daemon/skydeckd [-n 1000]

Two scenarios in the same run:
  burst:  N experiments set RUNNING by one label-selector request, so
          launches queue behind each other on the reconcile workers;
  single: experiments started one at a time, waiting for each launch
          (the latency a person clicking "start" sees).
The write time is the DesiredStateChanged event; the launch call is made
right after the LaunchIntent event and returns before the Launched event
(all recorded by the daemon, millisecond resolution).
"""

import argparse
import datetime
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import grpc  # noqa: E402


def event_times(db, ids):
    """experiment id -> {type: first time (ms)} for the types we need."""
    out = {i: {} for i in ids}
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT experiment_id, type, min(time) FROM events WHERE type IN "
            "('DesiredStateChanged', 'LaunchIntent', 'Launched') GROUP BY experiment_id, type")
        for exp, typ, t in rows:
            if exp in out:
                out[exp][typ] = t
    return out


def launched_count(db, ids):
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(
            "SELECT count(DISTINCT experiment_id) FROM events WHERE type = 'Launched' "
            f"AND experiment_id BETWEEN {min(ids)} AND {max(ids)}").fetchone()[0]


def summarize(name, times):
    intent = [t["LaunchIntent"] - t["DesiredStateChanged"] for t in times.values()]
    launched = [t["Launched"] - t["DesiredStateChanged"] for t in times.values()]
    row = {
        "scenario": name, "n": len(times),
        "to_call_p50_ms": common.percentile(intent, 50),
        "to_call_p99_ms": common.percentile(intent, 99),
        "to_launched_p50_ms": common.percentile(launched, 50),
        "to_launched_p99_ms": common.percentile(launched, 99),
    }
    print(f"{name:7s} n={row['n']:5d}  write->launch call p50 {row['to_call_p50_ms']:6.0f} ms "
          f"p99 {row['to_call_p99_ms']:6.0f} ms | write->launched p50 "
          f"{row['to_launched_p50_ms']:6.0f} ms p99 {row['to_launched_p99_ms']:6.0f} ms")
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--skydeckd", required=True)
    ap.add_argument("-n", type=int, default=1000, help="experiments in the burst")
    ap.add_argument("--single", type=int, default=100, help="experiments started one by one")
    args = ap.parse_args()
    resources_pb2, service_pb2, service_pb2_grpc = common.load_stubs()
    daemon = common.Daemon(args.skydeckd, ["--poll-interval", "1s"])
    db = os.path.join(daemon.data_dir, "skydeck.db")
    try:
        stub = service_pb2_grpc.SkyDeckStub(grpc.insecure_channel(daemon.grpc))

        def create(name, label):
            exp = resources_pb2.Experiment(name=name, base_command="true")
            exp.labels["bench"] = label
            return stub.CreateExperiment(
                service_pb2.CreateExperimentRequest(experiment=exp), timeout=30).experiment.id

        burst = [create(f"burst-{i}", "burst") for i in range(args.n)]
        stub.SetDesiredState(service_pb2.SetDesiredStateRequest(
            label_selector="bench=burst", desired_state=resources_pb2.DESIRED_STATE_RUNNING),
            timeout=300)
        deadline = time.monotonic() + 600
        while launched_count(db, burst) < len(burst):
            if time.monotonic() > deadline:
                raise RuntimeError("burst launches did not finish")
            time.sleep(0.05)
        rows = [summarize("burst", event_times(db, burst))]

        single = []
        for i in range(args.single):
            eid = create(f"single-{i}", "single")
            single.append(eid)
            stub.SetDesiredState(service_pb2.SetDesiredStateRequest(
                id=str(eid), desired_state=resources_pb2.DESIRED_STATE_RUNNING), timeout=30)
            deadline = time.monotonic() + 30
            while launched_count(db, [eid]) < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("single launch did not happen")
                time.sleep(0.001)
        rows.append(summarize("single", event_times(db, single)))
        print(f"machine: {common.machine()}; date: {datetime.date.today()}")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
