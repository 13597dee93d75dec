#!/usr/bin/python3
"""Backend faults: the SkyPilot fake goes down (connection refused), slow
(every answer after --slow-ms), erroring (HTTP 500 on every POST) or
returns garbage (HTML instead of JSON from /api/get and /api/health), each
for --fault-seconds, while experiments are started and stopped.

Throughout, a client measures API latency (GetExperiment, ListExperiments,
GetHealth); one thread samples, every second, the daemon's health, the
experiments' Degraded condition and how many requests reached the fake.
The run checks that:
  - the API keeps answering, and its p99 stays near the no-fault baseline
    measured first in the same run (ratios reported; bound: --p99-bound);
  - health says DEGRADED (and, when down, backend unreachable) during the
    fault, and experiments that needed the backend show Degraded;
  - the daemon backs off: requests per second reaching the backend stay
    bounded (--rate-bound) instead of a hot loop;
  - after the fault clears, health recovers and every experiment reaches its
    desired state with every job name launched exactly once.

Connection attempts against a server that is down cannot be counted by the
server, so the run re-executes itself in a private network namespace
(`unshare -n`, loopback only) when it can, where the kernel's TCP counters
(/proc/net/snmp: ActiveOpens, AttemptFails) count only this run's
connections. Without it (not root), those figures are reported as null.

  backend_faults.py [--faults down,slow,http500,garbage] [--fault-seconds 15]
                    [--baseline-seconds 8] [--build DIR] [--seed S]
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import chaos_env  # noqa: E402
import convergence  # noqa: E402
import invariants  # noqa: E402

FAULTS = ("down", "slow", "http500", "garbage")
NETNS_ENV = "SKYDECK_CHAOS_NETNS"
RPCS = ("GetExperiment", "ListExperiments", "GetHealth")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--faults", default=",".join(FAULTS))
    p.add_argument("--fault-seconds", type=float, default=15)
    p.add_argument("--baseline-seconds", type=float, default=8)
    p.add_argument("--slow-ms", type=int, default=3000)
    p.add_argument("--experiments", type=int, default=8)
    p.add_argument("--poll-interval", default="1s")
    p.add_argument("--recover-timeout", type=float, default=90)
    p.add_argument("--launch-settle", default=None,
                   help="skydeckd's --skypilot-launch-settle (default 30 s): how long after "
                        "a launch that failed without a clear answer (e.g. HTTP 500) it is "
                        "retried")
    p.add_argument("--reconcile-interval", default=None,
                   help="skydeckd's periodic resync (default: the daemon's, 60 s), which "
                        "bounds how long an experiment backed off during the fault waits")
    p.add_argument("--p99-bound", type=float, default=None,
                   help="fail when a fault's p99 exceeds this many times the baseline's "
                        "and the baseline + --p99-floor-ms; default: report only")
    p.add_argument("--p99-floor-ms", type=float, default=100,
                   help="with --p99-bound: a p99 below baseline + this is always fine")
    p.add_argument("--rate-bound", type=float, default=50,
                   help="fail when more requests than this reach the backend in any second")
    p.add_argument("--seed", type=int, default=os.environ.get("SKYDECK_CHAOS_SEED") and
                   int(os.environ["SKYDECK_CHAOS_SEED"]), help="default: $SKYDECK_CHAOS_SEED, "
                   "else random (printed)")
    p.add_argument("--build")
    p.add_argument("--no-netns", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json-out")
    return p.parse_args(argv)


def enter_private_netns(argv):
    """Re-executes this script in a new network namespace with only loopback
    up. Returns (only) when that is not possible or already done."""
    if os.environ.get(NETNS_ENV) == "1":
        return True
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return False
    os.environ[NETNS_ENV] = "1"
    script = os.path.abspath(__file__)
    os.execvp("unshare", ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
                          "sh", sys.executable, script] + list(argv))
    return False  # not reached


def tcp_counters():
    """This network namespace's TCP counters (ActiveOpens, AttemptFails...)."""
    with open("/proc/net/snmp") as f:
        lines = [line.split() for line in f if line.startswith("Tcp:")]
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def summarize(samples):
    lat = sorted(samples)
    if not lat:
        return None
    return {"n": len(lat), "p50_ms": round(chaos_env.percentile(lat, 50) * 1000, 2),
            "p99_ms": round(chaos_env.percentile(lat, 99) * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2)}


class Run:
    def __init__(self, args, in_netns):
        self.args = args
        self.in_netns = in_netns
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
        self.rng = random.Random(self.seed)
        print(f"backend_faults: faults={args.faults} fault_seconds={args.fault_seconds} "
              f"seed={self.seed} private_netns={in_netns}", flush=True)
        self.harness, Fake, _ = chaos_env.import_e2e()
        self.tmp = tempfile.mkdtemp(prefix="skydeck-faults-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.db = os.path.join(self.data_dir, "skydeck.db")
        self.fake = Fake(self.tmp)
        self.fake.script("skydeck-", ["PENDING", "STARTING", "RUNNING"])
        extra = ["--backend", "skypilot", "--skypilot-endpoint", self.fake.endpoint]
        if args.reconcile_interval:
            extra += ["--reconcile-interval", args.reconcile_interval]
        if args.launch_settle:
            extra += ["--skypilot-launch-settle", args.launch_settle]
        self.daemon = self.harness.Daemon(self.data_dir, extra, poll_interval=args.poll_interval)
        self.label = f"faults{self.seed}"
        self.phase = "setup"
        self.stop = threading.Event()
        self.latencies = {}   # (phase, rpc) -> [seconds]
        self.api_errors = []
        self.seconds = []     # one record per second
        self.churn_errors = []
        self.violations = []
        self.ids = []
        self.lock = threading.Lock()

    # ----- helpers -----------------------------------------------------------

    def violate(self, text):
        line = f"VIOLATION {text}"
        print(line, flush=True)
        self.violations.append(line)

    def job_rows(self):
        return invariants.jobs(self.db)

    def metrics(self):
        """The daemon's /metrics counters we use, by name{labels}."""
        url = f"http://{self.daemon.http_address}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            text = resp.read().decode()
        out = {}
        for line in text.splitlines():
            m = re.match(r"^(skydeck_(?:reconciles|backend_polls|backend_launches)_total)"
                         r"(\{[^}]*\})? ([0-9.e+-]+)$", line)
            if m:
                out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return out

    # ----- threads -------------------------------------------------------------

    def probe_loop(self):
        """API latency: GetExperiment, ListExperiments, GetHealth in turn."""
        api = chaos_env.Api(self.daemon.address, actor="probe")
        svc = api.svc
        try:
            while not self.stop.is_set():
                for rpc in RPCS:
                    if rpc == "GetExperiment":
                        req = svc.GetExperimentRequest(id=str(self.rng.choice(self.ids)))
                    elif rpc == "ListExperiments":
                        req = svc.ListExperimentsRequest(label_selector=f"chaos={self.label}")
                    else:
                        req = svc.GetHealthRequest()
                    phase = self.phase
                    try:
                        seconds, _ = api.timed(rpc, req, timeout=10)
                    except api.grpc.RpcError as e:
                        self.api_errors.append(f"{phase} {rpc}: {e.code()} {e.details()}")
                        continue
                    with self.lock:
                        self.latencies.setdefault((phase, rpc), []).append(seconds)
                    time.sleep(0.01)
        finally:
            api.close()

    def sample_loop(self):
        """Once a second: requests that reached the fake, TCP connection
        attempts, daemon counters, health, Degraded experiments."""
        api = chaos_env.Api(self.daemon.address, actor="sampler")
        pb = api.pb
        last = None
        try:
            while not self.stop.wait(1.0):
                counters = self.fake.state()["counters"]
                tcp = tcp_counters() if self.in_netns else {}
                metrics = self.metrics()
                health = api.health()
                degraded = sum(1 for e in api.list_all(include_deleted=False)
                               if e.labels.get("chaos") == self.label and
                               any(c.type == "Degraded" and c.status for c in e.conditions))
                now = {"api_requests": counters["api_requests"],
                       "attempt_fails": tcp.get("AttemptFails"),
                       "active_opens": tcp.get("ActiveOpens"),
                       "reconcile_errors": metrics.get(
                           'skydeck_reconciles_total{outcome="error"}', 0),
                       "polls": sum(v for k, v in metrics.items()
                                    if k.startswith("skydeck_backend_polls_total"))}
                if last is not None:
                    rec = {"t": time.monotonic(), "phase": self.phase,
                           "health": pb.Health.Status.Name(health.status),
                           "reachable": health.backend_reachable,
                           "last_poll_error": health.last_poll_error[:120],
                           "last_success_age_s": round(
                               time.time() - health.last_successful_poll_time.ToSeconds(), 1)
                           if health.HasField("last_successful_poll_time") else None,
                           "degraded_experiments": degraded}
                    for k, v in now.items():
                        rec[k] = None if v is None or last[k] is None else v - last[k]
                    self.seconds.append(rec)
                last = now
        except Exception as e:
            self.violate(f"sampler failed: {e!r}")
        finally:
            api.close()

    def churn_loop(self):
        """Starts and stops experiments (and creates one now and then) for
        the whole run, as users would while the backend misbehaves."""
        api = chaos_env.Api(self.daemon.address, actor="churn")
        svc, pb = api.svc, api.pb
        next_create = time.monotonic() + 5
        n = 0
        try:
            while not self.stop.wait(self.rng.uniform(0.3, 1.0)):
                if self.phase.startswith("recover"):
                    continue  # let it converge
                try:
                    if time.monotonic() > next_create:
                        n += 1
                        exp = pb.Experiment(name=f"late-{n}", base_command="python train.py")
                        exp.labels["chaos"] = self.label
                        resp = api.call("CreateExperiment",
                                        svc.CreateExperimentRequest(experiment=exp, start=True))
                        with self.lock:
                            self.ids.append(resp.experiment.id)
                        next_create = time.monotonic() + 5
                        continue
                    target = self.rng.choice(["DESIRED_STATE_RUNNING", "DESIRED_STATE_STOPPED"])
                    api.call("SetDesiredState", svc.SetDesiredStateRequest(
                        id=str(self.rng.choice(self.ids)),
                        desired_state=pb.DesiredState.Value(target), reason="churn"))
                except api.grpc.RpcError as e:
                    self.churn_errors.append(f"{self.phase}: {e.code()} {e.details()}")
        finally:
            api.close()

    # ----- faults ----------------------------------------------------------------

    def fault_on(self, name):
        if name == "down":
            self.fake.call("down")
        elif name == "slow":
            self.fake.call("fault", {"slow_ms": self.args.slow_ms})
        elif name == "http500":
            self.fake.call("fault", {"http500": -1})
        elif name == "garbage":
            self.fake.call("fault", {"malformed": "garbage", "malformed_count": -1,
                                     "malformed_routes": ["/api/get", "/api/health"]})

    def fault_off(self, name):
        if name == "down":
            self.fake.call("up")
        else:
            self.fake.call("fault", {"clear": True})

    # ----- the run -------------------------------------------------------------

    def setup(self):
        self.daemon.start()
        api = chaos_env.Api(self.daemon.address)
        svc, pb = api.svc, api.pb
        for i in range(self.args.experiments):
            exp = pb.Experiment(name=f"f-{i}", base_command="python train.py")
            exp.labels["chaos"] = self.label
            resp = api.call("CreateExperiment",
                            svc.CreateExperimentRequest(experiment=exp, start=i % 2 == 0))
            self.ids.append(resp.experiment.id)
        seconds, pending = convergence.wait_converged(api, self.job_rows, self.label, 60)
        if pending:
            raise AssertionError(f"experiments did not start before the faults: {pending}")
        self.api = api

    def run_phase(self, phase, seconds):
        self.phase = phase
        time.sleep(seconds)

    def recover(self, name):
        """After the fault: health back, every experiment at its desired
        state. Returns (health_s, converge_s)."""
        self.phase = f"recover:{name}"
        started = time.monotonic()
        health_s = None
        deadline = started + self.args.recover_timeout
        while time.monotonic() < deadline:
            h = self.api.health()
            if h.status == self.api.pb.Health.STATUS_SERVING and h.backend_reachable:
                health_s = time.monotonic() - started
                break
            time.sleep(0.1)
        if health_s is None:
            self.violate(f"{name}: health not SERVING {self.args.recover_timeout:.0f} s after "
                         "the fault cleared")
        left = max(5.0, deadline - time.monotonic())
        seconds, pending = convergence.wait_converged(self.api, self.job_rows, self.label, left)
        if pending:
            for p in pending:
                self.violate(f"{name}: not at desired state after the fault cleared: {p}")
        return health_s, (None if seconds is None else time.monotonic() - started)

    def check_launches(self, where):
        rows = self.job_rows()
        state = self.fake.state()
        for p in invariants.fake_launches(state, rows) + \
                invariants.one_live_job_per_experiment(rows):
            self.violate(f"{where}: {p}")
        fake_live = {j["job_name"] for j in state["jobs"] if j["status"] in invariants.FAKE_LIVE}
        db_live = {j["backend_name"] for j in rows if j["ended_at"] is None}
        if fake_live != db_live:
            self.violate(f"{where}: live on SkyPilot only {sorted(fake_live - db_live)}, "
                         f"live in the store only {sorted(db_live - fake_live)}")
        return state["counters"]

    def judge_fault(self, name, baseline_rate):
        """Health, Degraded and request rate during one fault."""
        secs = [s for s in self.seconds if s["phase"] == f"fault:{name}"]
        out = {"samples": len(secs)}
        if not secs:
            self.violate(f"{name}: no samples during the fault")
            return out
        degraded = [s for s in secs if s["health"] == "STATUS_DEGRADED"]
        out["health_degraded_share"] = round(len(degraded) / len(secs), 2)
        first = next((i for i, s in enumerate(secs) if s["health"] == "STATUS_DEGRADED"), None)
        out["health_degraded_after_s"] = None if first is None else first + 1
        out["backend_unreachable_share"] = round(
            sum(1 for s in secs if not s["reachable"]) / len(secs), 2)
        out["degraded_experiments_max"] = max(s["degraded_experiments"] for s in secs)
        ages = [s["last_success_age_s"] for s in secs if s["last_success_age_s"] is not None]
        out["last_successful_poll_age_s_max"] = max(ages) if ages else None
        out["last_poll_error"] = next((s["last_poll_error"] for s in reversed(secs)
                                       if s["last_poll_error"]), "")
        for key in ("api_requests", "attempt_fails", "active_opens", "polls", "reconcile_errors"):
            vals = [s[key] for s in secs if s[key] is not None]
            out[f"{key}_per_s_mean"] = round(sum(vals) / len(vals), 2) if vals else None
            out[f"{key}_per_s_max"] = max(vals) if vals else None
        out["backend_requests_per_s_max"] = (out["attempt_fails_per_s_max"] if name == "down"
                                             else out["api_requests_per_s_max"])
        if name != "slow":
            if not degraded:
                self.violate(f"{name}: health never reported DEGRADED during the fault")
            # Degraded marks an experiment whose reconcile failed on the
            # backend. Garbage from /api/get alone may fail none (launch and
            # cancel POSTs still answer; their results are resolved later),
            # so a short fault can pass without any.
            if out["degraded_experiments_max"] == 0 and out["reconcile_errors_per_s_max"]:
                self.violate(f"{name}: reconciles failed but no experiment showed the "
                             "Degraded condition")
        if name == "down" and out["backend_unreachable_share"] == 0:
            self.violate("down: health never reported the backend unreachable")
        peak = out["backend_requests_per_s_max"]
        if peak is not None and peak > self.args.rate_bound:
            self.violate(f"{name}: {peak} requests reached the backend in one second "
                         f"(bound {self.args.rate_bound})")
        return out

    def latency_report(self, faults):
        report = {}
        with self.lock:
            lat = dict(self.latencies)
        for rpc in RPCS:
            base = summarize(lat.get(("baseline", rpc), []))
            report[rpc] = {"baseline": base}
            for name in faults:
                during = summarize(lat.get((f"fault:{name}", rpc), []))
                entry = {"fault": during}
                if base and during:
                    ratio = during["p99_ms"] / max(base["p99_ms"], 0.001)
                    entry["p99_ratio"] = round(ratio, 2)
                    bound = self.args.p99_bound
                    floor = self.args.p99_floor_ms
                    if bound and during["p99_ms"] > max(base["p99_ms"] * bound,
                                                        base["p99_ms"] + floor):
                        self.violate(f"{name}: {rpc} p99 {during['p99_ms']} ms vs baseline "
                                     f"{base['p99_ms']} ms (bound x{bound} or +{floor} ms)")
                report[rpc][name] = entry
        return report

    def run(self):
        faults = [f for f in self.args.faults.split(",") if f]
        for f in faults:
            if f not in FAULTS:
                raise SystemExit(f"unknown fault {f}; choose from {FAULTS}")
        result = {"seed": self.seed, "private_netns": self.in_netns, "faults": {},
                  "fault_seconds": self.args.fault_seconds,
                  "poll_interval": self.args.poll_interval}
        threads = []
        try:
            self.setup()
            threads = [threading.Thread(target=t, daemon=True)
                       for t in (self.probe_loop, self.sample_loop, self.churn_loop)]
            for t in threads:
                t.start()
            self.run_phase("baseline", self.args.baseline_seconds)
            base = [s for s in self.seconds if s["phase"] == "baseline"]
            result["baseline_api_requests_per_s_mean"] = round(
                sum(s["api_requests"] for s in base) / max(1, len(base)), 2)
            for name in faults:
                print(f"fault {name}: on for {self.args.fault_seconds:.0f} s", flush=True)
                self.fault_on(name)
                try:
                    self.run_phase(f"fault:{name}", self.args.fault_seconds)
                finally:
                    self.fault_off(name)
                health_s, converge_s = self.recover(name)
                counters = self.check_launches(f"after {name}")
                info = self.judge_fault(name, result["baseline_api_requests_per_s_mean"])
                info["health_recovered_s"] = health_s and round(health_s, 2)
                info["converged_s"] = converge_s and round(converge_s, 2)
                result["faults"][name] = info
                print(f"fault {name}: {json.dumps(info, sort_keys=True)}", flush=True)
            self.stop.set()
            for t in threads:
                t.join(timeout=30)
            result["latency"] = self.latency_report(faults)
            counters = self.check_launches("final")
            by_name = counters["launches_by_name"]
            result["launch_calls"] = counters["launch_calls"]
            result["names_launched"] = len(by_name)
            result["names_launched_more_than_once"] = sum(1 for n in by_name.values() if n > 1)
            result["http500_sent"] = counters["http500_sent"]
            result["malformed_sent"] = counters["malformed_sent"]
            if self.api_errors:
                self.violate(f"{len(self.api_errors)} API calls failed: {self.api_errors[:5]}")
            if self.churn_errors:
                self.violate(f"{len(self.churn_errors)} writes failed: {self.churn_errors[:5]}")
            self.api.close()
            if self.daemon.stop() != 0:
                self.violate("skydeckd did not exit 0 on SIGTERM")
        except BaseException as e:
            self.violations.append(f"ERROR {e!r}")
            raise
        finally:
            self.stop.set()
            self.daemon.kill9()
            self.fake.stop()
            if self.violations:
                print(self.daemon.log()[-6000:])
            if self.violations or self.args.keep:
                print(f"kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        result["violations"] = len(self.violations)
        return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    in_netns = False if args.no_netns else enter_private_netns(argv)
    chaos_env.use_build_dir(args.build)
    run = Run(args, in_netns)
    result = run.run()
    text = json.dumps(result, sort_keys=True)
    print("SUMMARY " + text, flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text + "\n")
    if run.violations:
        print(f"backend_faults: {len(run.violations)} violations; seed {run.seed}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
