// File: logic/flagSchemaCheck.ts
//
// One flag value checked against its declared schema with the daemon's own
// rules (CheckValue in common/model/flag_schema.cc), so the inline check says what
// the daemon will say, in the same words:
//
//   int     integers, integral floats (4.0 -> 4), integer text ("4")
//   float   floats, ints (4 -> 4.0), numeric text
//   bool    true/false, in any case and as text, and the ints 0 and 1
//   choice  the value's text must be one of the choices
//   string  the value's text
//   min/max inclusive, for int and float flags
//
//   checkFlagValue({name: "layers", type: "INT"}, {double_value: 4})
//     -> {value: {int_value: "4"}, error: ""}
//   checkFlagValue({name: "layers", type: "INT"}, {string_value: "four"})
//     -> {error: 'flag layers: expected int, got string "four"'}
//
// Only declared schemas check anything: inferred ones are hints for the
// typeahead and never validate (docs/design.md, "Flag schemas"). The daemon
// still has the last word; the editor also asks it (validate_only).

import type { FlagSchema, FlagValue } from "../api/types";
import { flagKind, formatDouble, formatFlagValue } from "./format";

export interface TypedFlag {
  /** The value as the daemon would store it; absent when it would refuse it. */
  value?: FlagValue;
  /** The daemon's reason for refusing; empty when it would accept. */
  error: string;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// Below 2^53 every integer is exactly a double (the daemon's kMaxExactInt).
const MAX_EXACT_INT = 2 ** 53;

export const SCHEMA_TYPE_NAME: Record<string, string> = {
  STRING: "string",
  INT: "int",
  FLOAT: "float",
  BOOL: "bool",
  CHOICE: "choice",
};

/** `float 0.5`, `string "x"`: how the daemon names a value in its messages. */
export function describeFlagValue(v: FlagValue): string {
  const kind = flagKind(v) ?? "string";
  return kind === "string" ? `string "${v.string_value ?? ""}"` : `${kind} ${formatFlagValue(v)}`;
}

// absl::StripAsciiWhitespace
function stripAscii(text: string): string {
  return text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}

function asInt(v: FlagValue): bigint | undefined {
  if (v.int_value !== undefined) return BigInt(v.int_value);
  if (v.double_value !== undefined) {
    const d = Number(v.double_value);
    return Number.isFinite(d) && Math.trunc(d) === d && Math.abs(d) <= MAX_EXACT_INT ? BigInt(d) : undefined;
  }
  if (v.string_value !== undefined) {
    // absl::SimpleAtoi: optional sign, decimal digits, int64 range.
    const t = stripAscii(v.string_value);
    if (!/^[+-]?\d+$/.test(t)) return undefined;
    const n = BigInt(t.startsWith("+") ? t.slice(1) : t);
    return n < INT64_MIN || n > INT64_MAX ? undefined : n;
  }
  return undefined;
}

// C's hexadecimal floats, which absl::SimpleAtod reads too (strtod's
// syntax): 0x10, 0x1.8p1, -0x1p-2.
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

function hexFloat(text: string): number | undefined {
  const m = HEX_FLOAT.exec(text);
  if (!m) return undefined;
  const [, sign, whole, fraction = "", exponent = "0"] = m;
  if (!whole && !fraction) return undefined;
  // The digits as one integer (rounded once, to nearest), scaled by a power
  // of two (exact unless it leaves the double range).
  const mantissa = Number(BigInt(`0x${whole}${fraction}`));
  const d = mantissa * 2 ** (Number(exponent) - 4 * fraction.length);
  return sign === "-" ? -d : d;
}

function asFloat(v: FlagValue): number | undefined {
  if (v.double_value !== undefined) return Number(v.double_value);
  if (v.int_value !== undefined) return Number(v.int_value);
  if (v.string_value !== undefined) {
    // absl::SimpleAtod: decimal or hexadecimal text; the daemon refuses inf
    // and nan.
    const t = stripAscii(v.string_value);
    const d = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : hexFloat(t);
    return d !== undefined && Number.isFinite(d) ? d : undefined;
  }
  return undefined;
}

function asBool(v: FlagValue): boolean | undefined {
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) {
    if (v.int_value === "0" || v.int_value === "1") return v.int_value === "1";
    return undefined;
  }
  if (v.string_value !== undefined) {
    const t = stripAscii(v.string_value).toLowerCase();
    if (t === "true" || t === "false") return t === "true";
  }
  return undefined;
}

/** The daemon's verdict on `value` for a flag declared as `spec`. */
export function checkFlagValue(spec: FlagSchema, value: FlagValue): TypedFlag {
  const type = SCHEMA_TYPE_NAME[spec.type ?? ""];
  if (!type) return { value, error: "" };
  const name = spec.name ?? "";
  const wrongType = (): TypedFlag => ({ error: `flag ${name}: expected ${type}, got ${describeFlagValue(value)}` });
  const inRange = (n: number, normalised: FlagValue): TypedFlag => {
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
      const lo = spec.min !== undefined ? formatDouble(spec.min) : "-inf";
      const hi = spec.max !== undefined ? formatDouble(spec.max) : "inf";
      return { error: `flag ${name}: expected ${type} in [${lo}, ${hi}], got ${describeFlagValue(value)}` };
    }
    return { value: normalised, error: "" };
  };
  switch (type) {
    case "int": {
      const i = asInt(value);
      return i === undefined ? wrongType() : inRange(Number(i), { int_value: i.toString() });
    }
    case "float": {
      const d = asFloat(value);
      return d === undefined ? wrongType() : inRange(d, { double_value: d });
    }
    case "bool": {
      const b = asBool(value);
      return b === undefined ? wrongType() : { value: { bool_value: b }, error: "" };
    }
    case "choice": {
      const text = formatFlagValue(value);
      const choices = spec.choices ?? [];
      if (choices.includes(text)) return { value: { string_value: text }, error: "" };
      return { error: `flag ${name}: expected one of {${choices.join(", ")}}, got ${describeFlagValue(value)}` };
    }
    default:
      return { value: { string_value: formatFlagValue(value) }, error: "" };
  }
}
