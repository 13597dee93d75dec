// File: app.ts
//
// The page's singletons: the store and the sync that feeds it. Views import
// them directly; there is exactly one dashboard per page.

import { Sync } from "./live/sync";
import { Store } from "./state/store";

export const store = new Store();
export const sync = new Sync(store);
