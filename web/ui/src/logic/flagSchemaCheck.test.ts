// The same cases as tests/common/model/flag_schema_test.cc (the daemon's
// CheckFlags), so the dashboard's inline check and the daemon agree.
import { describe, expect, it } from "vitest";
import type { FlagSchema, FlagValue } from "../api/types";
import golden from "../../../../tests/golden/flag_schema.json";
import { checkFlagValue } from "./flagSchemaCheck";

const layers: FlagSchema = { name: "model.layers", type: "INT", min: 1, max: 96 };
const lr: FlagSchema = { name: "trainer.lr", type: "FLOAT", min: 0 };
const enabled: FlagSchema = { name: "ppo.enabled", type: "BOOL" };
const optim: FlagSchema = { name: "optim", type: "CHOICE", choices: ["adam", "sgd"] };
const tag: FlagSchema = { name: "run.tag", type: "STRING" };

const ok = (spec: FlagSchema, v: FlagValue) => {
  const r = checkFlagValue(spec, v);
  expect(r.error).toBe("");
  return r.value;
};

describe("checkFlagValue follows the daemon's CheckFlags", () => {
  it("int accepts ints, integer text and integral floats", () => {
    for (const v of [{ int_value: "4" }, { string_value: "4" }, { double_value: 4 }, { string_value: " 4 " }, { string_value: "+4" }]) {
      expect(ok(layers, v)).toEqual({ int_value: "4" });
    }
    for (const v of [{ double_value: 4.5 }, { string_value: "four" }, { bool_value: true }, { string_value: "4.0" }]) {
      expect(checkFlagValue(layers, v).error).toMatch(/^flag model\.layers: expected int, got /);
    }
    expect(checkFlagValue(layers, { string_value: "four" }).error).toBe('flag model.layers: expected int, got string "four"');
    expect(checkFlagValue(layers, { double_value: 4.5 }).error).toBe("flag model.layers: expected int, got float 4.5");
  });

  it("int refuses floats beyond exact integers and text beyond int64", () => {
    const big: FlagSchema = { name: "n", type: "INT" };
    expect(ok(big, { double_value: 2 ** 53 })).toEqual({ int_value: "9007199254740992" });
    expect(checkFlagValue(big, { double_value: 2 ** 54 }).error).toMatch(/expected int/);
    expect(ok(big, { string_value: "9223372036854775807" })).toEqual({ int_value: "9223372036854775807" });
    expect(checkFlagValue(big, { string_value: "9223372036854775808" }).error).toMatch(/expected int/);
  });

  it("float accepts ints and numeric text as doubles", () => {
    expect(ok(lr, { int_value: "4" })).toEqual({ double_value: 4 });
    expect(ok(lr, { string_value: "3e-4" })).toEqual({ double_value: 3e-4 });
    expect(checkFlagValue(lr, { string_value: "fast" }).error).toBe('flag trainer.lr: expected float, got string "fast"');
    expect(checkFlagValue(lr, { bool_value: true }).error).toBe("flag trainer.lr: expected float, got bool true");
    expect(checkFlagValue(lr, { string_value: "inf" }).error).toMatch(/expected float/);
  });

  it("bool accepts true/false in any case and 0/1", () => {
    const cases: [FlagValue, boolean][] = [
      [{ string_value: "true" }, true],
      [{ string_value: "False" }, false],
      [{ string_value: "TRUE" }, true],
      [{ int_value: "1" }, true],
      [{ int_value: "0" }, false],
      [{ bool_value: true }, true],
    ];
    for (const [v, want] of cases) expect(ok(enabled, v)).toEqual({ bool_value: want });
    expect(checkFlagValue(enabled, { string_value: "yes" }).error).toBe('flag ppo.enabled: expected bool, got string "yes"');
    expect(checkFlagValue(enabled, { int_value: "2" }).error).toMatch(/expected bool/);
    expect(checkFlagValue(enabled, { double_value: 1 }).error).toMatch(/expected bool/);
  });

  it("choice accepts only the listed values, compared by text", () => {
    expect(ok(optim, { string_value: "sgd" })).toEqual({ string_value: "sgd" });
    expect(checkFlagValue(optim, { string_value: "adamw" }).error).toBe('flag optim: expected one of {adam, sgd}, got string "adamw"');
    const bits: FlagSchema = { name: "bits", type: "CHOICE", choices: ["8", "16"] };
    expect(ok(bits, { int_value: "16" })).toEqual({ string_value: "16" });
  });

  it("string keeps any scalar as text", () => {
    expect(ok(tag, { int_value: "42" })).toEqual({ string_value: "42" });
    expect(ok(tag, { double_value: 0.5 })).toEqual({ string_value: "0.5" });
  });

  it("ranges are inclusive, for ints and floats", () => {
    expect(ok(layers, { int_value: "96" })).toEqual({ int_value: "96" });
    expect(ok(layers, { int_value: "1" })).toEqual({ int_value: "1" });
    expect(checkFlagValue(layers, { int_value: "97" }).error).toBe("flag model.layers: expected int in [1.0, 96.0], got int 97");
    expect(checkFlagValue(layers, { int_value: "0" }).error).toMatch(/in \[1\.0, 96\.0\]/);
    expect(checkFlagValue(lr, { double_value: -0.1 }).error).toBe("flag trainer.lr: expected float in [0.0, inf], got float -0.1");
    expect(ok(lr, { double_value: 0 })).toEqual({ double_value: 0 });
  });
});

// tests/golden/flag_schema.json: the daemon's CheckFlags
// (tests/common/flag_golden_test.cc) is tested against the same table, and
// it is the API's truth, word for word.
describe("checkFlagValue agrees with the daemon (golden table)", () => {
  it.each(golden.cases)("$spec.type $spec.name: $value", (c) => {
    const got = checkFlagValue(c.spec as FlagSchema, c.value as FlagValue);
    if ("error" in c) {
      expect(got).toEqual({ error: c.error });
    } else {
      expect(got).toEqual({ value: c.stored, error: "" });
    }
  });
});
