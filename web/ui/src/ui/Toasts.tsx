// File: ui/Toasts.tsx
//
// Renders ui/toasts.ts: bottom-left, announced to screen readers (errors
// assertively), each with its action (e.g. Undo) and a close button.

import { useEffect, useState } from "preact/hooks";
import { toasts } from "./toasts";

export function Toasts() {
  const [, setN] = useState(0);
  useEffect(() => toasts.subscribe(() => setN((n) => n + 1)), []);
  return (
    <div class="toasts" aria-live="polite" data-testid="toasts">
      {toasts.list.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === "error" ? "alert" : "status"} data-kind={t.kind}>
          <div class="toast-text">
            <b>{t.text}</b>
            {t.detail && <div class="toast-detail">{t.detail}</div>}
          </div>
          {t.action && (
            <button
              type="button"
              class="btn small"
              onClick={() => {
                toasts.dismiss(t.id);
                t.action!.run();
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" class="btn small ghost" aria-label="Dismiss" onClick={() => toasts.dismiss(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
