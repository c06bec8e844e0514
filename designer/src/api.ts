// The control-plane API as the designer sees it: every route the pages call lives here, so a
// route change on the server is a one-file fix. Routes that the server does not offer yet answer
// with ApiError status 404 or 405; callers show "not available on this server yet" (see
// `isMissing`) and some fall back to what the browser can do itself (see drafts.ts).
import type { NodeState, RunbookDefinition, RunStatus } from '../../runbook/definition.ts';
import type { RunPlan } from '../../runbook/plan.ts';
import type { UndoEntry } from '../../runbook/undo.ts';
import type { Problem } from '../../runbook/validate.ts';
import type { Grant } from './access.ts';
import type { TenantInfo, TenantInput, TestConnectionResult } from '../../server/tenants.ts';
import type { DefinitionDiff } from '../../server/runbooks.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
  get problems(): { nodeId?: string; field: string; message: string }[] {
    return Array.isArray(this.body.problems) ? (this.body.problems as Problem[]) : [];
  }
}

/** The endpoint is not there (yet): the server answered 404 "no API endpoint" or 405. */
export function isMissing(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    (err.status === 405 || err.status === 501 || (err.status === 404 && String(err.body.error ?? '').startsWith('no API endpoint')))
  );
}

/** The session's CSRF token (double submit): the server sets it in the readable tf_csrf cookie. */
function csrfToken(): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const m = /(?:^|;\s*)tf_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

async function request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const csrf = method === 'GET' ? undefined : csrfToken();
  if (csrf) headers['x-csrf-token'] = csrf;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (typeof body === 'string') {
    headers['content-type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', ...init });
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text };
    }
  }
  if (!res.ok) {
    const b = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
    throw new ApiError(res.status, typeof b.error === 'string' ? b.error : `${method} ${path} answered ${res.status}`, b);
  }
  return data as T;
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const str = s.toString();
  return str ? `?${str}` : '';
};
const enc = encodeURIComponent;

// ---- types of what the server answers ----

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  title?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  [key: string]: unknown;
}

export interface ActionInfo {
  id: string;
  title: string;
  category: string;
  description: string;
  permissions: string[];
  bulk: boolean;
  undo?: string;
  input: JsonSchema;
  output: JsonSchema;
}

export interface RunbookSummary {
  hasUnpublishedChanges?: boolean;
  createdAt?: string;
  draftUpdatedAt?: string;
  id: string;
  name: string;
  description?: string;
  version?: number;
  /** Latest published version number (control plane), if any. */
  latestVersion?: number;
  hasDraft?: boolean;
  updatedAt?: string;
  archived?: boolean;
}

export interface StoredRunbook {
  id: string;
  archived?: boolean;
  version?: number;
  definition: RunbookDefinition;
  draft?: RunbookDefinition;
}

export interface VersionInfo {
  version: number;
  publishedAt?: string;
  publishedBy?: string;
  definition?: RunbookDefinition;
}

export interface RunDetail {
  id: string;
  status: RunStatus;
  temporalStatus?: string;
  runbook?: string;
  version?: number;
  tenant?: string;
  startedBy?: string;
  startedAt: string;
  endedAt?: string;
  message?: string;
  nodes: Record<string, NodeState>;
  temporalUrl?: string;
  definition?: RunbookDefinition;
  inputs?: Record<string, unknown>;
  runbookName?: string;
  test?: boolean;
  /** The run's graph without parameters (the control plane's run detail). */
  graph?: { nodes: { id: string; kind: string; label?: string; action?: string; position?: { x: number; y: number } }[]; edges: { source: string; sourceHandle?: string; target: string }[] };
}

export interface RunSummary {
  id: string;
  status: RunStatus;
  runbook?: string;
  runbookName?: string;
  version?: number;
  tenant?: string;
  startedBy?: string;
  startedAt?: string;
  endedAt?: string;
  progress?: { done: number; total: number };
}

export interface ApprovalTask {
  /** What approving lets run (docs/plan.md), planned when the step started waiting. */
  plan?: RunPlan;
  planError?: string;
  canDecide?: boolean;
  onApproval?: { id: string; kind: string; label?: string; action?: string; title?: string }[];
  tenant?: string;
  runId: string;
  nodeId: string;
  runbook?: string;
  runbookName?: string;
  startedBy?: string;
  message?: string;
  deadline?: string;
  requestedAt?: string;
  inputs?: Record<string, unknown>;
}

export interface StartRun {
  runbookId?: string;
  definition?: RunbookDefinition;
  inputs: Record<string, unknown>;
  tenant?: string;
  test?: boolean;
}

/** The plans of a page of a CSV's rows (POST /api/runs/plan with csv). */
export interface CsvPlan {
  total: number;
  offset: number;
  more: number;
  problems: string[];
  rows: { line: number; inputs: Record<string, unknown>; problems: { field: string; message: string }[]; plan?: RunPlan }[];
}

/** POST /api/runs/:id/undo: the draft undo runbook (runbookId null when nothing can be undone). */
export interface UndoAnswer {
  runbookId: string | null;
  message?: string;
  definition?: RunbookDefinition;
  entries: UndoEntry[];
  notUndone: UndoEntry[];
}

export interface BulkRowReport {
  row: number;
  ok: boolean;
  values?: Record<string, unknown>;
  problems?: { field: string; message: string }[];
  runId?: string;
}

export interface BulkReport {
  ok: boolean;
  rows: BulkRowReport[];
  started?: string[];
  problems?: { field: string; message: string }[];
}

export interface Schedule {
  id: string;
  runbookId?: string;
  version?: number;
  tenant?: string;
  createdBy?: string;
  inputs?: Record<string, unknown>;
  paused: boolean;
  note?: string;
  oneOff: boolean;
  spec?: { intervals?: unknown[]; calendars?: unknown[]; timezone?: string; startAt?: string; endAt?: string };
  overlap?: string;
  upcoming: string[];
  recentRuns: { scheduledAt: string; takenAt: string; runId?: string }[];
}

export interface NewSchedule {
  runbookId: string;
  tenant?: string;
  inputs: Record<string, unknown>;
  cron?: string[];
  every?: string[];
  at?: string;
  timezone?: string;
  overlap?: 'skip' | 'buffer' | 'bufferAll' | 'allow' | 'cancelOther';
  paused?: boolean;
  note?: string;
}

// The server's own type (a type-only import: nothing of the server reaches the browser bundle).
export type { TenantInfo };

/** What connecting a tenant sends: the server's own input type. */
export type NewTenant = TenantInput;

export type TenantTest = TestConnectionResult;

export interface Account {
  id: string;
  email: string;
  name: string;
  groups: string[];
  disabled: boolean;
  mustChangePassword?: boolean;
  grants: Grant[];
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt?: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

export interface Me {
  user: { id?: string; email: string; name?: string; groups?: string[] };
  grants?: Grant[];
  csrfToken?: string;
  mustChangePassword?: boolean;
}

/** The server's bulk answer (POST /api/runs/bulk), before it is turned into a BulkReport. */
interface ServerBulk {
  problems?: (string | { field: string; message: string })[];
  rows?: { line: number; inputs: Record<string, unknown>; problems: { field: string; message: string }[]; status: string; runId?: string }[];
  started?: number;
  error?: string;
}

export function bulkReportOf(b: ServerBulk): BulkReport {
  const rows: BulkRowReport[] = (b.rows ?? []).map((r) => ({
    row: r.line,
    ok: r.status !== 'error',
    values: r.inputs,
    problems: r.problems.length ? r.problems : undefined,
    runId: r.runId,
  }));
  const problems = (b.problems ?? []).map((p) => (typeof p === 'string' ? { field: 'file', message: p } : p));
  return { ok: problems.length === 0 && rows.every((r) => r.ok), rows, problems, started: rows.flatMap((r) => (r.runId ? [r.runId] : [])) };
}

/** A 422 of a bulk check carries the report: read it rather than failing. */
async function bulk(body: unknown): Promise<BulkReport> {
  try {
    return bulkReportOf(await request<ServerBulk>('POST', '/api/runs/bulk', body));
  } catch (err) {
    if (err instanceof ApiError && err.status === 422 && Array.isArray(err.body.rows)) return bulkReportOf(err.body as ServerBulk);
    throw err;
  }
}

/** Tenant used for pickers when the page names none (the app sets it from GET /api/tenants). */
let pickerTenant = 'sandbox';
export function setPickerTenant(name: string): void {
  pickerTenant = name;
}

export type Row = Record<string, unknown>;

// ---- the routes ----

export const api = {
  health: () => request<{ status: string; temporal: string }>('GET', '/api/health'),
  me: () => request<Me>('GET', '/api/auth/me'),
  signIn: (email: string, password: string) => request<Me>('POST', '/api/auth/login', { email, password }),
  signOut: () => request<void>('POST', '/api/auth/logout', {}),
  changePassword: (currentPassword: string, newPassword: string) => request<unknown>('POST', '/api/auth/password', { currentPassword, newPassword }),

  actions: () => request<ActionInfo[]>('GET', '/api/actions'),

  /** Archived runbooks are left out unless asked for (`all`: both, `true`: only the archived). */
  runbooks: (archived?: 'all' | 'true') => request<RunbookSummary[]>('GET', `/api/runbooks${q({ archived })}`),
  setArchived: (id: string, archived: boolean) => request<RunbookSummary>('PATCH', `/api/runbooks/${enc(id)}`, { archived }),
  cloneRunbook: (id: string, body: { id?: string; name?: string } = {}) => request<RunbookSummary>('POST', `/api/runbooks/${enc(id)}/clone`, body),
  runbook: (id: string) => request<StoredRunbook>('GET', `/api/runbooks/${enc(id)}`),
  createRunbook: (definition: unknown) => request<{ id: string }>('POST', '/api/runbooks', { definition }),
  saveDraft: (id: string, definition: unknown) => request<unknown>('PUT', `/api/runbooks/${enc(id)}/draft`, { definition }),
  publish: (id: string, definition?: unknown) =>
    request<{ version: number }>('POST', `/api/runbooks/${enc(id)}/publish`, definition ? { definition } : {}),
  versions: (id: string) => request<VersionInfo[]>('GET', `/api/runbooks/${enc(id)}/versions`),
  version: (id: string, v: number) => request<VersionInfo>('GET', `/api/runbooks/${enc(id)}/versions/${v}`),
  /** What changed between two versions (`draft`: the saved draft; 422 while the draft has problems). */
  diff: (id: string, from: number | 'latest' | 'draft', to: number | 'latest' | 'draft' = 'draft') =>
    request<DefinitionDiff & { from: unknown; to: unknown }>('GET', `/api/runbooks/${enc(id)}/diff${q({ from, to })}`),
  validate: (definition: unknown) => request<{ ok: boolean; problems: Problem[] }>('POST', '/api/runbooks/validate', definition),

  startRun: (body: StartRun) => request<{ id: string; url: string; temporalUrl?: string }>('POST', '/api/runs', body),
  planRun: (body: StartRun & { page?: { offset: number; limit: number } }) => request<RunPlan>('POST', '/api/runs/plan', body),
  planCsv: (body: { runbookId: string; csv: string; test?: boolean; tenant?: string; page?: { offset: number; limit: number } }) => request<CsvPlan>('POST', '/api/runs/plan', body),
  undoRun: (id: string) => request<UndoAnswer>('POST', `/api/runs/${enc(id)}/undo`, {}),
  startBulk: (body: { runbookId: string; csv: string; dryRun?: boolean; skipBadRows?: boolean; test?: boolean; tenant?: string }) => bulk(body),
  run: (id: string) => request<RunDetail>('GET', `/api/runs/${enc(id)}`),
  runs: (filter: { status?: string; runbook?: string; tenant?: string; requester?: string; pageToken?: string } = {}) =>
    request<{ runs: RunSummary[]; nextPageToken?: string } | RunSummary[]>('GET', `/api/runs${q(filter)}`),
  decide: (runId: string, nodeId: string, decision: 'approve' | 'reject', comment?: string) =>
    request<{ accepted: boolean }>('POST', `/api/runs/${enc(runId)}/approvals/${enc(nodeId)}`, { decision, comment }),
  cancel: (runId: string) => request<{ accepted: boolean }>('POST', `/api/runs/${enc(runId)}/cancel`, {}),
  resume: (runId: string, nodeId: string, action: 'retry' | 'skip' | 'abort') =>
    request<{ accepted: boolean }>('POST', `/api/runs/${enc(runId)}/resume`, { nodeId, action }),
  /** Retries a failed step: resumes a paused one, or starts a new run reusing the steps that succeeded. */
  retry: (runId: string, nodeId?: string) => request<{ accepted?: boolean; id?: string }>('POST', `/api/runs/${enc(runId)}/retry`, nodeId ? { nodeId } : {}),
  rerun: (runId: string, version: 'pinned' | 'latest' = 'pinned') => request<{ id: string }>('POST', `/api/runs/${enc(runId)}/rerun`, { version }),
  approvals: () => request<ApprovalTask[] | { approvals: ApprovalTask[] }>('GET', '/api/approvals'),

  schedules: () => request<Schedule[]>('GET', '/api/schedules'),
  createSchedule: (body: NewSchedule) => request<Schedule>('POST', '/api/schedules', body),
  scheduleOp: (id: string, op: 'pause' | 'resume' | 'trigger', note?: string) => request<Schedule>('POST', `/api/schedules/${enc(id)}/${op}`, note ? { note } : {}),
  deleteSchedule: (id: string) => request<unknown>('DELETE', `/api/schedules/${enc(id)}`),

  tenants: () => request<Row[]>('GET', '/api/tenants'),
  tenantList: () => request<TenantInfo[]>('GET', '/api/tenants'),
  createTenant: (body: NewTenant) => request<TenantInfo>('POST', '/api/tenants', body),
  updateTenant: (name: string, body: Omit<NewTenant, 'name'>) => request<TenantInfo>('PUT', `/api/tenants/${enc(name)}`, body),
  deleteTenant: (name: string) => request<unknown>('DELETE', `/api/tenants/${enc(name)}`),
  testTenant: (name: string) => request<TenantTest>('POST', `/api/tenants/${enc(name)}/test`, {}),

  people: () => request<Account[]>('GET', '/api/users'),
  createAccount: (body: { email: string; name?: string; grants?: Grant[] }) => request<Account & { oneTimePassword?: string }>('POST', '/api/users', body),
  updateAccount: (id: string, patch: { name?: string; groups?: string[]; disabled?: boolean }) => request<Account>('PATCH', `/api/users/${enc(id)}`, patch),
  grant: (userId: string, g: Grant) => request<Grant>('POST', `/api/users/${enc(userId)}/grants`, g),
  revoke: (userId: string, grantId: number) => request<unknown>('DELETE', `/api/users/${enc(userId)}/grants/${grantId}`),
  tokens: () => request<ApiToken[]>('GET', '/api/auth/tokens'),
  createToken: (name: string, expiresInDays?: number) => request<{ id: string; name: string; token: string }>('POST', '/api/auth/tokens', { name, expiresInDays }),
  revokeToken: (id: string) => request<unknown>('DELETE', `/api/auth/tokens/${enc(id)}`),
  audit: (action?: string) => request<Row[] | { entries: Row[] }>('GET', `/api/audit${q({ action })}`),

  /** Picker options fed by the tenant (users, groups, licences). */
  pick: (kind: 'user' | 'group' | 'licence', search: string, tenant?: string) =>
    request<{ value: string; label: string; detail?: string }[]>('GET', `/api/tenants/${enc(tenant ?? pickerTenant)}/${kind}s${q({ search: search.trim() || undefined, top: 20 })}`),
};

/** Lists come back either bare or wrapped ({runs: [...]}): accept both. */
export function listOf<T>(value: T[] | Record<string, unknown> | undefined, key: string): T[] {
  if (Array.isArray(value)) return value;
  const inner = value?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}
