// File: tests/browser/dashboard.test.mjs
//
// Drives the web dashboard in Debian's headless Chromium (playwright-core,
// no downloaded browser) against a real skydeckd with the local backend,
// through every flow a user depends on: create an experiment in the UI,
// start it and watch it go RUNNING -> SUCCEEDED without reloading, read its
// log, edit a flag with typeahead from the flag schemas, see the server's
// error for invalid input, duplicate, bulk stop, delete and undo, and the
// events panel. Screenshots of the main views go to SCREENSHOT_DIR.
//
// Environment (run_dashboard_test.py sets it up around a fresh daemon):
//   SKYDECK_HTTP    dashboard/API base URL, e.g. http://127.0.0.1:8000 (required)
//   SKYDECK         skydeck CLI binary (optional: cross-checks what the UI did)
//   SKYDECK_SERVER  the daemon's gRPC host:port, for the CLI
//   SKYDECK_HTTP_AUTH, SKYDECK_TOKEN  a second daemon that requires this bearer
//                   token (optional: tests the token prompt)
//   SCREENSHOT_DIR  where screenshots go (default: $TMPDIR/skydeck-screenshots)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//
// Every wait is for a condition with a deadline; there are no fixed sleeps.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.SKYDECK_HTTP ?? "").replace(/\/$/, "");
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), "skydeck-screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const WAIT = 20_000; // ms; the longest any single condition may take
const STEP_TIMEOUT = 90_000;

/** playwright-core from this folder if installed here, else the dashboard's dev dependencies. */
function loadPlaywright() {
  for (const from of [path.join(here, "package.json"), path.join(here, "../../web/ui/package.json")]) {
    try {
      return createRequire(from)("playwright-core");
    } catch {
      // try the next place
    }
  }
  throw new Error("playwright-core is not installed: run `npm ci` in web/ui");
}

async function api(method, route, body) {
  const res = await fetch(BASE + route, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${route} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** `skydeck --server ... args` when a CLI was given; null otherwise. */
function cli(...args) {
  const bin = process.env.SKYDECK;
  if (!bin || !existsSync(bin) || !process.env.SKYDECK_SERVER) return null;
  return execFileSync(bin, ["--server", process.env.SKYDECK_SERVER, ...args], { encoding: "utf8", timeout: 30_000 });
}

const row = (name) => `tr[data-name="${name}"]`;
const rowIn = (name, observed) => `${row(name)}[data-observed="OBSERVED_STATE_${observed}"]`;

test("dashboard", { timeout: 600_000 }, async (t) => {
  assert.ok(BASE, "SKYDECK_HTTP must name the dashboard, e.g. http://127.0.0.1:8000");
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = loadPlaywright();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  let loads = 0;
  page.on("load", () => loads++);
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const toast = (text) => page.locator("[data-testid=toasts] .toast", { hasText: text });

  // Another experiment's flags are what the schema inference learns from:
  // its names must be offered by the typeahead later.
  await api("POST", "/api/experiments", {
    experiment: {
      name: "seed-schema",
      base_command: "sh -c 'echo seed'",
      flags: {
        "trainer.lr": { double_value: 0.001 },
        "trainer.warmup_steps": { int_value: "100" },
        "model.use_amp": { bool_value: true },
      },
      labels: { sweep: "ui-test" },
    },
  });

  await t.test("loads and goes live", { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(`${BASE}/`);
    await page.locator("[data-testid=live-status]", { hasText: "live" }).waitFor();
    await page.waitForSelector(row("seed-schema"));
    await page.evaluate(() => (window.__sameDocument = true));
    await shot("01-experiments");
  });

  await t.test("creates an experiment from the form", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("[data-testid=new-experiment]");
    const dialog = page.locator("[data-testid=create-dialog]");
    await dialog.waitFor();
    await dialog.locator("#new-name").fill("ui-hello");
    await dialog.locator("#new-labels").fill("sweep=ui-test, owner=browser");
    await dialog.locator("#new-command").fill("sh -c 'echo hello-from-ui; sleep 3'");
    await dialog.locator("[data-testid=flag-key-input]").fill("trainer.lr");
    await dialog.locator("[data-testid=flag-value-input]").fill("3e-4");
    await dialog.locator("[data-testid=flag-value-input]").press("Enter");
    await dialog.locator('tr[data-flag="trainer.lr"]').waitFor();
    await shot("02-create-form");
    await dialog.locator("[data-testid=create-submit]").click();
    await page.locator("[data-testid=details] h2", { hasText: "ui-hello" }).waitFor();
    await page.waitForSelector(rowIn("ui-hello", "IDLE"));
    const created = (await api("GET", "/api/experiments/ui-hello")).experiment;
    assert.deepEqual(created.flags["trainer.lr"], { double_value: 0.0003 });
    assert.equal(created.labels.owner, "browser");
  });

  await t.test("starts it and sees RUNNING then SUCCEEDED without reloading", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("[data-testid=details] [data-testid=start]");
    await toast("Started ui-hello").waitFor();
    await page.waitForSelector(rowIn("ui-hello", "RUNNING"));
    await page.locator(`${row("ui-hello")} td.job .badge`, { hasText: "running" }).waitFor();
    await shot("03-running");
    await page.waitForSelector(rowIn("ui-hello", "SUCCEEDED"), { timeout: 30_000 });
    await page.locator(`${row("ui-hello")} td.job .badge`, { hasText: "succeeded" }).waitFor();
    assert.equal(loads, 1, "the page was reloaded");
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
  });

  await t.test("reads the job's log", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("#tab-logs");
    await page.locator("[data-testid=log]", { hasText: "hello-from-ui" }).waitFor();
    await page.locator("[data-testid=log-status]", { hasText: "end of log" }).waitFor();
    await shot("04-log");
    await page.click("#tab-jobs");
    await page.locator("table.jobs tbody tr", { hasText: "succeeded" }).waitFor();
    await shot("05-jobs");
  });

  await t.test("edits a flag with typeahead from the flag schemas", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("#tab-flags");
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    const key = editor.locator("[data-testid=flag-key-input]");
    await key.click();
    await key.pressSequentially("warm");
    const option = editor.locator('[role=option][data-flag="trainer.warmup_steps"]');
    await option.waitFor();
    assert.match(await option.innerText(), /int/);
    await shot("06-flag-typeahead");
    await key.press("Enter");
    assert.equal(await key.inputValue(), "trainer.warmup_steps");
    const value = editor.locator("[data-testid=flag-value-input]");
    await value.fill("200");
    await value.press("Enter");
    await editor.locator('tr[data-flag="trainer.warmup_steps"]').waitFor();
    await editor.locator("[data-testid=save-flags]").click();
    await page.locator("[data-testid=details] [data-testid=command]", { hasText: "'trainer.warmup_steps=200'" }).waitFor();
    const saved = (await api("GET", "/api/experiments/ui-hello")).experiment;
    assert.deepEqual(saved.flags["trainer.warmup_steps"], { int_value: "200" });
    const viaCli = cli("exp", "get", "ui-hello", "-o", "json");
    if (viaCli !== null) assert.match(viaCli, /trainer\.warmup_steps/);
  });

  await t.test("shows the server's error for invalid input", { timeout: STEP_TIMEOUT }, async () => {
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    await editor.locator("[data-testid=flag-key-input]").fill("bad key");
    await editor.locator("[data-testid=flag-value-input]").fill("1");
    await editor.locator("[data-testid=flag-add]").click();
    // Flagged inline before saving...
    await editor.locator('tr[data-flag="bad key"] [data-testid=flag-error]').waitFor();
    await editor.locator("[data-testid=save-flags]").click();
    // ...and the daemon's own words once it refuses (this tail is only in its message).
    await editor.locator("[data-testid=flags-error]", { hasText: "and be at most 128 bytes" }).waitFor();
    await shot("07-server-error");
    await editor.getByRole("button", { name: "Discard" }).click();

    await page.click("#tab-overview");
    await page.fill("#cfg-nodes", "0");
    await page.click("[data-testid=save-config]");
    await page.locator("[data-testid=config-error]", { hasText: "nodes: must be between 1 and 512" }).waitFor();
    await page.locator("form.config").getByRole("button", { name: "Discard" }).click();
    assert.equal((await api("GET", "/api/experiments/ui-hello")).experiment.nodes, 1);
  });

  await t.test("keeps an edit in progress when the experiment changes elsewhere", { timeout: STEP_TIMEOUT }, async () => {
    await page.fill("#cfg-description", "draft typed in the browser");
    await api("PATCH", "/api/experiments/ui-hello", {
      experiment: { description: "changed by someone else", max_restarts: 5 },
      update_mask: "description,max_restarts",
    });
    // The untouched field follows the live update; the touched one keeps the draft.
    await page.waitForFunction(() => document.querySelector("#cfg-max_restarts")?.value === "5");
    assert.equal(await page.inputValue("#cfg-description"), "draft typed in the browser");
    await page.locator("form.config .hint", { hasText: "Changed elsewhere to “changed by someone else”" }).waitFor();
    await shot("08-edit-conflict");
    await page.click("[data-testid=save-config]");
    await toast("Saved ui-hello").waitFor();
    assert.equal((await api("GET", "/api/experiments/ui-hello")).experiment.description, "draft typed in the browser");
    // The reconciler catches up with the new generation; the mark goes away.
    await page.waitForSelector(`${row("ui-hello")} .mark.reconciling`, { state: "detached" });
  });

  await t.test("duplicates an experiment", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("[data-testid=details] [data-testid=duplicate]");
    const dialog = page.locator("[data-testid=create-dialog]");
    await dialog.waitFor();
    assert.equal(await dialog.locator("#new-name").inputValue(), "ui-hello-2");
    await dialog.locator("[data-testid=create-submit]").click();
    await page.waitForSelector(row("ui-hello-2"));
    const [orig, dup] = await Promise.all(
      ["ui-hello", "ui-hello-2"].map(async (n) => (await api("GET", `/api/experiments/${n}`)).experiment),
    );
    assert.equal(dup.base_command, orig.base_command);
    assert.deepEqual(dup.flags, orig.flags);
    assert.deepEqual(dup.labels, orig.labels);
    assert.notEqual(dup.id, orig.id);
  });

  await t.test("stops several experiments at once", { timeout: STEP_TIMEOUT }, async () => {
    for (const name of ["long-a", "long-b"]) {
      await api("POST", "/api/experiments", {
        experiment: { name, base_command: "sleep 300", labels: { sweep: "ui-long" } },
        start: true,
      });
    }
    await page.click("[data-testid=details] button[aria-label='Close details']");
    await page.waitForSelector(rowIn("long-a", "RUNNING"));
    await page.waitForSelector(rowIn("long-b", "RUNNING"));
    await page.check(`${row("long-a")} td.sel input`);
    await page.check(`${row("long-b")} td.sel input`);
    const bulk = page.locator("[data-testid=bulkbar]");
    await bulk.locator("b", { hasText: "2 selected" }).waitFor();
    await shot("09-bulk-selection");
    // Deleting experiments with live jobs is refused; the daemon's reason is shown.
    await bulk.getByRole("button", { name: "Delete", exact: true }).click();
    for (const name of ["long-a", "long-b"]) {
      const refused = toast(`Could not delete ${name}`);
      await refused.locator(".toast-detail", { hasText: "has a live job" }).waitFor();
      await refused.getByRole("button", { name: "Terminate and delete" }).waitFor();
      await refused.getByRole("button", { name: "Dismiss" }).click();
    }
    await bulk.getByRole("button", { name: "Stop", exact: true }).click();
    await toast("Stopped 2 experiments").waitFor();
    await page.waitForSelector(rowIn("long-a", "STOPPED"), { timeout: 30_000 });
    await page.waitForSelector(rowIn("long-b", "STOPPED"), { timeout: 30_000 });
  });

  await t.test("deletes and undoes", { timeout: STEP_TIMEOUT }, async () => {
    const bulk = page.locator("[data-testid=bulkbar]");
    await bulk.getByRole("button", { name: "Delete", exact: true }).click();
    const undo = toast("Deleted 2 experiments").getByRole("button", { name: "Undo" });
    await undo.waitFor();
    await page.waitForSelector(row("long-a"), { state: "detached" });
    await page.waitForSelector(row("long-b"), { state: "detached" });
    await shot("10-delete-undo");
    await undo.click();
    await page.waitForSelector(row("long-a"));
    await page.waitForSelector(row("long-b"));
    await toast("Restored 2 experiments").waitFor();
    assert.equal((await api("GET", "/api/experiments/long-a")).experiment.delete_time, undefined);
  });

  await t.test("terminates and deletes a running experiment on request", { timeout: STEP_TIMEOUT }, async () => {
    const { experiment } = await api("POST", "/api/experiments", {
      experiment: { name: "long-c", base_command: "sleep 300" },
      start: true,
    });
    await page.waitForSelector(rowIn("long-c", "RUNNING"));
    await page.goto(`${BASE}/#/exp/${experiment.id}/overview`);
    await page.click("[data-testid=details] [data-testid=delete]");
    const refused = toast("Could not delete long-c");
    await refused.getByRole("button", { name: "Terminate and delete" }).click();
    await page.waitForSelector(row("long-c"), { state: "detached", timeout: 30_000 });
    await toast("Deleted long-c").getByRole("button", { name: "Undo" }).waitFor();
    const after = await api("GET", `/api/experiments?include_deleted=true&name_contains=long-c`);
    assert.ok(after.experiments[0].delete_time, "long-c is archived");
    assert.equal(after.experiments[0].observed_state, "OBSERVED_STATE_TERMINATED");
  });

  await t.test("finds experiments from the keyboard", { timeout: STEP_TIMEOUT }, async () => {
    await page.locator("body").press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "search");
    await page.keyboard.type("long");
    await page.waitForSelector(row("ui-hello"), { state: "detached" });
    await page.waitForSelector(row("long-a"));
    await page.fill("[data-testid=search]", "");
    await page.waitForSelector(row("ui-hello"));
  });

  await t.test("shows recent operations in the events panel", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("[data-testid=events-toggle]");
    const panel = page.locator("[data-testid=events-panel]");
    await panel.locator('li.event[data-type="Undeleted"]').first().waitFor();
    await panel.locator('li.event[data-type="Deleted"]').first().waitFor();
    await shot("11-events");
  });

  await t.test("fits a narrow window in the dark theme", { timeout: STEP_TIMEOUT }, async () => {
    const narrow = await browser.newContext({ viewport: { width: 420, height: 900 }, colorScheme: "dark" });
    const p = await narrow.newPage();
    p.setDefaultTimeout(WAIT);
    p.on("pageerror", (err) => pageErrors.push(err.message));
    await p.goto(`${BASE}/`);
    await p.waitForSelector(row("ui-hello"));
    await p.screenshot({ path: path.join(SHOTS, "12-narrow-dark.png") });
    const id = (await api("GET", "/api/experiments/ui-hello")).experiment.id;
    await p.goto(`${BASE}/#/exp/${id}/logs`);
    await p.locator("[data-testid=log]", { hasText: "hello-from-ui" }).waitFor();
    await p.screenshot({ path: path.join(SHOTS, "13-narrow-dark-log.png") });
    await narrow.close();
  });

  await t.test("asks for the access token when the daemon requires one", {
    timeout: STEP_TIMEOUT,
    skip: !process.env.SKYDECK_HTTP_AUTH && "no SKYDECK_HTTP_AUTH daemon",
  }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    const p = await ctx.newPage();
    p.setDefaultTimeout(WAIT);
    p.on("pageerror", (err) => pageErrors.push(err.message));
    await p.goto(`${process.env.SKYDECK_HTTP_AUTH}/`);
    await p.locator("#token-input").waitFor();
    await p.screenshot({ path: path.join(SHOTS, "14-token-prompt.png") });
    await p.fill("#token-input", process.env.SKYDECK_TOKEN);
    await p.getByRole("button", { name: "Use token" }).click();
    await p.locator("[data-testid=live-status]", { hasText: "live" }).waitFor();
    // Remembered: a reload goes straight in.
    await p.reload();
    await p.locator("[data-testid=live-status]", { hasText: "live" }).waitFor();
    assert.equal(await p.locator("#token-input").count(), 0);
    await ctx.close();
  });

  assert.deepEqual(pageErrors, [], "uncaught errors in the page");
});
