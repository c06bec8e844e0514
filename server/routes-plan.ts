// Plans and undo (docs/plan.md): POST /api/runs/plan answers what a run would change before it
// starts (one set of inputs, or a page of a CSV's rows); POST /api/runs/:id/undo builds the draft
// undo runbook of a finished run.
import { z } from 'zod';
import { checkCsv } from './csv.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { MAX_PAGE } from '../runbook/plan.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, hasRoleAnywhere, type Principal } from './people.ts';
import { planRows, planRun, undoOf } from './plans.ts';
import { RunAccess } from './routes-runs.ts';
import type { Services } from './services.ts';

const SANDBOX = 'sandbox';

const Page = z
  .strictObject({
    offset: z.number().int().min(0).default(0).describe('First loop item (or CSV row) to plan'),
    limit: z.number().int().min(1).max(MAX_PAGE).default(20).describe(`How many loop items (or CSV rows) to plan, at most ${MAX_PAGE}`),
  })
  .describe('Which page of each loop\'s items (and of a CSV\'s rows) to plan');

const PlanBody = z
  .strictObject({
    runbookId: z.string().min(1).optional().describe('A published runbook'),
    version: z.number().int().min(1).optional().describe('Version to plan; the latest when absent'),
    definition: z.unknown().optional().describe('An inline definition (designers only)'),
    inputs: z.record(z.string(), z.unknown()).optional().describe('The run\'s inputs, as POST /api/runs takes them'),
    csv: z.string().min(1).max(5_000_000).optional().describe('Or a bulk CSV: one plan per row (a page of rows at a time)'),
    tenant: z.string().min(1).optional().describe('Tenant connection; the default tenant when absent'),
    test: z.boolean().default(false).describe('Plan a test run against the sandbox tenant'),
    page: Page.optional(),
  })
  .refine((b) => (b.runbookId === undefined) !== (b.definition === undefined), { message: 'give either runbookId or definition (not both)', path: ['runbookId'] })
  .refine((b) => !(b.csv !== undefined && b.inputs !== undefined), { message: 'give either inputs or csv (not both)', path: ['csv'] });

export function planRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  const resolve = async (runbookId: string | undefined, version: number | undefined, inline: unknown) => {
    if (!runbookId) {
      const checked = validateRunbook(inline);
      if (!checked.ok) throw new HttpError(400, 'the runbook definition has problems', { problems: checked.problems });
      return { definition: checked.definition, runbookId: 'inline', version: 0, customAction: false };
    }
    const rb = await s.runbooks.get(runbookId);
    if (!rb) throw new HttpError(404, `runbook ${runbookId} does not exist`);
    const v = await s.runbooks.version(runbookId, version);
    if (!v) throw new HttpError(version ? 404 : 409, version ? `runbook ${runbookId} has no version ${version}` : `runbook ${runbookId} has no published version yet`);
    return { definition: v.definition, runbookId, version: v.version, customAction: rb.customAction };
  };

  /** Planning reads the tenant: whoever may start the run may plan it. */
  const mayPlan = (p: Principal, r: { runbookId: string; customAction: boolean }, tenant: string, test: boolean) => {
    const has = (role: 'designer' | 'operator') => (test ? hasRoleAnywhere(p, role) : hasRole(p, role, tenant));
    if (has('designer')) return;
    if (r.runbookId === 'inline') throw new HttpError(403, 'only designers may plan an unpublished definition');
    if (!has('operator')) throw new HttpError(403, `you are not an operator of tenant ${tenant}`);
    if (!r.customAction) throw new HttpError(403, `runbook ${r.runbookId} is not offered to operators (ask a designer to make it a custom action)`);
  };

  api.route(
    {
      method: 'post',
      path: '/api/runs/plan',
      tag: 'runs',
      summary: 'What a run would change, read from the tenant before anything changes (docs/plan.md): each step\'s changes before -> after, "no change", or why it would fail; with a CSV, one plan per row (a page at a time)',
      roles: 'operator (custom actions), designer',
      body: PlanBody,
      statuses: { 404: 'no such runbook', 409: 'unpublished', 502: 'the worker could not make the plan', 504: 'the plan took too long' },
    },
    async ({ req, me: p, body }) => {
      const r = await resolve(body.runbookId, body.version, body.definition);
      const tenant = body.test ? SANDBOX : (body.tenant ?? s.deps.defaultTenant);
      if (!(await s.tenants.exists(tenant))) throw new HttpError(400, `tenant ${tenant} does not exist`, { problems: [{ field: 'tenant', message: `unknown tenant ${tenant}` }] });
      mayPlan(p, r, tenant, body.test);
      const run = { startedBy: p.user.email, tenant, runbookId: r.runbookId, version: r.version, test: body.test };
      await s.audit.record(originOf(req, p), 'run.planned', r.runbookId, { version: r.version, test: body.test, csv: body.csv !== undefined }, tenant);
      if (body.csv === undefined) {
        const inputs = validateInputs(r.definition, body.inputs ?? {});
        if (!inputs.ok) throw new HttpError(400, 'the run inputs have problems', { problems: inputs.problems });
        const scope = await access.scopeProblems(p, tenant, r.definition, inputs.values);
        if (scope.length) throw new HttpError(403, 'this run is outside your operator scope', { problems: scope.map(({ field, message }) => ({ field: `inputs.${field}`, message })) });
        return planRun(s, { definition: r.definition, run, inputs: inputs.values, page: body.page });
      }
      const check = checkCsv(r.definition, body.csv);
      const offset = body.page?.offset ?? 0;
      const limit = body.page?.limit ?? 20;
      const page = check.rows.slice(offset, offset + limit);
      for (const row of page) if (!row.problems.length) row.problems.push(...(await access.scopeProblems(p, tenant, r.definition, row.inputs)));
      const good = page.filter((row) => row.problems.length === 0);
      const plans = new Map((await planRows(s, { definition: r.definition, run, rows: good.map((x) => ({ line: x.line, inputs: x.inputs })) })).map((x) => [x.line, x.plan]));
      return {
        runbook: { id: r.runbookId, version: r.version, name: r.definition.name },
        tenant,
        problems: check.problems,
        total: check.rows.length,
        offset,
        more: Math.max(0, check.rows.length - offset - page.length),
        rows: page.map((row) => ({ line: row.line, inputs: row.inputs, problems: row.problems, ...(plans.has(row.line) ? { plan: plans.get(row.line) } : {}) })),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/runs/:id/undo',
      tag: 'runs',
      summary: 'Generate the undo runbook of a finished run: a draft with the inverse of each change, newest first, from the before-values the steps recorded; what cannot be undone is listed',
      roles: 'designer',
      statuses: { 201: 'the draft undo runbook was created', 200: 'nothing to undo (no runbook created)', 404: 'no such run', 409: 'the run has not finished' },
    },
    async ({ req, res, me: p, params }) => {
      const got = await s.runs.get(params.id!);
      const sa = got?.description.searchAttributes as Record<string, unknown[] | undefined> | undefined;
      const tenant = sa?.TenantflowTenant?.[0] as string | undefined;
      if (!got || !access.canSeeTenant(p, tenant)) throw new HttpError(404, `run ${params.id} does not exist`);
      if (!(hasRole(p, 'designer', tenant!) || (tenant === SANDBOX && hasRoleAnywhere(p, 'designer')))) throw new HttpError(403, 'only designers may create the undo runbook');
      if (got.description.status.name === 'RUNNING') throw new HttpError(409, `run ${params.id} has not finished: cancel it or wait for it first`);
      const input = await s.runs.input(params.id!);
      if (!input || !got.state) throw new HttpError(409, `the steps of run ${params.id} can no longer be read from Temporal`);
      const draft = await undoOf(s, params.id!, input.definition, got.state.nodes);
      const notUndone = draft.entries.filter((e) => ['irreversible', 'not-recorded', 'failed-step'].includes(e.outcome));
      if (!draft.definition) {
        res.status(200);
        return { runbookId: null, message: 'nothing to undo: the run changed nothing that can be put back', entries: draft.entries, notUndone };
      }
      let id = undoId(input.run.runbookId, params.id!);
      for (let n = 2; await s.runbooks.get(id); n++) id = `${undoId(input.run.runbookId, params.id!)}-${n}`;
      const rb = await s.runbooks.create({ id, definition: draft.definition, by: p.user.email });
      await s.audit.record(originOf(req, p), 'run.undo.generated', params.id, { runbook: rb.id, steps: draft.definition.nodes?.length, notUndone: notUndone.length }, tenant);
      res.status(201).location(`/api/runbooks/${rb.id}`);
      return { runbookId: rb.id, url: `/api/runbooks/${rb.id}`, definition: draft.definition, entries: draft.entries, notUndone };
    },
  );
}

/** "undo-onboarding-1a2b3c4d": the runbook's id and the run's, within the id rules. */
function undoId(runbookId: string, runId: string): string {
  const run = runId.replace(/^run-/, '').replace(/[^a-z0-9]/gi, '').slice(0, 8).toLowerCase();
  return `undo-${runbookId.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 40)}-${run}`;
}
