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
