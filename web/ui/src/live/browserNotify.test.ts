import { describe, expect, it } from "vitest";
import { BrowserNotifier, type NotifyEnv } from "./browserNotify";

function fakeEnv(permission: string) {
  const shown: { title: string; body?: string; tag?: string }[] = [];
  const store = new Map<string, string>();
  const env: NotifyEnv = {
    Notification: class {
      static permission = permission;
      static async requestPermission() {
        this.permission = "granted";
        return "granted";
      }
      constructor(title: string, options?: { body?: string; tag?: string }) {
        shown.push({ title, ...options });
      }
    },
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
  };
  return { env, shown };
}

describe("BrowserNotifier", () => {
  const failed = { id: "7", type: "JobStatusChanged", reason: "FAILED", message: "job 2: RUNNING -> FAILED" };

  it("shows nothing until permission is granted", async () => {
    const { env, shown } = fakeEnv("default");
    const n = new BrowserNotifier(env);
    expect(n.onEvent(failed, "exp")).toBe(false);
    expect(await n.enable()).toBe(true);
    expect(n.onEvent(failed, "exp")).toBe(true);
    expect(shown).toEqual([{ title: "SkyDeck · Job failed", body: "exp: job 2: RUNNING -> FAILED", tag: "skydeck-event-7" }]);
  });

  it("skips events that are no notification, and stops when turned off", async () => {
    const { env, shown } = fakeEnv("granted");
    const n = new BrowserNotifier(env);
    expect(n.onEvent({ type: "Created" }, "exp")).toBe(false);
    n.disable();
    expect(n.onEvent(failed, "exp")).toBe(false);
    expect(shown).toEqual([]);
  });

  it("is unsupported without the API", async () => {
    const n = new BrowserNotifier({});
    expect(n.supported).toBe(false);
    expect(await n.enable()).toBe(false);
    expect(n.onEvent(failed)).toBe(false);
  });
});
