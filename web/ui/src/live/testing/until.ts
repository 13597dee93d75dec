// File: live/testing/until.ts
//
// For unit tests only: waits for a condition by letting real macrotasks run
// (streams, promises, handlers), so it works while timers are faked.

// Node's setImmediate: never faked by the tests, and not in the DOM types.
const nextMacrotask = (globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate;

export async function until(cond: () => boolean, what: string, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await new Promise<void>((resolve) => nextMacrotask(resolve));
  }
  throw new Error(`never happened: ${what}`);
}
