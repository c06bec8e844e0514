// The control plane's API as a contract: every route by "METHOD /path", with the zod schemas of
// its request (body, query) and of its answer, who may call it and what else it may answer. The
// server registers its handlers against these entries (http.ts: Api.route parses requests with
// them, type-checks what a handler returns, and in tests checks every answer against them); the
// OpenAPI document (docs/openapi.json) is generated from them; and api-client/ derives the typed
// client the designer and the CLI use from their types alone (nothing of the server reaches them).
import { z } from 'zod';
import { NODE_STATUSES, RUN_STATUSES, RunbookDefinition, RunbookInput, type NodeKind } from '../runbook/definition.ts';
import { RUNBOOK_ID } from '../runbook/runbook-id.ts';
import { ALL_TENANTS, ROLES, Scope } from './people.ts';
import { AD_CONNECTION_NAME, ANCHOR_ATTRIBUTES } from '../m365/ad-connection.ts';

/** Who may call a route: nobody signed in, anyone signed in (roles are checked by the handler). */
export type Access = 'public' | 'signed-in';

export interface RouteSpec {
  summary: string;
  tag: string;
  access?: Access;
  /** Roles that may call it, as documentation (the handler enforces them). */
  roles?: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The JSON answer (absent: the route answers with a redirect, a stream or a file of its own). */
  response?: z.ZodType;
  /** Response content type when not JSON (text/event-stream, text/csv). */
  produces?: string;
  /** Statuses beyond 200 / 400 / 401 / 403 that the route answers. */
  statuses?: Record<number, string>;
  /** Statuses other than 2xx whose body is still `response` (a report: 422 of a bulk check). */
  reports?: readonly number[];
  /** Takes an Idempotency-Key header: a repeat with the same key and body gets the first answer (server/idempotency.ts). */
  idempotent?: boolean;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type RouteKey = `${Method} /api/${string}`;

// ---- shared shapes ----

const Time = z.string().describe('ISO 8601 time');
const Ok = <K extends string>(key: K) => z.object({ [key]: z.literal(true) } as Record<K, z.ZodLiteral<true>>);
/** What every error answers: { error, problems? }. */
export const ErrorBody = z.object({ error: z.string(), problems: z.array(z.object({ field: z.string(), message: z.string(), nodeId: z.string().optional() })).optional() });
const Problem = z.object({ nodeId: z.string().optional(), field: z.string(), message: z.string() });
const Problems = z.array(Problem);
const RuleFixSchema = z
  .object({
    kind: z.enum(['insertBefore', 'insertAfter']),
    nodeId: z.string(),
    action: z.string(),
    params: z.record(z.string(), z.unknown()),
    label: z.string(),
    description: z.string(),
  })
  .describe('A one-click fix: insert this action before/after the node, taking over its edges');
/** The Microsoft 365 rules checker's findings (runbook/rules.ts): shown, never blocking. */
const Warnings = z
  .array(
    z.object({
      rule: z.string(),
      nodeId: z.string(),
      severity: z.enum(['high', 'medium', 'low']),
      message: z.string(),
      link: z.string().describe("Microsoft's page the rule rests on"),
      fix: RuleFixSchema.optional(),
    }),
  )
  .describe('Microsoft 365 rule warnings: publishing is still allowed');

// ---- auth and people ----

const Role = z.enum(ROLES);
const User = z.object({ id: z.string(), email: z.string(), name: z.string(), groups: z.array(z.string()), mustChangePassword: z.boolean(), disabled: z.boolean(), createdAt: Time });
const Grant = z.object({ id: z.number(), tenant: z.string(), role: Role, scope: Scope.nullish() });
const Account = User.extend({ grants: z.array(Grant) });

const Login = z.strictObject({ email: z.string().min(1).describe('Account email'), password: z.string().min(1) });
const PasswordChange = z.strictObject({
  currentPassword: z.string().min(1),
  newPassword: z.string().min(12, 'at least 12 characters').max(200),
});
const NewToken = z.strictObject({
  name: z.string().min(1).max(100).describe('What the token is for, e.g. "nightly CSV import"'),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
const NewUser = z.strictObject({
  email: z.email().describe('Sign-in name'),
  name: z.string().max(200).optional(),
  password: z.string().min(12).max(200).optional().describe('When absent a one-time password is generated and returned once'),
  groups: z.array(z.string().min(1)).default([]).describe('Tenantflow groups (approver routing)'),
  grants: z
    .array(z.strictObject({ tenant: z.string().min(1), role: z.enum(ROLES), scope: Scope.optional() }))
    .default([]),
});
const UserPatch = z.strictObject({ name: z.string().max(200).optional(), groups: z.array(z.string().min(1)).optional(), disabled: z.boolean().optional() });
const NewGrant = z.strictObject({
  tenant: z.string().min(1).describe(`Tenant connection name, or "${ALL_TENANTS}" for every tenant`),
  role: z.enum(ROLES),
  scope: Scope.optional().describe('Operator scope inside the tenant'),
});
const Me = z.object({ user: User, grants: z.array(Grant), via: z.enum(['session', 'token']), csrfToken: z.string().optional(), mustChangePassword: z.boolean() });
const ApiToken = z.object({ id: z.string(), name: z.string(), createdAt: Time.optional(), expiresAt: Time.optional(), lastUsedAt: Time.optional(), revoked: z.boolean() });

// ---- runbooks ----

const TenantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant name: lower-case letters, digits, - and _');
const SharedWith = z
  .array(z.union([TenantName, z.literal('*')]))
  .max(200)
  .describe('Other tenants whose people may see and run the runbook (never edit it); "*" = every tenant. Set by an admin of every tenant added or removed (a global admin for "*")');
const Definition = z.record(z.string(), z.unknown()).describe('A runbook definition (schema: runbook/definition.ts); drafts may still have problems');
const NewRunbook = z.strictObject({
  id: z.string().regex(RUNBOOK_ID, 'lower-case letters, digits, - and _').optional().describe('Defaults to a slug of the name'),
  definition: Definition,
  customAction: z.boolean().optional().describe('Offer the published runbook to operators as a custom action'),
  tenant: TenantName.optional().describe("The owning tenant, whose designers edit it; defaults to the caller's one designer tenant (a designer of every tenant makes a global runbook shared with every tenant)"),
  sharedWith: SharedWith.optional(),
});
const DraftBody = z.strictObject({ definition: Definition });
const PublishBody = z.strictObject({ comment: z.string().max(2000).optional() });
const RunbookPatch = z.strictObject({
  customAction: z.boolean().optional(),
  archived: z.boolean().optional(),
  tenant: TenantName.nullable().optional().describe('Move the runbook to another owning tenant (null: make it global); an admin of both (a global admin for global)'),
  sharedWith: SharedWith.optional(),
});
const CloneBody = z.strictObject({
  id: z.string().regex(RUNBOOK_ID).optional(),
  name: z.string().min(1).optional(),
  tenant: TenantName.optional().describe("The copy's owning tenant (as for a new runbook)"),
});
const ExportFile = z.strictObject({
  tenantflowRunbook: z.literal(1),
  id: z.string().regex(RUNBOOK_ID),
  version: z.number().int().optional(),
  customAction: z.boolean().optional(),
  definition: Definition,
});
const ImportBody = z.strictObject({
  file: ExportFile.describe('A file from GET /api/runbooks/:id/export'),
  id: z.string().regex(RUNBOOK_ID).optional().describe('Import under this id instead of the file\'s'),
  publish: z.boolean().default(true).describe('Publish a new version right away (the definition must be valid)'),
  tenant: TenantName.optional().describe('The owning tenant of a new runbook (as for POST /api/runbooks); an existing one keeps its owner'),
});
export const VersionRef = z.union([z.literal('draft'), z.literal('latest'), z.coerce.number().int().min(1)]);

const JsonSchemaDoc = z.record(z.string(), z.unknown()).describe('JSON Schema');
const Action = z.object({
  id: z.string(),
  title: z.string(),
  category: z.string(),
  description: z.string(),
  permissions: z.array(z.string()),
  otherPermissions: z.array(z.string()),
  bulk: z.boolean(),
  undo: z.string().nullable(),
  secretFields: z.array(z.string()),
  input: JsonSchemaDoc.describe('JSON Schema of the parameters (what a form submits: defaults make fields optional)'),
  output: JsonSchemaDoc.describe('JSON Schema of the output (what steps.<id>.output holds)'),
});
const RunbookSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  customAction: z.boolean(),
  archived: z.boolean(),
  latestVersion: z.number().optional(),
  draftUpdatedAt: Time.optional(),
  draftUpdatedBy: z.string().optional(),
  hasUnpublishedChanges: z.boolean().describe('The draft differs from the latest version (or nothing is published yet)'),
  createdAt: Time,
  createdBy: z.string(),
  tenant: z.string().optional().describe('The owning tenant, whose designers edit it; absent: a global runbook'),
  sharedWith: z.array(z.string()).describe('Other tenants whose people may see and run it; "*" = every tenant'),
});
/** A runbook with its draft (which may still have problems). */
const RunbookWithDraft = RunbookSummary.extend({ draft: z.unknown().describe('The draft, or the latest version when there is none') });
const VersionSummary = z.object({ runbookId: z.string(), version: z.number(), comment: z.string().optional(), publishedAt: Time, publishedBy: z.string() });
const RunbookVersion = VersionSummary.extend({ definition: RunbookDefinition });
const Validated = z.object({ ok: z.boolean(), problems: Problems, warnings: Warnings });
const DefinitionDiff = z.object({
  from: z.union([z.literal('draft'), z.literal('latest'), z.number()]),
  to: z.union([z.literal('draft'), z.literal('latest'), z.number()]),
  inputs: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
  nodes: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.object({ id: z.string(), fields: z.array(z.string()) })), moved: z.array(z.string()) }),
  edges: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }).describe('Edges as "source.handle->target"'),
  settings: z.array(z.string()),
  name: z.object({ from: z.string(), to: z.string() }).optional(),
});
const CustomAction = z.object({ id: z.string(), name: z.string(), description: z.string().optional(), version: z.number(), inputs: z.array(RunbookInput) });

// ---- runs ----

/** A run's status as the API shows it: running, waiting, paused, or one of the outcomes (docs/runs.md). */
export const RUN_VIEW_STATUSES = RUN_STATUSES;
export type RunViewStatus = (typeof RUN_VIEW_STATUSES)[number];
const RunStatus = z.enum(RUN_VIEW_STATUSES);

const StartRun = z
  .strictObject({
    runbookId: z.string().min(1).optional().describe('A published runbook'),
    version: z.number().int().min(1).optional().describe('Version to run; the latest when absent'),
    definition: z.unknown().optional().describe('An inline definition (designers only), validated before it runs'),
    inputs: z.record(z.string(), z.unknown()).default({}),
    tenant: z.string().min(1).optional().describe('Tenant connection; the default tenant when absent'),
    test: z.boolean().default(false).describe('Test run against the sandbox tenant'),
    reason: z.string().max(2000).optional().describe('Why the run is asked for (a ticket, a request): kept in the run record and its evidence pack'),
  })
  .refine((b) => (b.runbookId === undefined) !== (b.definition === undefined), { message: 'give either runbookId or definition (not both)', path: ['runbookId'] });
const BulkRun = z.strictObject({
  runbookId: z.string().min(1),
  version: z.number().int().min(1).optional(),
  tenant: z.string().min(1).optional(),
  test: z.boolean().default(false),
  csv: z.string().min(1).max(5_000_000).describe('The CSV file: a header of input names, one run per row'),
  skipBadRows: z.boolean().default(false).describe('Start the good rows even when some rows have problems'),
  dryRun: z.boolean().default(false).describe('Only check the file (with the tenant: unknown users, operator scope)'),
  concurrency: z.number().int().min(1).max(200).optional().describe('Row runs at a time (20 when absent)'),
});
const RunQuery = z.object({
  runbook: z.string().optional(),
  status: z
    .string()
    .optional()
    .describe(`Comma-separated: ${RUN_STATUSES.join(', ')}`)
    .refine((s) => !s || s.split(',').every((x) => (RUN_STATUSES as readonly string[]).includes(x)), `one or more of ${RUN_STATUSES.join(', ')}`),
  tenant: z.string().optional(),
  requester: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Started at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('Started before'),
  q: z.string().max(200).optional().describe('Text in the run id, runbook, requester, tenant or reason'),
  parent: z.string().optional().describe("A loop run's id: its item runs (otherwise item runs are left out)"),
  batch: z.string().optional().describe('A bulk batch id (POST /api/runs/bulk): its runs'),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  pageToken: z.string().optional(),
});
const Resume = z.strictObject({ nodeId: z.string().min(1), action: z.enum(['retry', 'skip', 'abort']) });
const Retry = z.strictObject({ nodeId: z.string().min(1).optional().describe('The failed or paused step (any failed step when absent)') });
const Rerun = z.strictObject({ version: z.union([z.literal('pinned'), z.literal('latest')]).default('pinned') });
const Decision = z.strictObject({ decision: z.enum(['approve', 'reject']), comment: z.string().max(2000).optional() });

const RunStarted = z.object({ id: z.string(), url: z.string(), temporalUrl: z.string().optional(), runbook: z.string(), version: z.number(), tenant: z.string() });
const RowProblem = z.object({ field: z.string(), message: z.string(), kind: z.enum(['missing-column', 'type', 'duplicate', 'unknown-user', 'scope', 'columns']) });
const BulkReport = z.object({
  runbook: z.string(),
  version: z.number(),
  tenant: z.string(),
  columns: z.object({ found: z.array(z.string()), missing: z.array(z.string()), unknown: z.array(z.string()) }),
  problems: z.array(z.string()).describe('Problems of the whole file'),
  summary: z.object({ rows: z.number(), ok: z.number(), bad: z.number() }),
  rows: z.array(
    z.object({
      line: z.number().describe('Line in the file (the header is line 1)'),
      inputs: z.record(z.string(), z.unknown()),
      problems: z.array(RowProblem),
      status: z.enum(['ok', 'error', 'started', 'skipped']),
      runId: z.string().optional(),
    }),
  ).describe('A dry run or a refused file: every row; a stored batch: only the rows skipped for their problems'),
  started: z.number().describe('Rows queued to run (they start in the background)'),
  batch: z.string().optional().describe('The batch the rows run in (GET /api/batches/:id)'),
  batchUrl: z.string().optional(),
  dryRun: z.boolean().optional(),
  error: z.string().optional(),
});
const RunListItem = z.object({
  id: z.string(),
  runId: z.string(),
  status: RunStatus,
  temporalStatus: z.string(),
  runbook: z.string().optional(),
  runbookName: z.string().optional(),
  version: z.number().optional(),
  tenant: z.string().optional(),
  startedBy: z.string().optional(),
  pendingApprovers: z.array(z.string()),
  progress: z.object({ done: z.number(), total: z.number() }).optional().describe('Steps finished of all steps'),
  startedAt: Time.optional(),
  endedAt: Time.optional(),
  parentId: z.string().optional().describe('The run whose loop this item run belongs to'),
  warnings: z.number().optional().describe('How many warnings the run ended with'),
  message: z.string().optional(),
});
const RunList = z.object({ runs: z.array(RunListItem), nextPageToken: z.string().optional() });
const NODE_KINDS = ['action', 'approval', 'condition', 'delay', 'end', 'forEach', 'subRunbook'] as const satisfies readonly NodeKind[];
// Every kind of runbook node is listed (a new kind fails to compile here until it is).
const allKinds: Record<NodeKind, true> = Object.fromEntries(NODE_KINDS.map((k) => [k, true])) as Record<(typeof NODE_KINDS)[number], true>;
void allKinds;
const Kind = z.enum(NODE_KINDS);
const ApprovalDecision = z.object({ by: z.string(), decision: z.enum(['approve', 'reject']), comment: z.string().optional(), at: Time, refused: z.string().optional() });

// ---- plans and undo (docs/plan.md; the types are catalog/contract.ts and runbook/plan-document.ts) ----

const KnownAfterRun = z.object({ $knownAfterRun: z.string().describe('Where the value comes from, e.g. steps.create_user.output.id') }).describe('A value known only after the run');
const Change = z
  .object({
    object: z.string().describe('The object in words, e.g. user anna@contoso.com'),
    objectId: z.union([z.string(), KnownAfterRun]).optional(),
    property: z.string().describe('A property (department) or a relation (member anna@contoso.com, licence SPE_E3)'),
    before: z.unknown().describe('null: absent or empty'),
    after: z.unknown(),
    note: z.string().optional(),
  })
  .describe('One change: an object\'s property, before -> after');
const Notes = z.array(z.string()).optional();
const ActionPlan = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('changes'), changes: z.array(Change), notes: Notes }),
  z.object({ outcome: z.literal('no-change'), notes: Notes }),
  z.object({ outcome: z.literal('would-fail'), reason: z.string(), code: z.string().optional(), hint: z.string().optional(), changes: z.array(Change).optional() }),
  z.object({ outcome: z.literal('not-predicted'), reason: z.string() }),
  z.object({ outcome: z.literal('unknown'), reason: z.string(), dependsOn: z.array(z.string()) }),
  z.object({ outcome: z.literal('read'), output: z.unknown().optional() }),
  z.object({ outcome: z.literal('plan-failed'), reason: z.string() }),
]);
const StepPlan = z.object({
  nodeId: z.string(),
  kind: z.enum(['action', 'approval', 'condition', 'delay', 'end', 'forEach', 'subRunbook']),
  label: z.string().optional(),
  action: z.string().optional(),
  title: z.string().optional(),
  runs: z.enum(['yes', 'if', 'no', 'done']).describe('Whether the step runs: for sure, under the conditions in `when`, not (see `why`), or already ran'),
  when: z.array(z.string()).optional(),
  why: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional().describe('The parameters as they resolve now; secrets [secret]'),
  plan: ActionPlan.optional(),
  irreversible: z.string().optional().describe('Why the action can never be undone'),
  decided: z.string().optional().describe('A condition\'s branch, when it can be decided now'),
  detail: z.string().optional(),
  get loop() {
    return LoopPlan.optional();
  },
});
const LoopPlan = z.object({
  total: z.number().nullable().describe('How many items; null when the list is known only after the run'),
  offset: z.number(),
  items: z.array(z.object({ index: z.number(), item: z.unknown(), steps: z.array(StepPlan) })),
  more: z.number().describe('Items after this page, not planned here'),
  reason: z.string().optional(),
});
const RunPlan = z
  .object({
    planVersion: z.literal(1),
    plannedAt: Time,
    tenant: z.string(),
    runbook: z.object({ id: z.string(), version: z.number(), name: z.string() }),
    gate: z.string().optional().describe('Set on the plan an approval carries: the approval step'),
    steps: z.array(StepPlan),
    summary: z.object({
      changes: z.number(),
      changeRows: z.number(),
      noChange: z.number(),
      wouldFail: z.number(),
      notPredicted: z.number(),
      unknown: z.number(),
      planFailed: z.number(),
      irreversible: z.number(),
    }),
  })
  .describe('What a run would change (docs/plan.md)');
const PlanPage = z.strictObject({
  offset: z.number().int().min(0).default(0).describe('First loop item (or CSV row) to plan'),
  limit: z.number().int().min(1).max(200).default(20).describe('How many loop items (or CSV rows) to plan, at most 200'),
});
const PlanRun = z
  .strictObject({
    runbookId: z.string().min(1).optional().describe('A published runbook'),
    version: z.number().int().min(1).optional().describe('Version to plan; the latest when absent'),
    definition: z.unknown().optional().describe('An inline definition (designers only)'),
    inputs: z.record(z.string(), z.unknown()).optional().describe('The run\'s inputs, as POST /api/runs takes them'),
    csv: z.string().min(1).max(5_000_000).optional().describe('Or a bulk CSV: one plan per row, a page of rows at a time'),
    tenant: z.string().min(1).optional().describe('Tenant connection; the default tenant when absent'),
    test: z.boolean().default(false).describe('Plan a test run against the sandbox tenant'),
    page: PlanPage.optional().describe('Which page of each loop\'s items (and of a CSV\'s rows) to plan'),
  })
  .refine((b) => (b.runbookId === undefined) !== (b.definition === undefined), { message: 'give either runbookId or definition (not both)', path: ['runbookId'] })
  .refine((b) => !(b.csv !== undefined && b.inputs !== undefined), { message: 'give either inputs or csv (not both)', path: ['csv'] });
const CsvPlan = z.object({
  runbook: z.object({ id: z.string(), version: z.number(), name: z.string() }),
  tenant: z.string(),
  problems: z.array(z.string()).describe('Problems of the whole file'),
  total: z.number().describe('Rows in the file'),
  offset: z.number(),
  more: z.number().describe('Rows after this page'),
  rows: z.array(z.object({ line: z.number(), inputs: z.record(z.string(), z.unknown()), problems: z.array(RowProblem), plan: RunPlan.optional().describe('Absent for a row with problems') })),
});
const UndoEntry = z.object({
  nodeId: z.string(),
  item: z.number().optional().describe('The loop item, for a step inside a forEach'),
  action: z.string(),
  outcome: z.enum(['undone', 'nothing-to-undo', 'irreversible', 'not-recorded', 'failed-step', 'review']),
  reason: z.string().optional(),
  undoSteps: z.array(z.string()).describe('The undo runbook\'s steps that reverse it'),
});
const UndoAnswer = z.object({
  runbookId: z.string().nullable().describe('The draft undo runbook; null when nothing can be undone'),
  url: z.string().optional(),
  message: z.string().optional(),
  definition: z.unknown().optional().describe('The draft\'s definition'),
  entries: z.array(UndoEntry).describe('Each write step of the run, newest first, and what the undo does with it'),
  notUndone: z.array(UndoEntry).describe('What the undo runbook does not put back, with the reason'),
});
const NodeState = z.object({
  id: z.string(),
  kind: Kind,
  status: z.enum(NODE_STATUSES),
  attempts: z.number(),
  startedAt: Time.optional(),
  endedAt: Time.optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  error: z.object({ message: z.string(), type: z.string().optional(), code: z.string().optional(), hint: z.string().optional() }).optional(),
  handle: z.string().optional(),
  warnings: z.array(z.string()).optional().describe("What the step's action reported without failing"),
  action: z.string().optional(),
  title: z.string().optional(),
  changes: z.array(Change).optional().describe('What the step changed, before -> after (from its output\'s __changes)'),
  approval: z
    .object({
      pendingApprovers: z.array(z.string()),
      decisions: z.array(ApprovalDecision),
      deadline: Time.optional(),
      message: z.string().optional(),
      allowSelfApproval: z.boolean(),
      quorum: z.number(),
      plan: RunPlan.optional().describe('What approving lets run, planned when the step started waiting'),
      planError: z.string().optional(),
    })
    .optional(),
  progress: z.object({ total: z.number(), done: z.number(), succeeded: z.number(), failed: z.number(), warned: z.number().optional() }).optional(),
  child: z
    .object({ runId: z.string(), runbook: z.string(), version: z.number(), status: z.enum(RUN_STATUSES).optional(), message: z.string().optional() })
    .optional()
    .describe('A sub-runbook step: its child run (GET /api/runs/{runId}) and how it ended'),
});
const RunGraph = z.object({
  nodes: z.array(z.object({ id: z.string(), kind: z.string(), label: z.string().optional(), action: z.string().optional(), position: z.object({ x: z.number(), y: z.number() }).optional() })),
  edges: z.array(z.object({ source: z.string(), sourceHandle: z.string(), target: z.string() })),
});
const RunDetail = z.object({
  id: z.string(),
  status: RunStatus,
  temporalStatus: z.string(),
  runbook: z.string().optional(),
  runbookName: z.string().optional(),
  version: z.number().optional(),
  tenant: z.string(),
  startedBy: z.string().optional(),
  test: z.boolean(),
  startedAt: Time,
  endedAt: Time.optional(),
  message: z.string().optional(),
  inputs: z.unknown().optional().describe('The run\'s inputs; secrets shown as [secret] or [redacted]'),
  origin: z.unknown().optional().describe('Where the run came from (bulk file, schedule, retry or re-run of a run)'),
  nodes: z.record(z.string(), NodeState),
  decisions: z.array(ApprovalDecision.extend({ node: z.string() })),
  graph: RunGraph.optional().describe('The run\'s steps and edges, without parameters'),
  temporalUrl: z.string().optional(),
  runId: z.string().describe("Temporal's run id"),
  parentId: z.string().optional().describe('The run whose loop this item run belongs to'),
  definitionHash: z.string().optional().describe('sha256 of the canonical JSON of the version that ran'),
  reason: z.string().optional().describe('Why the run was asked for'),
  warnings: z.array(z.string()).describe('Every warning of the run (docs/runs.md)'),
  plan: z.unknown().optional().describe('The plan shown before the run, when one was made'),
  pendingApprovers: z.array(z.string()),
  progress: z.object({ done: z.number(), total: z.number() }).optional(),
  temporal: z.object({ namespace: z.string(), workflowId: z.string(), runId: z.string() }),
  record: z
    .object({ recordedAt: Time, final: z.boolean(), source: z.enum(['temporal', 'record']), inTemporal: z.boolean().optional() })
    .describe('Where this answer came from: Temporal now, or the run record (inTemporal false: Temporal no longer keeps the run)'),
});
const Accepted = z.object({ accepted: z.literal(true) });
const RetryAnswer = z.union([
  z.object({ accepted: z.literal(true), nodeId: z.string() }).describe('The paused step is retried'),
  z.object({ id: z.string(), url: z.string(), reused: z.array(z.string()) }).describe('A new run reusing the steps that succeeded'),
]);
const ApprovalItem = z.object({
  runId: z.string(),
  nodeId: z.string(),
  runbook: z.string().optional(),
  runbookName: z.string().optional(),
  version: z.number().optional(),
  tenant: z.string().optional(),
  startedBy: z.string().optional(),
  startedAt: Time.optional(),
  message: z.string().optional(),
  deadline: Time.optional(),
  quorum: z.number(),
  decisions: z.array(ApprovalDecision),
  selfApprovalAllowed: z.boolean(),
  canDecide: z.boolean().describe('False when I started the run and the step does not allow self-approval'),
  inputs: z.unknown().optional(),
  onApproval: z.array(z.object({ id: z.string(), kind: z.string(), label: z.string().optional(), action: z.string().optional(), title: z.string().optional() })).describe('The steps that run once approved'),
  plan: RunPlan.optional().describe('What approving lets run (docs/plan.md)'),
  planError: z.string().optional().describe('Why there is no plan'),
  decideUrl: z.string(),
});

// ---- schedules ----

const NewSchedule = z
  .strictObject({
    runbookId: z.string().min(1),
    version: z.number().int().min(1).optional().describe('Pinned version; the latest at creation when absent'),
    tenant: z.string().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    cron: z.array(z.string().min(1)).optional().describe('Cron expressions, e.g. "0 7 * * 1-5"'),
    every: z
      .array(z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as "30s", "15m", "1d"'))
      .optional()
      .describe('Intervals, e.g. "1h"'),
    at: z.iso.datetime({ offset: true }).optional().describe('One-off: run once at this time'),
    timezone: z.string().optional().describe('IANA time zone of cron times, e.g. Europe/Stockholm'),
    startAt: z.iso.datetime({ offset: true }).optional(),
    endAt: z.iso.datetime({ offset: true }).optional(),
    overlap: z.enum(['skip', 'buffer', 'bufferAll', 'allow', 'cancelOther']).default('skip').describe('When a run is still going at the next time'),
    paused: z.boolean().default(false),
    note: z.string().max(500).optional(),
  })
  .refine((b) => [b.cron?.length, b.every?.length, b.at].filter(Boolean).length === 1, { message: 'give exactly one of cron, every or at', path: ['cron'] })
  .refine((b) => !b.timezone || Intl.supportedValuesOf('timeZone').includes(b.timezone) || b.timezone === 'UTC', { message: 'an IANA time zone such as Europe/Stockholm', path: ['timezone'] })
  .refine((b) => !b.at || Date.parse(b.at) > Date.now(), { message: 'must be in the future', path: ['at'] });
const ScheduleNote = z.strictObject({ note: z.string().max(500).optional() });
const Schedule = z.object({
  id: z.string(),
  runbookId: z.string().optional(),
  version: z.number().optional(),
  tenant: z.string().optional(),
  createdBy: z.string().optional(),
  inputs: z.unknown().optional().describe('The runs\' inputs; secrets shown as [secret] or [redacted]'),
  exists: z.boolean().describe('False when Temporal no longer has the schedule'),
  paused: z.boolean(),
  note: z.string().optional(),
  oneOff: z.boolean(),
  remainingActions: z.number().optional(),
  spec: z
    .object({ intervals: z.array(z.unknown()).optional(), calendars: z.array(z.unknown()).optional(), timezone: z.string().optional(), startAt: Time.optional(), endAt: Time.optional() })
    .optional(),
  overlap: z.string().optional(),
  upcoming: z.array(Time),
  recentRuns: z.array(z.object({ scheduledAt: Time, takenAt: Time, runId: z.string().optional(), status: RunStatus.optional().describe('How that run ended (or running)') })),
  lastRun: z.object({ runId: z.string(), status: RunStatus.optional(), at: Time }).optional().describe('The newest run the schedule started, and how it ended'),
});

// ---- tenants and audit ----

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const dn = z.string().regex(/^(OU|CN|DC)=.+/i, 'a distinguished name such as OU=Staff,DC=corp,DC=contoso,DC=com');
const OnPremises = z.strictObject({
  name: z.string().regex(AD_CONNECTION_NAME, 'lower-case letters, digits, - and _').describe('AD connection name; its on-premises worker polls tenantflow-onprem-<name>'),
  domain: z.string().regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'a DNS domain such as corp.contoso.com').describe('DNS name of the AD domain'),
  hosts: z.array(z.string().min(1)).min(1).describe('Domain controllers: host names (LDAPS, 636), ldaps://host:port or ldap://host (StartTLS)'),
  bindUser: z.string().min(1).describe('Service account: user principal name, DOMAIN\\name or distinguished name'),
  bindPassword: z.string().min(1).optional().describe('Its password; stored sealed, never returned. Leave out to keep the current one'),
  caPem: z.string().includes('BEGIN CERTIFICATE', { message: 'a PEM certificate' }).optional().describe("CA that issued the DCs' certificates"),
  baseDn: dn.optional(),
  usersOu: dn.optional().describe('Default OU for new users'),
  groupsOu: dn.optional().describe('Default OU for new groups'),
  leaversOu: dn.optional().describe('OU leavers are moved to'),
  syncOus: z.array(dn).optional().describe('OUs that Entra Connect synchronises'),
  anchorAttribute: z.enum(ANCHOR_ATTRIBUTES).optional().describe('The sync anchor (sourceAnchor) attribute'),
  upnSuffix: z.string().optional().describe('UPN suffix for new users'),
});
// Every field bounded; unknown fields (__proto__, constructor, typos) are refused by name.
const tenantFields = {
  displayName: z.string().max(200).optional(),
  tenantId: z.string().min(1).max(253).describe('Entra tenant id (GUID) or verified domain'),
  clientId: z.string().min(1).max(100).describe('Application (client) id of the app registration'),
  clientSecret: z.string().min(1).max(1000).optional().describe('Client secret; stored sealed, never returned. Leave out to keep the current one'),
  certificate: z.string().max(50_000).includes('PRIVATE KEY', { message: 'a PEM with the certificate and its private key' }).optional().describe('PEM certificate + private key, instead of a secret'),
  authorityHost: z.url().max(2000).optional().describe('Sign-in authority; Microsoft\'s public cloud when absent'),
  graphUrl: z.url().max(2000).optional().describe('Graph root; https://graph.microsoft.com when absent'),
  caPem: z.string().max(50_000).optional().describe('Extra CA certificate to trust (a private emulator)'),
  mailFrom: z.string().max(320).optional().describe('Mailbox that sends notification mail in this tenant'),
  onPremises: OnPremises.nullable().optional().describe("The on-premises Active Directory (hybrid): its ad steps run on this connection's on-premises worker. null removes it"),
};
const notBoth = (b: { clientSecret?: string; certificate?: string }) => !(b.clientSecret && b.certificate);
const notBothError = { message: 'give a client secret or a certificate, not both', path: ['certificate'] };
const TenantBody = z.strictObject(tenantFields).refine(notBoth, notBothError);
const NewTenant = z.strictObject({ ...tenantFields, name: z.string().max(63).regex(TENANT_NAME, 'lower-case letters, digits, - and _') }).refine(notBoth, notBothError);
const TenantInfo = z.object({
  name: z.string(),
  displayName: z.string().optional(),
  tenantId: z.string(),
  clientId: z.string(),
  credential: z.enum(['secret', 'certificate', 'none']),
  authorityHost: z.string().optional(),
  graphUrl: z.string().optional(),
  mailFrom: z.string().optional(),
  builtin: z.boolean().describe('Configured outside the database (the sandbox, M365_* variables): read-only here'),
  createdAt: Time.optional(),
  updatedAt: Time.optional(),
});
const ConnectionTest = z.object({ ok: z.boolean(), tokenAcquired: z.boolean(), error: z.string().optional(), granted: z.array(z.string()), required: z.array(z.string()), missing: z.array(z.string()) });
const PickQuery = z.object({ search: z.string().max(100).optional(), top: z.coerce.number().int().min(1).max(100).default(25) });
const Pick = z.object({
  id: z.string(),
  value: z.string(),
  label: z.string(),
  department: z.string().nullish(),
  mail: z.string().nullish(),
  available: z.number().optional().describe('Licences: units left'),
  detail: z.string().optional().describe('More to tell choices apart: the address and kind of a mailbox, the system and user of a device, the address of a site or OneDrive'),
});
const AuditQuery = z.object({
  actor: z.string().optional(),
  action: z.string().optional().describe('An action or a prefix: run, run.started, approval, ...'),
  target: z.string().optional(),
  tenant: z.string().optional(),
  q: z.string().optional().describe('Free text'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().optional().describe('Entries older than this id (paging)'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  format: z.enum(['json', 'csv']).default('json'),
});
const AuditEntry = z.object({
  id: z.number(),
  at: Time,
  actor: z.string(),
  action: z.string(),
  target: z.string().optional(),
  tenant: z.string().optional(),
  detail: z.unknown().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  prevHash: z.string().optional().describe('The hash of the entry before it (the hash chain)'),
  hash: z.string().optional().describe('sha256 over prevHash and this entry (runbook/fingerprint.ts)'),
});

// ---- proving runs: evidence, the audit chain, retention, batches (docs/runs.md) ----

const ChainCheck = z.union([
  z.object({ ok: z.literal(true), entries: z.number(), head: z.string(), firstId: z.number().optional(), lastId: z.number().optional() }),
  z.object({ ok: z.literal(false), entries: z.number(), brokenAt: z.number().describe('The first entry whose link is broken'), reason: z.string(), expected: z.string().optional(), found: z.string().nullable().optional() }),
]);
const ChainedEntry = z.object({
  id: z.number(),
  at: Time,
  actor: z.string(),
  action: z.string(),
  target: z.string().nullish(),
  tenant: z.string().nullish(),
  detail: z.unknown().optional(),
  ip: z.string().nullish(),
  userAgent: z.string().nullish(),
  prevHash: z.string().nullish(),
  hash: z.string().nullish(),
});
const EvidenceQuery = z.object({ format: z.enum(['html', 'json']).default('html').describe('html (prints well) or json') });
const EvidencePack = z.object({
  kind: z.literal('tenantflow.evidence'),
  formatVersion: z.literal(1),
  generatedAt: Time,
  generatedBy: z.string(),
  run: z.object({ id: z.string(), status: RunStatus, statusText: z.string(), message: z.string().optional(), tenant: z.string().optional(), test: z.boolean(), startedAt: Time, endedAt: Time.optional(), durationMs: z.number().optional(), finished: z.boolean() }),
  request: z.object({ requestedBy: z.string().optional(), reason: z.string().optional(), origin: z.record(z.string(), z.unknown()).optional() }),
  runbook: z.object({ id: z.string().optional(), name: z.string().optional(), version: z.number().optional(), definitionHash: z.string().optional() }),
  temporal: z.object({ namespace: z.string(), workflowId: z.string(), runId: z.string(), url: z.string().optional() }),
  inputs: z.unknown().optional(),
  plan: z.unknown(),
  approvals: z.array(z.object({ step: z.string(), decision: z.string(), by: z.string(), at: Time, comment: z.string().optional(), refused: z.string().optional() })),
  steps: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      action: z.string().optional(),
      title: z.string().optional(),
      status: z.string(),
      attempts: z.number(),
      startedAt: Time.optional(),
      endedAt: Time.optional(),
      durationMs: z.number().optional(),
      handle: z.string().optional(),
      warnings: z.array(z.string()),
      error: z.object({ message: z.string(), code: z.string().optional(), hint: z.string().optional(), type: z.string().optional() }).optional(),
    }),
  ),
  changes: z.array(Change.extend({ step: z.string(), action: z.string().optional(), run: z.string().optional() })),
  writes: z.array(z.object({ step: z.string(), action: z.string().optional(), title: z.string().optional(), input: z.unknown(), output: z.unknown(), run: z.string().optional() })),
  warnings: z.array(z.string()),
  errors: z.array(z.object({ step: z.string(), message: z.string(), code: z.string().optional(), hint: z.string().optional() })),
  items: z.array(z.object({ id: z.string(), status: RunStatus, message: z.string().optional() })),
  audit: z.object({
    entries: z.array(z.object({ id: z.number(), at: Time, actor: z.string(), action: z.string(), target: z.string().optional(), detail: z.unknown().optional(), prevHash: z.string().optional(), hash: z.string().optional() })),
    head: z.object({ id: z.number(), hash: z.string() }).optional(),
    chain: ChainCheck,
  }),
  record: z.object({ recordedAt: Time, final: z.boolean(), source: z.string() }),
  digest: z.string().describe('sha256 of the canonical JSON of everything else in the pack'),
});
const AuditProtection = z.object({ engine: z.enum(['pglite', 'postgres']), role: z.string().optional(), canRewrite: z.array(z.string()), summary: z.string() });
const ChainQuery = z.object({
  after: z.coerce.number().int().min(0).default(0).describe('Entries with an id above this, oldest first'),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
const Retention = z.strictObject({
  days: z.number().int().min(1).max(36_500).nullable().describe('Days a finished run is kept after it ended; null keeps every run forever'),
});
const BatchRowStatus = z.enum(['pending', 'running', 'succeeded', 'succeeded-with-warnings', 'failed', 'skipped']);
const Batch = z.object({
  batch: z.string(),
  tenant: z.string().optional(),
  runbook: z.string().optional(),
  version: z.number().optional(),
  startedBy: z.string().optional(),
  rows: z.number().optional().describe('Rows in the file'),
  round: z.number().optional().describe('1, and one more per "retry failed rows"'),
  counts: z.record(z.string(), z.number()).optional().describe('Rows by status: pending, running, succeeded, succeeded-with-warnings, failed, skipped'),
  runs: z.number(),
  statuses: z.record(z.string(), z.number()).describe('How many runs ended how'),
  status: RunStatus.describe('The batch: running while any row is; failed when all failed; partially failed when some did'),
  createdAt: Time.optional(),
  endedAt: Time.optional(),
  runsUrl: z.string(),
  rowsUrl: z.string().optional(),
});
const BatchRow = z.object({
  line: z.number().describe('Line in the file (the header is line 1)'),
  status: BatchRowStatus,
  inputs: z.unknown().describe('The row (secret inputs redacted)'),
  problems: z.array(RowProblem).optional(),
  error: z.string().optional().describe('Why it failed or was skipped; the warnings when it succeeded with warnings'),
  runId: z.string().optional().describe("The row's run (its latest attempt)"),
  attempt: z.number(),
});
const BatchRowQuery = z.object({
  status: z
    .string()
    .optional()
    .describe(`Comma-separated: ${BatchRowStatus.options.join(', ')}`)
    .refine((s) => !s || s.split(',').every((x) => (BatchRowStatus.options as readonly string[]).includes(x)), `one or more of ${BatchRowStatus.options.join(', ')}`),
  after: z.coerce.number().int().min(0).optional().describe('Rows after this line (the `next` of the page before)'),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'csv']).default('json').describe('csv: the whole per-row report as a file (the filter applies)'),
});

// ---- the home dashboard (server/dashboard.ts, docs/dashboard.md) ----
const DashboardQuery = z.object({
  tenant: z.string().optional().describe('One tenant (otherwise every tenant the caller sees)'),
  days: z.coerce.number().int().min(1).max(90).default(14).describe('Days of history, today included'),
});
const Dashboard = z.object({
  from: Time.describe('Start of the first day counted (UTC)'),
  tenants: z.array(z.string()).describe('The tenants counted'),
  days: z.array(z.object({ day: z.string().describe('YYYY-MM-DD (UTC)'), counts: z.record(z.string(), z.number()).describe('Runs started that day, by status'), total: z.number() })),
  failingSteps: z.array(
    z.object({
      runbook: z.string().optional(),
      runbookName: z.string().optional(),
      step: z.string(),
      action: z.string().optional(),
      failures: z.number(),
      lastError: z.string(),
      code: z.string().optional(),
      lastRun: Time,
      tenant: z.string().optional(),
    }),
  ).describe('Action steps that failed most in the period, with their latest error'),
  approvals: z.array(
    z.object({ run: z.string(), runbook: z.string().optional(), runbookName: z.string().optional(), tenant: z.string().optional(), step: z.string(), message: z.string().optional(), approvers: z.array(z.string()), since: Time, waitingMs: z.number() }),
  ).describe('Approval steps waiting now, longest waiting first'),
  batches: z.array(
    z.object({ batch: z.string(), runbook: z.string().optional(), tenant: z.string().optional(), runs: z.number(), open: z.number().describe('Runs not ended yet'), statuses: z.record(z.string(), z.number()), startedAt: Time }),
  ).describe('Bulk batches with open runs or started in the period'),
  throttling: z.array(
    z.object({ tenant: z.string(), throttled: z.number().describe('Steps whose recorded error is a 429 (throttled) answer'), steps: z.number().describe('Action steps recorded'), lastAt: Time.optional() }),
  ).describe('Microsoft 365 throttling per tenant, from the recorded step errors'),
  live: z
    .object({
      configured: z.boolean().describe('Whether worker metrics URLs are set (TENANTFLOW_WORKER_METRICS)'),
      gates: z.array(z.object({ worker: z.string(), tenant: z.string(), service: z.string(), budget: z.string(), rate: z.number().describe('Requests per second the gate allows now') })),
      answers: z.array(z.object({ tenant: z.string(), service: z.string(), total: z.number(), throttled: z.number().describe('Answered 429') })).describe('Microsoft 365 answers since each worker started'),
      unreachable: z.array(z.object({ worker: z.string(), reason: z.string() })),
    })
    .describe("The throttle gates now, read from the workers' own /metrics"),
});

// ---- triggers ----

export const TRIGGER_KINDS = ['webhook'] as const;
/** Input name -> JSONata expression over the event (`body` for a webhook). */
const InputMapping = z.record(z.string().min(1), z.string().min(1).max(2000)).describe('Runbook input name -> JSONata expression over the event: `body` is the webhook\'s JSON body, e.g. "body.user.upn"');
const NewTrigger = z.strictObject({
  kind: z.enum(TRIGGER_KINDS).describe('webhook: a URL with its own secret (HMAC-SHA256 over timestamp and body)'),
  name: z.string().max(200).default(''),
  runbookId: z.string().min(1),
  version: z.number().int().min(1).optional().describe('Pinned version; the latest at creation when absent'),
  tenant: z.string().min(1).optional(),
  filter: z.string().max(2000).optional().describe('JSONata over the event; a run starts only when it is true'),
  inputs: InputMapping.default({}),
  paused: z.boolean().default(false),
});
const Trigger = z.object({
  id: z.string(),
  kind: z.enum(TRIGGER_KINDS),
  name: z.string(),
  runbookId: z.string(),
  version: z.number(),
  tenant: z.string(),
  filter: z.string().optional(),
  inputs: z.record(z.string(), z.string()),
  paused: z.boolean(),
  createdBy: z.string(),
  createdAt: Time,
  url: z.string().optional().describe('Webhook: the path to POST to'),
  fired: z.number().describe('Runs this trigger has started'),
  lastFiredAt: Time.optional(),
});
const TriggerCreated = Trigger.extend({ secret: z.string().optional().describe('Webhook: the signing secret, shown only now (and on rotate)') });
const TriggerNote = z.strictObject({ note: z.string().max(500).optional() });
const TriggerFiring = z.object({ eventKey: z.string(), runId: z.string().optional(), outcome: z.string(), at: Time });
const HookAnswer = z.object({ triggerId: z.string(), started: z.boolean(), runId: z.string().optional(), reason: z.string().optional() });
const triggerOp = (op: 'pause' | 'resume') =>
  ({ tag: 'triggers', summary: `${op[0]!.toUpperCase()}${op.slice(1)} the trigger`, roles: 'designer of the tenant, or who created it', body: TriggerNote, response: Trigger, statuses: { 404: 'no such trigger' } }) as const;

const scheduleOp = (op: 'pause' | 'resume' | 'trigger') =>
  ({
    tag: 'schedules',
    summary: op === 'trigger' ? 'Start a run now' : `${op[0]!.toUpperCase()}${op.slice(1)} the schedule`,
    roles: 'operator of the tenant, or who created it',
    body: ScheduleNote,
    response: Schedule,
    statuses: { 404: 'no such schedule' },
  }) as const;
const picker = (what: string, how: string) =>
  ({
    tag: 'tenants',
    summary: `Pick ${what} of the tenant (form pickers): ${how}`,
    roles: 'any with a role on it',
    query: PickQuery,
    response: z.array(Pick),
    statuses: { 404: 'no such tenant', 502: 'the tenant did not answer' },
  }) as const;

/** Shapes the OpenAPI document names (components/schemas), beside one answer per route. */
export const SHAPES: Record<string, z.ZodType> = {
  Error: ErrorBody,
  Problem,
  User,
  Grant,
  Action,
  RunbookSummary,
  RunbookWithDraft,
  RunbookVersion,
  RunbookDefinition,
  RunbookInput,
  RunListItem,
  NodeState,
  ApprovalDecision,
  RunPlan,
  StepPlan,
  Change,
  Schedule,
  Trigger,
  TenantInfo,
};

/** Every route of the API, in the order the OpenAPI document lists them. */
export const API = {
  // ---- auth ----
  'POST /api/auth/login': { tag: 'auth', summary: 'Sign in with email and password (sets the session cookie)', access: 'public', body: Login, response: z.object({ user: User, csrfToken: z.string(), mustChangePassword: z.boolean(), grants: z.array(Grant) }) },
  'POST /api/auth/logout': { tag: 'auth', summary: 'Sign out (ends the session)', access: 'public', response: Ok('signedOut') },
  'GET /api/auth/me': { tag: 'auth', summary: 'Who I am: account, role grants, CSRF token of the session', response: Me },
  'POST /api/auth/password': { tag: 'auth', summary: 'Change my password (required after a one-time password)', body: PasswordChange, response: Ok('changed') },
  'GET /api/auth/tokens': { tag: 'auth', summary: 'My API tokens (never their values)', response: z.array(ApiToken) },
  'POST /api/auth/tokens': { tag: 'auth', summary: 'Create an API token; its value is shown only in this response', body: NewToken, response: z.object({ id: z.string(), name: z.string(), token: z.string() }), statuses: { 201: 'created' } },
  'DELETE /api/auth/tokens/:id': { tag: 'auth', summary: 'Revoke one of my API tokens', response: Ok('revoked'), statuses: { 404: 'no such token' } },
  'GET /api/auth/oidc': { tag: 'auth', summary: 'Whether OpenID Connect sign-in is configured', access: 'public', response: z.object({ enabled: z.boolean(), issuer: z.string().optional(), loginUrl: z.string().optional() }) },
  'GET /api/auth/oidc/login': {
    tag: 'auth',
    summary: 'Start OpenID Connect sign-in: redirects to the identity provider',
    access: 'public',
    query: z.object({ returnTo: z.string().regex(/^\/(?!\/)/, 'a path on this site').optional() }),
    statuses: { 302: 'redirect to the identity provider', 404: 'OpenID Connect is not configured' },
  },
  'GET /api/auth/oidc/callback': {
    tag: 'auth',
    summary: 'OpenID Connect redirect target: redeems the code, checks the ID token, starts a session',
    access: 'public',
    query: z.object({ code: z.string().optional(), state: z.string().optional(), error: z.string().optional(), error_description: z.string().optional() }),
    statuses: { 302: 'signed in; redirect to where sign-in started' },
  },
  // ---- people ----
  'GET /api/users': { tag: 'people', summary: 'Accounts and their role grants', roles: 'admin', response: z.array(Account) },
  'POST /api/users': { tag: 'people', summary: 'Create an account (a one-time password is returned once when none is given)', roles: 'admin (every tenant)', body: NewUser, response: Account.extend({ oneTimePassword: z.string().optional() }), statuses: { 201: 'created', 409: 'the email is taken' } },
  'PATCH /api/users/:id': { tag: 'people', summary: 'Rename, set groups, disable or enable an account', roles: 'admin (every tenant)', body: UserPatch, response: User, statuses: { 404: 'no such account' } },
  'POST /api/users/:id/password-reset': { tag: 'people', summary: 'Replace the password with a one-time password, returned once', roles: 'admin (every tenant)', response: z.object({ oneTimePassword: z.string() }), statuses: { 404: 'no such account' } },
  'POST /api/users/:id/grants': { tag: 'people', summary: 'Grant a role on a tenant (optionally scoped)', roles: 'admin of that tenant', body: NewGrant, response: Grant, statuses: { 201: 'granted', 404: 'no such account' } },
  'DELETE /api/users/:id/grants/:grantId': { tag: 'people', summary: 'Revoke a role grant', roles: 'admin of that tenant', response: Ok('revoked'), statuses: { 404: 'no such grant' } },
  // ---- runbooks ----
  'GET /api/actions': { tag: 'runbooks', summary: 'The action catalog with JSON Schemas of inputs and outputs', roles: 'any', response: z.array(Action) },
  'GET /api/templates': {
    tag: 'runbooks',
    summary: 'The template gallery: runbook definitions with a description and documented inputs, to start a runbook from',
    roles: 'any',
    response: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), definition: RunbookDefinition, warnings: Warnings, children: z.array(z.string()).describe('Templates this one runs as sub-runbooks') })),
  },
  'POST /api/templates/:id/runbooks': {
    tag: 'runbooks',
    summary: "Create a runbook (a draft) from a template; the template's sub-runbooks are created and published first, or reused when published runbooks of their ids exist",
    roles: 'designer',
    body: CloneBody,
    response: RunbookWithDraft.extend({
      children: z.array(z.object({ id: z.string(), version: z.number(), created: z.boolean().describe('false: an already published runbook of that id is used') })).describe('The sub-runbooks the new runbook runs'),
    }),
    statuses: { 201: 'created', 404: 'no such template', 409: 'the id is taken, or a sub-runbook of that id is archived or was never published' },
  },
  'GET /api/runbooks': { tag: 'runbooks', summary: 'Runbooks (latest version, draft state)', roles: 'any', query: z.object({ archived: z.enum(['true', 'false', 'all']).default('false') }), response: z.array(RunbookSummary) },
  'POST /api/runbooks': { tag: 'runbooks', summary: 'Create a runbook with a draft', roles: 'designer', body: NewRunbook, response: RunbookWithDraft, statuses: { 201: 'created', 409: 'the id is taken', 422: 'the Idempotency-Key was used before with a different body' }, idempotent: true },
  'POST /api/runbooks/validate': {
    tag: 'runbooks',
    summary: 'Every problem of a definition, with node id and field (422 when there are problems)',
    roles: 'any',
    body: z.unknown().describe('A runbook definition: any JSON, every problem is reported'),
    response: Validated,
    statuses: { 422: 'problems found' },
    reports: [422],
  },
  'POST /api/runbooks/import': { tag: 'runbooks', summary: 'Import a runbook file (creates the runbook or a new draft, and publishes by default)', roles: 'designer', body: ImportBody, response: RunbookWithDraft.extend({ publishedVersion: z.number().optional() }), statuses: { 201: 'imported', 422: 'the definition has problems' } },
  'GET /api/runbooks/:id': {
    tag: 'runbooks',
    summary: 'A runbook: summary, its draft with problems, and the latest published definition',
    roles: 'any',
    response: RunbookWithDraft.extend({ problems: Problems.describe('Problems of the draft'), warnings: Warnings, version: z.number().optional(), definition: RunbookDefinition.optional().describe('The latest published definition') }),
    statuses: { 404: 'no such runbook' },
  },
  'PUT /api/runbooks/:id/draft': { tag: 'runbooks', summary: 'Save the draft (problems are returned, not refused)', roles: 'designer', body: DraftBody, response: RunbookWithDraft.extend({ problems: Problems, warnings: Warnings }), statuses: { 404: 'no such runbook', 409: 'archived' } },
  'POST /api/runbooks/:id/validate': { tag: 'runbooks', summary: 'Validate the draft', roles: 'any', response: Validated, statuses: { 404: 'no such runbook' } },
  'POST /api/runbooks/:id/publish': { tag: 'runbooks', summary: 'Publish the draft as the next immutable version', roles: 'designer', body: PublishBody, response: RunbookVersion.extend({ warnings: Warnings }), statuses: { 201: 'published', 422: 'the draft has problems', 409: 'archived' } },
  'GET /api/runbooks/:id/versions': { tag: 'runbooks', summary: 'Published versions, newest first', roles: 'any', response: z.array(VersionSummary), statuses: { 404: 'no such runbook' } },
  'GET /api/runbooks/:id/versions/:version': { tag: 'runbooks', summary: 'One published version', roles: 'any', response: RunbookVersion, statuses: { 404: 'no such version' } },
  'GET /api/runbooks/:id/diff': {
    tag: 'runbooks',
    summary: 'What changed between two versions (or a version and the draft)',
    roles: 'any',
    query: z.object({ from: VersionRef, to: VersionRef.default('draft') }),
    response: DefinitionDiff,
    statuses: { 404: 'no such version', 422: 'the draft is not valid' },
  },
  'PATCH /api/runbooks/:id': { tag: 'runbooks', summary: 'Archive / restore, offer as a custom action', roles: 'designer', body: RunbookPatch, response: RunbookWithDraft, statuses: { 404: 'no such runbook' } },
  'POST /api/runbooks/:id/clone': { tag: 'runbooks', summary: 'Copy the runbook (its draft) into a new runbook', roles: 'designer', body: CloneBody, response: RunbookWithDraft, statuses: { 201: 'cloned', 404: 'no such runbook', 409: 'the id is taken' } },
  'GET /api/runbooks/:id/export': {
    tag: 'runbooks',
    summary: 'The runbook as a JSON file (latest version, a version, or the draft)',
    roles: 'any',
    query: z.object({ version: VersionRef.default('latest') }),
    response: z.object({ tenantflowRunbook: z.literal(1), id: z.string(), version: z.number().optional(), customAction: z.boolean(), definition: z.unknown() }),
    statuses: { 404: 'no such version' },
  },
  'GET /api/custom-actions': { tag: 'runbooks', summary: 'Published runbooks offered to operators, with their run forms', roles: 'any', response: z.array(CustomAction) },
  // ---- runs ----
  'POST /api/runs': { tag: 'runs', summary: 'Start a run of a published runbook (or an inline definition)', roles: 'operator (custom actions), designer', body: StartRun, response: RunStarted, statuses: { 201: 'started', 404: 'no such runbook', 409: 'archived or unpublished', 422: 'the Idempotency-Key was used before with a different body' }, idempotent: true },
  'POST /api/runs/bulk': {
    tag: 'runs',
    summary: 'Check a CSV (one run per row) and store it as one batch: 202 with the batch id at once; its rows run in the background (GET /api/batches/:id). Nothing is stored while rows have problems unless skipBadRows',
    roles: 'operator (custom actions), designer',
    body: BulkRun,
    response: BulkReport,
    statuses: { 200: 'dry run: the file checked, nothing stored', 202: 'the batch is stored and its rows run in the background', 422: 'the file has problems, or the Idempotency-Key was used with a different body; nothing started' },
    reports: [200, 422],
    idempotent: true,
  },
  'POST /api/runs/plan': {
    tag: 'runs',
    summary: 'What a run would change, read from the tenant before anything changes (docs/plan.md): each step\'s changes before -> after, "no change", or why it would fail; with a CSV, one plan per row (a page at a time)',
    roles: 'operator (custom actions), designer',
    body: PlanRun,
    response: z.union([RunPlan, CsvPlan]),
    statuses: { 404: 'no such runbook', 409: 'archived or unpublished', 502: 'the worker could not make the plan', 504: 'the plan took too long' },
  },
  'GET /api/runs': { tag: 'runs', summary: 'Runs from the run records (kept after Temporal forgets them), newest first, with filters, search and paging', roles: 'viewer', query: RunQuery, response: RunList },
  'GET /api/runs/events': { tag: 'runs', summary: 'Server-Sent Events: "run" for each run whose status changed (same filters as the list)', roles: 'viewer', query: RunQuery, produces: 'text/event-stream' },
  'GET /api/runs/:id': { tag: 'runs', summary: 'A run: status, every node (attempts, input, output, error; secrets redacted), decisions, Temporal Web UI link', roles: 'viewer', response: RunDetail, statuses: { 404: 'no such run' } },
  'GET /api/runs/:id/evidence': {
    tag: 'runs',
    summary: "The run's evidence pack: who asked and why, version and hash, inputs, plan, approvals, changes before/after, warnings, errors, timings, Temporal ids, audit-chain hashes (HTML, or JSON with format=json)",
    roles: 'viewer',
    query: EvidenceQuery,
    response: EvidencePack,
    produces: 'text/html, application/json',
    statuses: { 404: 'no such run' },
  },
  'GET /api/dashboard': { tag: 'runs', summary: 'The home dashboard: runs per day by outcome, most-failing steps, approvals waiting, bulk batches, throttling per tenant (from the run records)', roles: 'viewer', query: DashboardQuery, response: Dashboard },
  'GET /api/batches/:id': { tag: 'runs', summary: 'A bulk batch (the rows of one CSV): rows by status, and its outcome (partially failed when some rows failed)', roles: 'viewer', response: Batch, statuses: { 404: 'no such batch' } },
  'GET /api/batches/:id/rows': {
    tag: 'runs',
    summary: "A batch's rows in line order, filtered by status and paged; format=csv exports the per-row report",
    roles: 'viewer',
    query: BatchRowQuery,
    response: z.object({ rows: z.array(BatchRow), next: z.number().optional().describe('Pass as `after` for the next page') }),
    produces: 'application/json, text/csv',
    statuses: { 404: 'no such batch' },
  },
  'GET /api/batches/:id/events': { tag: 'runs', summary: 'Server-Sent Events: "batch" with the row counts and status whenever they change, "end" once the batch has ended', roles: 'viewer', produces: 'text/event-stream', statuses: { 404: 'no such batch' } },
  'POST /api/batches/:id/retry': {
    tag: 'runs',
    summary: 'Retry the failed rows (only those): each gets a new run, in the batch\'s next round',
    roles: 'who started the batch, or operators of its tenant',
    response: z.object({ batch: z.string(), round: z.number(), retried: z.number() }),
    statuses: { 202: 'the failed rows run again in the background', 404: 'no such batch', 409: 'the batch is still running, or has no failed row' },
  },
  'GET /api/settings/run-retention': { tag: 'runs', summary: 'How long finished runs are kept in the run records (null: forever)', roles: 'admin of every tenant', response: z.object({ days: z.number().nullable() }) },
  'PUT /api/settings/run-retention': { tag: 'runs', summary: 'Set how long finished runs are kept in the run records, independent of Temporal (null: forever)', roles: 'admin of every tenant', body: Retention, response: z.object({ days: z.number().nullable(), purged: z.number() }) },
  'GET /api/runs/:id/events': { tag: 'runs', summary: 'Server-Sent Events: "node" on every node change, "run" on status changes, "end" when it closes', roles: 'viewer', produces: 'text/event-stream', statuses: { 404: 'no such run' } },
  'POST /api/runs/:id/cancel': { tag: 'runs', summary: 'Cancel the run and the steps in flight', roles: 'operator of the tenant, or who started it', response: Accepted, statuses: { 202: 'accepted', 404: 'no such run', 409: 'already finished' } },
  'POST /api/runs/:id/resume': { tag: 'runs', summary: 'Resume a step paused on error: retry, skip or abort', roles: 'operator of the tenant, or who started it', body: Resume, response: Accepted.extend({ action: Resume.shape.action }), statuses: { 202: 'accepted', 404: 'no such run or step', 409: 'the step is not paused' } },
  'POST /api/runs/:id/retry': {
    tag: 'runs',
    summary: 'Retry a failed step: resumes a paused step, or starts a new run of a failed run that reuses the steps that succeeded',
    roles: 'operator of the tenant, or who started it',
    body: Retry,
    response: RetryAnswer,
    statuses: { 201: 'a new run started', 202: 'the paused step is retried', 409: 'nothing to retry' },
  },
  'POST /api/runs/:id/undo': {
    tag: 'runs',
    summary: 'Generate the undo runbook of a finished run: a draft with the inverse of each change, newest first, from the before-values the steps recorded; what cannot be undone is listed',
    roles: 'designer',
    response: UndoAnswer,
    statuses: { 201: 'the draft undo runbook was created', 404: 'no such run', 409: 'the run has not finished' },
  },
  'POST /api/runs/:id/rerun': { tag: 'runs', summary: 'Start the run again with the same inputs, on its pinned version or the latest', roles: 'operator (custom actions), designer', body: Rerun, response: z.object({ id: z.string(), url: z.string(), version: z.number() }), statuses: { 201: 'started', 404: 'no such run' } },
  // ---- approvals ----
  'GET /api/approvals': { tag: 'approvals', summary: 'My inbox: steps waiting for me (as a user, by role or by group), with the run\'s context', roles: 'any', response: z.array(ApprovalItem) },
  'GET /api/runs/:id/approvals/:nodeId': { tag: 'approvals', summary: 'Never decides: explains that a decision needs an authenticated POST', access: 'public', response: ErrorBody, statuses: { 405: 'always' }, reports: [405] },
  'POST /api/runs/:id/approvals/:nodeId': {
    tag: 'approvals',
    summary: 'Approve or reject a waiting step, with a comment',
    roles: 'the step\'s approvers',
    body: Decision,
    response: Accepted.extend({ decision: Decision.shape.decision, by: z.string(), recorded: ApprovalDecision }),
    statuses: { 202: 'recorded by the workflow (the decision as recorded)', 403: 'refused by the workflow: not an approver of the step, or the requester (self-approval); `reason` says which', 404: 'no such run', 409: 'refused by the workflow: the step is not waiting, or you already decided' },
  },
  // ---- schedules ----
  'GET /api/schedules': { tag: 'schedules', summary: 'Schedules with their upcoming times', roles: 'viewer', response: z.array(Schedule) },
  'POST /api/schedules': { tag: 'schedules', summary: 'Create a recurring schedule (cron or interval) or a one-off future run (at)', roles: 'operator (custom actions), designer', body: NewSchedule, response: Schedule, statuses: { 201: 'created', 422: 'the Idempotency-Key was used before with a different body' }, idempotent: true },
  'GET /api/schedules/:id': { tag: 'schedules', summary: 'A schedule: spec, state, upcoming times, recent runs', roles: 'viewer', response: Schedule, statuses: { 404: 'no such schedule' } },
  'POST /api/schedules/:id/pause': scheduleOp('pause'),
  'POST /api/schedules/:id/resume': scheduleOp('resume'),
  'POST /api/schedules/:id/trigger': scheduleOp('trigger'),
  'DELETE /api/schedules/:id': { tag: 'schedules', summary: 'Delete the schedule (runs already started go on)', roles: 'operator of the tenant, or who created it', response: Ok('deleted'), statuses: { 404: 'no such schedule' } },
  // ---- triggers ----
  'GET /api/triggers': { tag: 'triggers', summary: 'Triggers (webhooks) of the tenants I can see', roles: 'viewer', response: z.array(Trigger) },
  'POST /api/triggers': { tag: 'triggers', summary: 'Create a trigger; a webhook answers its secret once', roles: 'designer of the tenant', body: NewTrigger, response: TriggerCreated, statuses: { 201: 'created', 404: 'no such runbook', 409: 'the runbook has no published version' } },
  'GET /api/triggers/:id': { tag: 'triggers', summary: 'One trigger', roles: 'viewer', response: Trigger, statuses: { 404: 'no such trigger' } },
  'GET /api/triggers/:id/firings': { tag: 'triggers', summary: 'What the trigger received and which run each started, newest first', roles: 'viewer', response: z.array(TriggerFiring), statuses: { 404: 'no such trigger' } },
  'POST /api/triggers/:id/pause': triggerOp('pause'),
  'POST /api/triggers/:id/resume': triggerOp('resume'),
  'POST /api/triggers/:id/rotate-secret': { tag: 'triggers', summary: 'A new webhook secret (the old one stops working at once)', roles: 'designer of the tenant, or who created it', response: TriggerCreated, statuses: { 404: 'no such trigger', 409: 'not a webhook' } },
  'DELETE /api/triggers/:id': { tag: 'triggers', summary: 'Delete the trigger (runs it started go on)', roles: 'designer of the tenant, or who created it', response: Ok('deleted'), statuses: { 404: 'no such trigger' } },
  'POST /api/hooks/:id': {
    tag: 'triggers',
    summary: 'A webhook trigger: starts its runbook. Signed with X-Tenantflow-Timestamp (Unix seconds, within 5 minutes) and X-Tenantflow-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + raw body)); a replayed signature is refused',
    access: 'public',
    body: z.unknown(),
    response: HookAnswer,
    statuses: { 201: 'a run started (runId)', 401: 'missing, stale or wrong signature', 404: 'no such webhook', 409: 'replayed request, or the trigger is paused', 415: 'the body is not application/json' },
  },
  // ---- tenants ----
  'GET /api/tenants': { tag: 'tenants', summary: 'Tenant connections I can see (never their secrets)', roles: 'any', response: z.array(TenantInfo) },
  'POST /api/tenants': { tag: 'tenants', summary: 'Add a tenant connection', roles: 'admin (every tenant)', body: NewTenant, response: TenantInfo, statuses: { 201: 'created', 409: 'the name is taken' } },
  'GET /api/tenants/:name': { tag: 'tenants', summary: 'One tenant connection (never its secret)', roles: 'any with a role on it', response: TenantInfo, statuses: { 404: 'no such tenant' } },
  'PUT /api/tenants/:name': { tag: 'tenants', summary: 'Update a tenant connection (the secret is kept when left out)', roles: 'admin of the tenant', body: TenantBody, response: TenantInfo, statuses: { 404: 'no such tenant', 409: 'built in' } },
  'DELETE /api/tenants/:name': { tag: 'tenants', summary: 'Remove a tenant connection', roles: 'admin of the tenant', response: Ok('deleted'), statuses: { 404: 'no such tenant', 409: 'built in' } },
  'POST /api/tenants/:name/test': { tag: 'tenants', summary: 'Get a token and list the permissions the catalog needs that the app lacks', roles: 'admin of the tenant', response: ConnectionTest, statuses: { 404: 'no such tenant' } },
  'GET /api/tenants/:name/users': picker('users', 'Graph /users, $search on the display name; value is the user principal name'),
  'GET /api/tenants/:name/groups': picker('groups', 'Graph /groups, $search on the display name; value is the display name'),
  'GET /api/tenants/:name/licences': picker('licences', 'Graph /subscribedSkus, the term narrows the part numbers; value is the SKU part number'),
  'GET /api/tenants/:name/mailboxes': picker('mailboxes', 'Exchange Get-Mailbox -Anr; value is the user principal name'),
  'GET /api/tenants/:name/shared-mailboxes': picker('shared mailboxes', 'Exchange Get-Mailbox -RecipientTypeDetails SharedMailbox -Anr; value is the user principal name'),
  'GET /api/tenants/:name/devices': picker('Intune managed devices', 'Graph /deviceManagement/managedDevices, device names starting with the term; value is the Intune device id'),
  'GET /api/tenants/:name/teams': picker('teams', "Graph /groups provisioned as a team, $search on the display name; value is the team's group id"),
  'GET /api/tenants/:name/teams/:team/channels': picker("a team's channels", 'Graph /teams/{id}/channels of the team (its id or exact name); value is the channel id'),
  'GET /api/tenants/:name/sites': picker('SharePoint sites', "Graph /sites?search=; value is the site's address"),
  'GET /api/tenants/:name/onedrives': picker('OneDrives', "Graph /users ($search on the display name) and each one's /drive; only users who have a OneDrive; value is the user principal name"),
  'GET /api/tenants/:name/applications': picker('app registrations', 'Graph /applications, $search on the display name; value is the application (client) id'),
  'GET /api/tenants/:name/domains': picker('domains', 'Graph /domains, the term narrows the names; value is the domain name'),
  // ---- audit ----
  'GET /api/audit': { tag: 'audit', summary: 'Search the audit log; format=csv exports it', roles: 'admin (entries of the tenants administered)', query: AuditQuery, response: z.array(AuditEntry), produces: 'application/json, text/csv' },
  'GET /api/audit/verify': { tag: 'audit', summary: "Checks the audit log's hash chain end to end and names the first broken link; says what the database itself enforces", roles: 'admin of every tenant', response: z.intersection(ChainCheck, z.object({ protection: AuditProtection })) },
  'GET /api/audit/chain': { tag: 'audit', summary: 'The audit log oldest first with every hashed field, for checking the chain outside the server', roles: 'admin of every tenant', query: ChainQuery, response: z.object({ entries: z.array(ChainedEntry), next: z.number().optional() }) },
} as const satisfies Record<RouteKey, RouteSpec>;

export type Api = typeof API;
export type ApiRoute = keyof Api;
