// Runs: start (one, or a CSV in bulk), list from Temporal visibility, detail, cancel, retry,
// resume, re-run, live streams; and approvals: the inbox and decisions (POST only).
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { catalog } from '../catalog/index.ts';
import { graphClientCache } from '../m365/graph.ts';
import { statusOf } from '../m365/errors.ts';
import { RUN_STATUSES, type NodeState, type RunbookDefinition, type RunState } from '../runbook/definition.ts';
import type { CarriedStep } from '../workflows/messages.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { maskSealed, sealRunSecrets } from '../runbook/secrets.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { checkCsv, type RowProblem } from './csv.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { canSee, hasRole, hasRoleAnywhere, operatorScope, tenantsWith, ALL_TENANTS, ROLES, type Principal } from './people.ts';
import type { Services } from './services.ts';
import { runStatusOf, visibilityIn, type RunListItem } from './temporal.ts';

const SANDBOX = 'sandbox';

const StartRun = z
  .strictObject({
    runbookId: z.string().min(1).optional().describe('A published runbook'),
    version: z.number().int().min(1).optional().describe('Version to run; the latest when absent'),
    definition: z.unknown().optional().describe('An inline definition (designers only), validated before it runs'),
    inputs: z.record(z.string(), z.unknown()).default({}),
    tenant: z.string().min(1).optional().describe('Tenant connection; the default tenant when absent'),
    test: z.boolean().default(false).describe('Test run against the sandbox tenant'),
  })
  .refine((b) => (b.runbookId === undefined) !== (b.definition === undefined), { message: 'give either runbookId or definition (not both)', path: ['runbookId'] });

const BulkRun = z.strictObject({
  runbookId: z.string().min(1),
  version: z.number().int().min(1).optional(),
  tenant: z.string().min(1).optional(),
  test: z.boolean().default(false),
  csv: z.string().min(1).max(5_000_000).describe('The CSV file: a header of input names, one run per row'),
  skipBadRows: z.boolean().default(false).describe('Start the good rows even when some rows have problems'),
  dryRun: z.boolean().default(false).describe('Only check the file'),
});

const ListQuery = z.object({
  runbook: z.string().optional(),
  status: z
    .string()
    .optional()
    .describe(`Comma-separated: ${RUN_STATUSES.join(', ')}`)
    .refine((s) => !s || s.split(',').every((x) => (RUN_STATUSES as readonly string[]).includes(x)), `one or more of ${RUN_STATUSES.join(', ')}`),
  tenant: z.string().optional(),
  requester: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Started at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('Started before'),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  pageToken: z.string().optional(),
});

const Decision = z.strictObject({ decision: z.enum(['approve', 'reject']), comment: z.string().max(2000).optional() });
const Resume = z.strictObject({ nodeId: z.string().min(1), action: z.enum(['retry', 'skip', 'abort']) });
const Retry = z.strictObject({ nodeId: z.string().min(1).optional().describe('The failed or paused step (any failed step when absent)') });
const Rerun = z.strictObject({ version: z.union([z.literal('pinned'), z.literal('latest')]).default('pinned') });

const SECRET_NAME = /pass(word)?|secret|token|credential|key$/i;

/** Replaces secret values (declared secret fields, or names that say secret) with a marker. */
export function redact(value: unknown, secretFields: string[] = [], depth = 0): unknown {
  if (depth === 0) value = maskSealed(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, secretFields, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, secretFields.includes(k) || (SECRET_NAME.test(k) && typeof v === 'string') ? '[redacted]' : redact(v, secretFields, depth + 1)]),
  );
}

function redactNode(def: RunbookDefinition | undefined, n: NodeState): NodeState {
  const node = def?.nodes.find((x) => x.id === n.id);
  const fields = node?.kind === 'action' ? (catalog.get(node.action)?.secretFields ?? []) : [];
  return { ...n, input: redact(n.input, fields), output: redact(n.output, fields) };
}

export class RunAccess {
  readonly s: Services;
  private readonly graphs = graphClientCache();
  constructor(s: Services) {
    this.s = s;
  }

  canSeeTenant(p: Principal, tenant: string | undefined): boolean {
    if (!tenant) return false;
    return canSee(p, tenant) || (tenant === SANDBOX && p.grants.length > 0);
  }

  /** Operators of the tenant (designers too for the sandbox), or the person who started it. */
  canOperate(p: Principal, tenant: string | undefined, startedBy?: string): boolean {
    if (!tenant) return false;
    if (startedBy && startedBy === p.user.email) return true;
    if (hasRole(p, 'operator', tenant)) return true;
    return tenant === SANDBOX && (hasRoleAnywhere(p, 'operator') || hasRoleAnywhere(p, 'designer'));
  }

  async graph(tenant: string): Promise<GraphClient | undefined> {
    const conn = await this.s.tenants.connection(tenant);
    return conn ? this.graphs(conn) : undefined;
  }

  /** A user in the tenant by UPN or id, with the attributes scopes use; null when missing. */
  async lookupUser(tenant: string, ref: string): Promise<{ id: string; department?: string; country?: string; usageLocation?: string } | null> {
    const g = await this.graph(tenant);
    if (!g) throw new HttpError(400, `tenant ${tenant} has no connection to look users up with`);
    try {
      return (await g.api(`/users/${encodeURIComponent(ref)}`).select('id,userPrincipalName,department,country,usageLocation').get()) as never;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new HttpError(502, `could not look up ${ref} in tenant ${tenant}: ${(err as Error).message}`);
    }
  }

  /** Problems when the run's target lies outside the caller's operator scope on the tenant. */
  async scopeProblems(p: Principal, tenant: string, def: RunbookDefinition, inputs: Record<string, unknown>, cache = new Map<string, Promise<unknown>>()): Promise<RowProblem[]> {
    const scope = operatorScope(p, tenant);
    if (!scope) return [];
    const problems: RowProblem[] = [];
    const attributes: Record<'department' | 'country', string[]> = { department: [], country: [] };
    const direct: Record<'department' | 'country', string[]> = { department: ['department'], country: ['country', 'usageLocation'] };
    for (const key of ['department', 'country'] as const)
      for (const name of direct[key]) if (typeof inputs[name] === 'string' && inputs[name]) attributes[key].push(inputs[name] as string);
    for (const input of def.inputs.filter((i) => i.type === 'user')) {
      const ref = inputs[input.name];
      if (typeof ref !== 'string' || !ref) continue;
      const k = `${tenant}|${ref.toLowerCase()}`;
      if (!cache.has(k)) cache.set(k, this.lookupUser(tenant, ref));
      const u = (await cache.get(k)) as Awaited<ReturnType<RunAccess['lookupUser']>>;
      if (u?.department) attributes.department.push(u.department);
      if (u?.country) attributes.country.push(u.country);
      if (u?.usageLocation) attributes.country.push(u.usageLocation);
    }
    for (const key of ['department', 'country'] as const) {
      const allowed = scope[key];
      if (!allowed) continue;
      const lower = allowed.map((a) => a.toLowerCase());
      if (attributes[key].length === 0)
        problems.push({ field: direct[key][0]!, kind: 'scope', message: `your operator scope is limited to ${key} ${allowed.join(', ')}, and this run names no ${key}` });
      for (const v of attributes[key])
        if (!lower.includes(v.toLowerCase())) problems.push({ field: direct[key][0]!, kind: 'scope', message: `${key} ${v} is outside your operator scope (${allowed.join(', ')})` });
    }
    return problems;
  }
}

interface Resolved {
  definition: RunbookDefinition;
  runbookId: string;
  version: number;
  customAction: boolean;
}

export function runRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  const resolve = async (p: Principal, runbookId: string | undefined, version: number | undefined, inline: unknown): Promise<Resolved> => {
    if (runbookId) {
      const rb = await s.runbooks.get(runbookId);
      if (!rb) throw new HttpError(404, `runbook ${runbookId} does not exist`);
      if (rb.archived) throw new HttpError(409, `runbook ${runbookId} is archived`);
      const v = await s.runbooks.version(runbookId, version);
      if (!v) throw new HttpError(version ? 404 : 409, version ? `runbook ${runbookId} has no version ${version}` : `runbook ${runbookId} has no published version yet`);
      return { definition: v.definition, runbookId, version: v.version, customAction: rb.customAction };
    }
    const checked = validateRunbook(inline);
    if (!checked.ok) throw new HttpError(400, 'the runbook definition has problems', { problems: checked.problems });
    return { definition: checked.definition, runbookId: 'inline', version: 0, customAction: false };
  };

  /** Who may start what: designers any runbook (and inline definitions), operators the custom actions. */
  const mayStart = (p: Principal, r: Resolved, tenant: string, test: boolean) => {
    const designer = test ? hasRoleAnywhere(p, 'designer') : hasRole(p, 'designer', tenant);
    if (designer) return;
    if (r.runbookId === 'inline') throw new HttpError(403, 'only designers may run an unpublished definition');
    const operator = test ? hasRoleAnywhere(p, 'operator') : hasRole(p, 'operator', tenant);
    if (!operator) throw new HttpError(403, `you are not an operator of tenant ${tenant}`);
    if (!r.customAction) throw new HttpError(403, `runbook ${r.runbookId} is not offered to operators (ask a designer to make it a custom action)`);
  };

  const tenantOf = async (test: boolean, tenant: string | undefined) => {
    const t = test ? SANDBOX : (tenant ?? s.deps.defaultTenant);
    if (!(await s.tenants.exists(t))) throw new HttpError(400, `tenant ${t} does not exist`, { problems: [{ field: 'tenant', message: `unknown tenant ${t}` }] });
    return t;
  };

  const visibleTenants = (p: Principal): string[] | undefined => {
    const ts = tenantsWith(p, 'any');
    if (ts.includes(ALL_TENANTS)) return undefined;
    return p.grants.length ? [...new Set([...ts, SANDBOX])] : [];
  };

  const loadRun = async (p: Principal, id: string) => {
    const got = await s.runs.get(id);
    const sa = got?.description.searchAttributes as Record<string, unknown[] | undefined> | undefined;
    const tenant = sa?.TenantflowTenant?.[0] as string | undefined;
    if (!got || !access.canSeeTenant(p, tenant)) throw new HttpError(404, `run ${id} does not exist`);
    return { ...got, tenant: tenant!, startedBy: sa?.TenantflowRequester?.[0] as string | undefined, runbook: sa?.TenantflowRunbook?.[0] as string | undefined, version: sa?.TenantflowVersion?.[0] as number | undefined };
  };

  const detail = async (p: Principal, id: string) => {
    const run = await loadRun(p, id);
    const d = run.description;
    const input = await s.runs.input(id).catch(() => undefined);
    const def = input?.definition;
    const temporalStatus = d.status.name;
    const nodes = Object.fromEntries(Object.entries(run.state?.nodes ?? {}).map(([k, n]) => [k, redactNode(def, n)]));
    const decisions = Object.values(run.state?.nodes ?? {}).flatMap((n) => (n.approval?.decisions ?? []).map((x) => ({ node: n.id, ...x })));
    return {
      id,
      status: runStatusOf(run.state?.status ?? ((d.searchAttributes as Record<string, unknown[]>).TenantflowStatus?.[0] as string | undefined), temporalStatus),
      temporalStatus,
      runbook: run.runbook,
      runbookName: def?.name,
      version: run.version,
      tenant: run.tenant,
      startedBy: run.startedBy,
      test: input?.run.test ?? false,
      startedAt: run.state?.startedAt ?? d.startTime.toISOString(),
      endedAt: run.state?.endedAt ?? d.closeTime?.toISOString(),
      message: run.state?.message,
      inputs: redact(input?.inputs, def?.inputs.filter((i) => SECRET_NAME.test(i.name)).map((i) => i.name)),
      origin: (d.memo as Record<string, unknown> | undefined)?.origin,
      nodes,
      decisions,
      graph: def ? { nodes: def.nodes.map((n) => ({ id: n.id, kind: n.kind, label: n.label, action: n.kind === 'action' ? n.action : undefined, position: n.position })), edges: def.edges } : undefined,
      temporalUrl: s.runs.webUiLink(id, d.runId),
    };
  };

  const startOne = async (p: Principal, req: Request, r: Resolved, tenant: string, inputs: Record<string, unknown>, test: boolean, origin?: Record<string, unknown>, carry?: Record<string, CarriedStep>) => {
    // Secret inputs and secret action fields travel sealed; only the worker opens them.
    const sealed = sealRunSecrets(s.deps.secretBox, r.definition, inputs, (a) => catalog.get(a)?.secretFields);
    const id = await s.runs.start({ definition: sealed.definition, inputs: sealed.inputs, run: { startedBy: p.user.email, tenant, runbookId: r.runbookId, version: r.version, test }, origin, carry });
    await s.audit.record(originOf(req, p), 'run.started', id, { runbook: r.runbookId, version: r.version, test, ...origin }, tenant);
    return id;
  };

  api.route(
    { method: 'post', path: '/api/runs', tag: 'runs', summary: 'Start a run of a published runbook (or an inline definition)', roles: 'operator (custom actions), designer', body: StartRun, statuses: { 201: 'started', 404: 'no such runbook', 409: 'archived or unpublished' } },
    async ({ req, res, me: p, body }) => {
      const r = await resolve(p, body.runbookId, body.version, body.definition);
      const tenant = await tenantOf(body.test, body.tenant);
      mayStart(p, r, tenant, body.test);
      const inputs = validateInputs(r.definition, body.inputs);
      if (!inputs.ok) throw new HttpError(400, 'the run inputs have problems', { problems: inputs.problems });
      const scope = await access.scopeProblems(p, tenant, r.definition, inputs.values);
      if (scope.length) throw new HttpError(403, 'this run is outside your operator scope', { problems: scope.map(({ field, message }) => ({ field: `inputs.${field}`, message })) });
      const id = await startOne(p, req, r, tenant, inputs.values, body.test);
      res.status(201).location(`/api/runs/${id}`);
      return { id, url: `/api/runs/${id}`, temporalUrl: s.runs.webUiLink(id), runbook: r.runbookId, version: r.version, tenant };
    },
  );

  api.route(
    { method: 'post', path: '/api/runs/bulk', tag: 'runs', summary: 'Check a CSV (one run per row) and start it: a per-row report; nothing starts while rows have problems unless skipBadRows', roles: 'operator (custom actions), designer', body: BulkRun, statuses: { 201: 'runs started', 422: 'the file has problems; nothing started' } },
    async ({ req, res, me: p, body }) => {
      const r = await resolve(p, body.runbookId, body.version, undefined);
      const tenant = await tenantOf(body.test, body.tenant);
      mayStart(p, r, tenant, body.test);
      const check = checkCsv(r.definition, body.csv);
      // Users named in user-typed columns must exist in the tenant, and be inside the caller's scope.
      const userInputs = r.definition.inputs.filter((i) => i.type === 'user').map((i) => i.name);
      const lookups = new Map<string, Promise<unknown>>();
      const lookup = (ref: string) => {
        const k = `${tenant}|${ref.toLowerCase()}`;
        if (!lookups.has(k)) lookups.set(k, access.lookupUser(tenant, ref));
        return lookups.get(k) as ReturnType<RunAccess['lookupUser']>;
      };
      for (const row of check.rows) {
        for (const name of userInputs) {
          const ref = row.inputs[name];
          if (typeof ref === 'string' && ref && !row.problems.some((x) => x.field === name) && (await lookup(ref)) === null)
            row.problems.push({ field: name, kind: 'unknown-user', message: `${ref} is not a user of tenant ${tenant}` });
        }
        if (!row.problems.length) row.problems.push(...(await access.scopeProblems(p, tenant, r.definition, row.inputs, lookups)));
        row.status = row.problems.length ? 'error' : 'ok';
      }
      const bad = check.rows.filter((x) => x.status === 'error').length;
      const fileOk = check.problems.length === 0 || (check.columns.missing.length === 0 && check.columns.unknown.length === 0 && check.rows.length > 0);
      const summary = { rows: check.rows.length, ok: check.rows.length - bad, bad };
      const report = { runbook: r.runbookId, version: r.version, tenant, columns: check.columns, problems: check.problems, summary };
      if (body.dryRun || !fileOk || (bad > 0 && !body.skipBadRows) || summary.ok === 0) {
        res.status(body.dryRun && fileOk && (bad === 0 || body.skipBadRows) ? 200 : 422);
        return { ...report, started: 0, rows: check.rows, error: body.dryRun ? undefined : 'the file has problems; nothing was started', dryRun: body.dryRun };
      }
      const batch = `bulk-${randomUUID().slice(0, 8)}`;
      let started = 0;
      for (const row of check.rows) {
        if (row.status !== 'ok') {
          row.status = 'skipped';
          continue;
        }
        row.runId = await startOne(p, req, r, tenant, row.inputs, body.test, { bulk: batch, line: row.line });
        row.status = 'started';
        started++;
      }
      await s.audit.record(originOf(req, p), 'run.bulk', batch, { runbook: r.runbookId, ...summary, started }, tenant);
      res.status(201);
      return { ...report, batch, started, rows: check.rows };
    },
  );

  api.route({ method: 'get', path: '/api/runs', tag: 'runs', summary: 'Runs from Temporal visibility, newest first, with filters and paging', roles: 'viewer', query: ListQuery }, async ({ me: p, query }) => {
    let tenants = visibleTenants(p);
    if (query.tenant) {
      if (tenants && !tenants.includes(query.tenant)) return { runs: [], nextPageToken: undefined };
      tenants = [query.tenant];
    }
    return s.runs.list(
      { runbook: query.runbook, status: query.status?.split(',') as never, tenants, requester: query.requester, startedAfter: query.from, startedBefore: query.to },
      { size: query.pageSize, token: query.pageToken },
    );
  });

  // Live list: polls visibility and sends what changed.
  api.route({ method: 'get', path: '/api/runs/events', tag: 'runs', summary: 'Server-Sent Events: "run" for each run whose status changed (same filters as the list)', roles: 'viewer', query: ListQuery, produces: 'text/event-stream' }, async ({ req, res, me: p, query }) => {
    let tenants = visibleTenants(p);
    if (query.tenant) tenants = tenants && !tenants.includes(query.tenant) ? [] : [query.tenant];
    const seen = new Map<string, string>();
    await stream(req, res, s.deps.pollMs ?? 1000, async (send) => {
      const { runs } = await s.runs.list({ runbook: query.runbook, tenants, requester: query.requester, startedAfter: query.from }, { size: query.pageSize });
      for (const r of runs.slice().reverse()) {
        const key = `${r.status}|${r.pendingApprovers.join(',')}|${r.endedAt ?? ''}`;
        if (seen.get(r.id) !== key) {
          seen.set(r.id, key);
          send('run', r);
        }
      }
      return true;
    });
  });

  api.route({ method: 'get', path: '/api/runs/:id', tag: 'runs', summary: 'A run: status, every node (attempts, input, output, error; secrets redacted), decisions, Temporal Web UI link', roles: 'viewer', statuses: { 404: 'no such run' } }, async ({ me: p, params }) => detail(p, params.id!));

  api.route({ method: 'get', path: '/api/runs/:id/events', tag: 'runs', summary: 'Server-Sent Events: "node" on every node change, "run" on status changes, "end" when it closes', roles: 'viewer', produces: 'text/event-stream', statuses: { 404: 'no such run' } }, async ({ req, res, me: p, params }) => {
    await loadRun(p, params.id!);
    const last = new Map<string, string>();
    let lastRun = '';
    await stream(req, res, s.deps.pollMs ?? 1000, async (send) => {
      const got = await s.runs.get(params.id!);
      if (!got) return false;
      for (const n of Object.values(got.state?.nodes ?? {})) {
        const key = JSON.stringify(n);
        if (last.get(n.id) !== key) {
          last.set(n.id, key);
          send('node', redactNode(undefined, n));
        }
      }
      const status = runStatusOf(got.state?.status, got.description.status.name);
      const runKey = `${status}|${got.state?.message ?? ''}`;
      if (runKey !== lastRun) {
        lastRun = runKey;
        send('run', { id: params.id, status, message: got.state?.message });
      }
      if (got.description.status.name !== 'RUNNING') {
        send('end', { id: params.id, status });
        return false;
      }
      return true;
    });
  });

  api.route({ method: 'post', path: '/api/runs/:id/cancel', tag: 'runs', summary: 'Cancel the run and the steps in flight', roles: 'operator of the tenant, or who started it', statuses: { 202: 'accepted', 404: 'no such run', 409: 'already finished' } }, async ({ req, res, me: p, params }) => {
    const run = await loadRun(p, params.id!);
    if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may cancel this run`);
    if (run.description.status.name !== 'RUNNING') throw new HttpError(409, `run ${params.id} has already finished (${run.description.status.name.toLowerCase()})`);
    await s.runs.cancel(params.id!);
    await s.audit.record(originOf(req, p), 'run.cancelled', params.id, undefined, run.tenant);
    res.status(202);
    return { accepted: true };
  });

  api.route({ method: 'post', path: '/api/runs/:id/resume', tag: 'runs', summary: 'Resume a step paused on error: retry, skip or abort', roles: 'operator of the tenant, or who started it', body: Resume, statuses: { 202: 'accepted', 404: 'no such run or step', 409: 'the step is not paused' } }, async ({ req, res, me: p, params, body }) => {
    const run = await loadRun(p, params.id!);
    if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may resume this run`);
    const node = run.state?.nodes[body.nodeId];
    if (!node) throw new HttpError(404, `run ${params.id} has no step "${body.nodeId}"`);
    if (node.status !== 'paused') throw new HttpError(409, `step "${body.nodeId}" is not paused (it is ${node.status})`);
    await s.runs.signalResume(params.id!, { nodeId: body.nodeId, action: body.action, by: p.user.email });
    await s.audit.record(originOf(req, p), `run.resume.${body.action}`, params.id, { node: body.nodeId }, run.tenant);
    res.status(202);
    return { accepted: true, action: body.action };
  });

  api.route(
    { method: 'post', path: '/api/runs/:id/retry', tag: 'runs', summary: 'Retry a failed step: resumes a paused step, or starts a new run of a failed run that reuses the steps that succeeded', roles: 'operator of the tenant, or who started it', body: Retry, statuses: { 201: 'a new run started', 202: 'the paused step is retried', 409: 'nothing to retry' } },
    async ({ req, res, me: p, params, body }) => {
      const run = await loadRun(p, params.id!);
      if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may retry this run`);
      const nodes = Object.values(run.state?.nodes ?? {});
      const open = run.description.status.name === 'RUNNING';
      if (open) {
        const paused = nodes.find((n) => n.status === 'paused' && (!body.nodeId || n.id === body.nodeId));
        if (!paused) throw new HttpError(409, 'the run is still going and no step is paused: nothing to retry yet');
        await s.runs.signalResume(params.id!, { nodeId: paused.id, action: 'retry', by: p.user.email });
        await s.audit.record(originOf(req, p), 'run.resume.retry', params.id, { node: paused.id }, run.tenant);
        res.status(202);
        return { accepted: true, nodeId: paused.id };
      }
      const failed = nodes.filter((n) => n.status === 'failed');
      if (!failed.length) throw new HttpError(409, `run ${params.id} has no failed step to retry`);
      if (body.nodeId && !failed.some((n) => n.id === body.nodeId)) throw new HttpError(409, `step "${body.nodeId}" did not fail`);
      const input = await s.runs.input(params.id!);
      if (!input) throw new HttpError(409, 'the run\'s input cannot be read');
      const carry: Record<string, CarriedStep> = {};
      for (const n of nodes) if (n.status === 'succeeded' && n.handle && n.kind !== 'end') carry[n.id] = { output: n.output, handle: n.handle, from: params.id! };
      const r: Resolved = { definition: input.definition, runbookId: input.run.runbookId, version: input.run.version, customAction: true };
      const id = await startOne(p, req, r, input.run.tenant, input.inputs, input.run.test ?? false, { retryOf: params.id }, carry);
      res.status(201).location(`/api/runs/${id}`);
      return { id, url: `/api/runs/${id}`, reused: Object.keys(carry) };
    },
  );

  api.route({ method: 'post', path: '/api/runs/:id/rerun', tag: 'runs', summary: 'Start the run again with the same inputs, on its pinned version or the latest', roles: 'operator (custom actions), designer', body: Rerun, statuses: { 201: 'started', 404: 'no such run' } }, async ({ req, res, me: p, params, body }) => {
    const run = await loadRun(p, params.id!);
    const input = await s.runs.input(params.id!);
    if (!input) throw new HttpError(409, 'the run\'s input cannot be read');
    let r: Resolved;
    if (body.version === 'latest' && input.run.runbookId !== 'inline') r = await resolve(p, input.run.runbookId, undefined, undefined);
    else {
      const rb = input.run.runbookId !== 'inline' ? await s.runbooks.get(input.run.runbookId) : undefined;
      r = { definition: input.definition, runbookId: input.run.runbookId, version: input.run.version, customAction: rb?.customAction ?? false };
    }
    mayStart(p, r, run.tenant, input.run.test ?? false);
    const inputs = validateInputs(r.definition, input.inputs);
    if (!inputs.ok) throw new HttpError(400, `the inputs of run ${params.id} do not fit version ${r.version}`, { problems: inputs.problems });
    const scope = await access.scopeProblems(p, run.tenant, r.definition, inputs.values);
    if (scope.length) throw new HttpError(403, 'this run is outside your operator scope', { problems: scope });
    const id = await startOne(p, req, r, run.tenant, inputs.values, input.run.test ?? false, { rerunOf: params.id });
    res.status(201).location(`/api/runs/${id}`);
    return { id, url: `/api/runs/${id}`, version: r.version };
  });

  // ---- approvals ----

  /** The pending-approver keys that designate this principal on tenant. */
  const approverKeysFor = (p: Principal, tenant: string) => [
    p.user.email,
    ...p.user.groups.map((g) => `group:${g}`),
    ...ROLES.filter((r) => hasRole(p, r, tenant)).map((r) => `role:${r}`),
    // Approval nodes may name roles that are not Tenantflow's (e.g. "manager"): admins cover them.
  ];

  const eligible = (p: Principal, tenant: string, pending: string[]) => {
    const mine = new Set(approverKeysFor(p, tenant));
    return pending.some((k) => mine.has(k) || (k.startsWith('role:') && hasRole(p, 'admin', tenant)));
  };

  api.route({ method: 'get', path: '/api/approvals', tag: 'approvals', summary: 'My inbox: steps waiting for me (as a user, by role or by group), with the run\'s context', roles: 'any' }, async ({ me: p }) => {
    const groups: string[] = [`TenantflowPendingApprovers = '${p.user.email.replace(/'/g, "\\'")}'`];
    if (p.user.groups.length) groups.push(visibilityIn('TenantflowPendingApprovers', p.user.groups.map((g) => `group:${g}`)));
    const byRole = new Map<string, Set<string>>();
    for (const g of p.grants) {
      const roles = g.role === 'admin' ? [...ROLES] : [g.role];
      for (const r of roles) byRole.set(r, new Set([...(byRole.get(r) ?? []), g.tenant]));
    }
    for (const [role, ts] of byRole)
      groups.push(ts.has(ALL_TENANTS) ? `TenantflowPendingApprovers = 'role:${role}'` : `(TenantflowPendingApprovers = 'role:${role}' AND ${visibilityIn('TenantflowTenant', [...ts])})`);
    const { runs } = await s.runs.list({ extra: `(${groups.join(' OR ')})`, status: ['waiting-approval', 'paused', 'running'] }, { size: 100 });
    const items = [];
    for (const r of runs) {
      const got = await s.runs.get(r.id).catch(() => undefined);
      if (!got?.state) continue;
      const input = await s.runs.input(r.id).catch(() => undefined);
      for (const n of Object.values(got.state.nodes)) {
        if (n.status !== 'waiting-approval' || !n.approval || !eligible(p, r.tenant!, n.approval.pendingApprovers)) continue;
        const next = input?.definition.edges.filter((e) => e.source === n.id && e.sourceHandle === 'approved').map((e) => input.definition.nodes.find((x) => x.id === e.target)) ?? [];
        items.push({
          runId: r.id,
          nodeId: n.id,
          runbook: r.runbook,
          runbookName: r.runbookName,
          version: r.version,
          tenant: r.tenant,
          startedBy: r.startedBy,
          startedAt: r.startedAt,
          message: n.approval.message,
          deadline: n.approval.deadline,
          quorum: n.approval.quorum,
          decisions: n.approval.decisions,
          selfApprovalAllowed: n.approval.allowSelfApproval,
          canDecide: n.approval.allowSelfApproval || r.startedBy !== p.user.email,
          inputs: redact(input?.inputs),
          onApproval: next.filter(Boolean).map((x) => ({ id: x!.id, kind: x!.kind, label: x!.label, action: x!.kind === 'action' ? x!.action : undefined, title: x!.kind === 'action' ? catalog.get(x!.action)?.title : undefined })),
          // What approving lets run (docs/plan.md), planned when the step started waiting.
          plan: n.approval.plan,
          planError: n.approval.planError,
          decideUrl: `/api/runs/${r.id}/approvals/${n.id}`,
        });
      }
    }
    return items;
  });

  // A link opened by a mail scanner or a chat preview must never decide: GET only explains.
  api.route({ method: 'get', path: '/api/runs/:id/approvals/:nodeId', tag: 'approvals', summary: 'Never decides: explains that a decision needs an authenticated POST', access: 'public', statuses: { 405: 'always' } }, ({ res }) => {
    res.status(405).set('allow', 'POST');
    return { error: 'approvals are decided only with an authenticated POST (from the inbox or the CLI), never by opening a link' };
  });

  api.route(
    { method: 'post', path: '/api/runs/:id/approvals/:nodeId', tag: 'approvals', summary: 'Approve or reject a waiting step, with a comment', roles: 'the step\'s approvers', body: Decision, statuses: { 202: 'recorded', 404: 'no such run or step', 409: 'not waiting, or already decided by you' } },
    async ({ req, res, me: p, params, body }) => {
      const run = await loadRun(p, params.id!);
      const node = run.state?.nodes[params.nodeId!];
      if (!node) throw new HttpError(404, `run ${params.id} has no step "${params.nodeId}"`);
      if (node.status !== 'waiting-approval' || !node.approval) throw new HttpError(409, `step "${params.nodeId}" is not waiting for approval (it is ${node.status})`);
      if (!node.approval.allowSelfApproval && run.startedBy === p.user.email) {
        await s.audit.record(originOf(req, p), 'approval.refused', params.id, { node: params.nodeId, reason: 'self-approval' }, run.tenant);
        throw new HttpError(403, 'you started this run, so you cannot approve it: ask another approver');
      }
      if (!eligible(p, run.tenant, node.approval.pendingApprovers)) throw new HttpError(403, `you are not an approver of step "${params.nodeId}" (approvers: ${node.approval.pendingApprovers.join(', ')})`);
      if (node.approval.decisions.some((d) => d.by === p.user.email && !d.refused)) throw new HttpError(409, 'you have already decided on this step');
      await s.runs.signalApproval(params.id!, { nodeId: params.nodeId!, decision: body.decision, by: p.user.email, comment: body.comment });
      await s.audit.record(originOf(req, p), `approval.${body.decision}`, params.id, { node: params.nodeId, comment: body.comment }, run.tenant);
      res.status(202);
      return { accepted: true, decision: body.decision, by: p.user.email };
    },
  );
}

/** Server-Sent Events: calls tick every pollMs until it returns false or the client leaves. */
async function stream(req: Request, res: Response, pollMs: number, tick: (send: (event: string, data: unknown) => void) => Promise<boolean>): Promise<void> {
  res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  let closed = false;
  req.on('close', () => {
    closed = true;
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let beat = Date.now();
  while (!closed) {
    let more: boolean;
    try {
      more = await tick(send);
    } catch (err) {
      send('error', { error: (err as Error).message });
      more = true;
    }
    if (!more) break;
    if (Date.now() - beat > 15_000) {
      res.write(': keep-alive\n\n');
      beat = Date.now();
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  res.end();
}

export type { RunListItem, RunState };
