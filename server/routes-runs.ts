// Runs: start (one, or a CSV in bulk), list from the run records, detail, cancel, retry,
// resume, re-run, and live streams. Who may do what is access.ts; approvals are routes-approvals.ts.
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { catalog } from '../catalog/index.ts';
import { checkCsv, type RowReport } from '../runbook/csv.ts';
import type { NodeState, RunbookDefinition } from '../runbook/definition.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { redact, redactInputs, sealRunSecrets } from '../runbook/secrets.ts';
import type { CarriedStep } from '../workflows/messages.ts';
import { RunAccess, type Startable } from './access.ts';
import { HttpError, originOf, type Api } from './http.ts';
import type { Principal } from './people.ts';
import type { Services } from './services.ts';
import { recordView, redactChildOutput } from './run-records.ts';
import { stream } from './sse.ts';
import { DEFAULT_CONCURRENCY, startBatchWorkflow } from './batches.ts';
import { idempotentId } from './idempotency.ts';
import { newRunId, runStatusOf } from './temporal.ts';
import { usesOnPremises } from './tenants.ts';

function redactNode(def: RunbookDefinition | undefined, n: NodeState): NodeState {
  const node = def?.nodes.find((x) => x.id === n.id);
  const fields = node?.kind === 'action' ? (catalog.get(node.action)?.secretFields ?? []) : [];
  if (node?.kind === 'subRunbook') return { ...n, output: redactChildOutput(node.pinned?.definition as RunbookDefinition | undefined, n.output) };
  return { ...n, input: redact(n.input, fields), output: redact(n.output, fields) };
}

export function runRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  const resolve = (_p: Principal, runbookId: string | undefined, version: number | undefined, inline: unknown): Promise<Startable> => access.resolve(_p, runbookId, version, inline);
  const tenantOf = (test: boolean, tenant: string | undefined) => access.tenantOf(test, tenant);

  // The run as Temporal has it, written to its record on the way; the record alone once Temporal forgot it.
  const detail = async (p: Principal, id: string) => {
    const rec = await s.records.refresh(id);
    if (!rec?.tenant || !access.canSeeTenant(p, rec.tenant)) throw new HttpError(404, `run ${id} does not exist`);
    return { ...recordView(rec, s.runs.webUiLink(id, rec.runId)), tenant: rec.tenant };
  };

  /** 403 naming the inputs when the run's target lies outside the caller's operator scope. */
  const assertInScope = async (p: Principal, tenant: string, def: RunbookDefinition, inputs: Record<string, unknown>) => {
    const scope = await access.scopeProblems(p, tenant, def, inputs);
    if (scope.length) throw new HttpError(403, 'this run is outside your operator scope', { problems: scope.map(({ field, message }) => ({ field: `inputs.${field}`, message })) });
  };
  /** The same for an existing run someone else started (resume, retry): its own inputs. */
  const assertRunInScope = async (p: Principal, id: string, run: { tenant: string; startedBy?: string }) => {
    if (run.startedBy === p.user.email) return;
    const input = await s.runs.input(id);
    if (input) await assertInScope(p, run.tenant, input.definition, input.inputs);
  };

  /** Unknown users and operator scope, row by row (lookups shared across rows). */
  const tenantChecks = async (p: Principal, tenant: string, def: RunbookDefinition, rows: RowReport[]) => {
    const userInputs = def.inputs.filter((i) => i.type === 'user').map((i) => i.name);
    const lookups = new Map<string, Promise<unknown>>();
    const lookup = (ref: string) => {
      const k = `${tenant}|${ref.toLowerCase()}`;
      if (!lookups.has(k)) lookups.set(k, access.lookupUser(tenant, ref));
      return lookups.get(k) as ReturnType<RunAccess['lookupUser']>;
    };
    for (const row of rows) {
      for (const name of userInputs) {
        const ref = row.inputs[name];
        if (typeof ref === 'string' && ref && !row.problems.some((x) => x.field === name) && (await lookup(ref)) === null)
          row.problems.push({ field: name, kind: 'unknown-user', message: `${ref} is not a user of tenant ${tenant}` });
      }
      if (!row.problems.length) row.problems.push(...(await access.scopeProblems(p, tenant, def, row.inputs, lookups)));
      row.status = row.problems.length ? 'error' : 'ok';
    }
  };

  const startOne = async (p: Principal, req: Request, r: Startable, tenant: string, inputs: Record<string, unknown>, test: boolean, origin?: Record<string, unknown>, carry?: Record<string, CarriedStep>, fixedId?: string) => {
    // Secret inputs and secret action fields travel sealed; only the worker opens them. Long
    // lists are stored here and travel as references (a forEach pages them).
    const [sealed, onPremises] = await Promise.all([
      s.lists.storeLongLists(r.definition, inputs, { tenant, by: p.user.email, taskQueue: s.runs.taskQueue }).then((ins) => sealRunSecrets(s.deps.secretBox, r.definition, ins, (a) => catalog.get(a)?.secretFields)),
      onPremisesOrRefuse(s, tenant, r.definition),
    ]);
    // Only the start waits for Temporal: the run's "run.started" audit entry is appended by the
    // writer of its first record (RunRecords, right after this answer, or the records loop after a
    // crash), exactly once, from who the memo says started it. A start Temporal refused is
    // audited here.
    const id = fixedId ?? newRunId();
    const who = originOf(req, p);
    const starter = { definition: sealed.definition, inputs: sealed.inputs, run: { startedBy: p.user.email, tenant, runbookId: r.runbookId, version: r.version, test, ...(onPremises ? { onPremises } : {}) }, origin, carry, audit: who };
    const at = new Date();
    let runId: string | undefined;
    try {
      ({ runId } = await s.runs.launch(starter, id));
    } catch (err) {
      await s.audit.record(who, 'run.start-failed', id, { runbook: r.runbookId, version: r.version, error: (err as Error).message }, tenant).catch(() => undefined);
      throw err;
    }
    // Its record is written in the background now (from what it was started with, unless this was
    // a repeat or a retry carrying earlier steps: then from Temporal), and by the records loop
    // should that fail.
    s.records.started(id, runId && !carry ? { runId, starter, at } : undefined);
    return id;
  };

  api.route('POST /api/runs',
    async ({ req, res, me: p, body, idempotencyKey }) => {
      // The runbook and the tenant are read at once (two lookups, one wait before the start).
      const [r, tenant] = await Promise.all([resolve(p, body.runbookId, body.version, body.definition), tenantOf(body.test, body.tenant)]);
      access.mayStart(p, r, tenant, body.test);
      const inputs = validateInputs(r.definition, body.inputs);
      if (!inputs.ok) throw new HttpError(400, 'the run inputs have problems', { problems: inputs.problems });
      await assertInScope(p, tenant, r.definition, inputs.values);
      // With an Idempotency-Key the run's id comes from it: a repeat after a crash cannot start a second run.
      const fixedId = idempotencyKey ? idempotentId('run-', p.user.email, 'POST /api/runs', idempotencyKey, 32) : undefined;
      const id = await startOne(p, req, r, tenant, inputs.values, body.test, body.reason ? { reason: body.reason } : undefined, undefined, fixedId);
      res.status(201).location(`/api/runs/${id}`);
      return { id, url: `/api/runs/${id}`, temporalUrl: s.runs.webUiLink(id), runbook: r.runbookId, version: r.version, tenant };
    },
  );

  api.route('POST /api/runs/bulk',
    async ({ req, res, me: p, body, idempotencyKey }) => {
      const r = await resolve(p, body.runbookId, body.version, undefined);
      const tenant = await tenantOf(body.test, body.tenant);
      access.mayStart(p, r, tenant, body.test);
      const check = checkCsv(r.definition, body.csv);
      // A dry run also asks the tenant: users named in user-typed columns must exist, and be inside
      // the caller's scope. A real start does that per row as the batch runs (a file of 100,000
      // rows is answered at once): a row that fails it is skipped with the problem.
      if (body.dryRun) await tenantChecks(p, tenant, r.definition, check.rows);
      const bad = check.rows.filter((x) => x.status === 'error').length;
      const fileOk = check.problems.length === 0 || (check.columns.missing.length === 0 && check.columns.unknown.length === 0 && check.columns.duplicate.length === 0 && check.rows.length > 0);
      const summary = { rows: check.rows.length, ok: check.rows.length - bad, bad };
      const report = { runbook: r.runbookId, version: r.version, tenant, columns: check.columns, problems: check.problems, summary };
      if (body.dryRun || !fileOk || (bad > 0 && !body.skipBadRows) || summary.ok === 0) {
        res.status(body.dryRun && fileOk && (bad === 0 || body.skipBadRows) ? 200 : 422);
        return { ...report, started: 0, rows: check.rows, error: body.dryRun ? undefined : 'the file has problems; nothing was started', dryRun: body.dryRun };
      }
      // The batch and every row are stored before any run starts (all or tracked); its id comes
      // from the Idempotency-Key when there is one, so a repeat after a crash finds it again.
      const batch = idempotencyKey ? idempotentId('bulk-', p.user.email, 'POST /api/runs/bulk', idempotencyKey, 12) : `bulk-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const onPremises = await onPremisesOrRefuse(s, tenant, r.definition);
      const secretFields = (a: string) => catalog.get(a)?.secretFields;
      const definition = sealRunSecrets(s.deps.secretBox, r.definition, {}, secretFields).definition;
      const rows = check.rows.map((row) => ({
        line: row.line,
        inputs: sealRunSecrets(s.deps.secretBox, r.definition, row.inputs, secretFields).inputs,
        ...(row.status === 'error' ? { problems: row.problems } : {}),
      }));
      const created = await s.batches.create(
        {
          id: batch,
          tenant,
          runbook: r.runbookId,
          version: r.version,
          test: body.test,
          startedBy: p.user.email,
          principal: { user: p.user, grants: p.grants },
          definition,
          run: { startedBy: p.user.email, tenant, runbookId: r.runbookId, version: r.version, test: body.test, ...(onPremises ? { onPremises } : {}) },
          concurrency: body.concurrency ?? DEFAULT_CONCURRENCY,
        },
        rows,
      );
      if (created) await s.audit.record(originOf(req, p), 'run.bulk', batch, { runbook: r.runbookId, version: r.version, ...summary }, tenant);
      // Should Temporal not take the start now, the batch is stored: the batch worker starts it.
      await startBatchWorkflow(s.runs.client, s.runs.taskQueue, { id: batch, round: 1 }).catch((err) => console.warn(`batch ${batch}: its workflow starts later (${(err as Error).message})`));
      res.status(202).location(`/api/batches/${batch}`);
      const skipped = check.rows.filter((x) => x.status === 'error').map((x) => ({ ...x, status: 'skipped' as const }));
      return { ...report, batch, batchUrl: `/api/batches/${batch}`, started: summary.ok, rows: skipped };
    },
  );

  api.route('GET /api/runs', async ({ me: p, query }) => {
    let tenants = access.visibleTenants(p);
    if (query.tenant) {
      if (tenants && !tenants.includes(query.tenant)) return { runs: [], nextPageToken: undefined };
      tenants = [query.tenant];
    }
    await s.records.fresh(s.deps.pollMs ?? 1000);
    return s.records.list(
      { runbook: query.runbook, status: query.status?.split(',') as never, tenants, requester: query.requester, startedAfter: query.from, startedBefore: query.to, q: query.q, parent: query.parent, batch: query.batch },
      { size: query.pageSize, token: query.pageToken },
    );
  });

  // Live list: polls visibility and sends what changed.
  api.route('GET /api/runs/events', async ({ req, res, me: p, query }) => {
    let tenants = access.visibleTenants(p);
    if (query.tenant) tenants = tenants && !tenants.includes(query.tenant) ? [] : [query.tenant];
    const seen = new Map<string, string>();
    await stream(req, res, s.deps.pollMs ?? 1000, async (send) => {
      const { runs } = await s.runs.list({ runbook: query.runbook, tenants, requester: query.requester, startedAfter: query.from }, { size: query.pageSize });
      for (const r of runs.slice().reverse()) {
        if (r.parentId) continue; // item runs are listed under their loop, as in GET /api/runs
        const key = `${r.status}|${r.pendingApprovers.join(',')}|${r.endedAt ?? ''}`;
        if (seen.get(r.id) !== key) {
          seen.set(r.id, key);
          send('run', r);
        }
      }
      return true;
    });
  });

  api.route('GET /api/runs/:id', async ({ me: p, params }) => detail(p, params.id!));

  api.route('GET /api/runs/:id/events', async ({ req, res, me: p, params }) => {
    await access.visibleRun(p, params.id!);
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

  api.route('POST /api/runs/:id/cancel', async ({ req, res, me: p, params }) => {
    const run = await access.visibleRun(p, params.id!);
    if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may cancel this run`);
    if (run.description.status.name !== 'RUNNING') throw new HttpError(409, `run ${params.id} has already finished (${run.description.status.name.toLowerCase()})`);
    await s.runs.cancel(params.id!);
    await s.audit.record(originOf(req, p), 'run.cancelled', params.id, undefined, run.tenant);
    res.status(202);
    return { accepted: true };
  });

  api.route('POST /api/runs/:id/resume', async ({ req, res, me: p, params, body }) => {
    const run = await access.visibleRun(p, params.id!);
    if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may resume this run`);
    await assertRunInScope(p, params.id!, run);
    const node = run.state?.nodes[body.nodeId];
    if (!node) throw new HttpError(404, `run ${params.id} has no step "${body.nodeId}"`);
    if (node.status !== 'paused') throw new HttpError(409, `step "${body.nodeId}" is not paused (it is ${node.status})`);
    await s.runs.signalResume(params.id!, { nodeId: body.nodeId, action: body.action, by: p.user.email });
    await s.audit.record(originOf(req, p), `run.resume.${body.action}`, params.id, { node: body.nodeId }, run.tenant);
    res.status(202);
    return { accepted: true, action: body.action };
  });

  api.route('POST /api/runs/:id/retry',
    async ({ req, res, me: p, params, body }) => {
      const run = await access.visibleRun(p, params.id!);
      if (!access.canOperate(p, run.tenant, run.startedBy)) throw new HttpError(403, `only operators of tenant ${run.tenant} may retry this run`);
      await assertRunInScope(p, params.id!, run);
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
      // A retry starts a run: the same rights and operator scope as starting it anew.
      const rb = input.run.runbookId !== 'inline' ? await s.runbooks.get(input.run.runbookId) : undefined;
      const r: Startable = { definition: input.definition, runbookId: input.run.runbookId, version: input.run.version, customAction: rb?.customAction ?? false, placement: rb && { tenant: rb.tenant, sharedWith: rb.sharedWith } };
      access.mayStart(p, r, input.run.tenant, input.run.test ?? false);
      await assertInScope(p, input.run.tenant, r.definition, input.inputs);
      const id = await startOne(p, req, r, input.run.tenant, input.inputs, input.run.test ?? false, { retryOf: params.id }, carry);
      res.status(201).location(`/api/runs/${id}`);
      return { id, url: `/api/runs/${id}`, reused: Object.keys(carry) };
    },
  );

  api.route('POST /api/runs/:id/rerun', async ({ req, res, me: p, params, body }) => {
    const run = await access.visibleRun(p, params.id!);
    const input = await s.runs.input(params.id!);
    if (!input) throw new HttpError(409, 'the run\'s input cannot be read');
    let r: Startable;
    if (body.version === 'latest' && input.run.runbookId !== 'inline') r = await resolve(p, input.run.runbookId, undefined, undefined);
    else {
      const rb = input.run.runbookId !== 'inline' ? await s.runbooks.get(input.run.runbookId) : undefined;
      r = { definition: input.definition, runbookId: input.run.runbookId, version: input.run.version, customAction: rb?.customAction ?? false, placement: rb && { tenant: rb.tenant, sharedWith: rb.sharedWith } };
    }
    access.mayStart(p, r, run.tenant, input.run.test ?? false);
    const inputs = validateInputs(r.definition, input.inputs);
    if (!inputs.ok) throw new HttpError(400, `the inputs of run ${params.id} do not fit version ${r.version}`, { problems: inputs.problems });
    await assertInScope(p, run.tenant, r.definition, inputs.values);
    const id = await startOne(p, req, r, run.tenant, inputs.values, input.run.test ?? false, { rerunOf: params.id });
    res.status(201).location(`/api/runs/${id}`);
    return { id, url: `/api/runs/${id}`, version: r.version };
  });
}

/** The tenant's AD connection name for a runbook with on-premises steps; refuses when it has none. */
export async function onPremisesOrRefuse(s: Services, tenant: string, def: RunbookDefinition): Promise<string | undefined> {
  const name = await s.tenants.onPremisesName(tenant);
  if (!name && usesOnPremises(def))
    throw new HttpError(400, `this runbook has on-premises Active Directory steps, and tenant ${tenant} has no AD connection`, {
      problems: [{ field: 'tenant', message: 'give the tenant an AD connection (onPremises) and run an on-premises worker for it (docs/hybrid.md)' }],
    });
  return name;
}
