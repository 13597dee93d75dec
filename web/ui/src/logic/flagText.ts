// File: logic/flagText.ts
//
// Flag text typed the way the CLI types it (common/model/flag_value.h), so a value
// entered in the dashboard means what it would mean on the command line:
//
//   parseFlagValueText("4")      -> {int_value: "4"}
//   parseFlagValueText("3e-4")   -> {double_value: 0.0003}
//   parseFlagValueText("true")   -> {bool_value: true}
//   parseFlagValueText("'42'")   -> {string_value: "42"}   (quotes force a string)
//   parseFlagAssignment("tag:=42") -> ["tag", {string_value: "42"}]
//
// Against a declared flag schema, a value is checked and normalised with the
// daemon's rules (logic/flagSchemaCheck.ts) to show type errors inline before
// anything is sent.

import type { FlagSchema, FlagValue } from "../api/types";
import { flagKind, formatFlagValue } from "./format";
import { checkFlagValue, SCHEMA_TYPE_NAME, type TypedFlag } from "./flagSchemaCheck";

export type { TypedFlag } from "./flagSchemaCheck";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isQuoted(text: string): boolean {
  return text.length >= 2 && (text[0] === '"' || text[0] === "'") && text[text.length - 1] === text[0];
}

function parseInt64(text: string): string | undefined {
  // One sign at most: "+-5" is text, not -5.
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const t = text.startsWith("+") ? text.slice(1) : text;
  const n = BigInt(t);
  if (n < INT64_MIN || n > INT64_MAX) return undefined;
  return n.toString();
}

function parseDouble(text: string): number | undefined {
  // Only digits, '.', exponent and signs: "nan", "inf" and hex stay strings.
  if (!/^[0-9.eE+-]+$/.test(text) || !/\d/.test(text)) return undefined;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const t = text.startsWith("+") ? text.slice(1) : text;
  const d = Number(t);
  // std::from_chars refuses what overflows, and what underflows to zero
  // (1e-400): such text stays a string.
  if (d === 0 && /[1-9]/.test(t.split(/[eE]/)[0])) return undefined;
  return Number.isFinite(d) ? d : undefined;
}

export function parseFlagValueText(text: string): FlagValue {
  if (isQuoted(text)) return { string_value: text.slice(1, -1) };
  if (text === "true" || text === "True") return { bool_value: true };
  if (text === "false" || text === "False") return { bool_value: false };
  const i = parseInt64(text);
  if (i !== undefined) return { int_value: i };
  // An integer too big for int64 keeps its exact digits (as text) rather
  // than becoming a rounded float: 99999999999999999999 is not 1e+20.
  if (/^[+-]?\d+$/.test(text)) return { string_value: text };
  const d = parseDouble(text);
  if (d !== undefined) return { double_value: d };
  return { string_value: text };
}

/** "key=value" (typed) or "key:=value" (always a string). */
export function parseFlagAssignment(text: string): [string, FlagValue] {
  const eq = text.indexOf("=");
  if (eq < 0) throw new Error(`flag "${text}" is not of the form key=value (or key:=string)`);
  const forceString = eq > 0 && text[eq - 1] === ":";
  const key = text.slice(0, forceString ? eq - 1 : eq);
  if (!key) throw new Error(`flag "${text}" has an empty key`);
  const value = text.slice(eq + 1);
  return [key, forceString ? { string_value: value } : parseFlagValueText(value)];
}

/** Parses one assignment per line (blank lines and # comments skipped). */
export function parseFlagLines(text: string): { flags: Record<string, FlagValue>; errors: string[] } {
  const flags: Record<string, FlagValue> = {};
  const errors: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    try {
      const [k, v] = parseFlagAssignment(line);
      flags[k] = v;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { flags, errors };
}

/** Same rule as the daemon: [A-Za-z_][A-Za-z0-9_.-]*, at most 128 bytes. Empty: valid. */
export function flagKeyError(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
    return `flag key "${key}": must match [A-Za-z_][A-Za-z0-9_.-]*`;
  }
  if (new TextEncoder().encode(key).length > 128) return `flag key "${key}": at most 128 bytes`;
  return "";
}

/**
 * The text to put in an edit box so that typing it back gives the same
 * value: strings that would read as another type ("42", "true") are quoted.
 */
export function flagEditText(v: FlagValue | undefined): string {
  if (!v) return "";
  const text = formatFlagValue(v);
  if (v.string_value !== undefined && flagKind(parseFlagValueText(text)) !== "string") {
    return text.includes('"') ? `'${text}'` : `"${text}"`;
  }
  return text;
}

/**
 * Types `text` for a flag (`:=` form: `forceString`) and, when the flag has a
 * declared schema, checks and normalises it with the daemon's rules
 * (logic/flagSchemaCheck.ts). Without one the text is typed like the CLI and
 * nothing is an error. For string and choice flags the typed text itself is
 * the value (unquoted), so "1e-3" stays "1e-3" rather than becoming 0.001's
 * text; the daemon keeps a string's text as it is.
 */
export function typeFlagText(text: string, schema?: FlagSchema, forceString = false): TypedFlag {
  const parsed = forceString ? { string_value: text } : parseFlagValueText(text);
  if (!schema?.type || !SCHEMA_TYPE_NAME[schema.type]) return { value: parsed, error: "" };
  const textual = schema.type === "STRING" || schema.type === "CHOICE";
  const raw = forceString ? text : isQuoted(text) ? text.slice(1, -1) : text;
  return checkFlagValue(schema, textual ? { string_value: raw } : parsed);
}

/** Label text "k=v, k2=v2" or one per line -> map; errors name the bad part. */
export function parseLabels(text: string): { labels: Record<string, string>; errors: string[] } {
  const labels: Record<string, string> = {};
  const errors: string[] = [];
  for (const part of text.split(/[,\n]/)) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf("=");
    if (eq <= 0) {
      errors.push(`label "${item}" is not key=value`);
      continue;
    }
    labels[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return { labels, errors };
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** POSIX single-quoting, as common/model/command_line.h does it. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** The exact command line a job would run: base command, then sorted quoted flags. */
export function renderCommand(base: string, flags: Record<string, FlagValue> | undefined): string {
  const keys = Object.keys(flags ?? {}).sort(byteOrder);
  return [base, ...keys.map((k) => shellQuote(`${k}=${formatFlagValue(flags![k])}`))].join(" ");
}

/** std::map order (bytewise), which is how the daemon sorts flag keys. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
