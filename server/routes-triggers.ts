// Trigger routes: create, list, pause / resume, rotate a webhook's secret, delete, read what a
// trigger fired (all audited), and the webhook receiver itself (POST /api/hooks/:id), which is
// authenticated by the trigger's own HMAC secret and can start only that trigger's runbook.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { inspectExpression } from '../runbook/expressions.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, type Principal } from './people.ts';
import { runbookRunsOn, runbookVisible } from './runbook-access.ts';
import type { Services } from './services.ts';
import { RunAccess } from './access.ts';
import { checkWebhookSignature, fireTrigger, SIGNATURE_HEADER, TIMESTAMP_HEADER, type TriggerRow } from './triggers.ts';

const iso = (t: Date | string | null | undefined) => (t ? new Date(t).toISOString() : undefined);

export function triggerRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  const view = async (t: TriggerRow) => {
    const stats = await s.db.one<{ n: string; last: Date | null }>("select count(distinct run_id) as n, max(at) as last from trigger_firings where trigger_id = $1 and outcome = 'started'", [t.id]);
    return {
      id: t.id,
      kind: t.kind as 'webhook',
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
    if (problems.length) throw new HttpError(400, 'the trigger has problems', { problems });
    const id = `trg-${randomUUID().slice(0, 12)}`;
    const secret = body.kind === 'webhook' ? newSecret() : undefined;
    await s.db.query(
      'insert into triggers (id, kind, name, runbook_id, version, tenant, filter, inputs, secret_enc, paused, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
      [id, body.kind, body.name, rb.id, v.version, tenant, body.filter ?? null, JSON.stringify(body.inputs), secret ? s.deps.secretBox.seal(secret) : null, body.paused, p.user.email],
    );
    await s.audit.record(originOf(req, p), 'trigger.created', id, { kind: body.kind, runbook: rb.id, version: v.version, filter: body.filter, inputs: body.inputs }, tenant);
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

  for (const op of ['pause', 'resume'] as const) {
    api.route(`POST /api/triggers/:id/${op}`, async ({ req, me: p, params, body }) => {
      const t = await load(p, params.id!);
      mayChange(p, t);
      await s.db.query('update triggers set paused = $2 where id = $1', [t.id, op === 'pause']);
      await s.audit.record(originOf(req, p), `trigger.${op}`, t.id, body.note ? { note: body.note } : undefined, t.tenant);
      return view({ ...t, paused: op === 'pause' });
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
    await s.db.query('delete from triggers where id = $1', [t.id]);
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
}
