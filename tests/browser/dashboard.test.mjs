// File: tests/browser/dashboard.test.mjs
//
// Drives the web dashboard in Debian's headless Chromium (playwright-core,
// no downloaded browser) against a real skydeckd with the local backend,
// through every flow a user depends on: create an experiment in the UI,
// start it and watch it go RUNNING -> SUCCEEDED without reloading, read its
// log, edit a flag with typeahead from the flag schemas, declare a schema
// while the page is open and see its types checked inline and by the daemon
// (and its warnings), see the server's error for invalid input, duplicate,
// bulk stop, delete and undo, a bulk action on a filter (sent as the filter),
// the events panel, and the live stream resuming
// after the daemon restarts. Screenshots of the main views go to
// SCREENSHOT_DIR.
//
// Environment (run_dashboard_test.py sets it up around a fresh daemon):
//   SKYDECK_HTTP    dashboard/API base URL, e.g. http://127.0.0.1:8000 (required)
//   SKYDECK         skydeck CLI binary (optional: cross-checks what the UI did)
//   SKYDECK_SERVER  the daemon's gRPC host:port, for the CLI
//   SKYDECK_HTTP_AUTH, SKYDECK_TOKEN  a second daemon that requires this bearer
//                   token (optional: tests the token prompt)
//   SKYDECK_CONTROL the runner's endpoint that stops and starts the daemon
//                   (optional: tests resuming after a restart)
//   SCREENSHOT_DIR  where screenshots go (default: $TMPDIR/skydeck-screenshots)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//
// Every wait is for a condition with a deadline; there are no fixed sleeps.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { apiClient, CHROMIUM, CHROMIUM_FLAGS, loadPlaywright, until, WAIT } from "./browser_kit.mjs";

const BASE = (process.env.SKYDECK_HTTP ?? "").replace(/\/$/, "");
const api = apiClient(BASE);
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), "skydeck-screenshots");
const STEP_TIMEOUT = 90_000;

/** Asks the runner to stop or start the daemon (see run_dashboard_test.py). */
async function control(action, ports = "same") {
  const res = await fetch(`${process.env.SKYDECK_CONTROL}/${action}?ports=${ports}`, { method: "POST" });
  const json = await res.json();
  if (!res.ok) throw new Error(`control ${action} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** `skydeck --server ... args` when a CLI was given; null otherwise. */
function cli(...args) {
  const bin = process.env.SKYDECK;
  if (!bin || !existsSync(bin) || !process.env.SKYDECK_SERVER) return null;
  return execFileSync(bin, ["--server", process.env.SKYDECK_SERVER, ...args], { encoding: "utf8", timeout: 30_000 });
}

const row = (name) => `tr[data-name="${name}"]`;
// ui-hello's command, the one the declared flag schema is for.
const HELLO_COMMAND = "sh -c 'echo hello-from-ui; sleep 3'";
const rowIn = (name, observed) => `${row(name)}[data-observed="${observed}"]`;

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
  // Same-document navigation (the page is never reloaded by the flows).
  const go = (hash) => page.evaluate((h) => (location.hash = h), hash);
  // What the page asks the daemon: Watch (re)connections, full list reads, schema reads.
  const watchUrls = [];
  let listReads = 0;
  let schemaReads = 0;
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname === "/api/watch") watchUrls.push(url);
    if (url.pathname === "/api/experiments" && r.method() === "GET") listReads++;
    if (url.pathname === "/api/flag-schemas" && r.method() === "GET") schemaReads++;
  });
  let schemaReadsAfterFlagSave = 0;

  // Another experiment's flags are what the schema inference learns from:
  // its names must be offered by the typeahead later.
  await api("POST", "/api/experiments", {
    experiment: {
      name: "seed-schema",
      base_command: "sh -c 'echo seed'",
      flags: {
        "trainer.lr": 0.001,
        "trainer.warmup_steps": 100,
        "model.use_amp": true,
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
    await dialog.locator("#new-command").fill(HELLO_COMMAND);
    await dialog.locator("[data-testid=flag-key-input]").fill("trainer.lr");
    await dialog.locator("[data-testid=flag-value-input]").fill("3e-4");
    await dialog.locator("[data-testid=flag-value-input]").press("Enter");
    await dialog.locator('tr[data-flag="trainer.lr"]').waitFor();
    await shot("02-create-form");
    await dialog.locator("[data-testid=create-submit]").click();
    await page.locator("[data-testid=details] h2", { hasText: "ui-hello" }).waitFor();
    await page.waitForSelector(rowIn("ui-hello", "IDLE"));
    const created = (await api("GET", "/api/experiments/ui-hello")).experiment;
    assert.equal(created.flags["trainer.lr"], 0.0003);
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

  await t.test("creates with a template, an env and a secret; shows the task the job ran", { timeout: STEP_TIMEOUT }, async () => {
    await api("POST", "/api/templates", {
      template: { name: "ui-tmpl", yaml: "envs:\n  FROM_TEMPLATE: from-template\nsecrets:\n  UI_TEST_SECRET: null\n" },
    });
    await page.click("[data-testid=new-experiment]");
    const dialog = page.locator("[data-testid=create-dialog]");
    await dialog.waitFor();
    await dialog.locator("#new-name").fill("ui-work");
    await dialog.locator("#new-command").fill(`sh -c 'echo "$FROM_TEMPLATE $UI_ENV \${#UI_TEST_SECRET}"'`);
    await dialog.locator("#new-template").fill("ui-tmpl");
    await dialog.locator("#new-envs").fill("UI_ENV=from-form");
    await dialog.locator("#new-secrets").fill("SKYDECK_AUTH_TOKEN");
    await dialog.locator(".hint.bad-text", { hasText: "reserved" }).waitFor();
    await dialog.locator("#new-secrets").fill("");
    await dialog.locator("[data-testid=start-now]").check();
    await shot("05b-create-workload");
    await dialog.locator("[data-testid=create-submit]").click();
    await page.locator("[data-testid=details] h2", { hasText: "ui-work" }).waitFor();
    await page.waitForSelector(rowIn("ui-work", "SUCCEEDED"), { timeout: 30_000 });
    const created = (await api("GET", "/api/experiments/ui-work")).experiment;
    assert.equal(created.template, "ui-tmpl");
    assert.deepEqual(created.envs, { UI_ENV: "from-form" });
    await page.locator("[data-testid=fact-template]", { hasText: "ui-tmpl v1" }).waitFor();
    await page.click("#tab-logs");
    await page.locator("[data-testid=log]", { hasText: "from-template from-form 9" }).waitFor();
    await page.click("#tab-jobs");
    await page.locator("[data-testid=job-template]", { hasText: "ui-tmpl v1" }).waitFor();
    await page.click("[data-testid=show-task]");
    const task = page.locator("[data-testid=rendered-task]");
    await task.waitFor();
    const text = await task.innerText();
    assert.match(text, /UI_TEST_SECRET: "<redacted>"/);
    assert.match(text, /UI_ENV: "from-form"/);
    assert.ok(!text.includes("ui-s3cr3t"), "the secret's value is shown");
    await shot("05c-job-task");
    // A duplicate carries the workload fields.
    await page.click("[data-testid=details] [data-testid=duplicate]");
    const dup = page.locator("[data-testid=create-dialog]");
    assert.equal(await dup.locator("#new-template").inputValue(), "ui-tmpl");
    assert.equal(await dup.locator("#new-envs").inputValue(), "UI_ENV=from-form");
    await dup.getByRole("button", { name: "Cancel" }).click();
    const id = (await api("GET", "/api/experiments/ui-hello")).experiment.id;
    await go(`#/exp/${id}/flags`);
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
    schemaReadsAfterFlagSave = schemaReads;
    const saved = (await api("GET", "/api/experiments/ui-hello")).experiment;
    assert.equal(saved.flags["trainer.warmup_steps"], 200);
    const viaCli = cli("exp", "get", "ui-hello", "-o", "json");
    if (viaCli !== null) assert.match(viaCli, /trainer\.warmup_steps/);
  });

  await t.test("picks up a flag schema declared while the page is open", { timeout: STEP_TIMEOUT }, async () => {
    const id = (await api("GET", "/api/experiments/ui-hello")).experiment.id;
    // Changed flags make the page re-read the (inferred) schemas a moment later; once that
    // is done, only the schema's own event can bring the declared one in.
    await until(() => schemaReads > schemaReadsAfterFlagSave, "the schema read after the flags were saved");
    const readsBefore = schemaReads;
    await page.click("[data-testid=events-toggle]");
    const panel = page.locator("[data-testid=events-panel]");
    await panel.waitFor();
    await api("POST", "/api/flag-schemas", {
      schema: {
        base_command: HELLO_COMMAND,
        strict: false,
        flags: [
          { name: "model.layers", type: "INT", default_value: 12, description: "Transformer blocks in the model", min: 1, max: 96 },
          { name: "trainer.lr", type: "FLOAT", default_value: 0.001, description: "Peak learning rate" },
          { name: "trainer.warmup_steps", type: "INT", description: "Steps of linear warmup" },
        ],
      },
    });
    // The daemon-wide event arrives live...
    await panel.locator('li.event[data-type="FlagSchemaApplied"]', { hasText: "version 1" }).waitFor();
    await until(() => schemaReads > readsBefore, "the schemas re-read on FlagSchemaApplied");
    await shot("07-schema-event");
    // ...and the typeahead now offers the declared flag: type, default, description.
    await go(`#/exp/${id}/flags`);
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    const key = editor.locator("[data-testid=flag-key-input]");
    await key.click();
    await key.pressSequentially("layers");
    const option = editor.locator('[role=option][data-flag="model.layers"]');
    await option.waitFor();
    await option.locator(".opt-desc", { hasText: "Transformer blocks in the model" }).waitFor();
    assert.equal(await option.locator(".opt-type").innerText(), "int");
    assert.equal(await option.locator(".opt-default").innerText(), "default 12");
    await shot("08-schema-typeahead");
    await key.press("Enter");
    assert.equal(await key.inputValue(), "model.layers");
    // The default is offered as the value.
    await page.waitForFunction(() => document.querySelector("[data-testid=details] [data-testid=flag-value-input]")?.value === "12");
    assert.equal(loads, 1, "the page was reloaded");
  });

  await t.test("checks flag values against the declared schema, inline and by the daemon", { timeout: STEP_TIMEOUT }, async () => {
    const id = (await api("GET", "/api/experiments/ui-hello")).experiment.id;
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    const value = editor.locator("[data-testid=flag-value-input]");
    const wrongType = 'flag model.layers: expected int, got string "four"';
    await value.fill("four");
    // Inline, before anything is sent: the declared type, in the daemon's words.
    await editor.locator("[data-testid=new-flag-error]", { hasText: wrongType }).waitFor();
    await value.press("Enter");
    const layersRow = editor.locator('tr[data-flag="model.layers"]');
    await layersRow.locator("[data-testid=flag-error]", { hasText: wrongType }).waitFor();
    // The daemon's own verdict on the pending change (validate_only), still before saving.
    const verdict = editor.locator("[data-testid=daemon-check]");
    await verdict.locator("[data-testid=daemon-check-message]", { hasText: wrongType }).waitFor();
    await shot("09-flag-type-error");
    // Inline errors are advice: Save sends it, and the daemon's refusal is shown as it said it.
    const refused = page.waitForResponse(
      (r) => r.url().endsWith(`/api/experiments/${id}/flags`) && !JSON.parse(r.request().postData() ?? "{}").validate_only,
    );
    await editor.locator("[data-testid=save-flags]").click();
    const res = await refused;
    assert.equal(res.status(), 400);
    const { message } = await res.json();
    assert.match(message, /flag model\.layers: expected int, got string "four"/);
    await editor.locator("[data-testid=flags-error]", { hasText: message }).waitFor();
    assert.equal((await api("GET", "/api/experiments/ui-hello")).experiment.flags["model.layers"], undefined);

    // Out of range: the bounds are inclusive, [1, 96].
    const layers = layersRow.locator("input[type=text]");
    await layers.fill("200");
    const outOfRange = "flag model.layers: expected int in [1.0, 96.0], got int 200";
    await layersRow.locator("[data-testid=flag-error]", { hasText: outOfRange }).waitFor();
    await verdict.locator("[data-testid=daemon-check-message]", { hasText: outOfRange }).waitFor();
    // An integral float is an int to the daemon; a flag the lenient schema does not know is a warning.
    await layers.fill("4.0");
    await layersRow.locator("[data-testid=flag-error]").waitFor({ state: "detached" });
    await editor.locator("[data-testid=flag-key-input]").fill("extra.note");
    await value.fill("hi");
    await value.press("Enter");
    await editor.locator('tr[data-flag="extra.note"]').waitFor();
    await editor.locator("[data-testid=daemon-check][data-state=accepted]").waitFor();
    await verdict.locator("[data-testid=daemon-check-warning]", { hasText: "unknown flag extra.note" }).waitFor();
    await editor.locator("[data-testid=save-flags]").click();
    // Saved (an earlier save's note may still be showing), with the daemon's warning.
    const warning = page.locator('[data-testid=toasts] .toast[data-kind="warn"]', { hasText: "flag schema warning" });
    await warning.locator(".toast-detail", { hasText: 'unknown flag extra.note (string "hi")' }).waitFor();
    await shot("10-schema-warning-toast");
    await warning.getByRole("button", { name: "Dismiss" }).click();
    const saved = (await api("GET", "/api/experiments/ui-hello")).experiment.flags;
    assert.equal(saved["model.layers"], 4);
    assert.equal(saved["extra.note"], "hi");
  });

  await t.test("stops checking types once the schema is deleted (inferred schemas only suggest)", { timeout: STEP_TIMEOUT }, async () => {
    await api("DELETE", `/api/flag-schemas?base_command=${encodeURIComponent(HELLO_COMMAND)}`);
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    const layersRow = editor.locator('tr[data-flag="model.layers"]');
    await layersRow.locator("input[type=text]").fill("four");
    // The daemon has no schema to check it against any more, and neither has the page:
    // the schema inferred from the flags in use (model.layers: int) never validates.
    await editor.locator("[data-testid=daemon-check][data-state=accepted]").waitFor();
    await layersRow.locator("[data-testid=flag-error]").waitFor({ state: "detached" });
    assert.equal(await layersRow.locator(".type-chip").innerText(), "string");
    await editor.getByRole("button", { name: "Discard" }).click();
    await editor.locator("[data-testid=daemon-check]").waitFor({ state: "detached" });
  });

  await t.test("shows the server's error for an invalid key and an invalid config", { timeout: STEP_TIMEOUT }, async () => {
    const editor = page.locator("[data-testid=details] [data-testid=flags-editor]");
    await editor.locator("[data-testid=flag-key-input]").fill("bad key");
    await editor.locator("[data-testid=flag-value-input]").fill("1");
    await editor.locator("[data-testid=flag-add]").click();
    // Flagged inline before saving...
    await editor.locator('tr[data-flag="bad key"] [data-testid=flag-error]').waitFor();
    await editor.locator("[data-testid=save-flags]").click();
    // ...and the daemon's own words once it refuses (this tail is only in its message).
    await editor.locator("[data-testid=flags-error]", { hasText: "and be at most 128 bytes" }).waitFor();
    await shot("11-server-error");
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
    await shot("12-edit-conflict");
    await page.click("[data-testid=save-config]");
    await toast("Saved ui-hello").waitFor();
    assert.equal((await api("GET", "/api/experiments/ui-hello")).experiment.description, "draft typed in the browser");
    // The reconciler catches up with the new generation; the mark goes away.
    await page.waitForSelector(`${row("ui-hello")} .mark.reconciling`, { state: "detached" });
  });

  await t.test("duplicates an experiment", { timeout: STEP_TIMEOUT }, async () => {
    // An integral float (1.0) reads as a float in the page and stays one in
    // the copy, although JavaScript numbers cannot tell 1.0 from 1.
    await api("POST", "/api/experiments/ui-hello/flags", '{"flags": {"trainer.scale": 1.0}}');
    await page.locator("[data-testid=details] [data-testid=command]", { hasText: "'trainer.scale=1.0'" }).waitFor();
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
    const dupText = await (await fetch(`${BASE}/api/experiments/ui-hello-2`)).text();
    assert.match(dupText, /"trainer\.scale":1\.0[,}]/);
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
    await shot("13-bulk-selection");
    // Deleting experiments with live jobs is refused as a whole (one
    // request, nothing deleted); the daemon's reason names them.
    await bulk.getByRole("button", { name: "Delete", exact: true }).click();
    const refused = toast("Could not delete 2 experiments");
    await refused.locator(".toast-detail", { hasText: "have a live job (long-a, long-b)" }).waitFor();
    await refused.getByRole("button", { name: "Terminate and delete" }).waitFor();
    await refused.getByRole("button", { name: "Dismiss" }).click();
    assert.equal((await api("GET", "/api/experiments/long-a")).experiment.delete_time, undefined);
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
    await shot("14-delete-undo");
    await undo.click();
    await page.waitForSelector(row("long-a"));
    await page.waitForSelector(row("long-b"));
    await toast("Restored 2 experiments").waitFor();
    assert.equal((await api("GET", "/api/experiments/long-a")).experiment.delete_time, undefined);
  });

  await t.test("acts on a filter with one request carrying the filter, not ids", { timeout: STEP_TIMEOUT }, async () => {
    const bodies = [];
    const record = (req) => {
      if (req.method() === "POST" && req.url().endsWith("/api/experiments/state")) bodies.push(req.postDataJSON());
    };
    page.on("request", record);
    try {
      await page.click("[data-testid=bulkbar] >> text=Clear selection");
      await page.fill("input[placeholder^='labels:']", "sweep=ui-long");
      await page.waitForSelector(row("ui-hello"), { state: "detached" });
      await page.check("section.group[data-group='sweep=ui-long'] header input[type=checkbox]");
      const bulk = page.locator("[data-testid=bulkbar]");
      await bulk.locator("[data-testid=bulk-scope]", { hasText: "all that match the filter" }).waitFor();
      await shot("15-bulk-on-filter");
      await bulk.getByRole("button", { name: "Terminate", exact: true }).click();
      await toast("Terminated 2 experiments").waitFor();
      await until(() => bodies.length === 1, "the bulk request");
      assert.deepEqual(bodies[0].filter, { label_selector: "sweep=ui-long" });
      assert.equal(bodies[0].ids, undefined);
      assert.equal(bodies[0].desired_state, "TERMINATED");
      for (const name of ["long-a", "long-b"]) {
        await page.waitForSelector(rowIn(name, "TERMINATED"), { timeout: 30_000 });
        assert.equal((await api("GET", `/api/experiments/${name}`)).experiment.desired_state, "TERMINATED");
      }
      await page.click("[data-testid=bulkbar] >> text=Clear selection");
      await page.fill("input[placeholder^='labels:']", "");
      await page.waitForSelector(row("ui-hello"));
    } finally {
      page.off("request", record);
    }
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
    assert.equal(after.experiments[0].observed_state, "TERMINATED");
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
    await panel.locator('li.event[data-type="FlagSchemaDeleted"]').first().waitFor();
    await shot("15-events");
  });

  await t.test("resumes the live stream after the daemon restarts", {
    timeout: STEP_TIMEOUT,
    skip: !process.env.SKYDECK_CONTROL && "no SKYDECK_CONTROL to restart the daemon with",
  }, async () => {
    // A change the page has seen, so the revision it will resume after is at least this one's.
    const before = (await api("POST", "/api/experiments", { experiment: { name: "before-restart", base_command: "true" } })).experiment;
    await page.waitForSelector(row("before-restart"));
    // Its Created event (the oldest of its events; lists are newest first).
    const seen = Number((await api("GET", `/api/experiments/${before.id}/events`)).events.at(-1).id);
    const connections = watchUrls.length;
    const reads = listReads;

    await control("stop");
    await page.locator("[data-testid=live-status]", { hasText: "reconnecting" }).waitFor();
    await shot("16-reconnecting");
    // Changes the page cannot see when made: the same database, served on other ports.
    const away = `http://${(await control("start", "free")).http}`;
    const made = (await api("POST", "/api/experiments", { experiment: { name: "made-while-away", base_command: "true" } }, away)).experiment;
    await api("PATCH", "/api/experiments/before-restart", { experiment: { description: "changed while away" }, update_mask: "description" }, away);
    const firstMissed = Number((await api("GET", `/api/experiments/${made.id}/events`, undefined, away)).events.at(-1).id);
    await control("stop");
    await control("start", "same");

    // Back where the page expects it: the page reconnects by itself, resumes after the last
    // revision it had, and the missed changes arrive through the stream.
    await page.waitForSelector(row("made-while-away"), { timeout: 30_000 });
    await page.locator("[data-testid=live-status]", { hasText: "live" }).waitFor();
    await go(`#/exp/${before.id}/overview`);
    await page.waitForFunction(() => document.querySelector("#cfg-description")?.value === "changed while away");
    const resumedFrom = watchUrls.slice(connections).map((u) => Number(u.searchParams.get("since_revision")));
    assert.ok(resumedFrom.length >= 1, "the page reconnected");
    assert.ok(
      resumedFrom.every((r) => r >= seen && r < firstMissed),
      `resumed after ${resumedFrom}; had seen ${seen}, first missed ${firstMissed}`,
    );
    assert.equal(listReads, reads, "the page re-read every experiment instead of resuming");
    assert.equal(loads, 1, "the page was reloaded");
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    const viaCli = cli("exp", "get", "made-while-away", "-o", "json");
    if (viaCli !== null) assert.match(viaCli, /made-while-away/);
  });

  await t.test("stars, filters by star and time in state, and reorders by drag (kept by the daemon)", { timeout: STEP_TIMEOUT }, async () => {
    for (const name of ["order-a", "order-b", "order-c"]) {
      await api("POST", "/api/experiments", { experiment: { name, base_command: "true", labels: { sweep: "ui-order" } } });
    }
    // A page of its own: the sort it picks (Order) is remembered per browser.
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
    const p = await ctx.newPage();
    p.setDefaultTimeout(WAIT);
    p.on("pageerror", (err) => pageErrors.push(err.message));
    await p.goto(`${BASE}/`);
    await p.waitForSelector(row("order-c"));
    const before = (await api("GET", "/api/experiments/order-b")).experiment;

    // The star toggle: a mark, not a spec change.
    await p.click(`${row("order-b")} button.star`);
    await p.waitForSelector(`${row("order-b")}[data-starred="true"]`);
    const starred = (await api("GET", "/api/experiments/order-b")).experiment;
    assert.equal(starred.starred, true);
    assert.equal(starred.generation, before.generation);
    await p.click(`${row("long-a")} button.star`);
    await p.waitForSelector(`${row("long-a")}[data-starred="true"]`);

    // The starred filter.
    await p.check("[data-testid=starred-filter]");
    await p.waitForSelector(row("order-a"), { state: "detached" });
    assert.equal(await p.locator(row("order-b")).count(), 1);
    await p.uncheck("[data-testid=starred-filter]");
    await p.waitForSelector(row("order-a"));

    // Time in state: shown per row, and a search word ("idle>0s").
    assert.match(await p.locator(`${row("order-a")} [data-testid=in-state]`).innerText(), /\d+s|\d+m/);
    await p.fill("[data-testid=search]", "idle>0s order-");
    await p.waitForSelector(row("long-a"), { state: "detached" });
    assert.equal(await p.locator(row("order-c")).count(), 1);
    await p.fill("[data-testid=search]", "idle>1d order-");
    await p.waitForSelector(row("order-c"), { state: "detached" });
    await p.fill("[data-testid=search]", "");
    await p.waitForSelector(row("order-c"));

    // Order: sort by it, then drag order-c above order-a.
    await p.click("th.order-col button.sort");
    const group = p.locator('section[data-group="sweep=ui-order"]');
    const names = () => group.locator("tbody tr[data-name]").evaluateAll((rows) => rows.map((r) => r.dataset.name));
    assert.deepEqual(await names(), ["order-a", "order-b", "order-c"]);
    await p.dragAndDrop(`${row("order-c")} .drag-handle`, `${row("order-a")}`, { targetPosition: { x: 40, y: 3 } });
    await p.waitForFunction(
      () =>
        [...document.querySelectorAll('section[data-group="sweep=ui-order"] tbody tr[data-name]')].map((r) => r.dataset.name).join() ===
        "order-c,order-a,order-b",
    );
    assert.deepEqual(await names(), ["order-c", "order-a", "order-b"]);
    // The page shows the move at once; the write follows: poll the daemon for it.
    let a, c;
    for (const deadline = Date.now() + WAIT; ; await new Promise((r) => setTimeout(r, 20))) {
      a = (await api("GET", "/api/experiments/order-a")).experiment;
      c = (await api("GET", "/api/experiments/order-c")).experiment;
      if (c.position < a.position || Date.now() > deadline) break;
    }
    assert.ok(c.position < a.position, `order-c at ${c.position}, order-a at ${a.position}`);
    await p.screenshot({ path: path.join(SHOTS, "20-stars-order-time-in-state.png") });

    // Kept by the daemon: a fresh page shows the same order.
    const fresh = await ctx.newPage();
    fresh.on("pageerror", (err) => pageErrors.push(err.message));
    await fresh.goto(`${BASE}/`);
    await fresh.waitForSelector(row("order-c"));
    const freshNames = await fresh
      .locator('section[data-group="sweep=ui-order"] tbody tr[data-name]')
      .evaluateAll((rows) => rows.map((r) => r.dataset.name));
    assert.deepEqual(freshNames, ["order-c", "order-a", "order-b"]);
    const viaCli = cli("exp", "list", "--starred", "-o", "name");
    if (viaCli !== null) assert.deepEqual(viaCli.trim().split("\n"), ["long-a", "order-b"]);
    await ctx.close();
  });

  await t.test("fits a narrow window in the dark theme", { timeout: STEP_TIMEOUT }, async () => {
    const narrow = await browser.newContext({ viewport: { width: 420, height: 900 }, colorScheme: "dark" });
    const p = await narrow.newPage();
    p.setDefaultTimeout(WAIT);
    p.on("pageerror", (err) => pageErrors.push(err.message));
    await p.goto(`${BASE}/`);
    await p.waitForSelector(row("ui-hello"));
    await p.screenshot({ path: path.join(SHOTS, "17-narrow-dark.png") });
    const id = (await api("GET", "/api/experiments/ui-hello")).experiment.id;
    await p.goto(`${BASE}/#/exp/${id}/logs`);
    await p.locator("[data-testid=log]", { hasText: "hello-from-ui" }).waitFor();
    await p.screenshot({ path: path.join(SHOTS, "18-narrow-dark-log.png") });
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
    await p.screenshot({ path: path.join(SHOTS, "19-token-prompt.png") });
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
