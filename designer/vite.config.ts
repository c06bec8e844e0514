// Vite builds the designer into designer/dist, which the server serves (static + SPA fallback).
// The designer imports the shared runbook schema, validator and catalog from ../workflows and
// ../catalog (zod and jsonata only), so the browser checks runbooks exactly as the server does.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, sourcemap: true },
  server: { proxy: { '/api': process.env.TENANTFLOW_API ?? 'http://127.0.0.1:3000' } },
});
