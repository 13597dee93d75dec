// The dashboard shows cost and links (run by run_cost_links_test.py, which
// starts skydeckd with --prices "H100,2.50,1.00" and two --link templates):
// the experiment table's cost column and the top bar's total match the
// daemon's GetCost; the details panel has the experiment's own link and the
// templates' as buttons; the job history shows each job's GPU-hours, cost
// and links. Saves cost-table.png and cost-links.png (web/ui/docs/ keeps
// copies).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { apiClient, CHROMIUM, CHROMIUM_FLAGS, loadPlaywright, until, WAIT } from "./browser_kit.mjs";

const BASE = (process.env.SKYDECK_HTTP ?? "").replace(/\/$/, "");
const api = apiClient(BASE);
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), "skydeck-screenshots");

function create(name, fields) {
  return api("POST", "/api/experiments", {
    experiment: { name, nodes: 1, gpus: 8, gpu_type: "H100", ...fields },
    start: true,
  });
}

test("cost column, total and link buttons", { timeout: 300_000 }, async (t) => {
  assert.ok(BASE, "SKYDECK_HTTP must name the dashboard");
  mkdirSync(SHOTS, { recursive: true });
  // Two finished runs and one still running, so the column shows
  // settled and accruing costs.
  await create("llama-lr-1e-4", { base_command: "sleep 0.5", labels: { sweep: "lr" }, run_name: "llama lr=1e-4", wandb_link: "https://wandb.ai/acme/llm/runs/abc123" });
  await create("llama-lr-3e-4", { base_command: "sleep 0.8", labels: { sweep: "lr" }, spot: true });
  await create("llama-long", { base_command: "sleep 600", labels: { sweep: "long" }, nodes: 2 });
  const done = (name) => async () => (await api("GET", `/api/experiments/${name}`)).experiment.observed_state === "SUCCEEDED";
  await until(done("llama-lr-1e-4"), "llama-lr-1e-4 to finish");
  await until(done("llama-lr-3e-4"), "llama-lr-3e-4 to finish");
  await until(async () => (await api("GET", "/api/experiments/llama-long")).experiment.observed_state === "RUNNING", "llama-long to run");

  const browser = await loadPlaywright().chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(BASE + "/");

  // The cost column: each row's cost as the daemon adds it up.
  const costs = await api("GET", "/api/cost?group_by=experiment");
  const line = (name) => costs.lines.find((l) => l.key === name);
  const first = line("llama-lr-1e-4");
  assert.ok(first && first.cost > 0, "GetCost prices the finished H100 run");
  const cell = page.locator('tr[data-name="llama-lr-1e-4"] [data-testid=cost-cell]');
  await cell.waitFor();
  assert.equal((await cell.textContent()).trim(), `$${first.cost.toFixed(2)}`);
  const spotCell = page.locator('tr[data-name="llama-lr-3e-4"] [data-testid=cost-cell]');
  assert.match(await spotCell.textContent(), /^\$\d+\.\d\d$/);
  assert.match(await page.locator('tr[data-name="llama-long"] [data-testid=cost-cell]').textContent(), /^\$\d+\.\d\d$/);
  assert.match(await page.locator("[data-testid=cost-total]").textContent(), /Total\s*\$\d+\.\d\d/);
  await page.screenshot({ path: path.join(SHOTS, "cost-table.png") });

  // The details panel: the experiment's own link, then the templates'.
  await page.locator('tr[data-name="llama-lr-1e-4"] a.exp-link').click();
  const links = page.locator("[data-testid=details] .actions [data-testid=links] a");
  await until(async () => (await links.count()) === 3, "three experiment links");
  const hrefs = await links.evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute("href"), a.getAttribute("target"), a.getAttribute("rel")]));
  assert.deepEqual(hrefs[0], ["link ↗", "https://wandb.ai/acme/llm/runs/abc123", "_blank", "noopener noreferrer"]);
  assert.deepEqual(hrefs[1].slice(0, 2), ["W&B ↗", "https://wandb.ai/acme/llm/runs/llama%20lr%3D1e-4"]);
  assert.match(hrefs[2][1], /^https:\/\/grafana\.example\/d\/gpu\?var-job=[\w-]+$/); // local: the job name

  // The jobs tab: GPU-hours, cost and the job's links.
  await page.locator("#tab-jobs").click();
  const jobCost = page.locator("[data-testid=job-cost]").first();
  await jobCost.waitFor();
  assert.match(await jobCost.textContent(), /GPU-h · \$\d+\.\d\d/);
  const jobLinks = page.locator("table.jobs [data-testid=links] a");
  assert.deepEqual(await jobLinks.evaluateAll((as) => as.map((a) => a.textContent.trim())), ["W&B ↗", "Grafana ↗"]);
  await page.screenshot({ path: path.join(SHOTS, "cost-links.png") });
  assert.deepEqual(errors, []);
  await api("POST", "/api/experiments/llama-long/state", { desired_state: "DESIRED_STATE_STOPPED" });
});
