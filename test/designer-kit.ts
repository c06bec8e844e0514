// What the browser tests share: the designer's origin (designer/dist served as the server serves
// it, /api piped to the API harness's server, so cookies, CSRF and event streams behave as in
// production) and Debian's Chromium through playwright-core.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildDesignerIfStale } from '../scripts/designer-build.ts';
import type { Role } from '../server/people.ts';
import { serveMetrics, workerRegistry } from '../worker/metrics.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { CHROMIUM, CHROMIUM_ARGS, designerOrigin } from './designer-origin.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

export { CHROMIUM };

/** Serves the designer in front of the API on a free port; its base URL. */
export async function serveDesigner(apiBase: string): Promise<{ server: Server; base: string }> {
  const server = designerOrigin(apiBase).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function closeDesigner(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
}

export async function signIn(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('nav.sidebar');
}

export async function signOut(page: Page): Promise<void> {
  await page.click('button:has-text("Sign out")');
  await page.waitForSelector('input[name="email"]');
}

/** Waits until the canvas stops moving (fitView animates for 200 ms). */
export async function canvasSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = window as unknown as { __lastViewport?: string };
      const t = document.querySelector<HTMLElement>('.react-flow__viewport')?.style.transform;
      const same = t !== undefined && w.__lastViewport === t;
      w.__lastViewport = t;
      return same;
    },
    undefined,
    { polling: 120 },
  );
}

export const ARTIFACTS = join(process.env.TENANTFLOW_TEST_ARTIFACTS ?? fileURLToPath(new URL('../test-results', import.meta.url)), 'designer');

export interface DesignerSession {
  env: TestEnv;
  api: ApiServer;
  base: string;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/**
 * Everything a browser test needs: the engine, the API with these people (the password is every
 * person's), the designer in front of it, and a Chromium page.
 */
export async function startDesignerSession(people: { email: string; name: string; grants: [tenant: string, role: Role][] }[], password: string, viewport = { width: 1280, height: 800 }): Promise<DesignerSession> {
  await buildDesignerIfStale();
  const env = await startTestEnv();
  // The worker runs in this process: its metrics (the throttle gates) are served as worker/main.ts does.
  const metrics = await serveMetrics(workerRegistry, 0, '127.0.0.1');
  const api = await startApiServer(env, { workerMetrics: [`http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`] });
  for (const person of people) {
    const account = await api.services.people.create({ email: person.email, name: person.name, password });
    for (const [tenant, role] of person.grants) await api.services.people.grant(account.id, tenant, role);
  }
  const { server, base } = await serveDesigner(api.base);
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => console.error('browser error:', err.message));
  return {
    env,
    api,
    base,
    browser,
    page,
    async close() {
      await browser.close();
      await closeDesigner(server);
      await api.close();
      metrics.close();
      await env.close();
    },
  };
}

/** Draws an edge from a node's output handle to another node's input with the mouse, as a person does, and waits for it. */
export async function connectHandles(page: Page, source: string, handle: string, target: string): Promise<void> {
  const edges = await page.locator('.react-flow__edge').count();
  const from = await page.locator(`.react-flow__node[data-id="${source}"] .react-flow__handle.source[data-handleid="${handle}"]`).boundingBox();
  const to = await page.locator(`.react-flow__node[data-id="${target}"] .react-flow__handle.target`).boundingBox();
  assert.ok(from && to, `handles of ${source} and ${target} are on screen`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length === n, edges + 1);
}
