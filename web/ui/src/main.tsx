// File: main.tsx
//
// Entry point: mounts the dashboard and starts syncing with the daemon.

import { render } from "preact";
import { sync } from "./app";
import { App } from "./ui/App";
// Cascade order matters: later files refine earlier ones.
import "./styles/1-theme.css";
import "./styles/2-layout.css";
import "./styles/3-controls.css";
import "./styles/4-table.css";
import "./styles/5-details.css";
import "./styles/6-overlays.css";
import "./styles/7-narrow.css";
import "./styles/8-cost-links.css";

render(<App />, document.getElementById("app")!);
void sync.start();
