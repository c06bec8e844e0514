// An on-premises Active Directory connection: what an on-premises worker needs to reach a domain
// controller from inside the customer's network. A tenant connection names one (its `onPremises`),
// and the runbook's `ad` steps are scheduled on that connection's own task queue
// (catalog/contract.ts onPremisesTaskQueue), which only the on-premises worker polls.
import { readFile } from 'node:fs/promises';

export const ANCHOR_ATTRIBUTES = ['objectGUID', 'mS-DS-ConsistencyGuid'] as const;
export type AnchorAttribute = (typeof ANCHOR_ATTRIBUTES)[number];

export interface AdConnection {
  /** Connection name: letters, digits, - and _; the on-premises task queue is tenantflow-onprem-<name>. */
  name: string;
  /** DNS name of the domain, e.g. corp.contoso.com (the base DN DC=corp,DC=contoso,DC=com follows from it). */
  domain: string;
  /**
   * Domain controllers, tried in order: "dc1.corp.contoso.com" (LDAPS, port 636),
   * "ldaps://dc1.corp.contoso.com:636", or "ldap://dc1.corp.contoso.com" (StartTLS before binding).
   */
  hosts: string[];
  /** The service account: a user principal name (svc-tenantflow@corp.contoso.com), DOMAIN\name, or a DN. */
  bindUser: string;
  bindPassword: string;
  /** PEM of the CA that issued the DCs' certificates (an enterprise CA); the system CAs otherwise. */
  caPem?: string;
  /** Default: from the domain. */
  baseDn?: string;
  /** Where new users go when a step names no OU (DN). Default CN=Users,<base>. */
  usersOu?: string;
  /** Where new groups go when a step names no OU (DN). Default CN=Users,<base>. */
  groupsOu?: string;
  /** Where leavers are moved (the hybrid offboarding template's default). */
  leaversOu?: string;
  /** The OUs Entra Connect / Cloud Sync synchronises (informational here; the sandbox's sync agent uses them). */
  syncOus?: string[];
  /** The attribute that anchors sync (sourceAnchor): objectGUID (classic) or mS-DS-ConsistencyGuid (Entra Connect's default). */
  anchorAttribute?: AnchorAttribute;
  /** UPN suffix for new users when a step gives a bare name; default the domain. */
  upnSuffix?: string;
}

/** The AD connection without its secret: what the control plane shows and a run may carry. */
export type AdConnectionInfo = Omit<AdConnection, 'bindPassword' | 'caPem'> & { hasCa: boolean };

export function adConnectionInfo(c: AdConnection): AdConnectionInfo {
  const { bindPassword: _p, caPem, ...rest } = c;
  return { ...rest, hasCa: !!caPem };
}

/** DC=corp,DC=contoso,DC=com for corp.contoso.com. */
export function domainDn(domain: string): string {
  return domain
    .split('.')
    .filter(Boolean)
    .map((p) => `DC=${p}`)
    .join(',');
}

export function baseDnOf(c: Pick<AdConnection, 'domain' | 'baseDn'>): string {
  return c.baseDn ?? domainDn(c.domain);
}

export const AD_CONNECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * An AD connection from the environment (an on-premises worker configured on site, the secret never
 * leaving the customer's network): AD_CONNECTION (name), AD_DOMAIN, AD_HOSTS (comma-separated),
 * AD_BIND_USER, AD_BIND_PASSWORD or AD_BIND_PASSWORD_FILE, AD_CA_FILE, AD_BASE_DN, AD_USERS_OU,
 * AD_GROUPS_OU, AD_LEAVERS_OU, AD_SYNC_OUS (separated by ;), AD_ANCHOR, AD_UPN_SUFFIX.
 * Undefined when AD_DOMAIN is not set.
 */
export async function adConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<AdConnection | undefined> {
  if (!env.AD_DOMAIN) return undefined;
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is required when AD_DOMAIN is set (see docs/hybrid.md)`);
    return v;
  };
  const password = env.AD_BIND_PASSWORD ?? (env.AD_BIND_PASSWORD_FILE ? (await readFile(env.AD_BIND_PASSWORD_FILE, 'utf8')).trim() : undefined);
  if (!password) throw new Error('AD_BIND_PASSWORD or AD_BIND_PASSWORD_FILE is required when AD_DOMAIN is set');
  const anchor = env.AD_ANCHOR as AnchorAttribute | undefined;
  if (anchor && !ANCHOR_ATTRIBUTES.includes(anchor)) throw new Error(`AD_ANCHOR must be one of ${ANCHOR_ATTRIBUTES.join(', ')}`);
  const name = env.AD_CONNECTION ?? 'onprem';
  if (!AD_CONNECTION_NAME.test(name)) throw new Error('AD_CONNECTION: lower-case letters, digits, - and _');
  return {
    name,
    domain: env.AD_DOMAIN,
    hosts: need('AD_HOSTS').split(',').map((h) => h.trim()).filter(Boolean),
    bindUser: need('AD_BIND_USER'),
    bindPassword: password,
    caPem: env.AD_CA_FILE ? await readFile(env.AD_CA_FILE, 'utf8') : undefined,
    baseDn: env.AD_BASE_DN || undefined,
    usersOu: env.AD_USERS_OU || undefined,
    groupsOu: env.AD_GROUPS_OU || undefined,
    leaversOu: env.AD_LEAVERS_OU || undefined,
    syncOus: env.AD_SYNC_OUS ? env.AD_SYNC_OUS.split(';').map((s) => s.trim()).filter(Boolean) : undefined,
    anchorAttribute: anchor,
    upnSuffix: env.AD_UPN_SUFFIX || undefined,
  };
}
