// What every browser test here needs: Chromium and its flags, playwright-
// core, a JSON client for the daemon's HTTP API, and a bounded wait.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const WAIT = 20_000; // ms; the longest any single condition may take

/** playwright-core from this folder if installed here, else the dashboard's dev dependencies. */
export function loadPlaywright() {
  for (const from of [path.join(here, "package.json"), path.join(here, "../../web/ui/package.json")]) {
    try {
      return createRequire(from)("playwright-core");
    } catch {
      // try the next place
    }
  }
  throw new Error("playwright-core is not installed: run `npm ci` in web/ui");
}

/**
 * A client of the HTTP API at `defaultBase`: api(method, route, body?,
 * base?) resolves to the answer's JSON and throws on an error status. A
 * string body is sent as it is (JSON.stringify cannot write the float 1.0).
 */
export function apiClient(defaultBase) {
  return async function api(method, route, body, base = defaultBase) {
    const res = await fetch(base + route, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${method} ${route} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Resolves to `await cond()` once it is truthy (checked every 20 ms); fails after WAIT. */
export async function until(cond, what) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
