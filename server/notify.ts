// Notifications: when a run completes, fails or waits for approval, and (for runs started before
// the workflow sent its own, workflows/nodes/approval-people.ts) approval reminders, to the targets
// in the runbook's settings.notifications (webhook URLs or email addresses; mail
// is sent through the run's tenant with Graph sendMail); and to the requester of a run with an
// approval step, how it ended (runs since patch requester-notice-server leave that mail to here). The server watches Temporal visibility;
// each event is claimed once in the database (notifications_sent), so several servers or a
// restart never send it twice (delivery is at most once). Sending itself is m365/notify.ts, shared
// with the worker's notification actions.
import { durationMs, STATUS_WORDS, type RunbookDefinition, type RunStatus } from '../runbook/definition.ts';
import { graphClientCache } from '../m365/graph.ts';
import { callWebhook, sendMail } from '../m365/notify.ts';
import type { Services } from './services.ts';
import type { RunListFilter, RunListItem } from './temporal.ts';

const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Runs that took this branch leave the requester's notice to this notifier (workflows/interpreter.ts). */
export const REQUESTER_NOTICE_PATCH = 'requester-notice-server';

export interface NotifyEvent {
  event: 'run.completed' | 'run.failed' | 'approval.waiting' | 'approval.reminder';
  runId: string;
  runbook?: string;
  runbookName?: string;
  tenant?: string;
  status: string;
  startedBy?: string;
  node?: string;
  message?: string;
  /** Every warning of a finished run (succeeded with warnings, partially failed, ...). */
  warnings?: string[];
  approvers?: string[];
  url: string;
}

/**
 * Which list a finished run notifies: onComplete when it went its way (succeeded, with warnings,
 * or an approver said no), onFailure when it did not. The event's `status` says exactly how.
 */
export function finishedEvent(status: string): 'run.completed' | 'run.failed' | undefined {
  if (status === 'succeeded' || status === 'succeeded-with-warnings' || status === 'rejected') return 'run.completed';
  if (status === 'failed' || status === 'partially-failed' || status === 'timed-out') return 'run.failed';
  return undefined;
}

/** How long a pass waits for a waiting run's state; a run that does not answer is read next pass. */
const WAITING_READ_MS = 5_000;
/** A pass slower than this is logged: notifications wait for it. */
const SLOW_PASS_MS = 10_000;
/** Passes that try to notify the end of a run whose notice keeps failing before giving up. */
const FINISHED_TRIES = 5;
/** Run definitions kept between passes (a waiting run's is needed every pass). */
const DEFINITIONS_KEPT = 5_000;

export function startNotifier(s: Services, opts: { intervalMs: number; publicUrl: string; log?: (m: string) => void; pageSize?: number }) {
  const log = opts.log ?? ((m: string) => console.warn(`notify: ${m}`));
  const pageSize = opts.pageSize ?? 200;
  const graphs = graphClientCache();
  let since = new Date(Date.now() - 3_600_000);
  let running = false;
  let stopped = false;

  const claim = async (runId: string, event: string) =>
    (await s.db.query('insert into notifications_sent (run_id, event) values ($1, $2) on conflict do nothing returning run_id', [runId, event])).length > 0;

  const deliver = async (targets: string[], e: NotifyEvent) => {
    for (const target of targets) {
      try {
        if (/^https?:\/\//.test(target)) {
          await callWebhook(target, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'Tenantflow' }, body: JSON.stringify(e), timeoutSeconds: 10 });
        } else if (target.includes('@')) {
          const conn = e.tenant ? await s.tenants.connection(e.tenant) : undefined;
          const from = conn?.mailFrom ?? process.env.TENANTFLOW_MAIL_FROM;
          if (!conn || !from) {
            log(`no sender mailbox for tenant ${e.tenant} (set its mailFrom): ${e.event} of ${e.runId} not mailed to ${target}`);
            continue;
          }
          await sendMail(graphs(conn), from, {
            to: [target],
            subject: `[Tenantflow] ${e.runbookName ?? e.runbook}: ${e.event.startsWith('run.') ? `run ${STATUS_WORDS[e.status as RunStatus] ?? e.status}` : e.event.replace('.', ' ')}`,
            body: `${e.message ?? ''}${e.warnings?.length ? `\n\nWarnings:\n${e.warnings.map((w) => `- ${w}`).join('\n')}` : ''}\n\nRun ${e.runId} (${STATUS_WORDS[e.status as RunStatus] ?? e.status})\n${e.url}`,
            saveToSentItems: false,
          });
        } else log(`notification target "${target}" is neither a URL nor an email address`);
      } catch (err) {
        // A webhook URL may carry a secret (a Teams webhook's signature): name only its host.
        const where = /^https?:\/\//.test(target) ? new URL(target).host : target;
        log(`sending ${e.event} of ${e.runId} to ${where} failed: ${(err as Error).message}`);
      }
    }
  };

  /** The mail the run itself sent before requester-notice-server (worker/approvers.ts notifyRequester). */
  const tellRequester = async (r: { id: string; tenant?: string; status: string; startedBy?: string }, def: RunbookDefinition) => {
    const conn = r.tenant ? await s.tenants.connection(r.tenant) : undefined;
    const from = conn?.mailFrom ?? process.env.TENANTFLOW_MAIL_FROM;
    if (!conn || !from) {
      log(`no sender mailbox for tenant ${r.tenant} (set its mailFrom): the end of ${r.id} not mailed to its requester`);
      return;
    }
    const rec = await s.records.refresh(r.id).catch(() => undefined);
    const link = `${opts.publicUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(r.id)}`;
    try {
      await sendMail(graphs(conn), from, {
        to: [r.startedBy!],
        subject: `[Tenantflow] ${def.name}: run ${r.status}`,
        html: true,
        body: [`<p>Your run of <b>${escapeHtml(def.name)}</b> ended: ${escapeHtml(r.status)}.</p>`, rec?.message ? `<p>${escapeHtml(rec.message)}</p>` : '', `<p><a href="${escapeHtml(link)}">Open the run in Tenantflow</a></p>`].join('\n'),
        saveToSentItems: false,
      });
    } catch (err) {
      log(`telling the requester of ${r.id} how it ended failed: ${(err as Error).message}`);
    }
  };

  // A run's definition never changes: read once (from its first history event) per run, a bounded
  // number kept. A read that fails throws, and the run is tried again on the next pass.
  const definitions = new Map<string, RunbookDefinition | undefined>();
  const definitionOf = async (runId: string): Promise<RunbookDefinition | undefined> => {
    if (definitions.has(runId)) return definitions.get(runId);
    const def = (await s.runs.input(runId))?.definition;
    if (definitions.size >= DEFINITIONS_KEPT) definitions.delete(definitions.keys().next().value!);
    definitions.set(runId, def);
    return def;
  };
  // Finished runs this process has handled, with when they closed: a pass looks back past its last
  // one (visibility is written a moment late), and skips these instead of reading them again.
  const handled = new Map<string, number>();
  const failures = new Map<string, number>();

  /** Every page of a visibility list (a bulk batch can finish hundreds of runs between two passes). */
  async function* pages(filter: RunListFilter) {
    let token: string | undefined;
    do {
      const page = await s.runs.list(filter, { size: pageSize, token });
      yield* page.runs;
      token = page.nextPageToken;
    } while (token);
  }

  const finished = async (r: RunListItem) => {
    const event = finishedEvent(r.status);
    if (!event) return;
    const def = await definitionOf(r.id);
    // The requester of a run with an approval step hears how it ended, once (runs started
    // since patch requester-notice-server; older runs sent it themselves).
    if (def?.nodes.some((n) => n.kind === 'approval') && r.startedBy?.includes('@') && (await s.runs.hasPatch(r.id, REQUESTER_NOTICE_PATCH).catch(() => false)) && (await claim(r.id, 'requester')))
      await tellRequester(r, def);
    const targets = (event === 'run.completed' ? def?.settings.notifications?.onComplete : def?.settings.notifications?.onFailure) ?? [];
    if (!targets.length || !(await claim(r.id, event))) return;
    const rec = await s.records.refresh(r.id).catch(() => undefined);
    await deliver(targets, { event, runId: r.id, runbook: r.runbook, runbookName: def?.name, tenant: r.tenant, status: r.status, startedBy: r.startedBy, message: rec?.message, warnings: rec?.warnings, url: `${opts.publicUrl}/runs/${r.id}` });
  };

  const tick = async () => {
    if (running) return;
    running = true;
    const started = new Date();
    try {
      const lookBack = since.getTime() - 60_000;
      let behind = false;
      for await (const r of pages({ closedAfter: new Date(lookBack).toISOString(), status: ['succeeded', 'succeeded-with-warnings', 'partially-failed', 'failed', 'rejected', 'timed-out'] })) {
        if (handled.has(r.id)) continue;
        try {
          await finished(r);
          handled.set(r.id, Date.parse(r.endedAt ?? started.toISOString()));
          definitions.delete(r.id);
          failures.delete(r.id);
        } catch (err) {
          // Tried again next pass (the look-back does not move on while a finished run is left),
          // a few times: a run that cannot be read at all must not hold the look-back forever.
          const tries = (failures.get(r.id) ?? 0) + 1;
          failures.set(r.id, tries);
          if (tries < FINISHED_TRIES) behind = true;
          else {
            failures.delete(r.id);
            handled.set(r.id, Date.parse(r.endedAt ?? started.toISOString()));
          }
          log(`the end of ${r.id} is ${tries < FINISHED_TRIES ? 'not notified yet' : `not notified (gave up after ${tries} tries)`}: ${(err as Error).message}`);
        }
      }
      for (const [id, closed] of handled) if (closed < lookBack) handled.delete(id);
      for await (const r of pages({ status: ['waiting-approval'] })) {
        const def = await definitionOf(r.id).catch(() => undefined);
        const targets = def?.settings.notifications?.onApproval ?? [];
        if (!targets.length) continue;
        const got = await s.runs.get(r.id, { state: true, withinMs: WAITING_READ_MS });
        for (const n of Object.values(got?.state?.nodes ?? {})) {
          if (n.status !== 'waiting-approval' || !n.approval) continue;
          const base = { runId: r.id, runbook: r.runbook, runbookName: def?.name, tenant: r.tenant, status: r.status, startedBy: r.startedBy, node: n.id, message: n.approval.message, approvers: n.approval.pendingApprovers, url: `${opts.publicUrl}/approvals` };
          if (await claim(r.id, `approval:${n.id}`)) await deliver(targets, { event: 'approval.waiting', ...base });
          const node = def?.nodes.find((x) => x.id === n.id);
          // Steps of runs started since patch approval-notify remind their approvers themselves
          // (durable timers in the workflow); the server keeps reminding for older runs only.
          if (node?.kind === 'approval' && node.reminders && n.startedAt && !n.approval.notifies) {
            const k = Math.floor((Date.now() - Date.parse(n.startedAt)) / durationMs(node.reminders.every));
            if (k >= 1 && (await claim(r.id, `reminder:${n.id}:${k}`))) await deliver(targets, { event: 'approval.reminder', ...base });
          }
        }
      }
      if (!behind) since = started;
      const took = Date.now() - started.getTime();
      if (took > SLOW_PASS_MS) log(`a pass over the runs took ${(took / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`watching runs failed: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  };

  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, opts.intervalMs);
  timer.unref();
  return {
    tick,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
