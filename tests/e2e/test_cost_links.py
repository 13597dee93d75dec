"""GPU-hours, cost and links on a real skydeckd with the local backend: a
price table (--prices) puts a cost on the GPU-hours of finished and running
jobs, `skydeck cost` totals them per experiment and label value (running
jobs accrue), /metrics counts them; link templates (--link) and an
experiment's own link show in `exp describe`, `job get` and the API; bad
templates and price files stop the daemon at start-up."""

import os
import subprocess
import tempfile
import time
import unittest

import harness
from test_http_bridge import Http

PRICES = "gpu_type,on_demand,spot\nH100,2.0,0.5\n"
LINKS = ("--link", "W&B=https://wandb.ai/org/proj/runs/{run_name}",
         "--link", "Job page=http://jobs.test/{experiment_name}/{job_id}?lr={flag.lr}")


def price_file(directory, text=PRICES):
    path = os.path.join(directory, "prices.csv")
    with open(path, "w") as f:
        f.write(text)
    return path


class CostLinksTest(harness.E2ETestCase):

    def setUp(self):
        self.prices_dir = tempfile.mkdtemp(prefix="skydeck-prices-")
        self.daemon_args = ("--prices", price_file(self.prices_dir)) + LINKS
        super().setUp()

    def tearDown(self):
        super().tearDown()
        harness.shutil.rmtree(self.prices_dir, ignore_errors=True)

    def jobs(self, ref):
        return self.cli_json("exp", "jobs", ref)["jobs"]

    def finished(self, ref):
        return self.wait_experiment(
            ref, lambda e: e.get("observed_state") == "OBSERVED_STATE_SUCCEEDED", timeout=60)

    def test_cost_totals_and_live_accrual(self):
        self.cli("exp", "create", "a", "--cmd", "sleep 0.3", "--nodes", "2", "--gpus", "4",
                 "--gpu-type", "H100", "--label", "sweep=lr", "--start")
        self.cli("exp", "create", "c", "--cmd", "sleep 0.2", "--gpus", "1", "--gpu-type", "L4",
                 "--label", "sweep=other", "--start")
        self.finished("a")
        self.finished("c")
        [job_a] = self.jobs("a")
        [job_c] = self.jobs("c")
        self.assertGreater(job_a["gpu_hours"], 0)
        self.assertAlmostEqual(job_a["cost"], job_a["gpu_hours"] * 2.0, places=9)
        self.assertNotIn("cost", job_c)  # L4 has no price

        total = self.cli_json("cost")
        self.assertTrue(total["has_prices"])
        self.assertEqual(total["total"]["job_count"], 2)
        self.assertAlmostEqual(total["total"]["gpu_hours"],
                               job_a["gpu_hours"] + job_c["gpu_hours"], places=9)
        self.assertAlmostEqual(total["total"]["cost"], job_a["cost"], places=9)
        self.assertAlmostEqual(total["total"]["unpriced_gpu_hours"], job_c["gpu_hours"], places=9)

        by_sweep = self.cli_json("cost", "--by", "sweep")
        self.assertEqual([l["key"] for l in by_sweep["lines"]], ["lr", "other"])
        only_lr = self.cli_json("cost", "-l", "sweep=lr")
        self.assertEqual(only_lr["total"]["job_count"], 1)
        table = self.cli("cost", "--by", "sweep").stdout
        self.assertIn("SWEEP", table)
        self.assertIn("TOTAL", table)
        self.assertIn(f"${job_a['cost']:.2f}", table)

        # A running job accrues: its GPU-hours grow between two reads.
        self.cli("exp", "create", "b", "--cmd", "sleep 300", "--gpus", "2", "--gpu-type", "h100",
                 "--spot", "--label", "sweep=lr", "--start")
        self.wait_experiment("b", lambda e: e.get("observed_state") == "OBSERVED_STATE_RUNNING")

        def line_b():
            lines = self.cli_json("cost", "--by", "experiment")["lines"]
            return next((l for l in lines if l["key"] == "b" and l.get("gpu_hours", 0) > 0), None)

        first = harness.wait_for(line_b, what="b to accrue GPU-hours")
        self.assertEqual(first["live_job_count"], 1)
        self.assertAlmostEqual(first["cost"], first["gpu_hours"] * 0.5, places=6)  # spot price
        harness.wait_for(lambda: line_b()["gpu_hours"] > first["gpu_hours"],
                         what="b's GPU-hours to grow")

        # A window after everything ended counts only the running job.
        recent = self.cli_json("cost", "--since", "1s")
        self.assertEqual(recent["total"]["live_job_count"], 1)
        self.assertEqual(self.cli("cost", "--since", "soon", expect=2).returncode, 2)
        # The same window over HTTP: `since` as an RFC 3339 time in the query.
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        status, window, _ = Http(self.daemon.http_address).request("GET", f"/api/cost?since={since}")
        self.assertEqual(status, 200)
        self.assertEqual(window["total"]["live_job_count"], 1)
        status, _, _ = Http(self.daemon.http_address).request("GET", "/api/cost?since=last-week")
        self.assertEqual(status, 400)

        metrics = Http(self.daemon.http_address).request("GET", "/metrics")[1]
        text = metrics.decode() if isinstance(metrics, bytes) else str(metrics)
        self.assertIn('skydeck_gpu_hours_total{gpu_type="H100",spot="false"}', text)
        self.assertIn('skydeck_gpu_hours_total{gpu_type="L4",spot="false"}', text)
        self.assertIn('skydeck_gpu_cost_dollars_total{gpu_type="H100",spot="true"}', text)
        self.assertNotIn('skydeck_gpu_cost_dollars_total{gpu_type="L4"', text)
        self.cli("exp", "stop", "b")

    def test_links_in_describe_job_get_and_api(self):
        self.cli("exp", "create", "lr-1", "--cmd", "true", "--flag", "lr=0.1",
                 "--run-name", "run one", "--link", "https://wandb.ai/o/p/runs/abc", "--start")
        self.finished("lr-1")
        [job] = self.jobs("lr-1")
        described = self.cli("exp", "describe", "lr-1").stdout
        self.assertIn("link: https://wandb.ai/o/p/runs/abc", described)
        self.assertIn("W&B: https://wandb.ai/org/proj/runs/run%20one", described)
        job_page = f"http://jobs.test/lr-1/{job['id']}?lr=0.1"
        self.assertIn(f"Job page: {job_page}", described)
        shown = self.cli("job", "get", str(job["id"])).stdout
        self.assertIn(f"Job page: {job_page}", shown)
        self.assertIn("GPU-hours", shown)
        api = self.cli_json("exp", "get", "lr-1")
        self.assertEqual(api["link"], "https://wandb.ai/o/p/runs/abc")
        self.assertEqual([l["name"] for l in api["links"]], ["link", "W&B", "Job page"])
        self.assertIn({"name": "Job page", "url": job_page}, self.jobs("lr-1")[0]["links"])

        # The seed's clients call the link wandb_link over HTTP.
        http = Http(self.daemon.http_address)
        http.ok("PATCH", "/api/experiments/lr-1",
                {"experiment": {"wandb_link": "https://wandb.ai/o/p/runs/def"},
                 "update_mask": "link"})
        self.assertEqual(self.cli_json("exp", "get", "lr-1")["link"],
                         "https://wandb.ai/o/p/runs/def")
        # Validated as an http(s) URL; '' removes it.
        refused = self.cli("exp", "update", "lr-1", "--link", "javascript:alert(1)", expect=1)
        self.assertIn("http", refused.stderr)
        self.cli("exp", "update", "lr-1", "--link", "")
        self.assertNotIn("link", self.cli_json("exp", "get", "lr-1"))


class StartupChecksTest(unittest.TestCase):

    def start(self, *args):
        tmp = tempfile.mkdtemp(prefix="skydeck-e2e-")
        try:
            return subprocess.run(
                [harness.SKYDECKD, "--grpc-port", "0", "--port", "0", "--data-dir", tmp,
                 "--backend", "local"] + list(args),
                capture_output=True, text=True, timeout=30)
        finally:
            harness.shutil.rmtree(tmp, ignore_errors=True)

    def test_bad_link_template_stops_startup(self):
        proc = self.start("--link", "W&B=https://wandb.ai/{runname}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown placeholder {runname}", proc.stderr)

    def test_bad_price_file_stops_startup(self):
        tmp = tempfile.mkdtemp(prefix="skydeck-prices-")
        try:
            path = price_file(tmp, "gpu_type,on_demand,spot\nH100,lots,1\n")
            proc = self.start("--prices", path)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn("prices.csv:2", proc.stderr + proc.stdout)
        finally:
            harness.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
