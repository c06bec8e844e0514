// The runbook definition: one zod schema shared by the server (validation, storage), the
// designer (forms), the worker and the interpreter workflow. A runbook is a graph of nodes and
// edges plus typed inputs and settings; see docs/runbooks.md for the language.
import { z } from 'zod';
import { RUNBOOK_ID } from './runbook-id.ts';
import type { RunPlan } from './plan-document.ts';
import { durationMs, MAX_DURATION_MS } from './duration.ts';

export { durationMs, MAX_DURATION_MS };

/** Durations as people write them: "30s", "5m", "2h", "1d", "250ms" (or a number of milliseconds). */
export const Duration = z
  .union([
    z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as "30s", "5m", "2h" or "1d"'),
    z.number().int().nonnegative(),
  ])
  .refine((d) => durationMs(d) <= MAX_DURATION_MS, 'at most 3650d (ten years)')
  .describe('A duration: "30s", "5m", "2h", "1d", or milliseconds (at most ten years)');
export type Duration = string | number;

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and _ only, starting with a letter (it is used in expressions)');

/** Input types; those that name a tenant's object (user ... domain, catalog/fields.ts PICKER_KINDS) get a picker on the run form. */
export const INPUT_TYPES = ['string', 'number', 'boolean', 'date', 'user', 'group', 'licence', 'list', 'mailbox', 'sharedMailbox', 'device', 'team', 'channel', 'site', 'oneDrive', 'application', 'domain'] as const;

export const RunbookInput = z
  .strictObject({
    name: identifier.describe('Name used in expressions as inputs.<name> and as the CSV column of bulk runs'),
    type: z
      .enum(INPUT_TYPES)
      .describe('Value type; user, group, licence, mailbox, sharedMailbox, device, team, channel (of the form\'s team input), site, oneDrive, application and domain get pickers fed by the tenant'),
    title: z.string().optional().describe('Label on the run form'),
    description: z.string().optional().describe('Help text on the run form'),
    required: z.boolean().default(false),
    default: z.unknown().optional(),
    pattern: z.string().optional().describe('Regular expression a string value must match'),
    options: z.array(z.string()).optional().describe('Allowed values (a drop-down on the run form)'),
    secret: z
      .boolean()
      .optional()
      .describe('A password or key: masked on the run form, sealed before the run starts, shown nowhere'),
  })
  .describe('A runbook input: a field of the run form and a column of a bulk CSV');
export type RunbookInput = z.infer<typeof RunbookInput>;

export const RetryPolicy = z
  .strictObject({
    maximumAttempts: z.number().int().min(1).max(100).optional().describe('Attempts including the first; 1 = no retry'),
    initialInterval: Duration.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumInterval: Duration.optional(),
  })
  .describe('How a failed step is retried');
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const ON_ERROR = ['fail', 'continue', 'route', 'pause'] as const;

const nodeBase = {
  id: identifier.describe('Unique node id; outputs are read as steps.<id>.output'),
  label: z.string().optional(),
  description: z.string().optional(),
  position: z.strictObject({ x: z.number(), y: z.number() }).optional(),
};

export const ActionNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('action'),
  action: z.string().describe('Catalog action id, e.g. user.create'),
  params: z.record(z.string(), z.unknown()).default({}).describe('Parameters: literals, or "{{ expression }}" strings'),
  retry: RetryPolicy.optional(),
  timeout: Duration.optional().describe('Longest one attempt may take'),
  onError: z
    .enum(ON_ERROR)
    .default('fail')
    .describe('fail the run, continue past the step, route to the "error" handle, or pause for an operator'),
});

export const Approvers = z.strictObject({
  users: z.array(z.string()).default([]).describe('User principal names'),
  roles: z.array(z.string()).default([]).describe('Tenantflow roles, e.g. approver'),
  groups: z.array(z.string()).default([]).describe('Tenantflow group names'),
  entraGroups: z
    .array(z.string().min(1))
    .optional()
    .describe('Entra ID groups (object id or display name): their members, nested groups included, are read from the tenant when the step starts'),
});

export const ApprovalNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('approval'),
  approvers: Approvers,
  quorum: z
    .union([z.literal('any'), z.literal('all'), z.strictObject({ count: z.number().int().min(1) })])
    .default('any')
    .describe('any one approver, all listed users, or N of them'),
  message: z.string().optional().describe('What the approver is asked; may contain {{ expressions }}'),
  timeout: Duration.optional(),
  onTimeout: z.enum(['reject', 'approve', 'route']).default('reject').describe('route = the "timeout" handle'),
  allowSelfApproval: z.boolean().optional().describe('Let the person who started the run approve it'),
  escalation: z
    .strictObject({ after: Duration, approvers: Approvers })
    .optional()
    .describe('Add these approvers when nobody decided after a while'),
  reminders: z.strictObject({ every: Duration }).optional(),
});

export const ConditionNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('condition'),
  expression: z.string().optional().describe('JSONata expression; true takes the "true" handle, otherwise "false"'),
  cases: z
    .array(z.strictObject({ handle: identifier, expression: z.string() }))
    .optional()
    .describe('Switch: the first case whose expression is true takes its handle, otherwise "default"'),
});

export const DelayNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('delay'),
  duration: Duration.optional(),
  until: z.string().optional().describe('Expression giving a date/time to wait until'),
});

export const EndNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('end'),
  status: z.enum(['succeeded', 'failed']).default('succeeded'),
  message: z.string().optional(),
});

/** What the server fixes at publish: the child's version and its definition, as published then. */
export const PinnedChild = z
  .strictObject({
    version: z.number().int().min(1),
    /** The child's published definition (its own sub-runbooks pinned in turn); checked when it was published. */
    definition: z.record(z.string(), z.unknown()),
  })
  .describe('Set by the server when the runbook is published (or test-run): never written by hand');

export const SubRunbookNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('subRunbook'),
  runbook: z.string().regex(RUNBOOK_ID, 'a runbook id: lower-case letters, digits, - and _').describe('Id of the published runbook to run'),
  version: z
    .union([z.number().int().min(1), z.literal('latest')])
    .default('latest')
    .describe('A published version, or "latest": the latest published when this runbook is published (pinned then)'),
  inputs: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The child's inputs: literals, or \"{{ expression }}\" strings evaluated in this run"),
  onError: z
    .enum(['fail', 'continue', 'route'])
    .default('fail')
    .describe('When the child fails: fail this run, continue past the step, or route to the "error" handle'),
  pinned: PinnedChild.optional(),
});

/** The kinds a forEach body may use (a body does not nest another forEach). */
export const BodyNode = z.discriminatedUnion('kind', [ActionNode, ApprovalNode, ConditionNode, DelayNode, EndNode, SubRunbookNode]);

export const ForEachNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('forEach'),
  items: z.string().describe('Expression giving the list to loop over, e.g. inputs.users or steps.find.output.users'),
  body: z
    .strictObject({
      nodes: z.array(BodyNode).min(1),
      edges: z
        .array(
          z.strictObject({
            id: z.string().optional(),
            source: z.string(),
            sourceHandle: z.string().default('out'),
            target: z.string(),
          }),
        )
        .default([]),
    })
    .describe('The steps run once per item; their expressions read the item as `item`'),
  concurrency: z.number().int().min(1).max(100).default(10).describe('Items run at the same time'),
  onItemError: z
    .enum(['continue', 'fail'])
    .default('continue')
    .describe('continue: record the failed item and go on; fail: stop the loop and fail the step'),
});

export const RunbookNode = z.discriminatedUnion('kind', [ActionNode, ApprovalNode, ConditionNode, DelayNode, EndNode, ForEachNode, SubRunbookNode]);
export type RunbookNode = z.infer<typeof RunbookNode>;
export type ForEachNode = z.infer<typeof ForEachNode>;
export type ActionNode = z.infer<typeof ActionNode>;
export type ApprovalNode = z.infer<typeof ApprovalNode>;
export type ConditionNode = z.infer<typeof ConditionNode>;
export type DelayNode = z.infer<typeof DelayNode>;
export type EndNode = z.infer<typeof EndNode>;
export type SubRunbookNode = z.infer<typeof SubRunbookNode>;
export type NodeKind = RunbookNode['kind'];

export const RunbookEdge = z.strictObject({
  id: z.string().optional(),
  source: z.string(),
  sourceHandle: z.string().default('out').describe('Which outcome of the source node this edge follows'),
  target: z.string(),
});
export type RunbookEdge = z.infer<typeof RunbookEdge>;

export const RunbookSettings = z.strictObject({
  defaultRetry: RetryPolicy.optional(),
  defaultTimeout: Duration.optional(),
  allowSelfApproval: z.boolean().default(false),
  notifications: z
    .strictObject({
      onComplete: z.array(z.string()).default([]),
      onFailure: z.array(z.string()).default([]),
      onApproval: z.array(z.string()).default([]),
      approvalCards: z
        .array(z.url({ protocol: /^https$/ }))
        .optional()
        .describe('Teams Workflows (or incoming webhook) URLs: approval requests and reminders are posted there as an Adaptive Card that mentions the approvers'),
    })
    .optional(),
});
export type RunbookSettings = z.infer<typeof RunbookSettings>;

export const RunbookDefinition = z.strictObject({
  schemaVersion: z.literal(1).default(1),
  name: z.string().min(1),
  description: z.string().optional(),
  inputs: z.array(RunbookInput).default([]),
  nodes: z.array(RunbookNode).min(1, 'a runbook needs at least one node'),
  edges: z.array(RunbookEdge).default([]),
  settings: RunbookSettings.default({ allowSelfApproval: false }),
});
export type RunbookDefinition = z.infer<typeof RunbookDefinition>;
export type RunbookDefinitionInput = z.input<typeof RunbookDefinition>;

/** The handles a node can fire, given its settings. Edges from any other handle are dangling. */
export function handlesOf(node: RunbookNode): string[] {
  switch (node.kind) {
    case 'action':
      return node.onError === 'route' ? ['out', 'error'] : ['out'];
    case 'approval':
      return node.onTimeout === 'route' ? ['approved', 'rejected', 'timeout'] : ['approved', 'rejected'];
    case 'condition':
      return node.cases ? [...node.cases.map((c) => c.handle), 'default'] : ['true', 'false'];
    case 'delay':
      return ['out'];
    case 'end':
      return [];
    case 'forEach':
      return ['out'];
    case 'subRunbook':
      return node.onError === 'route' ? ['out', 'error'] : ['out'];
  }
}

// ---- Run state (the interpreter's query result; the API and designer show it) ----

export const NODE_STATUSES = [
  'pending',
  'running',
  'waiting-approval',
  'paused',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
/** How a run ended: the same word in the workflow result, visibility, the API, the designer, the CLI and notifications. */
export const OUTCOMES = ['succeeded', 'succeeded-with-warnings', 'partially-failed', 'failed', 'rejected', 'cancelled', 'timed-out'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const RUN_STATUSES = ['running', 'waiting-approval', 'paused', ...OUTCOMES] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** What each status is called where people read it. */
export const STATUS_WORDS: Record<RunStatus, string> = {
  running: 'running',
  'waiting-approval': 'waiting for approval',
  paused: 'paused',
  succeeded: 'succeeded',
  'succeeded-with-warnings': 'succeeded with warnings',
  'partially-failed': 'partially failed',
  failed: 'failed',
  rejected: 'rejected',
  cancelled: 'cancelled',
  'timed-out': 'timed out',
};
export const isOutcome = (s: string | undefined): s is Outcome => (OUTCOMES as readonly string[]).includes(s ?? '');

export interface StepError {
  message: string;
  type?: string;
  code?: string;
  hint?: string;
}

export interface ApprovalDecision {
  by: string;
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
  refused?: string;
}

/** Progress and per-item results of a forEach step. */
export interface ItemResult {
  index: number;
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The item run's own outcome when it is not plain success or failure (succeeded-with-warnings, rejected, ...). */
  outcome?: RunStatus;
  runId: string;
  error?: string;
  output?: unknown;
}

export interface LoopProgress {
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  /** Items that succeeded with warnings (or were rejected / timed out on an approval): counted in succeeded too. */
  warned?: number;
}

export interface NodeState {
  id: string;
  kind: NodeKind;
  status: NodeStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  input?: unknown;
  output?: unknown;
  error?: StepError;
  handle?: string;
  /** What the step's action reported without failing ("E5 was not assigned"), each shown to people. */
  warnings?: string[];
  approval?: {
    pendingApprovers: string[];
    decisions: ApprovalDecision[];
    deadline?: string;
    message?: string;
    allowSelfApproval: boolean;
    quorum: number;
    /** What approving lets run: the plan of the steps after the "approved" handle, made when the step started waiting. */
    plan?: RunPlan;
    /** Why there is no plan (the tenant could not be read). */
    planError?: string;
    /** Entra groups resolved when the step started (their members are among pendingApprovers). */
    entraGroups?: { ref: string; id: string; displayName: string; members: number }[];
    /** The workflow itself sends this step's requests and reminders to the approvers (patch approval-notify). */
    notifies?: boolean;
  };
  progress?: LoopProgress;
  /** A sub-runbook step: the child run's id and how it ended (its own words: succeeded with warnings, partially failed, rejected...). */
  child?: { runId: string; runbook: string; version: number; status?: RunStatus; message?: string };
}

export interface RunContext {
  startedBy: string;
  tenant: string;
  runbookId: string;
  version: number;
  /** A test run goes to the sandbox tenant whatever `tenant` says. */
  test?: boolean;
  /** The tenant's AD connection (hybrid): its `ad` steps go to that connection's on-premises worker. */
  onPremises?: string;
}

export interface RunbookWorkflowInput {
  definition: RunbookDefinition;
  inputs: Record<string, unknown>;
  run: RunContext;
  /** Set when this run is one item of a forEach: the item, and its place in the list. */
  item?: { value: unknown; index: number };
}

export interface RunState {
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  message?: string;
  /** Every warning of the run, once it ended: steps continued past, failed loop items, actions' own warnings. */
  warnings?: string[];
  nodes: Record<string, NodeState>;
}
