// Durable run records: what each run was asked, every step (status, attempts, timing, output,
// warnings, errors, changes), every approval decision and its plan, kept in the control plane's
// database for as long as the admin says, whatever Temporal's retention. The server takes them
// from Temporal (the interpreter's state query, or the run's result once it closed) on a loop and
// on every read, and writes a run it started itself from what it started it with; keyed by
// workflow id + run id: writing the same run twice writes the same row,
// and a record is frozen once the run ended. See docs/runs.md for why the server, not the worker.
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { catalog } from '../catalog/index.ts';
import type { ActionContract } from '../catalog/contract.ts';
import { type ApprovalDecision, type NodeState, type RunbookDefinition, type RunbookWorkflowInput, type RunContext, type RunState, type RunStatus } from '../runbook/definition.ts';
import { definitionHash } from '../runbook/fingerprint.ts';
import { maskSealed, redact, redactInputs } from '../runbook/secrets.ts';
import { runStateQuery } from '../workflows/messages.ts';
import type { Audit, AuditOrigin } from './audit.ts';
import type { Db } from './db.ts';
import { iso } from './people.ts';
import type { Row } from './sql.ts';
import { memoOf, runStatusOf, type RunListFilter, type RunListItem, type Runs, type RunStarter } from './temporal.ts';
import { compare, eq } from './visibility.ts';
import { HttpError } from './http.ts';
import { CHANGES_KEY } from '../catalog/contract.ts';

/** The reserved output key under which a write step reports its changes (worker/planning.ts fills it: docs/plan.md). */
export { CHANGES_KEY };

/** One property of one object a step changed, before -> after. */
export interface RecordedChange {
  object: string;
  property: string;
  before: unknown;
  after: unknown;
  [more: string]: unknown;
}

export interface RecordedStep extends NodeState {
  /** The catalog action (action steps). */
  action?: string;
  title?: string;
  /** What the step changed, from its output's __changes; absent when it reported none. */
  changes?: RecordedChange[];
}

export interface RunRecord {
  id: string;
  runId: string;
  /** The loop run this item run belongs to. */
  parentId?: string;
  runbook?: string;
  runbookName?: string;
  version?: number;
  definitionHash?: string;
  tenant?: string;
  startedBy?: string;
  /** Why the run was asked for (POST /api/runs reason). */
  reason?: string;
  test: boolean;
  origin?: Record<string, unknown>;
  status: RunStatus;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  temporalStatus: string;
  message?: string;
  warnings: string[];
  startedAt: string;
  endedAt?: string;
  /** Secrets redacted. */
  inputs?: unknown;
  /** The definition it ran (sealed values masked). */
  definition?: RunbookDefinition;
  nodes: Record<string, RecordedStep>;
  decisions: (ApprovalDecision & { node: string })[];
  /** The plan shown before the run, when one was made (docs/runs.md). */
  plan?: unknown;
  pendingApprovers: string[];
  progress?: { done: number; total: number };
  temporal: { namespace: string; workflowId: string; runId: string };
  /** When the record was last written from Temporal. */
  recordedAt: string;
  /** The run has ended and its record is complete: never written again. */
  final: boolean;
}

export interface RecordsOptions {
  /** Audit-log actor for changes whose run names no requester. */
  system?: string;
}

/** A run this server has just started: its run id and what it was started with. */
export interface FreshRun {
  runId: string;
  starter: RunStarter;
  /** When the start was sent. */
  at: Date;
}

/** What a record is built from besides the run's state: Temporal's description, or what the server started the run with. */
interface RunFacts {
  runId: string;
  /** RUNNING, COMPLETED, ... */
  temporalStatus: string;
  searchAttributes: Record<string, unknown[] | undefined>;
  memo: Record<string, unknown>;
  /** The workflow that started this one (an item run's loop). */
  parentWorkflowId?: string;
  startTime: Date;
  closeTime?: Date;
}

const factsOf = (d: WorkflowExecutionDescription): RunFacts => ({
  runId: d.runId,
  temporalStatus: d.status.name,
  searchAttributes: d.searchAttributes as Record<string, unknown[] | undefined>,
  memo: d.memo ?? {},
  parentWorkflowId: d.raw.workflowExecutionInfo?.parentExecution?.workflowId ?? undefined,
  startTime: d.startTime,
  closeTime: d.closeTime,
});

const OPEN = new Set(['running', 'waiting-approval', 'paused']);
const SETTING_RETENTION = 'runs.retentionDays';
const SETTING_WATERMARK = 'runs.recordedClosedSince';
/**
 * How long a record's read of a running run waits for its state: a worker must answer the query,
 * and with every worker down (or busy) the record is written from Temporal's description alone.
 */
const STATE_READ_MS = 5_000;
/** Closed runs recorded per loop tick (the rest follow on the next ticks). */
const CLOSED_PER_TICK = 200;

/** Action contracts that change the tenant: their succeeded steps go to the audit log. */
export function changesTenant(c: ActionContract | undefined): boolean {
  if (!c) return false;
  const perms = [...c.permissions, ...(c.otherPermissions ?? [])];
  if (perms.some((p) => /ReadWrite|EnableDisableAccount|RevokeSessions|Invite|\.Create$|Mail\.Send/.test(p))) return true;
  return perms.includes('Exchange.ManageAsApp') && c.category !== 'investigation';
}

export class RunRecords {
  readonly db: Db;
  readonly runs: Runs;
  readonly audit: Audit;
  private readonly opts: RecordsOptions;
  private syncing?: Promise<void>;
  private lastSync = 0;
  private lastPurge = 0;
  private timer?: NodeJS.Timeout;
  private readonly queue = new Map<string, FreshRun | undefined>();
  private draining?: Promise<void>;

  constructor(db: Db, runs: Runs, audit: Audit, opts: RecordsOptions = {}) {
    this.db = db;
    this.runs = runs;
    this.audit = audit;
    this.opts = opts;
  }

  // ---- reading ----

  /** The newest record of a workflow id. */
  async get(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.one('select record from run_records where workflow_id = $1 order by started_at desc limit 1', [id]);
    return row?.record as RunRecord | undefined;
  }

  /**
   * The run as Temporal has it now, written to its record first; the stored record when Temporal
   * no longer knows the run (retention), and undefined when neither does.
   */
  async refresh(id: string): Promise<(RunRecord & { source: 'temporal' | 'record'; inTemporal?: boolean }) | undefined> {
    const stored = await this.get(id);
    // A finished run is read from its record; Temporal is only asked whether it still keeps it.
    if (stored?.final) return { ...stored, source: 'record', inTemporal: await this.inTemporal(id) };
    let got: Awaited<ReturnType<Runs['get']>>;
    try {
      // A closed run's state is its result (build reads it): no query, which a worker would answer
      // by replaying the run. A running run's query waits for a worker, at most STATE_READ_MS.
      got = await this.runs.get(id, { state: true, whileRunning: true, withinMs: STATE_READ_MS });
    } catch (err) {
      if (stored) return { ...stored, source: 'record' };
      throw err;
    }
    if (!got) return stored && { ...stored, source: 'record', inTemporal: false };
    const facts = factsOf(got.description);
    // No worker answered for a running run: its record is not overwritten with less than it knows.
    if (!got.state && facts.temporalStatus === 'RUNNING' && stored) return { ...stored, source: 'record' };
    const rec = await this.build(id, facts, got.state, stored);
    // A run the API started is in the audit log before its first record: should the entry fail,
    // no record is written either and the loop tries both again.
    if (!stored) await this.auditStart(rec, facts.memo);
    await this.write(rec);
    return { ...rec, source: 'temporal' };
  }

  /**
   * The first record of a run this server has just started, from what it started it with: nothing
   * is asked of Temporal (no describe, no state query, no history read). Written only if the run
   * has no record yet; the loop and every read bring it up to date from Temporal afterwards.
   */
  private async first(id: string, fresh: FreshRun): Promise<void> {
    const facts: RunFacts = { runId: fresh.runId, temporalStatus: 'RUNNING', searchAttributes: {}, memo: memoOf(fresh.starter), startTime: fresh.at };
    const rec = await this.build(id, facts, undefined, undefined, fresh.starter);
    await this.auditStart(rec, facts.memo);
    await this.write(rec, { onlyNew: true });
  }

  /**
   * The "run.started" entry of a run started through the API (its memo names who started it),
   * exactly once per workflow id: the claim and the entry commit together. POST /api/runs answers
   * as soon as Temporal has the run, and this writer (right after, or the loop after a crash)
   * appends the entry, so a started run is never missing from the log.
   */
  private async auditStart(rec: RunRecord, runMemo: Record<string, unknown>): Promise<void> {
    const memo = runMemo as { startAudit?: AuditOrigin; origin?: Record<string, unknown> };
    if (!memo.startAudit?.actor || rec.parentId) return;
    await this.db.tx(async (q) => {
      const claimed = await q.query('insert into run_start_audited (workflow_id) values ($1) on conflict do nothing returning workflow_id', [rec.id]);
      if (!claimed.length) return;
      await this.audit.recordIn(q, memo.startAudit!, 'run.started', rec.id, { runbook: rec.runbook, version: rec.version, test: rec.test, ...memo.origin }, rec.tenant);
    });
  }

  /**
   * A bulk batch (the runs of one CSV): how many ended how, and the batch's own outcome: partially
   * failed when some runs failed and others did not, failed when all did.
   */
  async batch(batch: string): Promise<{ batch: string; tenant?: string; runbook?: string; runs: number; statuses: Record<string, number>; status: RunStatus } | undefined> {
    const rows = await this.db.query(
      `select status, tenant, runbook, count(*)::int as n from run_records where parent_id is null and record->'origin'->>'bulk' = $1 group by status, tenant, runbook`,
      [batch],
    );
    if (!rows.length) return undefined;
    const statuses: Record<string, number> = {};
    for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + Number(r.n);
    const runs = Object.values(statuses).reduce((a, b) => a + b, 0);
    const count = (...s: string[]) => s.reduce((n, k) => n + (statuses[k] ?? 0), 0);
    const bad = count('failed', 'partially-failed', 'timed-out');
    const status: RunStatus =
      count('running', 'waiting-approval', 'paused') > 0 ? 'running'
      : bad === runs ? 'failed'
      : bad > 0 ? 'partially-failed'
      : count('succeeded') === runs ? 'succeeded'
      : 'succeeded-with-warnings';
    return { batch, tenant: rows[0]!.tenant ?? undefined, runbook: rows[0]!.runbook ?? undefined, runs, statuses, status };
  }

  /** The recorded status of each of these runs (the newest record of each id). */
  async statuses(ids: string[]): Promise<Map<string, RunStatus>> {
    if (!ids.length) return new Map();
    const rows = await this.db.query('select workflow_id, status from run_records where workflow_id = any($1::text[]) order by started_at', [ids]);
    return new Map(rows.map((r) => [r.workflow_id as string, r.status as RunStatus]));
  }

  /** Whether Temporal still keeps the run (undefined when it cannot be asked). */
  private async inTemporal(id: string): Promise<boolean | undefined> {
    try {
      await this.runs.client.workflow.getHandle(id).describe();
      return true;
    } catch (err) {
      return err instanceof WorkflowNotFoundError ? false : undefined;
    }
  }

  /**
   * Records runs just started, one at a time in the background (a bulk start of thousands must not
   * wait for them, nor burst Temporal); the loop and the next read catch up on any it misses. A
   * run this server started itself (`fresh`) is recorded from what it was started with; any other
   * is read from Temporal.
   */
  started(id: string, fresh?: FreshRun): void {
    this.queue.set(id, fresh);
    this.draining ??= (async () => {
      // Not before the caller has its answer, nor before the event loop's next round of I/O: one
      // setImmediate runs in the round that wrote the answer, ahead of any socket read, so a caller
      // (or another request) waited for the record's first work. Measured with the caller in this
      // process (bench/api.ts), the second turn took 0.3-0.6 ms off POST /api/runs.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      for (const [next, known] of this.queue) {
        this.queue.delete(next);
        await (known ? this.first(next, known) : this.refresh(next)).catch(() => undefined);
      }
    })().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once the records of runs started so far are written (or their writes failed). */
  async written(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stores the plan shown before the run (or before its approval). */
  async setPlan(id: string, plan: unknown): Promise<void> {
    const rec = await this.get(id);
    if (!rec) throw new Error(`no record of run ${id}`);
    await this.db.query(`update run_records set record = jsonb_set(record, '{plan}', $3::jsonb), updated_at = now() where workflow_id = $1 and run_id = $2`, [rec.id, rec.runId, JSON.stringify(plan)]);
  }

  /** Run list from the records, newest first; `pageToken` continues after the last row of a page. */
  async list(filter: RunListFilter & { parent?: string; q?: string; batch?: string }, page: { size: number; token?: string }): Promise<{ runs: (RunListItem & { parentId?: string; warnings: number; message?: string })[]; nextPageToken?: string }> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    where.push(filter.parent ? `parent_id = ${arg(filter.parent)}` : 'parent_id is null');
    if (filter.runbook) where.push(`runbook = ${arg(filter.runbook)}`);
    if (filter.batch) where.push(`record->'origin'->>'bulk' = ${arg(filter.batch)}`);
    if (filter.status?.length) where.push(`status = any(${arg(filter.status)}::text[])`);
    if (filter.tenants) where.push(`tenant = any(${arg(filter.tenants)}::text[])`);
    if (filter.requester) where.push(`requested_by = ${arg(filter.requester.toLowerCase())}`);
    if (filter.startedAfter) where.push(`started_at >= ${arg(filter.startedAfter)}`);
    if (filter.startedBefore) where.push(`started_at < ${arg(filter.startedBefore)}`);
    if (filter.q)
      where.push(`position(lower(${arg(filter.q)}) in lower(workflow_id || ' ' || coalesce(runbook, '') || ' ' || coalesce(runbook_name, '') || ' ' || coalesce(requested_by, '') || ' ' || coalesce(tenant, '') || ' ' || coalesce(reason, ''))) > 0`);
    if (page.token) {
      const [at, wid] = pageTokenOf(page.token);
      where.push(`(started_at, workflow_id) < (${arg(at)}::timestamptz, ${arg(wid)})`);
    }
    const rows = await this.db.query(
      `select workflow_id, run_id, parent_id, runbook, runbook_name, version, tenant, requested_by, status, temporal_status, message,
              pending_approvers, progress, started_at, ended_at, jsonb_array_length(coalesce(record->'warnings', '[]'::jsonb)) as warnings
       from run_records where ${where.join(' and ')} order by started_at desc, workflow_id desc limit ${arg(page.size + 1)}`,
      args,
    );
    const more = rows.length > page.size;
    const items = rows.slice(0, page.size).map((r) => ({
      id: r.workflow_id,
      runId: r.run_id,
      parentId: r.parent_id ?? undefined,
      status: r.status as RunStatus,
      temporalStatus: r.temporal_status ?? '',
      runbook: r.runbook ?? undefined,
      runbookName: r.runbook_name ?? undefined,
      version: r.version ?? undefined,
      tenant: r.tenant ?? undefined,
      startedBy: r.requested_by ?? undefined,
      pendingApprovers: r.pending_approvers ?? [],
      progress: progressOf(r.progress),
      startedAt: iso(r.started_at),
      endedAt: iso(r.ended_at),
      message: r.message ?? undefined,
      warnings: Number(r.warnings),
    }));
    const last = rows[page.size - 1];
    return { runs: items, nextPageToken: more && last ? Buffer.from(JSON.stringify([iso(last.started_at), last.workflow_id])).toString('base64url') : undefined };
  }

  // ---- writing ----

  /** `known`: the workflow input when the caller has it (else read from the run's history). */
  private async build(id: string, d: RunFacts, queried: RunState | undefined, stored: RunRecord | undefined, known?: RunbookWorkflowInput): Promise<RunRecord> {
    const temporalStatus = d.temporalStatus;
    const sa = d.searchAttributes;
    let state = queried;
    let final = false;
    if (temporalStatus !== 'RUNNING') {
      // The final state: the run's result (or its failure's details) when the query had none.
      state ??= await this.finalState(id);
      final = state !== undefined && !OPEN.has(state.status);
    }
    // The workflow input (first history event) is read once; later writes reuse the record's copy.
    const input = stored?.definition && stored.inputs !== undefined ? undefined : (known ?? (await this.runs.input(id).catch(() => undefined)));
    const definition = stored?.definition ?? (input ? (maskSealed(input.definition) as RunbookDefinition) : undefined);
    const run: Partial<RunContext> = input?.run ?? {};
    const memo = d.memo as { origin?: Record<string, unknown>; runbookName?: string };
    // The reason travels in the memo's origin (POST /api/runs); the record keeps it on its own.
    const { reason: memoReason, ...origin } = memo.origin ?? {};
    const runbook = stored?.runbook ?? run.runbookId ?? (sa.TenantflowRunbook?.[0] as string | undefined);
    const version = stored?.version ?? run.version ?? (sa.TenantflowVersion?.[0] as number | undefined);
    const nodes = this.steps(definition, state);
    const decisions = Object.values(nodes).flatMap((n) => (n.approval?.decisions ?? []).map((x) => ({ node: n.id, ...x })));
    const status = runStatusOf(state?.status ?? (sa.TenantflowStatus?.[0] as string | undefined), temporalStatus);
    // An item run's parent is its loop's workflow ("<run id>.<node id>", workflows/nodes/forEach.ts):
    // the record names the run the loop belongs to.
    const loop = d.parentWorkflowId;
    const parentId = loop?.includes('.') ? loop.slice(0, loop.lastIndexOf('.')) : loop;
    const progress = progressOf(sa.TenantflowProgress?.[0]);
    return {
      id,
      runId: d.runId,
      ...(parentId ? { parentId } : {}),
      runbook,
      runbookName: stored?.runbookName ?? memo.runbookName ?? definition?.name,
      version,
      definitionHash: stored?.definitionHash ?? (await this.hashOf(runbook, version, definition)),
      tenant: stored?.tenant ?? run.tenant ?? (sa.TenantflowTenant?.[0] as string | undefined),
      startedBy: stored?.startedBy ?? run.startedBy ?? (sa.TenantflowRequester?.[0] as string | undefined),
      reason: stored?.reason ?? (typeof memoReason === 'string' ? memoReason : undefined),
      test: stored?.test ?? run.test ?? false,
      origin: stored?.origin ?? (Object.keys(origin).length ? origin : undefined),
      status,
      temporalStatus,
      message: state?.message ?? (temporalStatus === 'TERMINATED' ? 'terminated in Temporal' : temporalStatus === 'TIMED_OUT' ? 'the run hit its Temporal timeout' : undefined),
      warnings: state?.warnings ?? [],
      startedAt: state?.startedAt ?? d.startTime.toISOString(),
      endedAt: state?.endedAt ?? d.closeTime?.toISOString(),
      inputs: stored?.inputs ?? (input ? redactInputs(definition, input.inputs) : undefined),
      definition,
      nodes,
      decisions,
      // The plan stored for the run, else the plan its first approval carried (what the approver saw).
      plan: stored?.plan ?? Object.values(nodes).find((n) => n.approval?.plan)?.approval?.plan,
      pendingApprovers: (sa.TenantflowPendingApprovers as string[] | undefined) ?? [],
      progress: progress ?? (state ? { done: Object.values(state.nodes).filter((n) => !['pending', 'running', 'waiting-approval', 'paused'].includes(n.status)).length, total: Object.keys(state.nodes).length } : undefined),
      temporal: { namespace: this.runs.client.options.namespace, workflowId: id, runId: d.runId },
      recordedAt: new Date().toISOString(),
      final,
    };
  }

  /** Steps as people may see them: secrets redacted, changes lifted out of the output. */
  private steps(definition: RunbookDefinition | undefined, state: RunState | undefined): Record<string, RecordedStep> {
    const out: Record<string, RecordedStep> = {};
    const defs = new Map((definition?.nodes ?? []).map((n) => [n.id, n]));
    const ids = state ? Object.keys(state.nodes) : [...defs.keys()];
    for (const nodeId of ids) {
      const n: NodeState = state?.nodes[nodeId] ?? { id: nodeId, kind: defs.get(nodeId)!.kind, status: 'pending', attempts: 0 };
      const def = defs.get(nodeId);
      const contract = def?.kind === 'action' ? catalog.get(def.action) : undefined;
      const fields = contract?.secretFields ?? [];
      const { output, changes } = liftChanges(n.output);
      out[nodeId] = {
        ...n,
        input: redact(n.input, fields),
        output: def?.kind === 'subRunbook' ? redactChildOutput(def.pinned?.definition as RunbookDefinition | undefined, output) : redact(output, fields),
        ...(def?.kind === 'action' ? { action: def.action, title: contract?.title } : {}),
        ...(changes ? { changes: redact(changes, fields) as RecordedChange[] } : {}),
      };
    }
    return out;
  }

  // (redactChildOutput below: a sub-runbook step's output carries its child's step outputs.)
  private async finalState(id: string): Promise<RunState | undefined> {
    const handle = this.runs.client.workflow.getHandle(id);
    try {
      return (await handle.result()) as RunState;
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as RunState | undefined) : undefined;
      if (details?.nodes) return details;
    }
    // Cancelled or terminated: the state as the workflow last had it, if a worker can replay it.
    return handle.query(runStateQuery).catch(() => undefined);
  }

  private async hashOf(runbook: string | undefined, version: number | undefined, definition: RunbookDefinition | undefined): Promise<string | undefined> {
    if (runbook && runbook !== 'inline' && version) {
      const row = await this.db.one('select definition from runbook_versions where runbook_id = $1 and version = $2', [runbook, version]);
      if (row) return definitionHash(row.definition);
    }
    return definition ? definitionHash(definition) : undefined;
  }

  /**
   * Upserts the record (never over a final one; with `onlyNew`, never over any), then audits the
   * tenant changes of its finished steps once.
   */
  async write(rec: RunRecord, opts: { onlyNew?: boolean } = {}): Promise<void> {
    await this.db.query(
      `insert into run_records (workflow_id, run_id, parent_id, runbook, runbook_name, version, definition_hash, tenant, requested_by, reason, test,
         status, temporal_status, message, pending_approvers, progress, started_at, ended_at, final, record, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::jsonb, now())
       ${opts.onlyNew ? 'on conflict (workflow_id, run_id) do nothing' : `on conflict (workflow_id, run_id) do update set
         runbook_name = excluded.runbook_name, reason = excluded.reason, status = excluded.status, temporal_status = excluded.temporal_status,
         message = excluded.message, pending_approvers = excluded.pending_approvers, progress = excluded.progress, ended_at = excluded.ended_at,
         final = excluded.final, record = excluded.record, updated_at = now()
       where not run_records.final`}`,
      [
        rec.id,
        rec.runId,
        rec.parentId ?? null,
        rec.runbook ?? null,
        rec.runbookName ?? null,
        rec.version ?? null,
        rec.definitionHash ?? null,
        rec.tenant ?? null,
        rec.startedBy?.toLowerCase() ?? null,
        rec.reason ?? null,
        rec.test,
        rec.status,
        rec.temporalStatus ?? null,
        rec.message ?? null,
        rec.pendingApprovers,
        rec.progress ? `${rec.progress.done}/${rec.progress.total}` : null,
        rec.startedAt,
        rec.endedAt ?? null,
        rec.final,
        JSON.stringify(rec),
      ],
    );
    await this.auditChanges(rec);
  }

  /** Each finished step that changed the tenant becomes one audit entry, exactly once (claim and entry commit together). */
  private async auditChanges(rec: RunRecord): Promise<void> {
    const candidates = Object.values(rec.nodes).filter((n) => n.kind === 'action' && ((n.status === 'succeeded' && changesTenant(catalog.get(n.action ?? ''))) || (n.changes?.length ?? 0) > 0));
    if (!candidates.length) return;
    const done = new Set((await this.db.query('select node_id from run_changes_audited where workflow_id = $1 and run_id = $2', [rec.id, rec.runId])).map((r: Row) => r.node_id as string));
    for (const n of candidates.filter((c) => !done.has(c.id))) {
      await this.db.tx(async (q) => {
        const claimed = await q.query('insert into run_changes_audited (workflow_id, run_id, node_id) values ($1, $2, $3) on conflict do nothing returning node_id', [rec.id, rec.runId, n.id]);
        if (!claimed.length) return;
        const detail = {
          run: rec.id,
          runId: rec.runId,
          ...(rec.parentId ? { parentRun: rec.parentId } : {}),
          runbook: rec.runbook,
          version: rec.version,
          step: n.id,
          action: n.action,
          title: n.title,
          status: n.status,
          at: n.endedAt,
          input: capped(n.input),
          output: capped(n.output),
          ...(n.changes ? { changes: capped(n.changes) } : {}),
        };
        const entry = await this.audit.recordIn(q, { actor: rec.startedBy ?? this.opts.system ?? 'tenantflow' }, 'm365.change', rec.id, detail, rec.tenant);
        await q.query('update run_changes_audited set audit_id = $4 where workflow_id = $1 and run_id = $2 and node_id = $3', [rec.id, rec.runId, n.id, entry.id]);
      });
    }
  }

  // ---- the loop ----

  /** One pass: open runs whose visible state moved, closed runs not yet final, then retention. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.lastSync = Date.now();
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Reads wait for a fresh pass, but never more than `maxWaitMs`. */
  async fresh(maxAgeMs: number, maxWaitMs = 2000): Promise<void> {
    if (!this.syncing && Date.now() - this.lastSync < maxAgeMs) return;
    await Promise.race([this.sync().catch(() => undefined), new Promise((r) => setTimeout(r, maxWaitMs).unref())]);
  }

  private async syncOnce(): Promise<void> {
    const started = new Date();
    // Open runs: only those whose visible status, progress or approvers changed are read in full.
    let token: string | undefined;
    do {
      const page = await this.runs.list({ extra: eq('ExecutionStatus', 'Running') }, { size: 500, token });
      const known = await this.summaries(page.runs.map((r) => r.id));
      for (const r of page.runs) {
        const k = known.get(`${r.id}|${r.runId}`);
        const progress = r.progress ? `${r.progress.done}/${r.progress.total}` : null;
        if (k && k.status === r.status && k.progress === progress && (k.pending_approvers ?? []).join(',') === r.pendingApprovers.join(',')) continue;
        await this.refresh(r.id).catch(() => undefined);
      }
      token = page.nextPageToken;
    } while (token);
    // Closed runs since the last pass (a minute of overlap: visibility is written a moment late).
    const since = (await this.setting<string>(SETTING_WATERMARK)) ?? '1970-01-01T00:00:00Z';
    let budget = CLOSED_PER_TICK;
    let caughtUp = true;
    token = undefined;
    do {
      // (Some visibility stores count an open run as closed at any time: ask for closed ones only.)
      const page = await this.runs.list({ closedAfter: new Date(Date.parse(since) - 60_000).toISOString(), extra: compare('ExecutionStatus', '!=', 'Running') }, { size: 200, token });
      const known = await this.summaries(page.runs.map((r) => r.id));
      for (const r of page.runs) {
        if (known.get(`${r.id}|${r.runId}`)?.final) continue;
        if (budget-- <= 0) {
          caughtUp = false;
          break;
        }
        await this.refresh(r.id).catch(() => undefined);
      }
      token = caughtUp ? page.nextPageToken : undefined;
    } while (token);
    if (caughtUp) await this.setSetting(SETTING_WATERMARK, started.toISOString());
    if (Date.now() - this.lastPurge > 60_000) {
      this.lastPurge = Date.now();
      await this.purge();
    }
  }

  private async summaries(ids: string[]): Promise<Map<string, Row>> {
    if (!ids.length) return new Map();
    const rows = await this.db.query('select workflow_id, run_id, status, progress, pending_approvers, final from run_records where workflow_id = any($1::text[])', [ids]);
    return new Map(rows.map((r) => [`${r.workflow_id}|${r.run_id}`, r]));
  }

  start(intervalMs: number, log: (m: string) => void = (m) => console.warn(`run records: ${m}`)): void {
    this.timer = setInterval(() => {
      this.sync().catch((err: Error) => log(`recording runs failed: ${err.message}`));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.queue.clear();
    await Promise.all([this.syncing?.catch(() => undefined), this.draining]);
  }

  // ---- retention ----

  /** Days a finished run's record is kept; undefined = forever (the default). */
  async retentionDays(): Promise<number | undefined> {
    return (await this.setting<number | null>(SETTING_RETENTION)) ?? undefined;
  }

  async setRetentionDays(days: number | undefined, by: string): Promise<void> {
    await this.setSetting(SETTING_RETENTION, days ?? null, by);
    this.lastPurge = 0;
  }

  /** Deletes finished records older than the retention (the audit log keeps its entries). */
  async purge(): Promise<number> {
    const days = await this.retentionDays();
    if (days === undefined) return 0;
    const rows = await this.db.query(`delete from run_records where final and ended_at < now() - make_interval(days => $1) returning workflow_id`, [days]);
    return rows.length;
  }

  private async setting<T>(key: string): Promise<T | undefined> {
    return (await this.db.one('select value from settings where key = $1', [key]))?.value as T | undefined;
  }

  private async setSetting(key: string, value: unknown, by?: string): Promise<void> {
    await this.db.query(
      `insert into settings (key, value, updated_by) values ($1, $2::jsonb, $3)
       on conflict (key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`,
      [key, JSON.stringify(value), by ?? null],
    );
  }
}

/** The step's output without the reserved __changes keys, and the changes. */
export function liftChanges(output: unknown): { output: unknown; changes?: RecordedChange[] } {
  if (!output || typeof output !== 'object' || Array.isArray(output) || !(CHANGES_KEY in output)) return { output };
  const { [CHANGES_KEY]: changes, ...rest } = output as Record<string, unknown>;
  return { output: rest, changes: Array.isArray(changes) ? (changes as RecordedChange[]) : undefined };
}

/** Big values are cut for the audit log (the run record keeps them whole). */
function capped(v: unknown, max = 8000): unknown {
  const text = JSON.stringify(v);
  if (text === undefined || text.length <= max) return v;
  return { truncated: true, size: text.length, preview: text.slice(0, max) };
}

function progressOf(v: unknown): { done: number; total: number } | undefined {
  const m = typeof v === 'string' ? /^(\d+)\/(\d+)$/.exec(v) : null;
  return m ? { done: Number(m[1]), total: Number(m[2]) } : undefined;
}

/** The run detail of the API, from a record. */
export function recordView(rec: RunRecord & { source?: 'temporal' | 'record'; inTemporal?: boolean }, temporalUrl?: string) {
  const { definition, final: _final, temporal, recordedAt, source, inTemporal, ...rest } = rec;
  return {
    ...rest,
    graph: definition
      ? { nodes: definition.nodes.map((n) => ({ id: n.id, kind: n.kind, label: n.label, action: n.kind === 'action' ? n.action : undefined, position: n.position })), edges: definition.edges }
      : undefined,
    temporal,
    temporalUrl: inTemporal === false ? undefined : temporalUrl,
    /** Where this answer came from; inTemporal false: Temporal no longer keeps the run (its retention). */
    record: { recordedAt, final: rec.final, source: source ?? 'record', ...(inTemporal !== undefined ? { inTemporal } : {}) },
  };
}

/** A page token this list handed out: [started_at, workflow_id]; anything else is the caller's mistake. */
function pageTokenOf(token: string): [string, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || Number.isNaN(Date.parse(parsed[0])))
    throw new HttpError(400, 'pageToken is not a token this list gave out', { problems: [{ field: 'pageToken', message: 'use the nextPageToken of the previous page, or leave it out' }] });
  return [parsed[0], parsed[1]];
}


/** A sub-runbook step's output: each child step's output redacted as the child's own run record redacts it (nested children too). */
export function redactChildOutput(child: RunbookDefinition | undefined, output: unknown): unknown {
  const o = output as { steps?: Record<string, { status: string; output?: unknown }> } | undefined;
  if (!o?.steps || typeof o.steps !== 'object') return output;
  const nodes = new Map((child?.nodes ?? []).map((n) => [n.id, n]));
  const steps = Object.fromEntries(
    Object.entries(o.steps).map(([id, st]) => {
      const n = nodes.get(id);
      const out =
        n?.kind === 'subRunbook'
          ? redactChildOutput(n.pinned?.definition as RunbookDefinition | undefined, st.output)
          : n?.kind === 'action'
            ? redact(st.output, catalog.get(n.action)?.secretFields ?? [])
            : // A step of a child not known here: nothing of it is shown.
              n
              ? st.output
              : undefined;
      return [id, { ...st, output: out }];
    }),
  );
  return { ...o, steps };
}
