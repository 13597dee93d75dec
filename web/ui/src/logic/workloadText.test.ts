import { describe, expect, it } from "vitest";
import { codeLabel, envNameProblem, formatEnvs, parseEnvs, parseSecretNames, snapshotLabel, templateLabel } from "./workloadText";

describe("workload text", () => {
  it("reads envs one per line, values with commas kept", () => {
    expect(parseEnvs("WANDB_PROJECT=llm\n\n  TAGS=a, b=c \n")).toEqual({ envs: { WANDB_PROJECT: "llm", TAGS: "a, b=c" }, errors: [] });
    expect(parseEnvs("novalue\n1X=2\nSKYDECK_JOB=1\nA=1\nA=2").errors).toEqual([
      '"novalue" is not NAME=value',
      '"1X" must match [A-Za-z_][A-Za-z0-9_]*',
      "SKYDECK_JOB is reserved (set by SkyDeck or SkyPilot)",
      "A given twice",
    ]);
    expect(formatEnvs({ B: "2", A: "1" })).toBe("A=1\nB=2");
  });
  it("reads secret names separated by commas or spaces", () => {
    expect(parseSecretNames("WANDB_API_KEY, HF_TOKEN  X")).toEqual({ names: ["WANDB_API_KEY", "HF_TOKEN", "X"], errors: [] });
    expect(parseSecretNames("SKYDECK_AUTH_TOKEN").errors).toHaveLength(1);
    expect(envNameProblem("SKYPILOT_DOCKER_PASSWORD")).toBe("");
  });
  it("labels template versions and commits", () => {
    expect(templateLabel("h100", "3")).toBe("h100 v3");
    expect(templateLabel("", "3")).toBe("");
    expect(codeLabel("3f2a9c1e4b5d", true)).toBe("3f2a9c1 (dirty)");
    expect(codeLabel(undefined, true)).toBe("");
  });
  it("labels code snapshots with the commit they were taken at", () => {
    const id = "9f3c1a2b4c5d" + "0".repeat(52);
    expect(snapshotLabel(id, "3f2a9c1e4b5d", true)).toBe("snapshot 9f3c1a2b4c5d @ 3f2a9c1 (dirty)");
    expect(snapshotLabel(id, "", false)).toBe("snapshot 9f3c1a2b4c5d");
    expect(snapshotLabel("", "3f2a9c1e4b5d", false)).toBe("3f2a9c1");
    expect(snapshotLabel(undefined, undefined, undefined)).toBe("");
  });
});
