// File: ui/toasts.ts
//
// Feedback for every action: a success note that fades by itself (with an
// optional action such as Undo), or an error that stays until dismissed and
// carries the server's message verbatim. A warning (what a lenient flag
// schema let through: likely a typo in a flag name) stays too.

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: "ok" | "error" | "warn" | "info";
  text: string;
  detail?: string;
  action?: ToastAction;
}

const OK_TOAST_MS = 6_000;
/** Older toasts beyond this many are dropped (errors and warnings last). */
const MAX_TOASTS = 4;

/** Errors and warnings stay until dismissed: they say something went wrong or may have. */
function lasting(kind: Toast["kind"]): boolean {
  return kind === "error" || kind === "warn";
}

class Toasts {
  list: Toast[] = [];
  private next = 1;
  private listeners = new Set<() => void>();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of [...this.listeners]) fn();
  }

  show(kind: Toast["kind"], text: string, opts: { detail?: string; action?: ToastAction; sticky?: boolean } = {}): number {
    const id = this.next++;
    const list = [...this.list, { id, kind, text, detail: opts.detail, action: opts.action }];
    while (list.length > MAX_TOASTS) {
      // Drop plain notes first, then notes with an action (Undo), errors and warnings last.
      let i = list.findIndex((t) => !lasting(t.kind) && !t.action);
      if (i < 0) i = list.findIndex((t) => !lasting(t.kind));
      list.splice(Math.max(i, 0), 1);
    }
    this.list = list;
    this.emit();
    if (!lasting(kind) && !opts.sticky) setTimeout(() => this.dismiss(id), OK_TOAST_MS);
    return id;
  }

  ok(text: string, action?: ToastAction): number {
    return this.show("ok", text, { action });
  }

  error(text: string, detail: string, action?: ToastAction): number {
    return this.show("error", text, { detail, action });
  }

  warn(text: string, detail: string): number {
    return this.show("warn", text, { detail });
  }

  dismiss(id: number): void {
    this.list = this.list.filter((t) => t.id !== id);
    this.emit();
  }
}

export const toasts = new Toasts();
