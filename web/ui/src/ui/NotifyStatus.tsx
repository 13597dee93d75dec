// File: ui/NotifyStatus.tsx
//
// In the health bar: the webhook sinks of skydeckd --notify (a red pill
// when one keeps failing, with its error), and the switch for browser
// notifications of the same events while this page is open.

import { useState } from "preact/hooks";
import type { Health } from "../api/types";
import { browserNotifier } from "../live/browserNotify";

export function NotifySinksPill({ health }: { health: Health | null | undefined }) {
  const sinks = health?.notify_sinks ?? [];
  if (!sinks.length) return null;
  const failing = sinks.filter((s) => s.failing);
  const title = sinks
    .map((s) => `${s.name} (${s.url}): ${s.failing ? `FAILING — ${s.last_error}` : `${s.delivered ?? 0} delivered`}`)
    .join("\n");
  return (
    <span class={`pill ${failing.length ? "bad" : "good"}`} title={title} data-testid="notify-sinks">
      <span class="dot" aria-hidden="true" />
      {failing.length ? `notify failing: ${failing.map((s) => s.name).join(", ")}` : `notify · ${sinks.length} sinks`}
    </span>
  );
}

export function BrowserNotifyToggle() {
  const [on, setOn] = useState(browserNotifier.enabled);
  if (!browserNotifier.supported) return null;
  return (
    <button
      type="button"
      class="pill plain"
      aria-pressed={on}
      title="Browser notifications for failed jobs, stalled and succeeded experiments, preemptions and backend outages, while this page is open"
      onClick={async () => {
        if (on) {
          browserNotifier.disable();
          setOn(false);
        } else {
          setOn(await browserNotifier.enable());
        }
      }}
    >
      {on ? "🔔 notifications on" : "🔕 notifications off"}
    </button>
  );
}
