// Trigger routes: create, list, pause / resume, rotate a webhook's secret, delete, read what a
// trigger fired and planned (all audited); the webhook receiver (POST /api/hooks/:id), which is
// authenticated by the trigger's own HMAC secret and can start only that trigger's runbook; and
// the Graph change-notification receivers (POST /api/graph-notifications/:id[/lifecycle]): they
// answer Microsoft's validation handshake and accept only notifications carrying the trigger's
// subscription id and clientState (server/triggers-m365.ts does the work).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { inspectExpression } from '../runbook/expressions.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, type Principal } from './people.ts';
import { runbookRunsOn, runbookVisible } from './runbook-access.ts';
import type { Services } from './services.ts';
import { RunAccess } from './access.ts';
import { checkWebhookSignature, fireTrigger, SIGNATURE_HEADER, TIMESTAMP_HEADER, type TriggerRow } from './triggers.ts';
import { dateAttribute, DEFAULT_USER_PROPERTIES, type TriggerWatcher, type WatchState } from './triggers-m365.ts';

const iso = (t: Date | string | null | undefined) => (t ? new Date(t).toISOString() : undefined);

export function triggerRoutes(api: Api, s: Services, watcher: TriggerWatcher): void {
  const access = new RunAccess(s);

  const view = async (t: TriggerRow) => {
    const stats = await s.db.one<{ n: string; last: Date | null }>("select count(distinct run_id) as n, max(at) as last from trigger_firings where trigger_id = $1 and outcome = 'started'", [t.id]);
    return {
      id: t.id,
      kind: t.kind as 'webhook' | 'graph' | 'date',
      name: t.name,
      runbookId: t.runbook_id,
      version: t.version,
      tenant: t.tenant,
      ...(t.filter ? { filter: t.filter } : {}),
      inputs: t.inputs ?? {},
      paused: t.paused,
      createdBy: t.created_by,
      createdAt: iso(t.created_at)!,
      ...(t.kind === 'webhook' ? { url: `/api/hooks/${t.id}` } : {}),
      ...(t.kind === 'graph' ? { graph: t.config as { resource: 'users'; changeType: string; select: string[]; pollMinutes: number } } : {}),
      ...(t.kind === 'date' ? { date: t.config as { attribute: string; offsetDays: number; scope?: string; catchUpDays: number; everyMinutes: number } } : {}),
      ...(t.kind !== 'webhook' ? { watch: watchView((t.state ?? {}) as WatchState) } : {}),
      fired: Number(stats?.n ?? 0),
      ...(stats?.last ? { lastFiredAt: iso(stats.last) } : {}),
    };
  };
  const load = async (p: Principal, id: string) => {
    const t = await s.db.one<TriggerRow>('select * from triggers where id = $1', [id]);
    if (!t || !access.canSeeTenant(p, t.tenant)) throw new HttpError(404, `trigger ${id} does not exist`);
    return t;
  };
  const mayChange = (p: Principal, t: TriggerRow) => {
    if (!hasRole(p, 'designer', t.tenant) && t.created_by !== p.user.email) throw new HttpError(403, `only designers of tenant ${t.tenant} may change this trigger`);
  };
  const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

  api.route('GET /api/triggers', async ({ me: p }) => {
    const rows = await s.db.query<TriggerRow>('select * from triggers order by created_at');
    const out = [];
    for (const t of rows.filter((r) => access.canSeeTenant(p, r.tenant))) out.push(await view(t));
    return out;
  });

  api.route('POST /api/triggers', async ({ req, res, me: p, body }) => {
    const rb = await s.runbooks.get(body.runbookId);
    if (!rb || rb.archived || !runbookVisible(p, rb)) throw new HttpError(404, `runbook ${body.runbookId} does not exist`);
    const v = await s.runbooks.version(body.runbookId, body.version);
    if (!v) throw new HttpError(409, `runbook ${body.runbookId} has no published version${body.version ? ` ${body.version}` : ''}`);
    const tenant = body.tenant ?? s.deps.defaultTenant;
    if (!(await s.tenants.exists(tenant))) throw new HttpError(400, `tenant ${tenant} does not exist`, { problems: [{ field: 'tenant', message: 'unknown tenant' }] });
    // A trigger starts runs with nobody at the keyboard: only a designer of the tenant sets one up.
    if (!hasRole(p, 'designer', tenant)) throw new HttpError(403, `only designers of tenant ${tenant} may create triggers`);
    if (!runbookRunsOn(rb, tenant)) throw new HttpError(403, `runbook ${rb.id} is not shared with tenant ${tenant}`, { problems: [{ field: 'tenant', message: `runbook ${rb.id} runs on ${[rb.tenant, ...rb.sharedWith].filter(Boolean).join(', ')}` }] });
    const problems: { field: string; message: string }[] = [];
    const names = new Set(v.definition.inputs.map((i) => i.name));
    for (const [name, expr] of Object.entries(body.inputs)) {
      if (!names.has(name)) problems.push({ field: `inputs.${name}`, message: `runbook ${rb.id} has no input ${name} (it has: ${[...names].join(', ') || 'none'})` });
      const info = inspectExpression(expr);
      if (info.error) problems.push({ field: `inputs.${name}`, message: info.error });
    }
    if (body.filter) {
      const info = inspectExpression(body.filter);
      if (info.error) problems.push({ field: 'filter', message: info.error });
    }
    const config = kindConfig(body, problems);
    if (problems.length) throw new HttpError(400, 'the trigger has problems', { problems });
    const id = `trg-${randomUUID().slice(0, 12)}`;
    const secret = body.kind === 'webhook' ? newSecret() : undefined;
    await s.db.query(
      'insert into triggers (id, kind, name, runbook_id, version, tenant, filter, inputs, config, secret_enc, paused, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [id, body.kind, body.name, rb.id, v.version, tenant, body.filter ?? null, JSON.stringify(body.inputs), JSON.stringify(config), secret ? s.deps.secretBox.seal(secret) : null, body.paused, p.user.email],
    );
    await s.audit.record(originOf(req, p), 'trigger.created', id, { kind: body.kind, runbook: rb.id, version: v.version, filter: body.filter, inputs: body.inputs, ...(body.kind !== 'webhook' ? { config } : {}) }, tenant);
    // Subscription, baseline and first evaluation in the background: the trigger's watch shows them.
    if (body.kind !== 'webhook' && !body.paused) void watcher.setUp(id);
    res.status(201).location(`/api/triggers/${id}`);
    const t = (await s.db.one<TriggerRow>('select * from triggers where id = $1', [id]))!;
    return { ...(await view(t)), ...(secret ? { secret } : {}) };
  });

  api.route('GET /api/triggers/:id', async ({ me: p, params }) => view(await load(p, params.id!)));

  api.route('GET /api/triggers/:id/firings', async ({ me: p, params }) => {
    const t = await load(p, params.id!);
    const rows = await s.db.query('select * from trigger_firings where trigger_id = $1 order by at desc limit 200', [t.id]);
    // A webhook's key is its signature: shown shortened, it still tells deliveries apart.
    return rows.map((r) => ({ eventKey: String(r.event_key).slice(0, 24), ...(r.run_id ? { runId: r.run_id } : {}), outcome: r.outcome, at: iso(r.at)! }));
  });

  api.route('GET /api/triggers/:id/plans', async ({ me: p, params }) => {
    const t = await load(p, params.id!);
    if (t.kind !== 'date') throw new HttpError(409, `trigger ${t.id} is not a date trigger: it plans nothing`);
    const rows = await s.db.query('select * from trigger_date_plans where trigger_id = $1 order by due, user_id limit 1000', [t.id]);
    return rows.map((r) => ({ userId: String(r.user_id), ...(r.upn ? { upn: String(r.upn) } : {}), date: String(r.date), due: String(r.due), status: String(r.status), ...(r.run_id ? { runId: String(r.run_id) } : {}), updatedAt: iso(r.updated_at as Date)! }));
  });

  for (const op of ['pause', 'resume'] as const) {
    api.route(`POST /api/triggers/:id/${op}`, async ({ req, me: p, params, body }) => {
      const t = await load(p, params.id!);
      mayChange(p, t);
      await s.db.query('update triggers set paused = $2 where id = $1', [t.id, op === 'pause']);
      await s.audit.record(originOf(req, p), `trigger.${op}`, t.id, body.note ? { note: body.note } : undefined, t.tenant);
      // Changes made while a graph trigger was paused start nothing: it resumes from a new baseline.
      if (op === 'resume' && t.paused && t.kind === 'graph') await watcher.rebaseline(t.id);
      if (op === 'resume' && t.kind !== 'webhook') void watcher.setUp(t.id);
      return view((await s.db.one<TriggerRow>('select * from triggers where id = $1', [t.id]))!);
    });
  }

  api.route('POST /api/triggers/:id/rotate-secret', async ({ req, me: p, params }) => {
    const t = await load(p, params.id!);
    mayChange(p, t);
    if (t.kind !== 'webhook') throw new HttpError(409, `trigger ${t.id} is not a webhook: it has no secret`);
    const secret = newSecret();
    await s.db.query('update triggers set secret_enc = $2 where id = $1', [t.id, s.deps.secretBox.seal(secret)]);
    await s.audit.record(originOf(req, p), 'trigger.secret-rotated', t.id, undefined, t.tenant);
    return { ...(await view(t)), secret };
  });

  api.route('DELETE /api/triggers/:id', async ({ req, me: p, params }) => {
    const t = await load(p, params.id!);
    mayChange(p, t);
    if (t.kind !== 'webhook') await watcher.unsubscribe(t);
    await s.db.query('delete from triggers where id = $1', [t.id]);
    await s.db.query('delete from trigger_objects where trigger_id = $1', [t.id]);
    await s.db.query('delete from trigger_date_plans where trigger_id = $1', [t.id]);
    await s.audit.record(originOf(req, p), 'trigger.deleted', t.id, undefined, t.tenant);
    return { deleted: true };
  });

  api.route('POST /api/hooks/:id', async ({ req, res, params, body }) => {
    const t = await s.db.one<TriggerRow>("select * from triggers where id = $1 and kind = 'webhook'", [params.id!]);
    if (!t?.secret_enc) throw new HttpError(404, `no webhook ${params.id}`);
    const rawBody = (req as Request & { rawBody?: Buffer }).rawBody;
    if (!rawBody) throw new HttpError(415, 'send the body as application/json');
    const check = checkWebhookSignature(s.deps.secretBox.open(t.secret_enc), { timestamp: req.get(TIMESTAMP_HEADER), signature: req.get(SIGNATURE_HEADER) }, rawBody);
    if (!check.ok) throw new HttpError(401, check.reason);
    if (t.paused) throw new HttpError(409, `trigger ${t.id} is paused`);
    const origin = { actor: `trigger:${t.id}`, ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 200) };
    const r = await fireTrigger(s, t, `sig:${check.signature}`, { body }, origin);
    switch (r.outcome) {
      case 'started':
        res.status(201).location(`/api/runs/${r.runId}`);
        return { triggerId: t.id, started: true, runId: r.runId };
      case 'duplicate':
        throw new HttpError(409, 'this request was already received (a replay): send a new timestamp and signature for a new event', r.runId ? { runId: r.runId } : {});
      case 'filtered':
        return { triggerId: t.id, started: false, reason: r.reason };
      case 'refused':
        throw new HttpError(400, r.reason, { problems: r.problems });
    }
  });

  // Microsoft Graph change notifications for graph and date triggers. No sign-in: Microsoft calls
  // these; the validation handshake echoes the token, and a notification counts only with this
  // trigger's subscription id and clientState (a secret only Graph and this server know).
  for (const lifecycle of [false, true]) {
    api.route(lifecycle ? 'POST /api/graph-notifications/:id/lifecycle' : 'POST /api/graph-notifications/:id', async ({ req, res, params, query, body }) => {
      const t = await s.db.one<TriggerRow>("select * from triggers where id = $1 and kind in ('graph', 'date')", [params.id!]);
      if (!t) throw new HttpError(404, `no trigger ${params.id} that receives Graph notifications`);
      if (query.validationToken !== undefined) {
        // Graph's handshake: the token, decoded, as text/plain, with 200 (within 10 seconds).
        res.status(200).type('text/plain').send(query.validationToken);
        return undefined;
      }
      const items = Array.isArray((body as { value?: unknown })?.value) ? ((body as { value: Record<string, unknown>[] }).value) : [];
      if (!items.length) throw new HttpError(400, 'send a change notification collection: { "value": [ ... ] }');
      const good = items.filter((i) => watcher.checkNotification(t, i));
      const origin = { actor: 'microsoft-graph', ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 200) };
      if (good.length < items.length) await s.audit.record(origin, 'trigger.notification-refused', t.id, { refused: items.length - good.length, reason: 'subscription id or clientState is not this trigger\'s' }, t.tenant);
      if (!good.length) throw new HttpError(401, 'the notification\'s subscriptionId or clientState is not this trigger\'s: ignored');
      res.status(202);
      // Answered at once (Graph wants an answer within 3 seconds); the work goes on behind.
      if (lifecycle) for (const i of good) void watcher.lifecycle(t, String(i['lifecycleEvent'] ?? 'missed')).catch((err: Error) => console.warn(`triggers: ${t.id}: lifecycle ${String(i['lifecycleEvent'])}: ${err.message}`));
      else if (!t.paused) void watcher.notified(t);
      return { triggerId: t.id, accepted: good.length };
    });
  }
}

function watchView(w: WatchState) {
  return {
    mode: w.mode ?? 'delta',
    ...(w.subscriptionId ? { subscriptionId: w.subscriptionId } : {}),
    ...(w.expiresAt ? { subscriptionExpiresAt: w.expiresAt } : {}),
    ...(w.syncedAt ? { syncedAt: w.syncedAt } : {}),
    ...(w.nextPollAt ? { nextCheckAt: w.nextPollAt } : {}),
    ...(w.lastError ? { lastError: w.lastError } : {}),
  };
}

/** A graph or date trigger's settings with their defaults, problems named by field. */
function kindConfig(
  body: { kind: string; graph?: { changeType?: string; select?: string[]; pollMinutes?: number }; date?: { attribute: string; offsetDays: number; scope?: string; catchUpDays?: number; everyMinutes?: number } },
  problems: { field: string; message: string }[],
): Record<string, unknown> {
  if (body.kind === 'graph') {
    if (body.date) problems.push({ field: 'date', message: 'a graph trigger takes "graph" settings, not "date"' });
    const g = body.graph ?? {};
    const changeType = g.changeType ?? 'created,updated,deleted';
    for (const c of changeType.split(',')) if (!['created', 'updated', 'deleted'].includes(c.trim())) problems.push({ field: 'graph.changeType', message: `"${c}" is not a change type: use created, updated, deleted (comma-separated)` });
    const select = [...new Set(['id', ...(g.select ?? DEFAULT_USER_PROPERTIES)])];
    return { resource: 'users', changeType: changeType.split(',').map((c) => c.trim()).join(','), select, pollMinutes: g.pollMinutes ?? 15 };
  }
  if (body.kind === 'date') {
    if (body.graph) problems.push({ field: 'graph', message: 'a date trigger takes "date" settings, not "graph"' });
    if (!body.date) {
      problems.push({ field: 'date', message: 'a date trigger needs date: { attribute, offsetDays, scope? }' });
      return {};
    }
    const d = body.date;
    if (!dateAttribute(d.attribute)) problems.push({ field: 'date.attribute', message: `"${d.attribute}" is not a date attribute: use employeeHireDate, employeeLeaveDateTime, createdDateTime or extensionAttribute1..15` });
    if (d.scope !== undefined && /[\u0000-\u001f]/.test(d.scope)) problems.push({ field: 'date.scope', message: 'an OData $filter on users without control characters, e.g. department eq \'Sales\'' });
    return { attribute: d.attribute, offsetDays: d.offsetDays, ...(d.scope ? { scope: d.scope } : {}), catchUpDays: d.catchUpDays ?? 7, everyMinutes: d.everyMinutes ?? 60 };
  }
  if (body.graph || body.date) problems.push({ field: body.graph ? 'graph' : 'date', message: 'a webhook trigger has no graph or date settings' });
  return {};
}
