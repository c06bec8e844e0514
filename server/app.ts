// The HTTP API. createApp builds the Express app without listening, so tests drive it directly.
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { catalog } from '../catalog/index.ts';
import type { RunbookDefinition, RunState } from '../workflows/definition.ts';
import { validateInputs } from '../workflows/inputs.ts';
import { validateRunbook } from '../workflows/validate.ts';
import type { Runs } from './temporal.ts';

export interface StoredRunbook {
  id: string;
  version: number;
  definition: RunbookDefinition;
}

export interface RunbookStore {
  list(): Promise<StoredRunbook[]>;
  get(id: string): Promise<StoredRunbook | undefined>;
}

export interface AppDeps {
  runs: Runs;
  runbooks: RunbookStore;
  /** Tenant connection used when a run names none. */
  defaultTenant: string;
  /** Who the caller is. The embedded default trusts the X-Tenantflow-User header (see README). */
  identify?: (req: Request) => string | undefined;
  staticDir?: string;
}

export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = { error: message, ...extra };
  }
}

const StartRunBody = z
  .strictObject({
    runbookId: z.string().min(1).optional().describe('A stored runbook to run (its latest published version)'),
    definition: z.unknown().optional().describe('An inline runbook definition, validated before it runs'),
    inputs: z.record(z.string(), z.unknown()).default({}),
    tenant: z.string().min(1).optional().describe('Tenant connection; the default tenant when absent'),
    test: z.boolean().default(false).describe('Test run against the sandbox tenant'),
  })
  .refine((b) => (b.runbookId === undefined) !== (b.definition === undefined), {
    message: 'give either runbookId or definition (not both)',
    path: ['runbookId'],
  });

const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']).describe('approve or reject'),
  comment: z.string().max(2000).optional(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new HttpError(400, 'invalid request', {
    problems: r.error.issues.map((i) => ({
      field: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(body)'),
      message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : i.message,
    })),
  });
}

function runSummary(runs: Runs, id: string, got: NonNullable<Awaited<ReturnType<Runs['get']>>>) {
  const { state, description: d } = got;
  const temporalStatus = d.status.name;
  const fallback: RunState['status'] =
    temporalStatus === 'COMPLETED' ? 'succeeded' : temporalStatus === 'CANCELLED' ? 'cancelled' : temporalStatus === 'RUNNING' ? 'running' : 'failed';
  const sa = d.searchAttributes as Record<string, unknown[] | undefined>;
  return {
    id,
    status: state?.status ?? fallback,
    temporalStatus,
    runbook: sa.TenantflowRunbook?.[0],
    version: sa.TenantflowVersion?.[0],
    tenant: sa.TenantflowTenant?.[0],
    startedBy: sa.TenantflowRequester?.[0],
    startedAt: state?.startedAt ?? d.startTime.toISOString(),
    endedAt: state?.endedAt ?? d.closeTime?.toISOString(),
    message: state?.message,
    nodes: state?.nodes ?? {},
    temporalUrl: runs.webUiLink(id, d.runId),
  };
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '2mb' }));
  const who = (req: Request) => deps.identify?.(req) ?? req.get('x-tenantflow-user') ?? undefined;
  const requireUser = (req: Request): string => {
    const user = who(req);
    if (!user) throw new HttpError(401, 'sign in first (send X-Tenantflow-User in the embedded default)');
    return user.toLowerCase();
  };

  app.get('/api/health', async (_req, res) => {
    let temporal = 'ok';
    try {
      await deps.runs.client.workflowService.getSystemInfo({});
    } catch (err) {
      temporal = `unreachable: ${(err as Error).message}`;
    }
    res.status(temporal === 'ok' ? 200 : 503).json({ status: temporal === 'ok' ? 'ok' : 'degraded', temporal });
  });

  app.get('/api/actions', (_req, res) => {
    res.json(
      [...catalog.values()].map((a) => ({
        id: a.id,
        title: a.title,
        category: a.category,
        description: a.description,
        permissions: a.permissions,
        bulk: a.bulk,
        undo: a.undo,
        input: z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }),
        output: z.toJSONSchema(a.output, { unrepresentable: 'any' }),
      })),
    );
  });

  app.get('/api/runbooks', async (_req, res) => {
    res.json((await deps.runbooks.list()).map((r) => ({ id: r.id, version: r.version, name: r.definition.name, description: r.definition.description })));
  });

  app.get('/api/runbooks/:id', async (req, res) => {
    const rb = await deps.runbooks.get(req.params.id);
    if (!rb) throw new HttpError(404, `runbook ${req.params.id} does not exist`);
    res.json(rb);
  });

  app.post('/api/runbooks/validate', (req, res) => {
    const result = validateRunbook(req.body);
    res.status(result.ok ? 200 : 422).json({ ok: result.ok, problems: result.problems });
  });

  app.post('/api/runs', async (req, res) => {
    const startedBy = requireUser(req);
    const body = parse(StartRunBody, req.body);
    let definition: RunbookDefinition;
    let runbookId: string;
    let version: number;
    if (body.runbookId) {
      const rb = await deps.runbooks.get(body.runbookId);
      if (!rb) throw new HttpError(404, `runbook ${body.runbookId} does not exist`);
      ({ definition, id: runbookId, version } = rb);
    } else {
      const checked = validateRunbook(body.definition);
      if (!checked.ok) throw new HttpError(400, 'the runbook definition has problems', { problems: checked.problems });
      definition = checked.definition;
      runbookId = 'inline';
      version = 0;
    }
    const inputs = validateInputs(definition, body.inputs);
    if (!inputs.ok) throw new HttpError(400, 'the run inputs have problems', { problems: inputs.problems });
    const tenant = body.test ? 'sandbox' : (body.tenant ?? deps.defaultTenant);
    const id = await deps.runs.start({
      definition,
      inputs: inputs.values,
      run: { startedBy, tenant, runbookId, version, test: body.test },
    });
    res.status(201).location(`/api/runs/${id}`).json({ id, url: `/api/runs/${id}`, temporalUrl: deps.runs.webUiLink(id) });
  });

  app.get('/api/runs/:id', async (req, res) => {
    const got = await deps.runs.get(req.params.id);
    if (!got) throw new HttpError(404, `run ${req.params.id} does not exist`);
    res.json(runSummary(deps.runs, req.params.id, got));
  });

  app.post('/api/runs/:id/approvals/:nodeId', async (req, res) => {
    const by = requireUser(req);
    const body = parse(DecisionBody, req.body);
    const got = await deps.runs.get(req.params.id);
    if (!got) throw new HttpError(404, `run ${req.params.id} does not exist`);
    const node = got.state?.nodes[req.params.nodeId];
    if (!node) throw new HttpError(404, `run ${req.params.id} has no step "${req.params.nodeId}"`);
    if (node.status !== 'waiting-approval')
      throw new HttpError(409, `step "${req.params.nodeId}" is not waiting for approval (it is ${node.status})`);
    const startedBy = (got.description.searchAttributes as Record<string, unknown[]>).TenantflowRequester?.[0];
    if (!node.approval?.allowSelfApproval && typeof startedBy === 'string' && startedBy.toLowerCase() === by)
      throw new HttpError(403, 'you started this run, so you cannot approve it: ask another approver');
    await deps.runs.signalApproval(req.params.id, { nodeId: req.params.nodeId, decision: body.decision, by, comment: body.comment });
    res.status(202).json({ accepted: true, decision: body.decision, by });
  });

  app.post('/api/runs/:id/cancel', async (req, res) => {
    requireUser(req);
    const got = await deps.runs.get(req.params.id);
    if (!got) throw new HttpError(404, `run ${req.params.id} does not exist`);
    await deps.runs.cancel(req.params.id);
    res.status(202).json({ accepted: true });
  });

  if (deps.staticDir) {
    app.use(express.static(deps.staticDir));
    app.get(/^\/(?!api\/).*/, (_req, res) => res.sendFile('index.html', { root: deps.staticDir }));
  }

  app.use('/api', (req, _res, next) => next(new HttpError(404, `no API endpoint ${req.method} ${req.originalUrl}`)));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json(err.body);
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
    console.error('server error:', err);
    res.status(500).json({ error: 'internal error; see the server log' });
  });
  return app;
}
