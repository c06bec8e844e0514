// Where runbooks and runs come from. The control plane (server) is the source of truth; while a
// route is missing there, the browser keeps drafts, published versions and the runs it started in
// local storage so designing, publishing and running still work end to end. Every fallback is
// used only when the server answers "no such endpoint" (isMissing), never to hide a real error.
import type { RunbookDefinition } from '../../runbook/definition.ts';
import type { RunPlan } from '../../runbook/plan.ts';
import { api, isMissing, listOf, type ApprovalTask, type RunbookSummary, type RunDetail, type RunSummary, type StartRun, type VersionInfo } from './api.ts';
import { slugify } from '../../runbook/runbook-id.ts';

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

interface LocalRunbook {
  id: string;
  draft: RunbookDefinition;
  versions: VersionInfo[];
  updatedAt: string;
}

export interface LocalRun {
  id: string;
  runbookId: string;
  runbookName: string;
  version: number;
  definition: RunbookDefinition;
  inputs: Record<string, unknown>;
  startedAt: string;
  startedBy?: string;
  test?: boolean;
}

const RUNBOOKS = 'tenantflow.runbooks';
const RUNS = 'tenantflow.runs';

function memoryStore(): KeyValueStore {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
}

export { slugify };

/** Local drafts, versions and run records (pure apart from the store it is given). */
export function localRepo(store: KeyValueStore = memoryStore()) {
  const read = <T>(key: string, fallback: T): T => {
    try {
      const v = store.getItem(key);
      return v ? (JSON.parse(v) as T) : fallback;
    } catch {
      return fallback;
    }
  };
  const runbooks = () => read<Record<string, LocalRunbook>>(RUNBOOKS, {});
  const writeRunbooks = (all: Record<string, LocalRunbook>) => store.setItem(RUNBOOKS, JSON.stringify(all));
  return {
    list(): LocalRunbook[] {
      return Object.values(runbooks()).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    },
    get(id: string): LocalRunbook | undefined {
      return runbooks()[id];
    },
    create(definition: RunbookDefinition, taken: string[] = []): string {
      const all = runbooks();
      const base = slugify(definition.name);
      let id = base;
      for (let i = 2; all[id] || taken.includes(id); i++) id = `${base}-${i}`;
      all[id] = { id, draft: definition, versions: [], updatedAt: new Date().toISOString() };
      writeRunbooks(all);
      return id;
    },
    saveDraft(id: string, definition: RunbookDefinition): void {
      const all = runbooks();
      const rb = all[id] ?? { id, draft: definition, versions: [], updatedAt: '' };
      all[id] = { ...rb, draft: definition, updatedAt: new Date().toISOString() };
      writeRunbooks(all);
    },
    publish(id: string, definition: RunbookDefinition, by?: string): number {
      const all = runbooks();
      const rb = all[id] ?? { id, draft: definition, versions: [], updatedAt: '' };
      const version = (rb.versions.at(-1)?.version ?? 0) + 1;
      rb.versions.push({ version, definition, publishedAt: new Date().toISOString(), publishedBy: by });
      all[id] = { ...rb, draft: definition, updatedAt: new Date().toISOString() };
      writeRunbooks(all);
      return version;
    },
    runs(): LocalRun[] {
      return read<LocalRun[]>(RUNS, []);
    },
    run(id: string): LocalRun | undefined {
      return read<LocalRun[]>(RUNS, []).find((r) => r.id === id);
    },
    recordRun(run: LocalRun): void {
      // Newest first, bounded: this is a convenience list, not the record (Temporal is).
      store.setItem(RUNS, JSON.stringify([run, ...read<LocalRun[]>(RUNS, []).filter((r) => r.id !== run.id)].slice(0, 200)));
    },
  };
}

export type LocalRepo = ReturnType<typeof localRepo>;

function browserStore(): KeyValueStore {
  try {
    return globalThis.localStorage ?? memoryStore();
  } catch {
    return memoryStore();
  }
}

export const local = localRepo(browserStore());

export interface EditableRunbook {
  id: string;
  /** Where it lives: the server's control plane, a server file (read-only example), or this browser. */
  source: 'server' | 'example' | 'local';
  definition: RunbookDefinition;
  versions: VersionInfo[];
  /** Archived on the server: read-only until restored. */
  archived?: boolean;
}

export type ListedRunbook = RunbookSummary & { source: EditableRunbook['source'] };

/** The rows of the runbooks page: matching the search, archived ones only when asked for. */
export function filterRunbooks<T extends Pick<RunbookSummary, 'id' | 'name' | 'description' | 'archived'>>(rows: T[], search: string, showArchived: boolean): T[] {
  const s = search.trim().toLowerCase();
  return rows.filter(
    (r) => (showArchived || !r.archived) && (!s || r.name.toLowerCase().includes(s) || r.id.includes(s) || (r.description ?? '').toLowerCase().includes(s)),
  );
}

/** Runbooks from the server and this browser, merged (the server wins on the same id). */
export async function listRunbooks(opts: { archived?: boolean } = {}): Promise<ListedRunbook[]> {
  const server = await api.runbooks(opts.archived ? 'all' : undefined);
  const ids = new Set(server.map((r) => r.id));
  const fromServer = server.map((r) => ({ ...r, source: (r.createdAt !== undefined || r.hasUnpublishedChanges !== undefined ? 'server' : 'example') as EditableRunbook['source'], updatedAt: r.updatedAt ?? r.draftUpdatedAt }));
  const fromBrowser = local
    .list()
    .filter((r) => !ids.has(r.id))
    .map((r) => ({
      id: r.id,
      name: r.draft.name,
      description: r.draft.description,
      latestVersion: r.versions.at(-1)?.version,
      hasDraft: true,
      updatedAt: r.updatedAt,
      source: 'local' as const,
    }));
  return [...fromServer, ...fromBrowser];
}

export async function loadRunbook(id: string): Promise<EditableRunbook> {
  const mine = local.get(id);
  try {
    const rb = await api.runbook(id);
    let versions: VersionInfo[] = [];
    try {
      versions = await api.versions(id);
    } catch (err) {
      if (!isMissing(err)) throw err;
      versions = rb.version ? [{ version: rb.version, definition: rb.definition }] : [];
    }
    // An example file on a server without drafts: edits are kept in this browser under the same id.
    const source: EditableRunbook['source'] = rb.draft !== undefined || versions.some((v) => v.publishedAt) ? 'server' : 'example';
    // The version list may leave definitions out; the runbook itself carries the latest one.
    const latest = rb.version ?? Math.max(0, ...versions.map((v) => v.version));
    versions = versions.map((v) => (v.definition || v.version !== latest || !rb.definition ? v : { ...v, definition: rb.definition }));
    const draft = source === 'example' && mine ? mine.draft : (rb.draft ?? rb.definition);
    return { id, source, definition: draft, versions: source === 'example' && mine ? [...versions, ...mine.versions] : versions, archived: rb.archived };
  } catch (err) {
    if (mine && err instanceof Error && 'status' in err && (err as { status: number }).status === 404)
      return { id, source: 'local', definition: mine.draft, versions: mine.versions };
    throw err;
  }
}

export async function createRunbook(definition: RunbookDefinition): Promise<{ id: string; source: EditableRunbook['source'] }> {
  try {
    const { id } = await api.createRunbook(definition);
    return { id, source: 'server' };
  } catch (err) {
    if (!isMissing(err)) throw err;
    const taken = (await api.runbooks().catch(() => [])).map((r) => r.id);
    return { id: local.create(definition, taken), source: 'local' };
  }
}

/** A copy of a runbook (its draft) under a new id: the server's clone, or a copy made here. */
export async function cloneRunbook(rb: { id: string; source: EditableRunbook['source'] }, name?: string): Promise<{ id: string; source: EditableRunbook['source'] }> {
  if (rb.source === 'server') {
    try {
      return { id: (await api.cloneRunbook(rb.id, name ? { name } : {})).id, source: 'server' };
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  const { definition } = await loadRunbook(rb.id);
  return createRunbook({ ...definition, name: name ?? `${definition.name} (copy)` });
}

export async function saveDraft(rb: { id: string; source: EditableRunbook['source'] }, definition: RunbookDefinition): Promise<void> {
  if (rb.source === 'server') {
    await api.saveDraft(rb.id, definition);
    return;
  }
  local.saveDraft(rb.id, definition);
}

export async function publishRunbook(rb: { id: string; source: EditableRunbook['source'] }, definition: RunbookDefinition, by?: string): Promise<number> {
  if (rb.source === 'server') {
    await api.saveDraft(rb.id, definition);
    return (await api.publish(rb.id)).version;
  }
  return local.publish(rb.id, definition, by);
}

/** The definition a run of this runbook uses: its latest published version. */
export function latestPublished(rb: EditableRunbook): VersionInfo | undefined {
  return [...rb.versions].sort((a, b) => b.version - a.version)[0];
}

/** Starts a run of a published runbook: by id on the server, inline for a browser-kept one. */
/** What starting (or planning) a run of this runbook sends: the published runbook by id, or its definition inline. */
function runRequest(rb: EditableRunbook, inputs: Record<string, unknown>, opts: { test?: boolean; tenant?: string }) {
  const published = latestPublished(rb);
  if (!published?.definition && rb.source !== 'example') throw new Error('publish the runbook before running it');
  const inline = rb.source === 'local' || (rb.source === 'example' && published?.publishedAt !== undefined && local.get(rb.id) !== undefined);
  const definition = published?.definition ?? rb.definition;
  const body: StartRun = inline ? { definition, inputs, test: opts.test, tenant: opts.tenant } : { runbookId: rb.id, inputs, test: opts.test, tenant: opts.tenant };
  return { body, published, definition };
}

/** The plan of a run with these inputs (docs/plan.md): what it would change, before it starts. */
export async function planRun(rb: EditableRunbook, inputs: Record<string, unknown>, opts: { test?: boolean; tenant?: string } = {}): Promise<RunPlan> {
  return api.planRun(runRequest(rb, inputs, opts).body);
}

export async function startRun(
  rb: EditableRunbook,
  inputs: Record<string, unknown>,
  opts: { test?: boolean; tenant?: string; by?: string } = {},
): Promise<string> {
  const { body, published, definition } = runRequest(rb, inputs, opts);
  const { id } = await api.startRun(body);
  local.recordRun({
    id,
    runbookId: rb.id,
    runbookName: definition.name,
    version: published?.version ?? 0,
    definition,
    inputs,
    startedAt: new Date().toISOString(),
    startedBy: opts.by,
    test: opts.test,
  });
  return id;
}

const definitions = new Map<string, RunbookDefinition>();

/** Enough of a definition to draw a run's graph (the run detail's graph has no parameters). */
export function definitionOfGraph(name: string, graph: NonNullable<RunDetail['graph']>): RunbookDefinition {
  const nodes = graph.nodes.map((n) => {
    switch (n.kind) {
      case 'action':
        return { id: n.id, kind: 'action' as const, label: n.label, action: n.action ?? '', params: {}, onError: 'fail' as const, position: n.position };
      case 'approval':
        return { id: n.id, kind: 'approval' as const, label: n.label, approvers: { users: [], roles: [], groups: [] }, quorum: 'any' as const, onTimeout: 'reject' as const, position: n.position };
      case 'end':
        return { id: n.id, kind: 'end' as const, label: n.label, status: 'succeeded' as const, position: n.position };
      case 'delay':
        return { id: n.id, kind: 'delay' as const, label: n.label, position: n.position };
      default:
        return { id: n.id, kind: 'condition' as const, label: n.label, position: n.position };
    }
  });
  return { schemaVersion: 1, name, inputs: [], nodes, edges: graph.edges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? 'out' })), settings: { allowSelfApproval: false } };
}

/** A run with the definition it ran (from the server when it says, else from the local record). */
export async function loadRun(id: string): Promise<RunDetail & { definition?: RunbookDefinition }> {
  const run = await api.run(id);
  if (run.definition) return run;
  const mine = local.run(id);
  if (mine) return { ...run, definition: mine.definition, inputs: run.inputs ?? mine.inputs };
  const known = definitions.get(id);
  if (known) return { ...run, definition: known };
  if (run.runbook && run.runbook !== 'inline' && run.version) {
    const v = await api.version(run.runbook, run.version).catch(() => undefined);
    if (v?.definition) {
      definitions.set(id, v.definition);
      return { ...run, definition: v.definition };
    }
  }
  if (run.graph) return { ...run, definition: definitionOfGraph(run.runbookName ?? run.runbook ?? 'Run', run.graph) };
  return run;
}

/** The task board's rows: the server's run list, or the runs this browser started. */
export async function listRuns(filter: Parameters<typeof api.runs>[0] = {}): Promise<{ runs: RunSummary[]; fromServer: boolean }> {
  try {
    return { runs: listOf<RunSummary>(await api.runs(filter), 'runs'), fromServer: true };
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const mine = local.runs().slice(0, 50);
  const runs = await Promise.all(
    mine.map(async (r): Promise<RunSummary | undefined> => {
      try {
        const d = await api.run(r.id);
        const states = Object.values(d.nodes);
        return {
          id: r.id,
          status: d.status,
          runbook: r.runbookId,
          runbookName: r.runbookName,
          version: r.version,
          tenant: d.tenant,
          startedBy: d.startedBy,
          startedAt: d.startedAt,
          endedAt: d.endedAt,
          progress: { done: states.filter((s) => ['succeeded', 'skipped', 'failed', 'cancelled'].includes(s.status)).length, total: r.definition.nodes.length },
        };
      } catch {
        return undefined;
      }
    }),
  );
  return { runs: runs.filter((r): r is RunSummary => r !== undefined), fromServer: false };
}

/** Steps waiting for a decision: the server's inbox, or the waiting steps of runs this browser knows. */
export async function listApprovals(me?: string): Promise<{ tasks: ApprovalTask[]; fromServer: boolean }> {
  try {
    return { tasks: listOf<ApprovalTask>(await api.approvals(), 'approvals'), fromServer: true };
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const tasks: ApprovalTask[] = [];
  await Promise.all(
    local
      .runs()
      .slice(0, 50)
      .map(async (r) => {
        const d = await api.run(r.id).catch(() => undefined);
        if (!d) return;
        for (const n of Object.values(d.nodes)) {
          if (n.status !== 'waiting-approval') continue;
          if (me && n.approval?.decisions.some((x) => x.by === me)) continue;
          tasks.push({
            runId: r.id,
            nodeId: n.id,
            runbook: r.runbookId,
            runbookName: r.runbookName,
            startedBy: d.startedBy,
            message: n.approval?.message,
            deadline: n.approval?.deadline,
            requestedAt: n.startedAt,
            inputs: r.inputs,
          });
        }
      }),
  );
  return { tasks: tasks.sort((a, b) => (a.requestedAt ?? '').localeCompare(b.requestedAt ?? '')), fromServer: false };
}
