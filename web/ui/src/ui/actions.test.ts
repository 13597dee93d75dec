import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createExperiment, updateExperiment, updateFlags } from "./actions";
import { toasts } from "./toasts";

const WARNING = 'unknown flag extra.note (string "hi") for command "python train.py"';

/** A daemon that accepts every write and reports one lenient-schema warning. */
function acceptWithWarning(): ReturnType<typeof vi.fn> {
  return vi.fn(async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body ?? "{}"));
    const experiment = { id: "7", name: "lr-1", update_time: "2026-01-01T00:00:00Z", ...(body.experiment ?? {}) };
    return new Response(JSON.stringify({ experiment, warnings: [WARNING] }), { status: 200 });
  });
}

describe("writes with flag schema warnings", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.stubGlobal("fetch", acceptWithWarning());
    toasts.list.forEach((t) => toasts.dismiss(t.id));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  const warnToasts = () => toasts.list.filter((t) => t.kind === "warn");

  it.each([
    ["update flags", () => updateFlags("7", { "extra.note": { string_value: "hi" } }, [])],
    ["create", () => createExperiment({ name: "lr-1", base_command: "python train.py" }, false)],
    ["update", () => updateExperiment("7", { base_command: "python train.py" }, ["base_command"])],
  ])("%s shows the daemon's warnings in a warning toast that stays", async (_what, write) => {
    const out = await write();
    expect(out.ok).toBe(true);
    expect(warnToasts()).toHaveLength(1);
    expect(warnToasts()[0]).toMatchObject({ text: "lr-1: 1 flag schema warning", detail: WARNING });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(warnToasts()).toHaveLength(1);
    expect(toasts.list.some((t) => t.kind === "ok")).toBe(false); // the success note faded
  });
});
