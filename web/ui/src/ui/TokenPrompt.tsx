// File: ui/TokenPrompt.tsx
//
// Asked for when the daemon answers 401: the bearer token (skydeckd
// --auth-token-file) is kept in this browser's localStorage and sent with
// every request from then on. The prompt is registered when this module
// loads, so a 401 during the very first request already finds it.

import { useEffect, useRef, useState } from "preact/hooks";
import { getToken, setToken, setTokenPrompt } from "../api/client";

let pending: ((ok: boolean) => void) | null = null;
const listeners = new Set<() => void>();

setTokenPrompt(
  () =>
    new Promise<boolean>((resolve) => {
      pending = resolve;
      listeners.forEach((fn) => fn());
    }),
);

export function TokenPrompt() {
  const [, setN] = useState(0);
  const [value, setValue] = useState(getToken());
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const on = () => setN((n) => n + 1);
    listeners.add(on);
    if (pending) on(); // asked before this component subscribed
    return () => void listeners.delete(on);
  }, []);
  useEffect(() => {
    if (pending) input.current?.focus();
  });
  if (!pending) return null;
  const done = (ok: boolean) => {
    const resolve = pending!;
    pending = null;
    if (ok) setToken(value.trim());
    setN((n) => n + 1);
    resolve(ok && !!value.trim());
  };
  return (
    <div class="overlay">
      <div class="dialog small" role="dialog" aria-modal="true" aria-labelledby="token-title">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            done(true);
          }}
        >
          <header class="panel-head">
            <h2 id="token-title">Access token needed</h2>
          </header>
          <div class="panel-body">
            <p>This skydeckd requires a bearer token (its --auth-token-file). It is stored in this browser only.</p>
            <label for="token-input">Token</label>
            <input id="token-input" ref={input} type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
          </div>
          <footer class="form-actions">
            <span class="spacer" />
            <button type="button" class="btn ghost" onClick={() => done(false)}>
              Cancel
            </button>
            <button type="submit" class="btn primary">
              Use token
            </button>
          </footer>
        </form>
      </div>
    </div>
  );
}
