"""When is an experiment at its desired state? Shared by the chaos loop and
the backend-fault runs.

  deleted                 no live job
  desired STOPPED         no live job; observed STOPPED (or IDLE: never ran)
  desired TERMINATED      no live job; observed TERMINATED
  desired RUNNING         observed RUNNING with a RUNNING job, or SUCCEEDED,
                          or Stalled (restart budget spent: the user acts)
and in every case observed_generation == generation (the reconciler acted on
the latest spec), unless the condition Outdated says the live job runs an
older spec on purpose (a flag edit does not restart a running job).
"""

import time


def describe_unconverged(api, job_rows, label, start_again=None):
    """Descriptions of experiments labelled chaos=`label` that are not at
    their desired state. `start_again(exp)` is called for a RUNNING one that
    waits out a retry backoff (no live job, a retry scheduled)."""
    rows = {j["id"]: j for j in job_rows}
    pb = api.pb
    out = []
    for e in api.list_all():
        if e.labels.get("chaos") != label:
            continue
        desired = pb.DesiredState.Name(e.desired_state)
        observed = pb.ObservedState.Name(e.observed_state)
        stalled = any(c.type == "Stalled" and c.status for c in e.conditions)
        outdated = any(c.type == "Outdated" and c.status for c in e.conditions)
        live = rows.get(e.current_job_id) if e.current_job_id else None
        if e.HasField("delete_time"):
            ok = live is None
        elif desired == "DESIRED_STATE_STOPPED":
            ok = live is None and observed in ("OBSERVED_STATE_STOPPED", "OBSERVED_STATE_IDLE")
        elif desired == "DESIRED_STATE_TERMINATED":
            ok = live is None and observed == "OBSERVED_STATE_TERMINATED"
        else:
            ok = ((observed == "OBSERVED_STATE_RUNNING" and live is not None and
                   live["status"] == "RUNNING") or observed == "OBSERVED_STATE_SUCCEEDED" or
                  stalled)
            if not ok and live is None and e.HasField("next_retry_time") and start_again:
                start_again(e)
        ok = ok and (e.observed_generation == e.generation or (outdated and live is not None))
        if not ok:
            out.append(f"{e.id} {e.name}: desired {desired}, observed {observed}, "
                       f"live job {live and live['status']}, generation "
                       f"{e.observed_generation}/{e.generation}")
    return out


def wait_converged(api, read_job_rows, label, timeout, settled_s=3.0, start_again=None):
    """Waits until every experiment has been at its desired state for
    `settled_s` on end (a job may still end and need another attempt).
    Returns (seconds until the settled period began, None) or
    (None, descriptions of what did not converge)."""
    started = time.monotonic()
    deadline = started + timeout
    settled_since = None
    while True:
        pending = describe_unconverged(api, read_job_rows(), label, start_again)
        now = time.monotonic()
        if pending:
            settled_since = None
            if now > deadline:
                return None, pending
        elif settled_since is None:
            settled_since = now
        elif now - settled_since >= settled_s:
            return settled_since - started, None
        time.sleep(0.2)
