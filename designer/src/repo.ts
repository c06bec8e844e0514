// Runbooks and runs as the pages use them, from the control plane: a runbook with its versions
// for the editor and the run form, a run with the definition to draw it, and the lists.
import type { RunbookDefinition } from '../../runbook/definition.ts';
import type { RunPlan } from '../../runbook/plan.ts';
import { api, type ApprovalTask, type RunbookSummary, type RunDetail, type RunSummary, type VersionInfo } from './api.ts';

export interface EditableRunbook {
  id: string;
  /** The saved draft (the latest version when there is no draft). */
  definition: RunbookDefinition;
  versions: VersionInfo[];
  /** Archived: read-only until restored. */
  archived?: boolean;
}

/** The rows of the runbooks page: matching the search, archived ones only when asked for. */
export function filterRunbooks<T extends { id: string; name: string; description?: string; archived?: boolean }>(rows: T[], search: string, showArchived: boolean): T[] {
  const s = search.trim().toLowerCase();
  return rows.filter(
    (r) => (showArchived || !r.archived) && (!s || r.name.toLowerCase().includes(s) || r.id.includes(s) || (r.description ?? '').toLowerCase().includes(s)),
  );
}

/** The runbooks page's rows (archived ones too when asked for). */
export async function listRunbooks(opts: { archived?: boolean } = {}): Promise<RunbookSummary[]> {
  return api.runbooks(opts.archived ? 'all' : undefined);
}

export async function loadRunbook(id: string): Promise<EditableRunbook> {
  const [rb, listed] = await Promise.all([api.runbook(id), api.versions(id)]);
  // The version list leaves definitions out; the runbook itself carries the latest one.
  const versions: VersionInfo[] = listed.map((v) => (v.version === rb.version && rb.definition ? { ...v, definition: rb.definition } : v));
  // A draft may still have problems; the editor shows them (the validator runs on it as you type).
  return { id, definition: (rb.draft ?? rb.definition) as RunbookDefinition, versions, archived: rb.archived };
}

/** The definition a run of this runbook uses: its latest published version. */
export function latestPublished(rb: EditableRunbook): VersionInfo | undefined {
  return [...rb.versions].sort((a, b) => b.version - a.version)[0];
}

/** The plan of a run with these inputs (docs/plan.md): what it would change, before it starts. */
export async function planRun(runbookId: string, inputs: Record<string, unknown>, opts: { test?: boolean; tenant?: string } = {}): Promise<RunPlan> {
  return api.planRun({ runbookId, inputs, test: opts.test, tenant: opts.tenant });
}

/** Starts a run of the runbook's latest published version; `reason` says why (kept with the run). */
export async function startRun(runbookId: string, inputs: Record<string, unknown>, opts: { test?: boolean; tenant?: string; reason?: string } = {}): Promise<string> {
  return (await api.startRun({ runbookId, inputs, test: opts.test, tenant: opts.tenant, reason: opts.reason })).id;
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

/** A run with the definition to draw it with. */
export type RunView = RunDetail & { definition?: RunbookDefinition };

/** A run with the definition it ran: its published version, or the graph the run detail carries. */
export async function loadRun(id: string): Promise<RunView> {
  const run = await api.run(id);
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

/** The task board's rows. */
export async function listRuns(filter: Parameters<typeof api.runs>[0] = {}): Promise<RunSummary[]> {
  return (await api.runs(filter)).runs;
}

/** Steps waiting for my decision. */
export async function listApprovals(): Promise<ApprovalTask[]> {
  return api.approvals();
}
