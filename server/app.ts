// The HTTP API. createApp builds the Express app without listening, so tests drive it directly.
// Every route is registered through Api.route with the zod schemas that parse its body and
// query; the same registry generates docs/openapi.json.
import { serverMetrics } from './metrics.ts';
import { traceRequests } from './tracing.ts';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Api, HttpError, undecodableParam } from './http.ts';
import { authenticate, authRoutes } from './routes-auth.ts';
import { runbookRoutes } from './routes-runbooks.ts';
import { approvalRoutes } from './routes-approvals.ts';
import { dashboardRoutes } from './routes-dashboard.ts';
import { planRoutes } from './routes-plan.ts';
import { evidenceRoutes } from './routes-evidence.ts';
import { runRoutes } from './routes-runs.ts';
import { scheduleRoutes } from './routes-schedules.ts';
import { tenantRoutes } from './routes-tenants.ts';
import { pickerRoutes } from './routes-pickers.ts';
import { triggerRoutes } from './routes-triggers.ts';
import { TriggerWatcher } from './triggers-m365.ts';
import { RunbookError } from './runbooks.ts';
import { IdempotencyKeys, idempotencyHook } from './idempotency.ts';
import { batchRoutes } from './routes-batches.ts';
import { isTemporalDown, temporalDownError, TEMPORAL_CALL_DEADLINE_MS, TEMPORAL_RETRY_AFTER_S } from './temporal-deadline.ts';
import { services, type AppDeps, type Services } from './services.ts';

export { HttpError } from './http.ts';
export type { AppDeps } from './services.ts';

export const API_INFO = {
  title: 'Tenantflow control plane API',
  version: '1.0.0',
  description: 'Runbooks, runs, approvals, schedules, tenants, people and audit. Authenticate with an API token (Authorization: Bearer tf_...) or a session cookie plus X-CSRF-Token on writes.',
};

export function buildApi(deps: AppDeps): { app: express.Express; api: Api; services: Services; triggers: TriggerWatcher } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    express.json({
      limit: '6mb',
      // A webhook's signature is over the bytes sent: keep them for POST /api/hooks/:id alone.
      verify: (req, _res, buf) => {
        if ((req as { url?: string }).url?.startsWith('/api/hooks/')) (req as { rawBody?: Buffer }).rawBody = Buffer.from(buf);
      },
    }),
  );
  // Traces (when OTLP export is configured): a SERVER span per /api request (server/tracing.ts).
  app.use('/api', traceRequests());
  const s = services(deps);
  const api = new Api(app, { checkResponses: deps.checkResponses, idempotency: idempotencyHook(new IdempotencyKeys(deps.db)) });

  // Prometheus: runs by runbook and outcome, Microsoft 365 requests, the throttle gate (server/metrics.ts).
  const metrics = serverMetrics(deps.db);
  app.get('/metrics', (req, res) => metrics.handler(req, res));

  app.get('/api/health', async (_req, res) => {
    let temporal = 'ok';
    try {
      await deps.runs.client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => deps.runs.client.workflowService.getSystemInfo({}));
    } catch (err) {
      temporal = `unreachable: ${(err as Error).message}`;
    }
    let database = 'ok';
    try {
      await deps.db.query('select 1');
    } catch (err) {
      database = `unreachable: ${(err as Error).message}`;
    }
    const ok = temporal === 'ok' && database === 'ok';
    if (!ok) res.set('Retry-After', String(TEMPORAL_RETRY_AFTER_S));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', temporal, database: `${database} (${deps.db.kind})` });
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(api.openapi(API_INFO));
  });

  app.use('/api', authenticate(s));
  authRoutes(api, s);
  runbookRoutes(api, s);
  planRoutes(api, s);
  runRoutes(api, s);
  batchRoutes(api, s);
  approvalRoutes(api, s);
  evidenceRoutes(api, s);
  dashboardRoutes(api, s);
  scheduleRoutes(api, s);
  tenantRoutes(api, s);
  pickerRoutes(api, s);
  // Graph and date triggers' subscriptions, delta rounds and evaluations; main.ts starts its loop.
  const triggers = new TriggerWatcher(s, { publicUrl: deps.publicUrl, now: deps.triggerClock });
  triggerRoutes(api, s, triggers);
  api.assertComplete();

  if (deps.staticDir) {
    app.use(express.static(deps.staticDir));
    app.get(/^\/(?!api\/).*/, (_req, res) => res.sendFile('index.html', { root: deps.staticDir }));
  }

  app.use('/api', (req, _res, next) => next(new HttpError(404, `no API endpoint ${req.method} ${req.originalUrl.split('?')[0]}`)));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isTemporalDown(err)) {
      const down = temporalDownError();
      res.status(503).set('Retry-After', String(TEMPORAL_RETRY_AFTER_S)).json(down.body);
      return;
    }
    if (err instanceof HttpError) {
      res.status(err.status).json(err.body);
      return;
    }
    // The runbook store's own errors (no such runbook, archived, id taken, draft with problems).
    if (err instanceof RunbookError) {
      res.status(err.status).json({ error: err.message, ...(err.problems ? { problems: err.problems } : {}) });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'the request body is not valid JSON', detail: e.message });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'the request body is too large' });
      return;
    }
    if (e.status === 400 && /^Failed to decode param/.test(e.message ?? '')) {
      const name = undecodableParam(req.method, req.originalUrl.split('?')[0]!) ?? 'path';
      res.status(400).json({ error: `invalid path parameter ${name}: it is not valid percent-encoded UTF-8`, problems: [{ field: name, message: 'does not decode (percent-encode it as UTF-8)' }] });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: e.message ?? 'bad request' });
      return;
    }
    console.error('server error:', err);
    res.status(500).json({ error: 'internal error; see the server log' });
  });
  return { app, api, services: s, triggers };
}

export function createApp(deps: AppDeps): express.Express {
  return buildApi(deps).app;
}
