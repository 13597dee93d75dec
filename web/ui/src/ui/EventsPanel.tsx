// File: ui/EventsPanel.tsx
//
// Recent operations across all experiments, live from the Watch stream,
// with older pages on demand. By default shows what people did; the
// reconciler's and poller's transitions are one click away.

import { useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import { store } from "../app";
import { EventList, isUserEvent } from "./EventList";

export function EventsPanel({ onClose }: { onClose: () => void }) {
  const [onlyPeople, setOnlyPeople] = useState(false);
  const [text, setText] = useState("");
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const events = store.events.filter((ev) => {
    if (onlyPeople && !isUserEvent(ev)) return false;
    if (!words.length) return true;
    const name = store.get(ev.experiment_id)?.name ?? "";
    const hay = `${ev.type} ${ev.reason} ${ev.message} ${ev.actor} ${name}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const older = async () => {
    setLoading(true);
    try {
      const last = store.events[store.events.length - 1];
      store.addEvents(await api.events(undefined, 200, last?.id));
      setError("");
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
    setLoading(false);
  };
  return (
    <aside class="panel events-panel" aria-label="Events" data-testid="events-panel">
      <header class="panel-head">
        <h2>Events</h2>
        <span class="spacer" />
        <button type="button" class="btn ghost small" onClick={onClose} aria-label="Close events">
          ✕
        </button>
      </header>
      <div class="panel-tools">
        <input type="search" placeholder="Filter events" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="Filter events" />
        <label class="check small">
          <input type="checkbox" checked={onlyPeople} onChange={(e) => setOnlyPeople(e.currentTarget.checked)} />
          only people
        </label>
      </div>
      <div class="panel-body">
        <EventList events={events} showExperiment={true} />
        {error && <div class="form-error">{error}</div>}
        <button type="button" class="btn small ghost" onClick={() => void older()} disabled={loading}>
          {loading ? "Loading…" : "Older events"}
        </button>
      </div>
    </aside>
  );
}
