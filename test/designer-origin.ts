// The designer's origin for browser tests: designer/dist as the server serves it (static files,
// SPA fallback), and /api piped to the API harness's server, so cookies, CSRF and event streams
// behave as in production.
import { createServer, request, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';

export const DESIGNER_DIST = fileURLToPath(new URL('../designer/dist', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function designerOrigin(apiBase: string, dist = DESIGNER_DIST): Server {
  const target = new URL(apiBase);
  const statics = express();
  statics.use(express.static(dist));
  statics.get(/.*/, (_req, res) => res.sendFile('index.html', { root: dist }));
  return createServer((req, res) => {
    if (!req.url?.startsWith('/api/')) return void statics(req, res);
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}
