// The server's side of Temporal: starting runs with their search attributes, listing them from
// visibility, reading their state, signalling decisions, schedules, and registering search
// attributes on an external cluster.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  Client,
  ScheduleNotFoundError,
  WorkflowNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  ApplicationFailure,
  ServiceError,
  type ScheduleDescription,
  type WorkflowHandle,
  type ScheduleOverlapPolicy,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
// The SDK's own decoding (what client.workflow.list and describe use): payloads go through the
// client's data converter, payload codecs included, never JSON.parse by hand.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { RawWorkflowExecutionInfo } from '@temporalio/client/lib/types.js';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { temporal } from '@temporalio/proto';
import { REFUSAL_REASON, type Refusal } from '../runbook/approvals.ts';
import { isOutcome, type ApprovalDecision, type RunbookDefinition, type RunContext, type RunState, type RunStatus } from '../runbook/definition.ts';
import {
  approvalSignal,
  approvalUpdate,
  resumeSignal,
  runStateQuery,
  WORKFLOW_TYPE,
  type ApprovalAnswer,
  type ApprovalSignal,
  type ApprovalUpdate,
  type CarriedStep,
  type ResumeSignal,
} from '../workflows/messages.ts';
import { recordedPatch } from '../workflows/patches.ts';
import { SA, SEARCH_ATTRIBUTES, visibilityAtStart } from '../workflows/search-attributes.ts';
import type { RunViewStatus } from './api-contract.ts';
import { and, compare, eq, oneOf, type Clause } from './visibility.ts';
import { HttpError } from './http.ts';
import type { AuditOrigin } from './audit.ts';

export interface RunStarter {
  definition: RunbookDefinition;
  inputs: Record<string, unknown>;
  run: RunContext;
  /** Outputs of steps that succeeded in an earlier run (retry of a failed run). */
  carry?: Record<string, CarriedStep>;
  /** Memo: where the run came from (bulk file, schedule, re-run of ...). */
  origin?: Record<string, unknown>;
  /**
   * Memo: who started the run through the API, for its "run.started" audit entry, which the
   * writer of the run's first record appends (RunRecords) once Temporal has the run.
   */
  audit?: AuditOrigin;
}

/** Runs.start with `once`: that workflow id was started before (the event was already handled). */
export class AlreadyStarted extends Error {
  readonly workflowId: string;
  constructor(workflowId: string) {
    super(`run ${workflowId} was already started for this event`);
    this.workflowId = workflowId;
  }
}

export interface RunListFilter {
  runbook?: string;
  status?: RunStatus[];
  /** Tenants to include; undefined = every tenant. */
  tenants?: string[];
  requester?: string;
  startedAfter?: string;
  startedBefore?: string;
  /** Closed at or after (the notifier's watch). */
  closedAfter?: string;
  /** A further condition (the approvals inbox: who may decide). */
  extra?: Clause;
}

export interface RunListItem {
  id: string;
  runId: string;
  status: RunViewStatus;
  temporalStatus: string;
  runbook?: string;
  runbookName?: string;
  version?: number;
  tenant?: string;
  startedBy?: string;
  pendingApprovers: string[];
  /** Steps finished of all steps, from the TenantflowProgress search attribute. */
  progress?: { done: number; total: number };
  startedAt?: string;
  endedAt?: string;
  /** The loop run an item run belongs to. */
  parentId?: string;
}


/**
 * Our status from the search attribute (the interpreter's own word), corrected by Temporal's when
 * the run closed without the interpreter saying how: a terminated run was stopped by hand
 * (cancelled), a workflow timeout timed it out.
 */
export function runStatusOf(sa: string | undefined, temporalStatus: string): RunViewStatus {
  if (temporalStatus === 'RUNNING') return sa === 'waiting-approval' || sa === 'paused' ? sa : 'running';
  if (temporalStatus === 'COMPLETED') return isOutcome(sa) && sa !== 'failed' && sa !== 'cancelled' ? sa : 'succeeded';
  if (temporalStatus === 'FAILED') return sa === 'timed-out' ? 'timed-out' : 'failed';
  if (temporalStatus === 'CANCELLED' || temporalStatus === 'TERMINATED') return 'cancelled';
  if (temporalStatus === 'TIMED_OUT') return 'timed-out';
  return 'failed';
}

/** A new run's workflow id. */
export const newRunId = () => `run-${randomUUID()}`;

/**
 * Temporal refuses a workflow input over its blob limit (2 MB by default) with a 500-like
 * INVALID_ARGUMENT after the start was attempted; refuse it first, naming the biggest input.
 */
export const MAX_RUN_PAYLOAD = 1_000_000;
function assertPayloadFits(parts: { definition: unknown; inputs: Record<string, unknown>; carry?: unknown }): void {
  const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? null));
  if (size(parts) <= MAX_RUN_PAYLOAD) return;
  const fields = Object.entries(parts.inputs ?? {}).map(([k, v]) => [k, size(v)] as const).sort((a, b) => b[1] - a[1]);
  const field = size(parts.inputs) > MAX_RUN_PAYLOAD / 2 && fields[0] ? `inputs.${fields[0][0]}` : size(parts.definition) > MAX_RUN_PAYLOAD / 2 ? 'definition' : 'inputs';
  throw new HttpError(413, `the run is too large for Temporal (over ${MAX_RUN_PAYLOAD / 1_000_000} MB of definition and inputs); ${field} is the largest part: pass a reference (a file in SharePoint, a group) instead`, {
    problems: [{ field, message: `too large: the definition and inputs of one run may hold at most ${MAX_RUN_PAYLOAD} bytes` }],
  });
}

/** A run's memo: its runbook's name, where it came from, who started it through the API. */
export function memoOf({ definition, origin, audit }: Pick<RunStarter, 'definition' | 'origin' | 'audit'>): Record<string, unknown> {
  return { runbookName: definition.name, ...(origin ? { origin } : {}), ...(audit ? { startAudit: audit } : {}) };
}

/**
 * The patch ids a history's markers recorded, in order. A `patched()` call's marker is written by
 * the SDK's core as plain JSON, never through the client's data converter or codecs, so it is
 * read as JSON here (unlike the payloads above).
 */
export function patchMarkers(events: readonly temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) return [];
    try {
      const id = (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: unknown }).id;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  });
}

export class Runs {
  readonly client: Client;
  readonly taskQueue: string;
  readonly webUiUrl?: string;
  constructor(client: Client, taskQueue: string, webUiUrl?: string) {
    this.client = client;
    this.taskQueue = taskQueue;
    this.webUiUrl = webUiUrl;
  }

  /** Start options shared by a run and a schedule's action. */
  startOptions({ definition, inputs, run, carry, origin, audit }: RunStarter) {
    assertPayloadFits({ definition, inputs, carry });
    return {
      taskQueue: this.taskQueue,
      args: [{ definition, inputs, run, ...(carry ? { carry } : {}) }] as [unknown],
      typedSearchAttributes: [
        ...visibilityAtStart(definition.nodes.length),
        { key: SA.runbook, value: run.runbookId },
        { key: SA.version, value: run.version },
        { key: SA.tenant, value: run.tenant },
        { key: SA.requester, value: run.startedBy },
      ],
      memo: memoOf({ definition, origin, audit }),
    };
  }

  /**
   * Starts a run. With a fixed `workflowId` (derived from an Idempotency-Key, or a trigger's event)
   * Temporal refuses a second start of that id, open or closed: by default the run of that id is
   * the answer (a repeated request gets the first run); with `once` the repeat is an AlreadyStarted.
   */
  async start(starter: RunStarter, workflowId?: string, opts: { once?: boolean } = {}): Promise<string> {
    return (await this.launch(starter, workflowId, opts)).id;
  }

  /** As start, and the run id of the execution when this call started it (none when the run of that id already was). */
  async launch(starter: RunStarter, workflowId?: string, opts: { once?: boolean } = {}): Promise<{ id: string; runId?: string }> {
    const id = workflowId ?? newRunId();
    try {
      const handle = await this.client.workflow.start(WORKFLOW_TYPE, { ...this.startOptions(starter), workflowId: id, ...(workflowId ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' } : {}) } as never);
      return { id, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (!(workflowId && err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (opts.once) throw new AlreadyStarted(id);
    }
    return { id };
  }

  webUiLink(workflowId: string, runId?: string): string | undefined {
    if (!this.webUiUrl) return undefined;
    const ns = encodeURIComponent(this.client.options.namespace);
    return `${this.webUiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;
  }

  /**
   * The run's node states (unless `state: false`: its description only), or undefined when no such
   * run exists. `whileRunning`: query only a run still running (a closed run's query makes a
   * worker replay its whole history; its result says the same).
   */
  async get(workflowId: string, read: { state: boolean; withinMs?: number; whileRunning?: boolean } = { state: true }): Promise<{ state?: RunState; description: WorkflowExecutionDescription } | undefined> {
    const handle = this.client.workflow.getHandle(workflowId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    if (description.taskQueue !== this.taskQueue) return undefined;
    let state: RunState | undefined;
    if (!read.state || (read.whileRunning && description.status.name !== 'RUNNING')) return { description };
    try {
      // A caller that must not wait (a background pass) bounds the query: one sent while the run's
      // last task completes can be held by the server until its own timeout.
      state = read.withinMs === undefined ? await handle.query(runStateQuery) : await this.client.withDeadline(Date.now() + read.withinMs, () => handle.query(runStateQuery));
    } catch {
      // No worker has picked the run up yet (or it did not answer in time): no state to read so far.
    }
    return { state, description };
  }

  /** The workflow input a run was started with (definition, inputs, run context). */
  async input(workflowId: string): Promise<{ definition: RunbookDefinition; inputs: Record<string, unknown>; run: RunContext } | undefined> {
    const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    if (!payloads?.length) return undefined;
    // Decoded as the worker decodes it: the client's payload codecs, then its payload converter.
    const context = { type: 'workflow', namespace: this.client.options.namespace, workflowId } as const;
    return decodeFromPayloadsAtIndex(this.client.options.loadedDataConverter, 0, payloads, context);
  }

  /**
   * Whether the run took the new branch of patch `patch`: its history carries the patch's marker,
   * or the marker of a baseline that includes it (workflows/patches.ts).
   */
  async hasPatch(workflowId: string, patch: string): Promise<boolean> {
    const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
    return recordedPatch(patchMarkers(history.events ?? []), patch);
  }

  async list(filter: RunListFilter, page: { size: number; token?: string }): Promise<{ runs: RunListItem[]; nextPageToken?: string }> {
    const iso = (t: string) => new Date(t).toISOString();
    const query = and(
      eq('WorkflowType', WORKFLOW_TYPE),
      eq('TaskQueue', this.taskQueue),
      !!filter.runbook && eq(SA.runbook.name, filter.runbook),
      !!filter.status?.length && oneOf(SA.status.name, filter.status),
      filter.tenants && oneOf(SA.tenant.name, filter.tenants),
      !!filter.requester && eq(SA.requester.name, filter.requester.toLowerCase()),
      !!filter.startedAfter && compare('StartTime', '>=', iso(filter.startedAfter)),
      !!filter.startedBefore && compare('StartTime', '<', iso(filter.startedBefore)),
      !!filter.closedAfter && compare('CloseTime', '>=', iso(filter.closedAfter)),
      filter.extra,
    );
    const res = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      // Visibility returns newest first; the dev server's SQLite store refuses an ORDER BY clause.
      query,
      pageSize: page.size,
      nextPageToken: page.token ? this.openPageToken(page.token) : undefined,
    });
    const runs = await Promise.all(
      (res.executions ?? []).map(async (e): Promise<RunListItem> => {
        const info = await executionInfoFromRaw(e as RawWorkflowExecutionInfo, this.client.options.loadedDataConverter, undefined, this.client.options.namespace);
        const sa = info.typedSearchAttributes;
        const runbookName = info.memo?.runbookName;
        return {
          id: info.workflowId,
          runId: info.runId,
          status: runStatusOf(sa.get(SA.status), info.status.name),
          temporalStatus: info.status.name,
          runbook: sa.get(SA.runbook),
          runbookName: typeof runbookName === 'string' ? runbookName : undefined,
          version: sa.get(SA.version),
          tenant: sa.get(SA.tenant),
          startedBy: sa.get(SA.requester),
          pendingApprovers: sa.get(SA.pendingApprovers) ?? [],
          progress: progressOf(sa.get(SA.progress)),
          startedAt: info.startTime.toISOString(),
          endedAt: info.closeTime?.toISOString(),
          ...(info.parentExecution?.workflowId ? { parentId: info.parentExecution.workflowId } : {}),
        };
      }),
    );
    const token = res.nextPageToken?.length ? this.signPageToken(Buffer.from(res.nextPageToken)) : undefined;
    return { runs, nextPageToken: token };
  }

  /**
   * Page tokens are Temporal's, signed with a key of this process: a token the server did not hand
   * out is refused (400 naming pageToken) before it reaches Temporal, which answers a forged one
   * with UNKNOWN after its retries. A token from before a server restart asks for the first page again.
   */
  private readonly pageKey = randomBytes(32);
  private signPageToken(raw: Buffer): string {
    return `${raw.toString('base64url')}.${createHmac('sha256', this.pageKey).update(raw).digest('base64url').slice(0, 22)}`;
  }
  private openPageToken(token: string): Buffer {
    const [data, mac] = token.split('.');
    const raw = Buffer.from(data ?? '', 'base64url');
    const want = createHmac('sha256', this.pageKey).update(raw).digest('base64url').slice(0, 22);
    if (!mac || mac.length !== want.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(want)))
      throw new HttpError(400, 'invalid pageToken: use the nextPageToken of an earlier answer (tokens end when the server restarts; start from the first page)', { problems: [{ field: 'pageToken', message: 'not a page token this server handed out' }] });
    return raw;
  }

  async signalApproval(workflowId: string, decision: ApprovalSignal): Promise<void> {
    await this.client.workflow.getHandle(workflowId).signal(approvalSignal, decision);
  }

  /**
   * Decides an approval step through the workflow's approval Update: the decision as the workflow
   * recorded it, or the workflow validator's refusal (its kind and reason).
   */
  /**
   * Sends the decision straight to the run as its approval Update (nothing is read first). A run
   * that is gone (never existed, ended, or is not a runbook run) answers `gone`: the caller then
   * reads it to tell "does not exist" from "has ended".
   */
  async decideApproval(workflowId: string, decision: ApprovalUpdate): Promise<{ recorded: ApprovalAnswer } | { refusal: Refusal; reason: string; tenant?: string } | { gone: string }> {
    try {
      return { recorded: await executeApprovalUpdate(this.client.workflow.getHandle(workflowId), decision) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { gone: err.message };
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type && Object.hasOwn(REFUSAL_REASON, cause.type))
        return { refusal: cause.type as Refusal, reason: cause.message, tenant: (cause.details?.[0] as { tenant?: string } | undefined)?.tenant };
      // A workflow without the approval Update (a batch, a loop): no run takes decisions here.
      if (cause instanceof ApplicationFailure || (err instanceof Error && /update handler|not.?found/i.test(err.message))) return { gone: err instanceof Error ? err.message : String(err) };
      throw err;
    }
  }

  async signalResume(workflowId: string, resume: ResumeSignal): Promise<void> {
    await this.client.workflow.getHandle(workflowId).signal(resumeSignal, resume);
  }

  async cancel(workflowId: string): Promise<void> {
    await this.client.workflow.getHandle(workflowId).cancel();
  }

  // ---- schedules ----

  async createSchedule(opts: {
    scheduleId: string;
    starter: RunStarter;
    spec: { cron?: string[]; every?: string[]; at?: string; timezone?: string; startAt?: string; endAt?: string };
    overlap: ScheduleOverlapPolicy;
    paused?: boolean;
    note?: string;
  }): Promise<void> {
    const { spec } = opts;
    const at = spec.at ? new Date(spec.at) : undefined;
    await this.client.schedule.create({
      scheduleId: opts.scheduleId,
      spec: at
        ? {
            // A one-off run: one calendar time (UTC), one action.
            calendars: [
              {
                year: at.getUTCFullYear(),
                month: (['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const)[at.getUTCMonth()]!,
                dayOfMonth: at.getUTCDate(),
                hour: at.getUTCHours(),
                minute: at.getUTCMinutes(),
                second: at.getUTCSeconds(),
              },
            ],
          }
        : {
            cronExpressions: spec.cron,
            intervals: spec.every?.map((e) => ({ every: e as never })),
            timezone: spec.timezone,
            startAt: spec.startAt ? new Date(spec.startAt) : undefined,
            endAt: spec.endAt ? new Date(spec.endAt) : undefined,
          },
      action: {
        type: 'startWorkflow',
        workflowType: WORKFLOW_TYPE,
        workflowId: `run-${opts.scheduleId}`,
        ...this.startOptions(opts.starter),
      } as never,
      policies: { overlap: opts.overlap, catchupWindow: '1 minute' },
      state: { paused: opts.paused ?? false, note: opts.note, remainingActions: at ? 1 : undefined },
    });
  }

  async describeSchedule(id: string): Promise<ScheduleDescription | undefined> {
    try {
      return await this.client.schedule.getHandle(id).describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }

  schedule(id: string) {
    return this.client.schedule.getHandle(id);
  }
}

/** Registers the project's search attributes (needed on clusters other than the dev server). */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const namespace = client.options.namespace;
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const typeIds: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !have.has(name));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, typeIds[type]!])),
  });
}

/** "3/7" (the TenantflowProgress search attribute) as { done, total }. */
function progressOf(v: unknown): { done: number; total: number } | undefined {
  const m = typeof v === 'string' ? /^(\d+)\/(\d+)$/.exec(v) : null;
  return m ? { done: Number(m[1]), total: Number(m[2]) } : undefined;
}

/**
 * A workflow task that fails on the server while it carries an Update aborts that Update before
 * the workflow has seen it: FAILED_PRECONDITION, "...due to unexpected workflow task failure"
 * (seen here now and then on Temporal 1.29 when an approval Update arrived while the step's
 * request notice was in flight). Temporal documents it as not admitted, so the same Update (same
 * id) is sent again.
 */
function updateNotAdmitted(err: unknown): boolean {
  const cause = err instanceof ServiceError ? (err.cause as { code?: number; details?: string } | undefined) : undefined;
  return cause?.code === 9 && /unexpected workflow task failure/i.test(cause.details ?? '');
}

/** Sends an approval decision as the run's Update, again when Temporal aborted it unadmitted (at most 5 tries). */
export async function executeApprovalUpdate(handle: WorkflowHandle, decision: ApprovalUpdate): Promise<ApprovalAnswer> {
  const updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(approvalUpdate, { args: [decision], updateId });
    } catch (err) {
      if (attempt >= 5 || !updateNotAdmitted(err)) throw err;
      console.warn(`approval Update to ${handle.workflowId} aborted by Temporal before the run saw it (attempt ${attempt}); sending it again`);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
