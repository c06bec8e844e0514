import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Search attributes Tenantflow writes on every run, so run lists and the approvals inbox
// come straight from Temporal visibility. Names and types here are the single source:
// the dev server registers them at start, and the server registers them on external clusters.
export const SEARCH_ATTRIBUTES = {
  TenantflowStatus: 'Keyword',
  TenantflowRunbook: 'Keyword',
  TenantflowVersion: 'Int',
  TenantflowTenant: 'Keyword',
  TenantflowRequester: 'Keyword',
  TenantflowPendingApprovers: 'KeywordList',
  /** "done/total" steps, for the task board's progress bar. */
  TenantflowProgress: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys, for the workflow's upserts and the client's start options and queries. */
export const SA = {
  status: defineSearchAttributeKey('TenantflowStatus', SearchAttributeType.KEYWORD),
  runbook: defineSearchAttributeKey('TenantflowRunbook', SearchAttributeType.KEYWORD),
  version: defineSearchAttributeKey('TenantflowVersion', SearchAttributeType.INT),
  tenant: defineSearchAttributeKey('TenantflowTenant', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('TenantflowRequester', SearchAttributeType.KEYWORD),
  pendingApprovers: defineSearchAttributeKey('TenantflowPendingApprovers', SearchAttributeType.KEYWORD_LIST),
  progress: defineSearchAttributeKey('TenantflowProgress', SearchAttributeType.KEYWORD),
};

/** The TenantflowProgress value: steps finished of all the run's steps. */
export const progressValue = (done: number, total: number): string => `${done}/${total}`;

/**
 * What visibility says of a run before its first step, set by whoever starts it (the server, a
 * loop for its items): a run that has the patch baseline (workflows/patches.ts) then publishes
 * nothing until it has something new to say.
 */
export function visibilityAtStart(steps: number) {
  return [
    { key: SA.status, value: 'running' },
    { key: SA.progress, value: progressValue(0, steps) },
  ] as const;
}
