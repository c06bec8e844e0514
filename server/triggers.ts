// Triggers: runs started by something that happened (a webhook today) rather than by a person.
// Every accepted event is claimed in trigger_firings under its key (a webhook's signature) and
// starts its run under a workflow id derived from the trigger and that key, started with
// REJECT_DUPLICATE: a repeat of the event (a replay, a crash between the claim and the start, a
// restart) never starts a second run. docs/triggers.md.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { catalog } from '../catalog/index.ts';
import { evaluate, type ExpressionContext } from '../runbook/expressions.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { sealRunSecrets } from '../runbook/secrets.ts';
import type { AuditOrigin } from './audit.ts';
import type { Row } from './db.ts';
import { onPremisesOrRefuse } from './routes-runs.ts';
import { runbookRunsOn } from './runbook-access.ts';
import type { Services } from './services.ts';
import { AlreadyStarted } from './temporal.ts';

/** How far a webhook's timestamp may be from the server's clock. */
export const WEBHOOK_TOLERANCE_S = 300;
export const SIGNATURE_HEADER = 'x-tenantflow-signature';
export const TIMESTAMP_HEADER = 'x-tenantflow-timestamp';

export interface TriggerRow extends Row {
  id: string;
  kind: string;
  name: string;
  runbook_id: string;
  version: number;
  tenant: string;
  filter: string | null;
  inputs: Record<string, string>;
  config: Record<string, unknown>;
  secret_enc: string | null;
  paused: boolean;
  created_by: string;
  created_at: Date | string;
}

export type FireResult =
  | { outcome: 'started'; runId: string }
  | { outcome: 'duplicate'; runId?: string; previous: string }
  | { outcome: 'filtered'; reason: string }
  | { outcome: 'refused'; reason: string; problems: { field: string; message: string }[] };

/** The run's workflow id for one event of one trigger: the same event always gives the same id. */
export function eventWorkflowId(triggerId: string, eventKey: string): string {
  return `run-trig-${triggerId}-${createHash('sha256').update(eventKey).digest('hex').slice(0, 24)}`;
}

/** The signature a sender puts in X-Tenantflow-Signature for this timestamp and raw body. */
export function webhookSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

export type SignatureCheck = { ok: true; signature: string } | { ok: false; reason: string };

/** Checks a webhook request's timestamp (within 5 minutes) and HMAC-SHA256 signature in constant time. */
export function checkWebhookSignature(secret: string, headers: { timestamp?: string; signature?: string }, rawBody: Buffer, nowMs = Date.now()): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: `send the ${TIMESTAMP_HEADER} (Unix seconds) and ${SIGNATURE_HEADER} (v1=hex HMAC-SHA256 of "timestamp.body") headers` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `${TIMESTAMP_HEADER} must be Unix seconds` };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_S) return { ok: false, reason: `${TIMESTAMP_HEADER} is more than ${WEBHOOK_TOLERANCE_S / 60} minutes from the server's time: sign each request when you send it` };
  const want = Buffer.from(webhookSignature(secret, timestamp, rawBody));
  const got = Buffer.from(signature.trim());
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'the signature does not match the body and timestamp (wrong secret, or the body was changed)' };
  return { ok: true, signature: signature.trim() };
}

/**
 * Handles one event: claims its key, checks the filter, maps the event to the runbook's inputs
 * and starts the run once. `event` is what expressions see (a webhook: { body }).
 */
export async function fireTrigger(s: Services, t: TriggerRow, eventKey: string, event: Record<string, unknown>, origin: AuditOrigin): Promise<FireResult> {
  const claimed = await s.db.one('insert into trigger_firings (trigger_id, event_key, outcome) values ($1, $2, $3) on conflict (trigger_id, event_key) do nothing returning event_key', [t.id, eventKey, 'received']);
  if (!claimed) {
    const prev = await s.db.one<{ outcome: string; run_id: string | null }>('select outcome, run_id from trigger_firings where trigger_id = $1 and event_key = $2', [t.id, eventKey]);
    // A claim left 'received' by a crash is taken up again: the workflow id keeps it to one run.
    if (prev && prev.outcome !== 'received') return { outcome: 'duplicate', previous: prev.outcome, ...(prev.run_id ? { runId: prev.run_id } : {}) };
  }
  const settle = (outcome: string, runId?: string) => s.db.query('update trigger_firings set outcome = $3, run_id = $4 where trigger_id = $1 and event_key = $2', [t.id, eventKey, outcome, runId ?? null]);
  const ctx = { inputs: {}, steps: {}, run: {}, ...event } as ExpressionContext;
  const refuse = async (reason: string, problems: { field: string; message: string }[]): Promise<FireResult> => {
    await settle('refused');
    await s.audit.record(origin, 'trigger.refused', t.id, { event: eventKey.slice(0, 80), reason, problems }, t.tenant);
    return { outcome: 'refused', reason, problems };
  };

  if (t.filter) {
    let pass: unknown;
    try {
      pass = await evaluate(t.filter, ctx);
    } catch (err) {
      return refuse(`the trigger's filter failed: ${(err as Error).message}`, [{ field: 'filter', message: (err as Error).message }]);
    }
    if (pass !== true) {
      await settle('filtered');
      return { outcome: 'filtered', reason: 'the trigger\'s filter did not match this event' };
    }
  }
  const raw: Record<string, unknown> = {};
  const problems: { field: string; message: string }[] = [];
  for (const [name, expr] of Object.entries(t.inputs ?? {})) {
    try {
      const v = await evaluate(expr, ctx);
      if (v !== undefined) raw[name] = v;
    } catch (err) {
      problems.push({ field: `inputs.${name}`, message: (err as Error).message });
    }
  }
  if (problems.length) return refuse('the event could not be mapped to the runbook inputs', problems);
  const owner = await s.runbooks.get(t.runbook_id);
  if (owner && !runbookRunsOn(owner, t.tenant)) return refuse(`runbook ${t.runbook_id} is no longer shared with tenant ${t.tenant}`, [{ field: 'runbookId', message: 'share the runbook with the tenant again or re-create the trigger' }]);
  const v = await s.runbooks.version(t.runbook_id, t.version);
  if (!v) return refuse(`runbook ${t.runbook_id} version ${t.version} no longer exists`, [{ field: 'runbookId', message: 'publish the runbook again or re-create the trigger' }]);
  const inputs = validateInputs(v.definition, raw);
  if (!inputs.ok) return refuse('the event gave the runbook inputs with problems', inputs.problems.map((p) => {
      const name = p.field.replace(/^inputs\./, '');
      return { field: `inputs.${name}`, message: `${p.message} (mapped by the trigger's expression ${JSON.stringify(t.inputs?.[name] ?? '(none)')})` };
    }));
  const sealed = sealRunSecrets(s.deps.secretBox, v.definition, inputs.values, (a) => catalog.get(a)?.secretFields);
  const onPremises = await onPremisesOrRefuse(s, t.tenant, v.definition).catch(() => undefined);
  const workflowId = eventWorkflowId(t.id, eventKey);
  let runId = workflowId;
  try {
    runId = await s.runs.start(
      { definition: sealed.definition, inputs: sealed.inputs, run: { startedBy: t.created_by, tenant: t.tenant, runbookId: t.runbook_id, version: t.version, ...(onPremises ? { onPremises } : {}) }, origin: { trigger: t.id, kind: t.kind } },
      workflowId,
      { once: true },
    );
  } catch (err) {
    if (!(err instanceof AlreadyStarted)) {
      // Nothing started: release the claim so the sender's retry is handled.
      await s.db.query("delete from trigger_firings where trigger_id = $1 and event_key = $2 and outcome = 'received'", [t.id, eventKey]);
      throw err;
    }
    await settle('started', runId);
    return { outcome: 'duplicate', previous: 'started', runId };
  }
  await settle('started', runId);
  await s.audit.record(origin, 'trigger.fired', t.id, { run: runId, runbook: t.runbook_id, version: t.version, kind: t.kind }, t.tenant);
  await s.audit.record(origin, 'run.started', runId, { runbook: t.runbook_id, version: t.version, trigger: t.id }, t.tenant);
  return { outcome: 'started', runId };
}
