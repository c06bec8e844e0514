// CSV bulk runs as batches (docs/runs.md "Bulk runs"). The upload is checked and its rows are
// stored here, in the control plane's database, before anything starts (a crash never leaves runs
// nobody tracks); one batch workflow (workflows/batch.ts) then asks this process's activities to
// work through the rows a slice at a time. Each row's run has a fixed workflow id (batch, line,
// attempt) and Temporal refuses a second start of it, so a slice run again after a crash starts
// nothing twice. Each row's outcome (succeeded, succeeded with warnings, failed, skipped, with the
// error and the run id) is written back here, where the batch view pages and filters it.
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { RowProblem } from '../runbook/csv.ts';
import type { RunbookDefinition, RunContext, RunStatus } from '../runbook/definition.ts';
import { redactInputs } from '../runbook/secrets.ts';
import { randomUUID } from 'node:crypto';
import type { RunbookDefinition as Definition } from '../runbook/definition.ts';
import { BATCH_WORKFLOW_TYPE, STORED_LIST_MIN, type BatchWorkflowInput, type StoredListRef } from '../workflows/batch.ts';
import type { Db } from './db.ts';
import type { Principal } from './people.ts';
import type { Queryable } from './sql.ts';

export const ROW_STATUSES = ['pending', 'running', 'succeeded', 'succeeded-with-warnings', 'failed', 'skipped'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];
/** Row runs of one batch at a time, unless the request says otherwise. */
export const DEFAULT_CONCURRENCY = 20;

export interface BatchRecord {
  id: string;
  tenant: string;
  runbook: string;
  version: number;
  test: boolean;
  startedBy: string;
  principal: Pick<Principal, 'user' | 'grants'>;
  definition: RunbookDefinition;
  /** The run context every row's run gets. */
  run: RunContext;
  concurrency: number;
  status: RunStatus;
  total: number;
  round: number;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
}

export interface BatchRow {
  line: number;
  status: RowStatus;
  inputs: unknown;
  problems?: RowProblem[];
  error?: string;
  runId?: string;
  attempt: number;
}

/** The control plane's task queue for the batch activities (next to the runs' queue). */
export const controlQueueOf = (taskQueue: string) => `${taskQueue}-control`;
/** The batch workflow of a round: round 1 is the upload, each "retry failed rows" the next. */
export const batchWorkflowId = (batch: string, round: number) => `${batch}.round-${round}`;
/** A row's run: fixed per batch, line and attempt, so it is never started twice. */
export const rowRunId = (batch: string, line: number, attempt: number) => `${batch}.line-${line}.attempt-${attempt}`;

const iso = (t: unknown) => (t ? new Date(t as string).toISOString() : undefined);

function batchOf(r: Record<string, any>): BatchRecord {
  return {
    id: r.id,
    tenant: r.tenant,
    runbook: r.runbook,
    version: r.version,
    test: r.test,
    startedBy: r.started_by,
    principal: r.principal,
    definition: r.definition,
    run: r.run,
    concurrency: r.concurrency,
    status: r.status,
    total: r.rows_total,
    round: r.round,
    workflowId: r.workflow_id,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    endedAt: iso(r.ended_at),
  };
}

/** How a batch ended, from its rows: partially failed when some rows failed or were skipped and some succeeded. */
export function batchStatusOf(counts: Partial<Record<RowStatus, number>>): RunStatus {
  const n = (k: RowStatus) => counts[k] ?? 0;
  if (n('pending') + n('running') > 0) return 'running';
  const good = n('succeeded') + n('succeeded-with-warnings');
  const bad = n('failed');
  if (bad > 0) return good > 0 ? 'partially-failed' : 'failed';
  if (good === 0) return 'failed';
  return n('succeeded-with-warnings') > 0 || n('skipped') > 0 ? 'succeeded-with-warnings' : 'succeeded';
}

export class Batches {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Stores the batch and all its rows in one transaction (nothing has started yet). Returns false
   * when a batch of this id exists already (a repeat of the same Idempotency-Key after a crash).
   */
  async create(
    b: Omit<BatchRecord, 'status' | 'round' | 'createdAt' | 'updatedAt' | 'endedAt' | 'total' | 'workflowId'>,
    rows: { line: number; inputs: Record<string, unknown>; problems?: RowProblem[] }[],
  ): Promise<boolean> {
    return this.db.tx(async (q) => {
      const made = await q.query(
        `insert into batches (id, tenant, runbook, version, test, started_by, principal, definition, run, concurrency, status, rows_total, workflow_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running', $11, $12) on conflict (id) do nothing returning id`,
        [b.id, b.tenant, b.runbook, b.version, b.test, b.startedBy, JSON.stringify(b.principal), JSON.stringify(b.definition), JSON.stringify(b.run), b.concurrency, rows.length, batchWorkflowId(b.id, 1)],
      );
      if (!made.length) return false;
      await insertRows(q, b.id, rows);
      return true;
    });
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    const r = await this.db.one('select * from batches where id = $1', [id]);
    return r && batchOf(r);
  }

  /** Batches whose workflow may not have started (the server stopped between storing and starting). */
  async open(): Promise<BatchRecord[]> {
    return (await this.db.query(`select * from batches where status = 'running' order by created_at`)).map(batchOf);
  }

  async counts(id: string): Promise<Record<RowStatus, number>> {
    const counts = Object.fromEntries(ROW_STATUSES.map((s) => [s, 0])) as Record<RowStatus, number>;
    for (const r of await this.db.query('select status, count(*)::int as n from batch_rows where batch_id = $1 group by status', [id])) counts[r.status as RowStatus] = Number(r.n);
    return counts;
  }

  /** A page of rows in line order after `after`, optionally of some statuses. */
  async rows(id: string, opts: { status?: RowStatus[]; after?: number; size: number }): Promise<{ rows: BatchRow[]; next?: number }> {
    const args: unknown[] = [id, opts.after ?? 0, opts.size + 1];
    let where = 'batch_id = $1 and line > $2';
    if (opts.status?.length) {
      args.push(opts.status);
      where += ` and status = any($4::text[])`;
    }
    const got = await this.db.query(`select line, status, inputs, problems, error, run_id, attempt from batch_rows where ${where} order by line limit $3`, args);
    const more = got.length > opts.size;
    const rows = got.slice(0, opts.size).map(
      (r): BatchRow => ({
        line: r.line,
        status: r.status,
        inputs: r.inputs,
        ...(r.problems ? { problems: r.problems } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.run_id ? { runId: r.run_id } : {}),
        attempt: r.attempt,
      }),
    );
    return { rows, next: more ? rows.at(-1)!.line : undefined };
  }

  /** Rows still to do after `after`: pending, or running when a crash interrupted the slice. */
  async todo(id: string, after: number, limit: number): Promise<{ line: number; inputs: Record<string, unknown>; status: RowStatus; attempt: number }[]> {
    return (await this.db.query(
      `select line, inputs, status, attempt from batch_rows where batch_id = $1 and line > $2 and status in ('pending', 'running') order by line limit $3`,
      [id, after, limit],
    )) as never;
  }

  async setRow(id: string, line: number, set: { status: RowStatus; runId?: string; error?: string; problems?: RowProblem[] }): Promise<void> {
    await this.db.query(
      `update batch_rows set status = $3, run_id = coalesce($4, run_id), error = $5, problems = coalesce($6::jsonb, problems), updated_at = now() where batch_id = $1 and line = $2`,
      [id, line, set.status, set.runId ?? null, set.error ?? null, set.problems ? JSON.stringify(set.problems) : null],
    );
  }

  /** The batch's status from its rows, written down; ended when no row is left to do. */
  async settle(id: string): Promise<RunStatus> {
    const status = batchStatusOf(await this.counts(id));
    await this.db.query(`update batches set status = $2, updated_at = now(), ended_at = case when $2 = 'running' then null else now() end where id = $1`, [id, status]);
    return status;
  }

  /** Failed rows go back to pending with their next attempt, in the batch's next round; how many. */
  async retryFailed(id: string): Promise<{ round: number; rows: number }> {
    return this.db.tx(async (q) => {
      const [b] = await q.query(`update batches set round = round + 1, status = 'running', ended_at = null, updated_at = now() where id = $1 returning round`, [id]);
      const changed = await q.query(`update batch_rows set status = 'pending', attempt = attempt + 1, error = null, updated_at = now() where batch_id = $1 and status = 'failed' returning line`, [id]);
      await q.query(`update batches set workflow_id = $2 where id = $1`, [id, batchWorkflowId(id, b!.round)]);
      return { round: b!.round as number, rows: changed.length };
    });
  }
}

/** Rows in chunks of a few thousand values per statement (100,000 rows is a few dozen statements). */
async function insertRows(q: Queryable, batch: string, rows: { line: number; inputs: Record<string, unknown>; problems?: RowProblem[] }[]): Promise<void> {
  const CHUNK = 2000;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    await q.query(
      `insert into batch_rows (batch_id, line, inputs, status, problems, attempt)
       select $1, r.line, r.inputs, case when r.problems is null then 'pending' else 'skipped' end, r.problems, case when r.problems is null then 1 else 0 end
       from jsonb_to_recordset($2::jsonb) as r(line integer, inputs jsonb, problems jsonb)`,
      [batch, JSON.stringify(part.map((r) => ({ line: r.line, inputs: r.inputs, problems: r.problems?.length ? r.problems : null })))],
    );
  }
}

/** Starts the batch workflow of its current round; a repeat finds it started and does nothing. */
export async function startBatchWorkflow(client: Client, taskQueue: string, b: Pick<BatchRecord, 'id' | 'round'>): Promise<void> {
  const input: BatchWorkflowInput = { batchId: b.id, controlQueue: controlQueueOf(taskQueue), round: b.round };
  try {
    await client.workflow.start(BATCH_WORKFLOW_TYPE, { taskQueue, workflowId: batchWorkflowId(b.id, b.round), args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** A row's view for the API: secret inputs redacted. */
export function rowView(b: Pick<BatchRecord, 'definition'>, r: BatchRow): BatchRow {
  return { ...r, inputs: redactInputs(b.definition, r.inputs) };
}


/**
 * Long lists (workflows/batch.ts StoredListRef): a list input of more than STORED_LIST_MIN items
 * is stored here before its run starts and the run carries a reference; its forEach reads the
 * items a page at a time through the control plane's `readListPage` activity.
 */
export class StoredLists {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The list-typed inputs longer than STORED_LIST_MIN, stored, replaced by their references. */
  async storeLongLists(def: Pick<Definition, 'inputs'>, inputs: Record<string, unknown>, opts: { tenant: string; by: string; taskQueue: string }): Promise<Record<string, unknown>> {
    const long = def.inputs.filter((i) => i.type === 'list' && Array.isArray(inputs[i.name]) && (inputs[i.name] as unknown[]).length > STORED_LIST_MIN);
    if (!long.length) return inputs;
    const out = { ...inputs };
    for (const input of long) out[input.name] = await this.store(inputs[input.name] as unknown[], opts);
    return out;
  }

  async store(items: unknown[], opts: { tenant: string; by: string; taskQueue: string }): Promise<StoredListRef> {
    const id = `list-${randomUUID().replace(/-/g, '')}`;
    await this.db.tx(async (q) => {
      await q.query('insert into stored_lists (id, tenant, created_by, total) values ($1, $2, $3, $4)', [id, opts.tenant, opts.by, items.length]);
      const CHUNK = 5000;
      for (let i = 0; i < items.length; i += CHUNK)
        await q.query(
          `insert into stored_list_items (list_id, idx, item) select $1, (r.ordinality - 1 + $3)::int, r.value from jsonb_array_elements($2::jsonb) with ordinality as r(value, ordinality)`,
          [id, JSON.stringify(items.slice(i, i + CHUNK)), i],
        );
    });
    return { $storedList: id, count: items.length, queue: controlQueueOf(opts.taskQueue) };
  }

  async page(id: string, offset: number, limit: number): Promise<unknown[]> {
    return (await this.db.query('select item from stored_list_items where list_id = $1 and idx >= $2 order by idx limit $3', [id, offset, limit])).map((r) => r.item);
  }
}
