// Vite builds the designer into designer/dist, which the server serves (static + SPA fallback).
// The designer imports the shared runbook model and validator from ../runbook and the catalog from
// ../catalog (zod and jsonata only), so the browser checks runbooks exactly as the server does; the
// typed API client comes from ../api-client (types only of the server).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, sourcemap: true },
  server: { proxy: { '/api': process.env.TENANTFLOW_API ?? 'http://127.0.0.1:3000' } },
});
