// The dashboard shows skydeckd's notification sinks and can notify in the
// browser (run by run_notify_test.py, which starts skydeckd with --notify:
// sink team-ok answers 200, team-broken answers 500; their URLs hold the
// secret paths in NOTIFY_SECRETS). A job that fails (`false`) is delivered
// to team-ok and keeps failing at team-broken: the health bar's pill turns
// red naming team-broken, lists both sinks in its title with redacted URLs,
// and no secret is anywhere in the page. Turning browser notifications on
// asks for permission (granted through the browser context, as a user's
// "Allow" would) and a job failing afterwards shows a Notification (spied
// on with an init script); the failure from before the page opened does
// not. Saves notifications.png (web/ui/docs/ keeps a copy).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { apiClient, CHROMIUM, CHROMIUM_FLAGS, loadPlaywright, until, WAIT } from "./browser_kit.mjs";

const BASE = (process.env.SKYDECK_HTTP ?? "").replace(/\/$/, "");
const api = apiClient(BASE);
const SECRETS = (process.env.NOTIFY_SECRETS ?? "").split(",").filter(Boolean);
const SHOTS = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), "skydeck-screenshots");

/** An experiment whose only job fails at once (no restarts). */
function failOnce(name) {
  return api("POST", "/api/experiments", {
    experiment: { name, base_command: "false", max_restarts: 0 },
    start: true,
  });
}

async function sinks() {
  const { health } = await api("GET", "/api/health");
  return Object.fromEntries((health.notify_sinks ?? []).map((s) => [s.name, s]));
}

async function assertNoSecrets(page) {
  const html = await page.content();
  for (const secret of SECRETS) assert.ok(!html.includes(secret), `the page shows the secret ${secret}`);
  assert.ok(!html.includes("/hooks/"), "the page shows a webhook path");
}

// Runs in the page before its scripts: window.Notification becomes a
// subclass that records what is shown and permission requests; a request
// first has the test grant the permission (the user clicking "Allow").
function spyOnNotifications() {
  const Real = window.Notification;
  const spy = { shown: [], requests: 0 };
  window.__notifySpy = spy;
  if (!Real) return;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      spy.shown.push({ title, body: options?.body ?? "", tag: options?.tag ?? "" });
    }
    static get permission() {
      return Real.permission;
    }
    static async requestPermission() {
      spy.requests++;
      await window.__allowNotifications();
      return Real.requestPermission();
    }
  };
}

test("notification sinks in the health bar, browser notifications", { timeout: 300_000 }, async (t) => {
  assert.ok(BASE, "SKYDECK_HTTP must name the dashboard");
  assert.equal(SECRETS.length, 2, "NOTIFY_SECRETS must hold the two sinks' secrets");
  mkdirSync(SHOTS, { recursive: true });

  // A failure before the page opens: delivered to team-ok; team-broken
  // answers 500 three times in a row (1 s and 2 s apart) and is failing.
  await failOnce("fails-early");
  const settled = await until(async () => {
    const s = await sinks();
    return s["team-ok"]?.delivered >= 1 && s["team-broken"]?.failing ? s : null;
  }, "team-ok to deliver and team-broken to be failing");
  assert.equal(Object.keys(settled).length, 2);
  assert.equal(settled["team-ok"].failing, false);

  const browser = await loadPlaywright().chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.exposeBinding("__allowNotifications", () => context.grantPermissions(["notifications"], { origin: BASE }));
  await context.addInitScript(spyOnNotifications);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(BASE + "/");

  // The pill: red, naming the failing sink; its title has one line per
  // sink, URLs redacted to scheme://host:port/….
  const pill = page.locator("[data-testid=notify-sinks]");
  await pill.waitFor();
  assert.match(await pill.getAttribute("class"), /\bbad\b/);
  assert.equal((await pill.textContent()).trim(), "notify failing: team-broken");
  const lines = (await pill.getAttribute("title")).split("\n");
  assert.equal(lines.length, 2, `one title line per sink: ${lines.join(" | ")}`);
  const line = (name) => lines.find((l) => l.startsWith(`${name} (`)) ?? "";
  assert.match(line("team-ok"), /^team-ok \(http:\/\/127\.0\.0\.1:\d+\/…\): \d+ delivered$/);
  assert.match(line("team-broken"), /^team-broken \(http:\/\/127\.0\.0\.1:\d+\/…\): FAILING — .*HTTP 500$/);

  // No secret anywhere in the document (text, attributes, titles).
  await assertNoSecrets(page);

  // Browser notifications: off until clicked; the click asks for permission.
  const toggle = page.locator(".healthbar").getByRole("button", { name: /notifications (on|off)/ });
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  assert.match(await toggle.textContent(), /notifications off/);
  assert.equal(await page.evaluate(() => Notification.permission), "default");
  await toggle.click();
  await until(async () => (await toggle.getAttribute("aria-pressed")) === "true", "the switch to turn on");
  assert.match(await toggle.textContent(), /notifications on/);
  assert.equal(await page.evaluate(() => window.__notifySpy.requests), 1);
  assert.equal(await page.evaluate(() => Notification.permission), "granted");
  assert.deepEqual(await page.evaluate(() => window.__notifySpy.shown), [], "history is not notified");

  // A job failing now, seen live on the Watch stream, is notified.
  await failOnce("fails-live");
  const shown = await until(async () => {
    const all = await page.evaluate(() => window.__notifySpy.shown);
    return all.some((n) => n.title === "SkyDeck · Job failed") ? all : null;
  }, "a browser notification of the failed job");
  const failed = shown.find((n) => n.title === "SkyDeck · Job failed");
  assert.match(failed.body, /^fails-live: /);
  assert.match(failed.tag, /^skydeck-event-\d+$/);
  assert.ok(shown.every((n) => !n.body.startsWith("fails-early")), "only events after the toggle");

  await page.locator('tr[data-name="fails-live"]').waitFor();
  await page.screenshot({ path: path.join(SHOTS, "notifications.png") });
  await assertNoSecrets(page); // nor after the live updates
  assert.deepEqual(errors, []);
});
