// Plans and undo (docs/plan.md): POST /api/runs/plan answers what a run would change before it
// starts (one set of inputs, or a page of a CSV's rows); POST /api/runs/:id/undo builds the draft
// undo runbook of a finished run.
import { checkCsv } from '../runbook/csv.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { RunAccess, SANDBOX } from './access.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, hasRoleAnywhere } from './people.ts';
import { planRows, planRun, recordedNodes, undoOf } from './plans.ts';
import { defaultPlacement, type Placement } from './runbook-access.ts';
import type { Services } from './services.ts';

export function planRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  api.route('POST /api/runs/plan', async ({ req, me: p, body }) => {
    const r = await access.resolve(p, body.runbookId, body.version, body.definition);
    const tenant = await access.tenantOf(body.test, body.tenant);
    // Planning reads the tenant: whoever may start the run may plan it.
    access.mayStart(p, r, tenant, body.test);
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
    const page = check.rows.slice(offset, offset + (body.page?.limit ?? 20));
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
  });

  api.route('POST /api/runs/:id/undo', async ({ req, res, me: p, params }) => {
    // From the run record (kept after Temporal forgets the run), brought up to date from Temporal while it still has it.
    const rec = await s.records.refresh(params.id!);
    if (!rec?.tenant || !access.canSeeTenant(p, rec.tenant)) throw new HttpError(404, `run ${params.id} does not exist`);
    const run = { tenant: rec.tenant };
    if (!(hasRole(p, 'designer', run.tenant) || (run.tenant === SANDBOX && hasRoleAnywhere(p, 'designer')))) throw new HttpError(403, 'only designers may create the undo runbook');
    if (rec.temporalStatus === 'RUNNING') throw new HttpError(409, `run ${params.id} has not finished: cancel it or wait for it first`);
    // Temporal's input has the definition as it ran (sealed values sealed); the record's masks them.
    const input = await s.runs.input(params.id!).catch(() => undefined);
    const definition = input?.definition ?? rec.definition;
    const nodes = recordedNodes(rec);
    if (!definition || !nodes) throw new HttpError(409, `the steps of run ${params.id} can no longer be read`);
    const runbookId = input?.run.runbookId ?? rec.runbook ?? 'run';
    const draft = await undoOf(s, params.id!, definition, nodes);
    const notUndone = draft.entries.filter((e) => ['irreversible', 'not-recorded', 'failed-step'].includes(e.outcome));
    if (!draft.definition) return { runbookId: null, message: 'nothing to undo: the run changed nothing that can be put back', entries: draft.entries, notUndone };
    let id = undoId(runbookId, params.id!);
    for (let n = 2; await s.runbooks.get(id); n++) id = `${undoId(runbookId, params.id!)}-${n}`;
    // The undo runbook belongs to the run's tenant (for a test run: where the caller designs runbooks).
    const place: Placement = run.tenant !== SANDBOX || hasRole(p, 'designer', SANDBOX) ? { tenant: run.tenant, sharedWith: [] } : (() => { try { return defaultPlacement(p); } catch { return { tenant: SANDBOX, sharedWith: [] }; } })();
    const rb = await s.runbooks.create({ id, definition: draft.definition, by: p.user.email, ...place });
    await s.audit.record(originOf(req, p), 'run.undo.generated', params.id, { runbook: rb.id, steps: draft.definition.nodes?.length, notUndone: notUndone.length }, run.tenant);
    res.status(201).location(`/api/runbooks/${rb.id}`);
    return { runbookId: rb.id, url: `/api/runbooks/${rb.id}`, definition: draft.definition, entries: draft.entries, notUndone };
  });
}

/** "undo-onboarding-1a2b3c4d": the runbook's id and the run's, within the id rules. */
function undoId(runbookId: string, runId: string): string {
  const run = runId.replace(/^run-/, '').replace(/[^a-z0-9]/gi, '').slice(0, 8).toLowerCase();
  return `undo-${runbookId.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 40)}-${run}`;
}
