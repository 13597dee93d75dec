// File: logic/names.ts
//
// Names for duplicates: the next free name in the same series, the way a
// person would number runs by hand ("lr-sweep-3" -> "lr-sweep-4",
// "baseline" -> "baseline-2"), never one already taken, at most 63 bytes.

const MAX_NAME = 63;

export function nextFreeName(name: string, taken: Set<string>): string {
  const m = /^(.*?[-_.])(\d+)$/.exec(name);
  const stem = m ? m[1] : `${name}-`;
  let n = m ? Number(m[2]) + 1 : 2;
  for (;;) {
    const suffix = String(n);
    const candidate = stem.slice(0, MAX_NAME - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
    n++;
  }
}

/** Names for `count` duplicates of `names`, each free and distinct. */
export function duplicateNames(names: string[], taken: Set<string>): string[] {
  const used = new Set(taken);
  return names.map((name) => {
    const next = nextFreeName(name, used);
    used.add(next);
    return next;
  });
}
