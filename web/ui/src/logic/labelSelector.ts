// File: logic/labelSelector.ts
//
// The daemon's label selector syntax (common/model/label_selector.h), evaluated in
// the browser so the table filters as you type: comma-separated
// requirements `k=v`, `k==v`, `k!=v` (true when k is absent), `k in (a,b)`,
// `k notin (a,b)`, `k` (has key), `!k` (lacks key); every requirement must
// hold. An empty selector matches everything. A port of the C++ parser,
// step for step, so the box refuses what the daemon refuses and matches what
// it matches; both are tested against tests/golden/label_selector.json.

export type LabelMatcher = (labels: Record<string, string>) => boolean;

/** Longer selectors are refused (kMaxSelectorBytes). */
const MAX_SELECTOR_BYTES = 4096;

type Op = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

// absl::StripAsciiWhitespace
function strip(text: string): string {
  return text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}

/** The daemon's QuoteForError: the first 64 bytes, each non-printable (or non-ASCII) byte as '?'. */
function quote(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = "";
  for (const b of bytes.subarray(0, 64)) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?";
  return `"${out}${bytes.length > 64 ? "..." : ""}"`;
}

/** Splits on commas outside parentheses; one level of parentheses at most. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    if (text[i] === ")") depth--;
    if (depth < 0 || depth > 1) break;
    if (text[i] === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new Error(`label selector ${quote(text)}: unbalanced parentheses`);
  parts.push(text.slice(start));
  return parts;
}

/** Label keys: ASCII letters, digits, '_', '.', '-', '/'. */
function isKey(key: string): boolean {
  return /^[A-Za-z0-9_.\-/]+$/.test(key);
}

function setRequirement(part: string, key: string, op: Op, rest: string): Requirement {
  const list = strip(rest);
  if (!list.startsWith("(") || !list.endsWith(")") || list.length < 2) {
    throw new Error(`label selector requirement ${quote(part)}: expected a list like (a,b)`);
  }
  const values = list
    .slice(1, -1)
    .split(",")
    .map(strip)
    .filter((v) => v !== "");
  if (!values.length) throw new Error(`label selector requirement ${quote(part)}: empty value list`);
  return { key, op, values };
}

function requirement(part: string): Requirement {
  const checkedKey = (raw: string): string => {
    const key = strip(raw);
    if (!isKey(key)) throw new Error(`label selector requirement ${quote(part)}: bad key ${quote(key)}`);
    return key;
  };
  let pos = part.indexOf("!=");
  if (pos >= 0) return { key: checkedKey(part.slice(0, pos)), op: "!=", values: [strip(part.slice(pos + 2))] };
  pos = part.indexOf("=");
  if (pos >= 0) {
    const key = checkedKey(part.slice(0, pos));
    let value = part.slice(pos + 1);
    if (value.startsWith("=")) value = value.slice(1);
    return { key, op: "=", values: [strip(value)] };
  }
  pos = part.indexOf(" notin ");
  if (pos >= 0) return setRequirement(part, checkedKey(part.slice(0, pos)), "notin", part.slice(pos + 7));
  pos = part.indexOf(" in ");
  if (pos >= 0) return setRequirement(part, checkedKey(part.slice(0, pos)), "in", part.slice(pos + 4));
  const negated = part.startsWith("!");
  return { key: checkedKey(negated ? part.slice(1) : part), op: negated ? "!exists" : "exists", values: [] };
}

function holds(req: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const inValues = has && req.values.includes(labels[req.key]);
  switch (req.op) {
    case "=":
    case "in":
      return inValues;
    case "!=":
    case "notin":
      return !inValues;
    case "exists":
      return has;
    case "!exists":
      return !has;
  }
}

/** Throws Error naming the bad requirement (the daemon's words). */
export function parseLabelSelector(text: string): LabelMatcher {
  const selector = strip(text);
  if (!selector) return () => true;
  if (new TextEncoder().encode(selector).length > MAX_SELECTOR_BYTES) {
    throw new Error(`label selector: at most ${MAX_SELECTOR_BYTES} bytes`);
  }
  const requirements = splitTopLevel(selector).map((raw) => {
    const part = strip(raw);
    if (!part) throw new Error(`label selector ${quote(selector)}: empty requirement`);
    return requirement(part);
  });
  return (labels) => requirements.every((req) => holds(req, labels));
}
