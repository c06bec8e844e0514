// The activities an approval step runs besides waiting: reading Entra groups' members when the
// step starts, and notifying the approvers (requests, reminders, escalations) and the requester
// (the run's end). Implemented by the worker (worker/approvers.ts); shared types only.

export interface ResolveApproverGroupsInput {
  tenant: string;
  /** Entra group object ids or display names, as the step names them. */
  groups: string[];
}

export interface ResolvedApproverGroup {
  /** As the step named it. */
  ref: string;
  id: string;
  displayName: string;
  /** Lower-case userPrincipalName and mail of every user member, nested groups included. */
  members: string[];
}

export interface ApprovalNotice {
  tenant: string;
  runId: string;
  nodeId: string;
  kind: 'request' | 'reminder' | 'escalation';
  /** The people asked (emails; role: and group: keys are Tenantflow's and are not mailed). */
  to: string[];
  requester: string;
  runbookName: string;
  message?: string;
  /** Who the run is for: its inputs, secrets left out. */
  facts: Record<string, string>;
  /** What the step will change when approved (the approval's plan, when the step has one). */
  plan?: unknown;
  deadline?: string;
  /** Teams Workflows / incoming webhook URLs of the runbook's onApproval targets: the card mentions the approvers. */
  teamsWebhooks: string[];
}

export interface RunEndNotice {
  tenant: string;
  runId: string;
  requester: string;
  runbookName: string;
  status: string;
  message?: string;
}

export interface NoticeResult {
  mailed: string[];
  posted: number;
  /** Why nothing (or not everything) was sent, e.g. no sender mailbox configured. */
  skipped?: string;
}

export interface ApproverActivities {
  resolveApproverGroups(input: ResolveApproverGroupsInput): Promise<ResolvedApproverGroup[]>;
  notifyApprovers(notice: ApprovalNotice): Promise<NoticeResult>;
  notifyRequester(notice: RunEndNotice): Promise<NoticeResult>;
}
