// File: ui/EventList.tsx
//
// Events as a timeline: when (age, exact time on hover), who (the actor),
// what (type and message) and the result (reason, coloured by outcome).
// Used for one experiment's timeline and for the all-experiments panel.

import { store } from "../app";
import type { SkyEvent } from "../api/types";
import { Ago } from "./bits";

export function eventTone(ev: SkyEvent): string {
  const text = `${ev.type} ${ev.reason}`;
  if (/Error|Fail|FAILED|LOST|Stalled|Unreachable/i.test(text)) return "bad";
  if (/SUCCEEDED|Succeeded|Restored|Created|SchemaApplied/.test(text)) return "ok";
  if (/Retry|Cancel|STOPPING|Stopping|Terminat|Deleted/.test(text)) return "busy";
  return "idle";
}

const SYSTEM_ACTORS = new Set(["reconciler", "poller", "daemon", "system"]);

export function isUserEvent(ev: SkyEvent): boolean {
  return !SYSTEM_ACTORS.has(ev.actor ?? "");
}

export function EventList({ events, showExperiment }: { events: SkyEvent[]; showExperiment: boolean }) {
  if (!events.length) return <p class="empty">No events yet.</p>;
  return (
    <ol class="events" aria-label="Events, newest first">
      {events.map((ev) => {
        const exp = ev.experiment_id && ev.experiment_id !== "0" ? store.get(ev.experiment_id) : undefined;
        return (
          <li key={ev.id} class={`event tone-${eventTone(ev)}`} data-type={ev.type}>
            <span class="ev-time">
              <Ago ts={ev.time} />
            </span>
            <span class={`ev-actor ${isUserEvent(ev) ? "user" : ""}`} title="actor">
              {ev.actor || "—"}
            </span>
            <span class="ev-what">
              <b>{ev.type}</b>
              {showExperiment && ev.experiment_id && ev.experiment_id !== "0" && (
                <>
                  {" "}
                  <a href={`#/exp/${ev.experiment_id}/events`}>{exp?.name ?? `#${ev.experiment_id}`}</a>
                </>
              )}
              {ev.job_id && ev.job_id !== "0" ? <span class="muted"> · job {ev.job_id}</span> : null}
              <span class="ev-msg"> {ev.message}</span>
            </span>
            <span class={`ev-reason tone-${eventTone(ev)}`}>{ev.reason}</span>
          </li>
        );
      })}
    </ol>
  );
}
