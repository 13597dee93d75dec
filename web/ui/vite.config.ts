// Vite builds the dashboard into dist/, which skydeckd's HTTP bridge serves.
// `npm run dev` proxies /api to a running daemon (SKYDECK_HTTP, default
// http://127.0.0.1:8000) so the UI can be developed with hot reload.
import { defineConfig } from "vitest/config";

const daemon = process.env.SKYDECK_HTTP ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
  server: { proxy: { "/api": { target: daemon, changeOrigin: false } } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
