// The action contract: everything about an action except how it talks to Microsoft 365.
// Contracts carry no Graph code, so the server and the designer import them freely; the
// worker pairs each with a handler (worker/actions/) and registers it as a Temporal activity
// named by the action's id.
import { z } from 'zod';

export const CATEGORIES = [
  'user',
  'licence',
  'group',
  'authentication',
  'directory',
  'mailbox',
  'device',
  'teams',
  'sharepoint',
  'application',
  'notification',
  'tags',
  'investigation',
  'ad',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** How a category is named to people: palette groups in the designer and sections of docs/actions.md. */
export const CATEGORY_TITLES: Record<Category, string> = {
  user: 'Users',
  licence: 'Licences',
  group: 'Groups',
  authentication: 'Authentication and MFA',
  directory: 'Directory',
  mailbox: 'Mailboxes',
  device: 'Devices',
  teams: 'Teams',
  sharepoint: 'SharePoint',
  application: 'Applications',
  notification: 'Notifications',
  tags: 'Tenantflow tags',
  investigation: 'Investigation',
  ad: 'On-premises Active Directory',
};

/**
 * Actions of the `ad` category run inside the customer's network, on the on-premises worker of the
 * tenant's AD connection; their ids start with "ad." (the registry checks it), so the workflow can
 * route them without loading the catalog.
 */
export function isOnPremisesAction(actionId: string): boolean {
  return actionId.startsWith('ad.');
}

/** The task queue an AD connection's on-premises worker polls. */
export function onPremisesTaskQueue(adConnection: string): string {
  return `tenantflow-onprem-${adConnection}`;
}

export interface ActionContract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Stable id in the operator's words, e.g. user.disableSignIn; also the Temporal activity name. */
  id: string;
  title: string;
  category: Category;
  description: string;
  input: I;
  output: O;
  /** Microsoft Graph application permissions the app registration needs (least privileged first). */
  permissions: string[];
  /** Exchange Online / SharePoint permissions where the action uses those APIs. */
  otherPermissions?: string[];
  /** Rights the on-premises AD connection's bind account needs (category ad), as delegated on the OU. */
  adRights?: string[];
  /** Safe to run for many targets at once (bulk runs and forEach). */
  bulk: boolean;
  /** The action that reverses this one, if any. */
  undo?: string;
  /** Input fields that hold secrets: redacted wherever inputs are shown. */
  secretFields?: string[];
}

export function defineAction<I extends z.ZodType, O extends z.ZodType>(c: ActionContract<I, O>): ActionContract<I, O> {
  return c;
}

export type ActionInput<C extends ActionContract> = z.infer<C['input']>;
export type ActionOutput<C extends ActionContract> = z.infer<C['output']>;

/** The envelope every action activity receives: no secrets, only names that the worker resolves. */
export interface ActionActivityInput {
  /** Tenant connection id; the worker looks up its credentials itself. */
  tenant: string;
  params: unknown;
}

export interface ActionActivityResult {
  output: unknown;
  attempt: number;
  /** What the action noticed without failing ("E5 was not assigned to ..."); the run ends "succeeded with warnings". */
  warnings?: string[];
}

/** Details attached to an action's failure, read by the interpreter and shown on the run. */
export interface ActionFailureDetails {
  attempt: number;
  code?: string;
  hint?: string;
  status?: number;
  field?: string;
}
