// Schedules: recurring runs through Temporal Schedules (cron or interval, time zone, start and
// end, overlap policy, pause / resume, trigger now, upcoming times) and one-off future runs.
import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import { idempotentId } from './idempotency.ts';
import type { ScheduleDescription, ScheduleOverlapPolicy } from '@temporalio/client';
import type { RunbookDefinition } from '../runbook/definition.ts';
import { catalog } from '../catalog/index.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { redactInputs, sealRunSecrets } from '../runbook/secrets.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, type Principal } from './people.ts';
import { runbookRunsOn, runbookVisible } from './runbook-access.ts';
import type { Services } from './services.ts';
import { RunAccess } from './access.ts';
import { onPremisesOrRefuse } from './routes-runs.ts';

const OVERLAP: Record<string, ScheduleOverlapPolicy> = { skip: 'SKIP', buffer: 'BUFFER_ONE', bufferAll: 'BUFFER_ALL', allow: 'ALLOW_ALL', cancelOther: 'CANCEL_OTHER' };



function view(id: string, row: Record<string, any> | undefined, d: ScheduleDescription | undefined) {
  const action = d?.action as { args?: [{ definition?: { inputs: { name: string }[] }; run?: { runbookId: string; version: number; tenant: string; startedBy: string }; inputs?: unknown }] } | undefined;
  const run = action?.args?.[0]?.run;
  return {
    id,
    runbookId: row?.runbook_id ?? run?.runbookId,
    version: run?.version,
    tenant: row?.tenant ?? run?.tenant,
    createdBy: row?.created_by ?? run?.startedBy,
    inputs: redactInputs(action?.args?.[0]?.definition, action?.args?.[0]?.inputs),
    exists: d !== undefined,
    paused: d?.state.paused ?? false,
    note: d?.state.note,
    oneOff: (d?.state.remainingActions ?? undefined) !== undefined,
    remainingActions: d?.state.remainingActions,
    spec: d ? { intervals: d.spec.intervals?.map((i) => i.every), calendars: d.spec.calendars, timezone: d.spec.timezone, startAt: d.spec.startAt?.toISOString(), endAt: d.spec.endAt?.toISOString() } : undefined,
    overlap: d?.policies.overlap,
    upcoming: d?.info.nextActionTimes.map((t) => t.toISOString()) ?? [],
    recentRuns: d?.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), runId: (a.action as { workflow?: { workflowId: string } }).workflow?.workflowId })) ?? [],
  };
}

export function scheduleRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  /** How each recent run ended, from the run records: the same word as everywhere else. */
  const withLastRun = async (v: ReturnType<typeof view>) => {
    await s.records.fresh(s.deps.pollMs ?? 1000);
    const statuses = await s.records.statuses(v.recentRuns.flatMap((r) => (r.runId ? [r.runId] : [])));
    const recentRuns = v.recentRuns.map((r) => ({ ...r, status: r.runId ? statuses.get(r.runId) : undefined }));
    const last = recentRuns.at(-1);
    return { ...v, recentRuns, lastRun: last?.runId ? { runId: last.runId, status: last.status, at: last.takenAt } : undefined };
  };

  const load = async (p: Principal, id: string) => {
    const row = await s.db.one('select * from schedules where id = $1', [id]);
    if (!row || !access.canSeeTenant(p, row.tenant)) throw new HttpError(404, `schedule ${id} does not exist`);
    return row;
  };
  type Starter = { definition: RunbookDefinition; inputs: Record<string, unknown>; run: { runbookId: string; version: number; tenant: string; startedBy: string; test?: boolean } };
  const starterOf = (d: ScheduleDescription | undefined) => (d?.action as { args?: [Starter] } | undefined)?.args?.[0];
  /**
   * Who may change, trigger or delete a schedule: an operator of its tenant (or its creator, or a
   * designer), within the caller's operator scope for the schedule's inputs, as if starting it.
   */
  const mayChange = async (p: Principal, row: Record<string, any>, d: ScheduleDescription | undefined) => {
    if (!access.canOperate(p, row.tenant, row.created_by) && !hasRole(p, 'designer', row.tenant)) throw new HttpError(403, `only operators of tenant ${row.tenant} may change this schedule`);
    const starter = starterOf(d);
    if (!starter || hasRole(p, 'designer', row.tenant)) return starter;
    const rb = await s.runbooks.get(starter.run.runbookId);
    if (!rb?.customAction && row.created_by !== p.user.email) throw new HttpError(403, `runbook ${starter.run.runbookId} is not offered to operators`);
    const scope = await access.scopeProblems(p, row.tenant, starter.definition, starter.inputs ?? {});
    if (scope.length) throw new HttpError(403, 'this schedule is outside your operator scope', { problems: scope.map(({ field, message }) => ({ field: `inputs.${field}`, message })) });
    return starter;
  };

  api.route('GET /api/schedules', async ({ me: p }) => {
    const rows = await s.db.query('select * from schedules order by created_at');
    const out = [];
    for (const row of rows.filter((r) => access.canSeeTenant(p, r.tenant))) out.push(await withLastRun(view(row.id, row, await s.runs.describeSchedule(row.id))));
    return out;
  });

  api.route('POST /api/schedules',
    async ({ req, res, me: p, body, idempotencyKey }) => {
      const rb = await s.runbooks.get(body.runbookId);
      if (!rb || rb.archived || !runbookVisible(p, rb)) throw new HttpError(404, `runbook ${body.runbookId} does not exist`);
      const v = await s.runbooks.version(body.runbookId, body.version);
      if (!v) throw new HttpError(409, `runbook ${body.runbookId} has no published version${body.version ? ` ${body.version}` : ''}`);
      const tenant = body.tenant ?? s.deps.defaultTenant;
      if (!(await s.tenants.exists(tenant))) throw new HttpError(400, `tenant ${tenant} does not exist`, { problems: [{ field: 'tenant', message: 'unknown tenant' }] });
      if (!runbookRunsOn(rb, tenant)) throw new HttpError(403, `runbook ${rb.id} is not shared with tenant ${tenant}`, { problems: [{ field: 'tenant', message: `runbook ${rb.id} runs on ${[rb.tenant, ...rb.sharedWith].filter(Boolean).join(', ')}` }] });
      if (!hasRole(p, 'designer', tenant) && !(hasRole(p, 'operator', tenant) && rb.customAction))
        throw new HttpError(403, hasRole(p, 'operator', tenant) ? `runbook ${rb.id} is not offered to operators` : `you are not an operator of tenant ${tenant}`);
      const inputs = validateInputs(v.definition, body.inputs);
      if (!inputs.ok) throw new HttpError(400, 'the run inputs have problems', { problems: inputs.problems });
      const scope = await access.scopeProblems(p, tenant, v.definition, inputs.values);
      if (scope.length) throw new HttpError(403, 'this run is outside your operator scope', { problems: scope });
      // With an Idempotency-Key the id comes from it: a repeat after a crash finds the schedule made.
      const id = `sched-${body.at ? 'once-' : ''}${idempotencyKey ? idempotentId('', p.user.email, 'POST /api/schedules', idempotencyKey, 12) : randomUUID().slice(0, 8)}`;
      const sealed = sealRunSecrets(s.deps.secretBox, v.definition, inputs.values, (a) => catalog.get(a)?.secretFields);
      const onPremises = await onPremisesOrRefuse(s, tenant, v.definition);
      try {
        await s.runs.createSchedule({
          scheduleId: id,
          starter: { definition: sealed.definition, inputs: sealed.inputs, run: { startedBy: p.user.email, tenant, runbookId: rb.id, version: v.version, ...(onPremises ? { onPremises } : {}) }, origin: { schedule: id } },
          spec: { cron: body.cron, every: body.every, at: body.at, timezone: body.timezone, startAt: body.startAt, endAt: body.endAt },
          overlap: OVERLAP[body.overlap]!,
          paused: body.paused,
          note: body.note,
        });
      } catch (err) {
        // Made by the first attempt of this request (the id comes from its Idempotency-Key).
        const madeBefore = idempotencyKey && err instanceof ScheduleAlreadyRunning;
        // Temporal's refusal of the spec (an interval of 0s, a cron it cannot read) is the caller's to fix.
        const e = err as { name?: string; code?: number; message?: string; cause?: { code?: number; details?: string; message?: string } };
        if (!madeBefore && (e.name === 'TypeError' || e.code === 3 || e.cause?.code === 3)) {
          const field = body.at ? 'at' : body.cron?.length ? 'cron' : 'every';
          const why = e.cause?.details ?? e.message ?? 'refused by Temporal';
          throw new HttpError(400, `invalid schedule ${field}: ${why}`, { problems: [{ field, message: why }] });
        }
        if (!madeBefore) throw err;
      }
      await s.db.query('insert into schedules (id, runbook_id, tenant, created_by) values ($1, $2, $3, $4) on conflict (id) do nothing', [id, rb.id, tenant, p.user.email]);
      await s.audit.record(originOf(req, p), 'schedule.created', id, { runbook: rb.id, version: v.version, cron: body.cron, every: body.every, at: body.at, timezone: body.timezone }, tenant);
      res.status(201).location(`/api/schedules/${id}`);
      return withLastRun(view(id, { runbook_id: rb.id, tenant, created_by: p.user.email }, await s.runs.describeSchedule(id)));
    },
  );

  api.route('GET /api/schedules/:id', async ({ me: p, params }) => {
    const row = await load(p, params.id!);
    return withLastRun(view(row.id, row, await s.runs.describeSchedule(row.id)));
  });

  for (const op of ['pause', 'resume', 'trigger'] as const) {
    api.route(`POST /api/schedules/:id/${op}`,
      async ({ req, me: p, params, body }) => {
        const row = await load(p, params.id!);
        const starter = await mayChange(p, row, await s.runs.describeSchedule(row.id));
        const h = s.runs.schedule(row.id);
        let runId: string | undefined;
        if (op === 'pause') await h.pause(body.note ?? `paused by ${p.user.email}`);
        else if (op === 'resume') await h.unpause(body.note ?? `resumed by ${p.user.email}`);
        else {
          // A run now, started (and recorded) as the caller, not as the schedule's creator.
          if (!starter) throw new HttpError(409, `schedule ${row.id} no longer exists in Temporal`);
          runId = await s.runs.start({ definition: starter.definition, inputs: starter.inputs, run: { ...starter.run, startedBy: p.user.email }, origin: { schedule: row.id, triggeredBy: p.user.email } });
          await s.audit.record(originOf(req, p), 'run.started', runId, { runbook: starter.run.runbookId, version: starter.run.version, schedule: row.id }, row.tenant);
        }
        await s.audit.record(originOf(req, p), `schedule.${op}`, row.id, { ...(body.note ? { note: body.note } : {}), ...(runId ? { run: runId } : {}) }, row.tenant);
        return withLastRun(view(row.id, row, await s.runs.describeSchedule(row.id)));
      },
    );
  }

  api.route('DELETE /api/schedules/:id', async ({ req, me: p, params }) => {
    const row = await load(p, params.id!);
    const d = await s.runs.describeSchedule(row.id);
    await mayChange(p, row, d);
    if (d) await s.runs.schedule(row.id).delete();
    await s.db.query('delete from schedules where id = $1', [row.id]);
    await s.audit.record(originOf(req, p), 'schedule.deleted', row.id, undefined, row.tenant);
    return { deleted: true };
  });
}
