// The control plane's API as the pages call it: the typed client (api-client/, typed from the API
// contract server/api-contract.ts) with the session's cookie and CSRF token, and the names the
// pages use. What each route answers is the contract's type.
import type { PickerKind } from '../../catalog/fields.ts';
import type { RunbookDefinition } from '../../runbook/definition.ts';
import type { RunPlan } from '../../runbook/plan.ts';
import { ApiError, createClient, type Answer, type Body } from '../../api-client/index.ts';

export { ApiError };

/** The session's CSRF token (double submit): the server sets it in the readable tf_csrf cookie. */
function csrfToken(): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const m = /(?:^|;\s*)tf_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

export const client = createClient({
  credentials: 'same-origin',
  headers: (method) => (method === 'GET' ? {} : { 'x-csrf-token': csrfToken() }),
});

// ---- what the server answers ----

/** JSON Schema as the catalog's action contracts come out of zod (forms and completions read it). */
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

/** An action of the catalog, its input and output as JSON Schema. */
export type ActionInfo = Pick<Answer<'GET /api/actions'>[number], 'id' | 'title' | 'category' | 'description' | 'permissions' | 'bulk'> & {
  undo?: string | null;
  input: JsonSchema;
  output: JsonSchema;
};
export type RunbookSummary = Answer<'GET /api/runbooks'>[number];
/** A published version; the definition only where it was loaded. */
export type VersionInfo = Answer<'GET /api/runbooks/:id/versions'>[number] & { definition?: RunbookDefinition };
export type RunDetail = Answer<'GET /api/runs/:id'>;
export type RunSummary = Answer<'GET /api/runs'>['runs'][number];
export type DashboardData = Answer<'GET /api/dashboard'>;
export type ApprovalTask = Answer<'GET /api/approvals'>[number];
export type BulkReport = Answer<'POST /api/runs/bulk'>;
/** The plans of a page of a CSV's rows (POST /api/runs/plan with csv). */
export type CsvPlan = Omit<Extract<Answer<'POST /api/runs/plan'>, { rows: unknown }>, 'rows'> & {
  rows: (Omit<Extract<Answer<'POST /api/runs/plan'>, { rows: unknown }>['rows'][number], 'plan'> & { plan?: RunPlan })[];
};
/** POST /api/runs/:id/undo: the draft undo runbook (runbookId null when nothing can be undone). */
export type UndoAnswer = Answer<'POST /api/runs/:id/undo'>;
export type BatchView = Answer<'GET /api/batches/:id'>;
export type BatchRow = Answer<'GET /api/batches/:id/rows'>['rows'][number];
export type Schedule = Answer<'GET /api/schedules/:id'>;
export type NewSchedule = Body<'POST /api/schedules'>;
export type TenantInfo = Answer<'GET /api/tenants/:name'>;
/** What connecting a tenant sends. */
export type NewTenant = Body<'POST /api/tenants'>;
export type TenantTest = Answer<'POST /api/tenants/:name/test'>;
export type Account = Answer<'GET /api/users'>[number];
export type ApiToken = Answer<'GET /api/auth/tokens'>[number];
export type Me = Answer<'GET /api/auth/me'>;
/** One choice of a picker: `value` goes into the field, `label` and `detail` are what people read. */
export type PickOption = Answer<'GET /api/tenants/:name/users'>[number];

/** The lookup route of each picker kind (GET /api/tenants/:name/<route>); channels are under their team. */
const PICK_ROUTES = {
  user: 'users',
  group: 'groups',
  licence: 'licences',
  mailbox: 'mailboxes',
  sharedMailbox: 'shared-mailboxes',
  device: 'devices',
  team: 'teams',
  site: 'sites',
  oneDrive: 'onedrives',
  application: 'applications',
  domain: 'domains',
} as const satisfies Record<Exclude<PickerKind, 'channel'>, string>;

/** Tenant used for pickers when the page names none (the app sets it from GET /api/tenants). */
let pickerTenant = 'sandbox';
export function setPickerTenant(name: string): void {
  pickerTenant = name;
}

// ---- the routes ----

export const api = {
  me: () => client.call('GET /api/auth/me'),
  signIn: (email: string, password: string) => client.call('POST /api/auth/login', { body: { email, password } }),
  signOut: () => client.call('POST /api/auth/logout'),
  changePassword: (currentPassword: string, newPassword: string) => client.call('POST /api/auth/password', { body: { currentPassword, newPassword } }),

  /** The catalog; its JSON Schemas as the forms read them. */
  actions: async () => (await client.call('GET /api/actions')) as ActionInfo[],

  /** Archived runbooks are left out unless asked for (`all`: both, `true`: only the archived). */
  runbooks: (archived?: 'all' | 'true') => client.call('GET /api/runbooks', { query: { archived } }),
  setArchived: (id: string, archived: boolean) => client.call('PATCH /api/runbooks/:id', { params: { id }, body: { archived } }),
  /** Offers a published runbook on the help desk (a custom action operators may run), or withdraws it. */
  setOffered: (id: string, customAction: boolean) => client.call('PATCH /api/runbooks/:id', { params: { id }, body: { customAction } }),
  customActions: () => client.call('GET /api/custom-actions'),
  cloneRunbook: (id: string, body: { id?: string; name?: string } = {}) => client.call('POST /api/runbooks/:id/clone', { params: { id }, body }),
  runbook: (id: string) => client.call('GET /api/runbooks/:id', { params: { id } }),
  /** The server's template gallery (server/templates/). */
  templates: () => client.call('GET /api/templates'),
  /** A draft from a gallery template; its sub-runbooks are created and published (or reused) first. */
  createFromTemplate: (id: string, body: { id?: string; name?: string } = {}) => client.call('POST /api/templates/:id/runbooks', { params: { id }, body }),
  createRunbook: (definition: RunbookDefinition) => client.call('POST /api/runbooks', { body: { definition } }),
  saveDraft: (id: string, definition: RunbookDefinition) => client.call('PUT /api/runbooks/:id/draft', { params: { id }, body: { definition } }),
  publish: (id: string) => client.call('POST /api/runbooks/:id/publish', { params: { id }, body: {} }),
  versions: (id: string) => client.call('GET /api/runbooks/:id/versions', { params: { id } }),
  version: (id: string, version: number) => client.call('GET /api/runbooks/:id/versions/:version', { params: { id, version } }),
  /** What changed between two versions (`draft`: the saved draft; 422 while the draft has problems). */
  diff: (id: string, from: number | 'latest' | 'draft', to: number | 'latest' | 'draft' = 'draft') => client.call('GET /api/runbooks/:id/diff', { params: { id }, query: { from, to } }),

  startRun: (body: Body<'POST /api/runs'>) => client.call('POST /api/runs', { body }),
  /** Checks a CSV (dryRun) or starts its rows; a file with problems answers its report too (422). */
  startBulk: (body: Body<'POST /api/runs/bulk'>) => client.call('POST /api/runs/bulk', { body, accept: [422] }),
  /** What a run would change (docs/plan.md), before it starts. */
  planRun: async (body: Body<'POST /api/runs'> & { page?: { offset: number; limit: number } }) => (await client.call('POST /api/runs/plan', { body })) as RunPlan,
  planCsv: async (body: { runbookId: string; csv: string; test?: boolean; tenant?: string; page?: { offset: number; limit: number } }) => (await client.call('POST /api/runs/plan', { body })) as CsvPlan,
  /** The draft undo runbook of a finished run. */
  undoRun: (id: string) => client.call('POST /api/runs/:id/undo', { params: { id } }),
  batch: (id: string) => client.call('GET /api/batches/:id', { params: { id } }),
  batchRows: (id: string, q: { status?: string; after?: number } = {}) => client.call('GET /api/batches/:id/rows', { params: { id }, query: q as never }),
  retryBatch: (id: string) => client.call('POST /api/batches/:id/retry', { params: { id } }),
  run: (id: string) => client.call('GET /api/runs/:id', { params: { id } }),
  runs: (filter: { status?: string; runbook?: string; tenant?: string; requester?: string; from?: string; to?: string; batch?: string; pageToken?: string } = {}) => client.call('GET /api/runs', { query: filter }),
  decide: (runId: string, nodeId: string, decision: 'approve' | 'reject', comment?: string) =>
    client.call('POST /api/runs/:id/approvals/:nodeId', { params: { id: runId, nodeId }, body: { decision, comment } }),
  cancel: (runId: string) => client.call('POST /api/runs/:id/cancel', { params: { id: runId } }),
  resume: (runId: string, nodeId: string, action: 'retry' | 'skip' | 'abort') => client.call('POST /api/runs/:id/resume', { params: { id: runId }, body: { nodeId, action } }),
  /** Retries a failed step: resumes a paused one, or starts a new run reusing the steps that succeeded. */
  retry: (runId: string, nodeId?: string) => client.call('POST /api/runs/:id/retry', { params: { id: runId }, body: nodeId ? { nodeId } : {} }),
  rerun: (runId: string, version: 'pinned' | 'latest' = 'pinned') => client.call('POST /api/runs/:id/rerun', { params: { id: runId }, body: { version } }),
  approvals: () => client.call('GET /api/approvals'),
  /** The home dashboard's aggregates (runs per day, failing steps, approvals waiting, batches, throttling). */
  dashboard: (tenant?: string, days = 14) => client.call('GET /api/dashboard', { query: { tenant, days } }),

  schedules: () => client.call('GET /api/schedules'),
  createSchedule: (body: NewSchedule) => client.call('POST /api/schedules', { body }),
  scheduleOp: (id: string, op: 'pause' | 'resume' | 'trigger', note?: string) => client.call(`POST /api/schedules/:id/${op}`, { params: { id }, body: note ? { note } : {} }),
  deleteSchedule: (id: string) => client.call('DELETE /api/schedules/:id', { params: { id } }),

  tenantList: () => client.call('GET /api/tenants'),
  createTenant: (body: NewTenant) => client.call('POST /api/tenants', { body }),
  deleteTenant: (name: string) => client.call('DELETE /api/tenants/:name', { params: { name } }),
  testTenant: (name: string) => client.call('POST /api/tenants/:name/test', { params: { name } }),

  people: () => client.call('GET /api/users'),
  createAccount: (body: Body<'POST /api/users'>) => client.call('POST /api/users', { body }),
  updateAccount: (id: string, patch: Body<'PATCH /api/users/:id'>) => client.call('PATCH /api/users/:id', { params: { id }, body: patch }),
  grant: (userId: string, g: Body<'POST /api/users/:id/grants'>) => client.call('POST /api/users/:id/grants', { params: { id: userId }, body: g }),
  revoke: (userId: string, grantId: number) => client.call('DELETE /api/users/:id/grants/:grantId', { params: { id: userId, grantId } }),
  tokens: () => client.call('GET /api/auth/tokens'),
  createToken: (name: string, expiresInDays?: number) => client.call('POST /api/auth/tokens', { body: { name, expiresInDays } }),
  revokeToken: (id: string) => client.call('DELETE /api/auth/tokens/:id', { params: { id } }),
  audit: (action?: string) => client.call('GET /api/audit', { query: { action } }),

  /** Picker options fed by the tenant; a channel picker needs its team (id or exact name). */
  pick: async (kind: PickerKind, search: string, opts: { tenant?: string; team?: string } = {}): Promise<PickOption[]> => {
    const name = opts.tenant || pickerTenant;
    const query = { search: search.trim() || undefined, top: 20 };
    if (kind === 'channel') return opts.team ? client.call('GET /api/tenants/:name/teams/:team/channels', { params: { name, team: opts.team }, query }) : [];
    return client.call(`GET /api/tenants/:name/${PICK_ROUTES[kind]}`, { params: { name }, query });
  },
};

