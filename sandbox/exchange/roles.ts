// Exchange Online's role-based access control for an app (app-only access with Exchange.ManageAsApp):
// what the app may run comes from the Entra roles its service principal holds. Exchange hides what a
// role does not grant: a cmdlet outside the caller's roles "is not recognized", a parameter outside
// them "cannot be found", exactly the answers for a cmdlet or parameter that does not exist.
//
// - Global Administrator, Exchange Administrator (Organization Management): everything.
// - Exchange Recipient Administrator (Recipient Management): recipients (mailboxes, permissions,
//   contacts, mail users, groups), but not organisation settings (retention and address book policies),
//   not quarantine, and not the parameters of the Legal Hold role (litigation hold) or the Audit Logs
//   role (mailbox auditing).
// - Security Administrator: quarantine.
// Simplification: an app whose service principal holds none of these roles is treated as Exchange
// Administrator (real Exchange refuses it: "The role assigned to application ... isn't supported").
import type { TenantStore } from '../store.ts';
import type { Caller } from '../types.ts';
import { roleState } from '../graph/roles.ts';

/** Which management role a cmdlet belongs to. */
export type CmdletArea = 'recipients' | 'organization' | 'quarantine';

export const EXCHANGE_ROLE_IDS = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  exchangeRecipientAdministrator: '31392ffb-586c-42d1-9346-e59415a2cc4e',
  securityAdministrator: '194ae4cb-b126-40b2-bd5b-6091b380977d',
} as const;

const FULL = new Set<string>([EXCHANGE_ROLE_IDS.globalAdministrator, EXCHANGE_ROLE_IDS.exchangeAdministrator]);
const RELEVANT = new Set<string>(Object.values(EXCHANGE_ROLE_IDS));

/**
 * Why the caller may not run this call: 'cmdlet' when its roles do not include the cmdlet, the name of a
 * parameter its roles do not grant, or undefined when it may.
 */
export function rbacDenial(store: TenantStore, caller: Caller, cmdlet: { area?: CmdletArea; privileged?: readonly string[] }, params: Record<string, unknown>): 'cmdlet' | string | undefined {
  const held = new Set(roleState(store).assignments.filter((a) => a.principalId === caller.servicePrincipalId && RELEVANT.has(a.roleDefinitionId)).map((a) => a.roleDefinitionId));
  if (!held.size || [...held].some((r) => FULL.has(r))) return undefined;
  const area = cmdlet.area ?? 'recipients';
  const recipientAdmin = held.has(EXCHANGE_ROLE_IDS.exchangeRecipientAdministrator);
  const securityAdmin = held.has(EXCHANGE_ROLE_IDS.securityAdministrator);
  if (area === 'quarantine') return securityAdmin ? undefined : 'cmdlet';
  if (area === 'organization' || !recipientAdmin) return 'cmdlet';
  const privileged = new Set((cmdlet.privileged ?? []).map((p) => p.toLowerCase()));
  return Object.keys(params).find((k) => privileged.has(k.toLowerCase()));
}
