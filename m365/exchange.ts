// The Exchange Online admin API transport: POST {exchangeUrl}/adminapi/beta/{tenantId}/InvokeCommand
// with {CmdletInput: {CmdletName, Parameters}}, on the tenant's own credential with the Exchange
// scope. Like the Graph client it never retries (Temporal does); it turns Exchange's answers into
// the same ServiceError shape errors.ts maps, and its exception names into stable codes.
import type { TokenCredential } from '@azure/identity';
import { ActionError, type ServiceError } from './errors.ts';
import { credentialFor } from './graph.ts';
import { exchangeBudget, gateFor } from './throttle.ts';
import { sendRetrying } from './transient.ts';
import type { TenantConnection } from './tenants.ts';

export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';
export const EXCHANGE_PERMISSION = 'Exchange.ManageAsApp';

export interface ExchangeClient {
  /** Runs one cmdlet and returns the objects it wrote to the pipeline (all pages). */
  invoke<T = Record<string, unknown>>(cmdlet: string, parameters?: Record<string, unknown>, signal?: AbortSignal): Promise<T[]>;
}

/** A failed cmdlet: `code` is the Exchange exception's short name, e.g. ManagementObjectNotFoundException. */
export class ExchangeError extends Error implements ServiceError {
  readonly statusCode: number;
  readonly code: string;
  readonly headers: Headers;
  /** What the operator can do about it (the Exchange role to assign, ...), when we know. */
  readonly hint?: string;
  constructor(statusCode: number, code: string, message: string, headers: Headers, hint?: string) {
    super(message);
    this.name = 'ExchangeError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
    this.hint = hint;
  }
}

const QUARANTINE_CMDLETS = /^(Get|Release|Delete|Export|Preview)-QuarantineMessage/i;
const ORGANIZATION_CMDLETS = /^(New|Set|Remove)-(RetentionPolicy|AddressBookPolicy|RetentionPolicyTag)$/i;

/** The Entra role an app's service principal needs for a cmdlet (app-only Exchange RBAC). */
export function exchangeRoleFor(cmdlet: string): string {
  if (QUARANTINE_CMDLETS.test(cmdlet)) return 'Security Administrator (or Exchange Administrator)';
  if (ORGANIZATION_CMDLETS.test(cmdlet)) return 'Exchange Administrator (Organization Management)';
  return 'Exchange Recipient Administrator (Recipient Management) or Exchange Administrator';
}

/**
 * Exchange's RBAC hides what the caller's roles do not grant, so a missing role reads exactly like a
 * cmdlet or parameter that does not exist: the hint names the role to assign.
 */
export function exchangeHint(cmdlet: string | undefined, code: string, message: string): string | undefined {
  if (!cmdlet) return undefined;
  if (code === 'CommandNotFoundException')
    return `Exchange Online does not offer ${cmdlet} to this app: assign its service principal the ${exchangeRoleFor(cmdlet)} role in Microsoft Entra ID (roles can take up to an hour to apply)`;
  const param = /matches parameter name '([^']+)'/.exec(message)?.[1];
  if (code === 'ParameterBindingException' && param) {
    const role = /^LitigationHold/i.test(param) ? 'the Legal Hold role' : /^Audit/i.test(param) ? 'the Audit Logs role' : 'a role that grants it';
    return `${param} is hidden from this app by Exchange RBAC (or ${cmdlet} has no such parameter): it needs ${role}, which Exchange Administrator (Organization Management) includes and Exchange Recipient Administrator does not`;
  }
  if (code === 'ManagementObjectNotFoundException' || code === 'RecipientNotFoundException')
    return 'check the name, alias or address; a new mailbox appears a few minutes after its Exchange licence is assigned';
  if (code === 'ProxyAddressExistsException') return 'another recipient already uses that address: pick another one, or remove it from the other recipient first';
  if (code === 'ManagementObjectAmbiguousException') return 'several recipients match: use the primary SMTP address or the object id';
  return undefined;
}

/** Exchange puts the exception type in the message: "|Microsoft.Exchange...XyzException|text". */
export function parseExchangeError(status: number, body: unknown, headers: Headers, cmdlet?: string): ExchangeError {
  const err = (body as { error?: { code?: string; message?: string; details?: { message?: string }[] } } | undefined)?.error;
  const raw = err?.message ?? err?.details?.[0]?.message ?? (typeof body === 'string' ? body : `HTTP ${status}`);
  const m = /^\|?([\w.]+(?:Exception|Error))\|(.*)$/s.exec(raw.trim());
  const code = m ? m[1]!.split('.').pop()! : (err?.code ?? `HTTP${status}`);
  const message = (m ? m[2]! : raw).trim();
  return new ExchangeError(status, code, message, headers, exchangeHint(cmdlet, code, message));
}

export function isExchangeError(err: unknown, ...codes: string[]): err is ExchangeError {
  return err instanceof ExchangeError && (codes.length === 0 || codes.includes(err.code));
}

/** Exchange's not-found exceptions (object, recipient, member). */
export const NOT_FOUND = ['ManagementObjectNotFoundException', 'RecipientNotFoundException', 'ObjectNotFoundException'];

export function createExchangeClient(conn: TenantConnection, credential: TokenCredential = credentialFor(conn)): ExchangeClient {
  const root = (conn.exchangeUrl ?? 'https://outlook.office365.com').replace(/\/$/, '');
  const endpoint = `${root}/adminapi/beta/${conn.tenantId}/InvokeCommand`;
  // Exchange has its own budget in the tenant's gate, apart from Graph's.
  const gate = gateFor(conn);
  return {
    async invoke<T>(cmdlet: string, parameters: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T[]> {
      const token = await credential.getToken(EXCHANGE_SCOPE, { abortSignal: signal });
      if (!token) throw new ActionError('could not get a token for Exchange Online', { code: 'InvalidAuthenticationToken', retryable: true });
      const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
      const out: T[] = [];
      let url: string | undefined = endpoint;
      while (url) {
        const target: string = url;
        // 429 / 503 are sent again in place (m365/transient.ts); InvokeCommand is a POST, so a lost answer is not.
        const res: Response = await sendRetrying('POST', signal, () => gate.send(exchangeBudget(), signal, () =>
          fetch(target, {
            method: 'POST',
            signal,
            headers: {
              authorization: `Bearer ${token.token}`,
              'content-type': 'application/json',
              accept: 'application/json',
              'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${conn.tenantId}`,
            },
            body,
          }),
          { method: 'POST', url: target, operation: cmdlet },
        ));
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // plain-text error page
        }
        if (res.status === 401 || res.status === 403)
          throw new ActionError(`Exchange Online refused ${cmdlet} (HTTP ${res.status}): ${parseExchangeError(res.status, parsed, res.headers).message}`, {
            code: res.status === 401 ? 'InvalidAuthenticationToken' : 'Authorization_RequestDenied',
            hint: `grant the app registration the Office 365 Exchange Online application permission ${EXCHANGE_PERMISSION} with admin consent, and assign its service principal the ${exchangeRoleFor(cmdlet)} role`,
            status: res.status,
          });
        if (!res.ok) throw parseExchangeError(res.status, parsed, res.headers, cmdlet);
        const page = (parsed ?? {}) as { value?: T[]; '@odata.nextLink'?: string };
        out.push(...(page.value ?? []));
        url = page['@odata.nextLink'];
      }
      return out;
    },
  };
}

/** One Exchange client per tenant connection (the credential caches its token). */
export function exchangeClientCache(): (conn: TenantConnection) => ExchangeClient {
  const clients = new Map<string, { conn: TenantConnection; client: ExchangeClient }>();
  return (conn) => {
    const hit = clients.get(conn.name);
    if (hit && hit.conn === conn) return hit.client;
    const client = createExchangeClient(conn);
    clients.set(conn.name, { conn, client });
    return client;
  };
}
