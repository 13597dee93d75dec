// File: ui/toasts.ts
//
// Feedback for every action: a success note that fades by itself (with an
// optional action such as Undo), or an error that stays until dismissed and
// carries the server's message verbatim.

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: "ok" | "error" | "info";
  text: string;
  detail?: string;
  action?: ToastAction;
}

const OK_TOAST_MS = 6_000;
/** Older toasts beyond this many are dropped (errors last). */
const MAX_TOASTS = 4;

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
      // Drop plain notes first, then notes with an action (Undo), errors last.
      let i = list.findIndex((t) => t.kind !== "error" && !t.action);
      if (i < 0) i = list.findIndex((t) => t.kind !== "error");
      list.splice(Math.max(i, 0), 1);
    }
    this.list = list;
    this.emit();
    if (kind !== "error" && !opts.sticky) setTimeout(() => this.dismiss(id), OK_TOAST_MS);
    return id;
  }

  ok(text: string, action?: ToastAction): number {
    return this.show("ok", text, { action });
  }

  error(text: string, detail: string, action?: ToastAction): number {
    return this.show("error", text, { detail, action });
  }

  dismiss(id: number): void {
    this.list = this.list.filter((t) => t.id !== id);
    this.emit();
  }
}

export const toasts = new Toasts();
