// File: ui/route.ts
//
// The URL fragment says what is open, so a view can be bookmarked, shared
// and survives a reload: "#/exp/42/logs" (an experiment's details on a
// tab), "#/events" (the events panel), "#/new" (the create form), "#/"
// (just the table).

import { useEffect, useState } from "preact/hooks";

export type Tab = "overview" | "flags" | "jobs" | "events" | "logs";
export const TABS: Tab[] = ["overview", "flags", "jobs", "events", "logs"];

export type Route =
  | { view: "table" }
  | { view: "events" }
  | { view: "new"; from?: string }
  | { view: "exp"; id: string; tab: Tab; job?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "events") return { view: "events" };
  if (parts[0] === "new") return { view: "new", from: parts[1] };
  if (parts[0] === "exp" && parts[1]) {
    const tab = (TABS as string[]).includes(parts[2] ?? "") ? (parts[2] as Tab) : "overview";
    return { view: "exp", id: parts[1], tab, job: tab === "logs" ? parts[3] : undefined };
  }
  return { view: "table" };
}

export function routeHash(r: Route): string {
  switch (r.view) {
    case "events":
      return "#/events";
    case "new":
      return r.from ? `#/new/${encodeURIComponent(r.from)}` : "#/new";
    case "exp":
      return `#/exp/${encodeURIComponent(r.id)}/${r.tab}${r.job ? `/${r.job}` : ""}`;
    default:
      return "#/";
  }
}

export function navigate(r: Route): void {
  const hash = routeHash(r);
  if (location.hash !== hash) location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
