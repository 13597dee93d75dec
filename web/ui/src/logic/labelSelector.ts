// File: logic/labelSelector.ts
//
// The daemon's label selector syntax, evaluated in the browser so the table
// filters as you type: comma-separated terms `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k` (has key), `!k` (lacks key); every term
// must hold. An empty selector matches everything.

export type LabelMatcher = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth = Math.max(0, depth - 1);
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter(Boolean);
}

function term(t: string): LabelMatcher {
  let m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t);
  if (m) {
    const [, key, op, list] = m;
    const values = list.split(",").map((v) => v.trim()).filter(Boolean);
    return op === "in"
      ? (l) => key in l && values.includes(l[key])
      : (l) => !(key in l) || !values.includes(l[key]);
  }
  m = /^([^\s!=(),]+)\s*(!=|==|=)\s*([^\s=(),]*)$/.exec(t);
  if (m) {
    const [, key, op, value] = m;
    return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(!?)([^\s!=(),]+)$/.exec(t);
  if (m) {
    const [, not, key] = m;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw new Error(`cannot read label selector term "${t}"`);
}

/** Throws Error naming the bad term. */
export function parseLabelSelector(text: string): LabelMatcher {
  const matchers = terms(text).map(term);
  return (labels) => matchers.every((m) => m(labels));
}
