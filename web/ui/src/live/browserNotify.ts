// File: live/browserNotify.ts
//
// Browser notifications (the Notification API) for the events skydeckd's
// webhooks announce, while the dashboard is open and the user allowed
// them. Off until the user turns them on (a click: browsers only ask for
// permission on a user gesture); the choice is kept in localStorage.
// Only events that arrive live on the Watch stream are shown, never the
// history loaded at start.

import type { SkyEvent } from "../api/types";
import { browserNotice } from "../logic/notifyEvents";

const STORAGE_KEY = "skydeck.browserNotifications";

/** The parts of the DOM this needs, so tests can hand in fakes. */
export interface NotifyEnv {
  Notification?: {
    permission: string;
    requestPermission(): Promise<string>;
    new (title: string, options?: { body?: string; tag?: string }): unknown;
  };
  storage?: Pick<Storage, "getItem" | "setItem">;
}

function defaultEnv(): NotifyEnv {
  const g = globalThis as unknown as { Notification?: NotifyEnv["Notification"]; localStorage?: Storage };
  return { Notification: g.Notification, storage: g.localStorage };
}

export class BrowserNotifier {
  constructor(private readonly env: NotifyEnv = defaultEnv()) {}

  /** The browser has the API at all. */
  get supported(): boolean {
    return !!this.env.Notification;
  }

  /** Notifications will be shown. */
  get enabled(): boolean {
    return (
      this.supported && this.env.Notification!.permission === "granted" && this.env.storage?.getItem(STORAGE_KEY) !== "off"
    );
  }

  /** Asks for permission if needed and turns them on; resolves to enabled. */
  async enable(): Promise<boolean> {
    if (!this.supported) return false;
    this.env.storage?.setItem(STORAGE_KEY, "on");
    if (this.env.Notification!.permission !== "granted") await this.env.Notification!.requestPermission();
    return this.enabled;
  }

  disable(): void {
    this.env.storage?.setItem(STORAGE_KEY, "off");
  }

  /** Shows `ev` (about experiment `name`) when it is one worth a notification. */
  onEvent(ev: SkyEvent | undefined, name?: string): boolean {
    if (!this.enabled) return false;
    const notice = browserNotice(ev, name);
    if (!notice) return false;
    new this.env.Notification!(notice.title, { body: notice.body, tag: notice.tag });
    return true;
  }
}

export const browserNotifier = new BrowserNotifier();
