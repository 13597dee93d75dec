// File: ui/shortcuts.ts
//
// Keyboard shortcuts for the whole page. They never fire while the user is
// typing in a field (except Escape), nor with Ctrl/Alt/Meta held, so the
// browser's own shortcuts keep working.

export interface ShortcutHandlers {
  search: () => void;
  create: () => void;
  events: () => void;
  help: () => void;
  escape: () => void;
}

export const SHORTCUTS: [string, string][] = [
  ["/", "search"],
  ["n", "new experiment"],
  ["e", "events panel"],
  ["j / k", "next / previous row"],
  ["x", "select the focused row"],
  ["Enter", "open the focused row"],
  ["Esc", "close the panel or dialog"],
  ["?", "this help"],
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
}

/** Moves focus to the next/previous row link of the experiments table. */
function moveRow(delta: number): void {
  const links = [...document.querySelectorAll<HTMLAnchorElement>("a[data-row-link]")];
  if (!links.length) return;
  const i = links.findIndex((a) => a === document.activeElement || a.closest("tr")?.contains(document.activeElement));
  const next = links[Math.max(0, Math.min(links.length - 1, i < 0 ? 0 : i + delta))];
  next.focus();
  next.scrollIntoView({ block: "nearest" });
}

function toggleFocusedRow(): void {
  const row = (document.activeElement as HTMLElement | null)?.closest("tr");
  row?.querySelector<HTMLInputElement>("td.sel input[type=checkbox]")?.click();
}

export function installShortcuts(h: ShortcutHandlers): () => void {
  const onKey = (ev: KeyboardEvent) => {
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (ev.key === "Escape") {
      // In a dialog Escape closes it; in a page field it only leaves the field.
      const el = ev.target as HTMLElement | null;
      if (typing(el) && !el?.closest("[role=dialog]")) el?.blur();
      else h.escape();
      return;
    }
    if (typing(ev.target)) return;
    const actions: Record<string, () => void> = {
      "/": h.search,
      n: h.create,
      e: h.events,
      "?": h.help,
      j: () => moveRow(1),
      k: () => moveRow(-1),
      x: toggleFocusedRow,
    };
    const run = actions[ev.key];
    if (run) {
      ev.preventDefault();
      run();
    }
  };
  addEventListener("keydown", onKey);
  return () => removeEventListener("keydown", onKey);
}
