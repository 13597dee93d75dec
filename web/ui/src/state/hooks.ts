// File: state/hooks.ts
//
// Preact glue: re-render when the store changes, and a shared one-second
// clock for ages and running durations (one timer for the whole page, and
// only the components that show time re-render on its tick).

import { useEffect, useState } from "preact/hooks";
import type { Store } from "./store";

export function useStore(store: Store): number {
  const [, setVersion] = useState(store.version);
  useEffect(() => store.subscribe(() => setVersion(store.version)), [store]);
  return store.version;
}

const tickListeners = new Set<(now: number) => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

/** The current time, updated every second while the component is mounted. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    tickListeners.add(setNow);
    if (!ticker) ticker = setInterval(() => tickListeners.forEach((fn) => fn(Date.now())), 1000);
    return () => {
      tickListeners.delete(setNow);
      if (!tickListeners.size) {
        clearInterval(ticker);
        ticker = undefined;
      }
    };
  }, []);
  return now;
}

/** A value persisted in localStorage under `skydeck.<key>`. */
export function usePersistent<T>(key: string, initial: T): [T, (v: T) => void] {
  const storageKey = `skydeck.${key}`;
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = localStorage.getItem(storageKey);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      return initial;
    }
  });
  const set = (v: T) => {
    setValue(v);
    try {
      localStorage.setItem(storageKey, JSON.stringify(v));
    } catch {
      // private mode: keep it for this page only
    }
  };
  return [value, set];
}
