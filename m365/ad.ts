// The on-premises Active Directory transport: LDAP over TLS (LDAPS, or StartTLS before any bind)
// with ldapts, the DC's certificate checked against the connection's CA (never skipped), one bound
// connection per unit of work, failover across the connection's DCs, and one place that turns LDAP
// result codes (and AD's "data 52e"-style sub-codes) into operator-grade ActionErrors with hints.
import {
  AndFilter,
  Attribute,
  Change,
  Client,
  EqualityFilter,
  FilterParser,
  NotFilter,
  OrFilter,
  ResultCodeError,
  type Entry,
  type Filter,
} from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import { baseDnOf, type AdConnection } from './ad-connection.ts';
import { ActionError } from './errors.ts';

export type AdValue = string | string[] | Buffer | Buffer[];
export type AdEntry = Entry;

/** Binary attributes: read as Buffers. */
export const BINARY_ATTRIBUTES = ['objectGUID', 'objectSid', 'mS-DS-ConsistencyGuid', 'thumbnailPhoto'];

export interface AdModification {
  operation: 'add' | 'delete' | 'replace';
  attribute: string;
  /** Empty with replace / delete: remove every value. */
  values: string[] | Buffer[];
}

export interface AdSession {
  readonly conn: AdConnection;
  readonly baseDn: string;
  /** Every entry under base matching filter (paged). */
  search(base: string, opts: { filter: string; scope?: 'base' | 'one' | 'sub'; attributes?: string[] }): Promise<AdEntry[]>;
  /** One object by DN, or undefined when it does not exist. */
  read(dn: string, attributes?: string[]): Promise<AdEntry | undefined>;
  add(dn: string, attributes: Record<string, AdValue>): Promise<void>;
  modify(dn: string, changes: AdModification[]): Promise<void>;
  /** Renames or moves: newDn is the full new DN. */
  modifyDn(dn: string, newDn: string): Promise<void>;
  del(dn: string): Promise<void>;
  /** Sets unicodePwd (the connection is always encrypted; AD refuses it otherwise). */
  setPassword(dn: string, password: string): Promise<void>;
}

export interface AdClient {
  readonly conn: AdConnection;
  readonly baseDn: string;
  /** Opens a connection to the first DC that answers, binds as the service account, runs fn, unbinds. */
  session<T>(fn: (s: AdSession) => Promise<T>): Promise<T>;
  /**
   * Binds as someone else (e.g. a user whose password a step just set) over the same encrypted
   * transport: null when the bind succeeded, otherwise AD's reason ("invalid credentials", ...).
   */
  tryBind(user: string, password: string): Promise<string | null>;
}

/** LDAP URLs of a connection's DCs: bare host names mean LDAPS on 636. */
export function dcUrls(conn: Pick<AdConnection, 'hosts'>): string[] {
  return conn.hosts.map((h) => {
    if (/^ldaps?:\/\//i.test(h)) return h;
    if (/^[^:]+:\d+$/.test(h) || /^\[.+\]:\d+$/.test(h)) return `ldaps://${h}`; // host:port
    return `ldaps://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:636`; // a bare IPv6 address
  });
}

function tlsOptions(conn: AdConnection, host: string): ConnectionOptions {
  // The DC's certificate is always verified: against the connection's CA when it has one, the system CAs otherwise.
  return { ca: conn.caPem ? [conn.caPem] : undefined, minVersion: 'TLSv1.2', servername: /^[\d.]+$|:/.test(host) ? undefined : host };
}

// ---- errors ----

/** AD's sub-codes in a bind failure's message ("... AcceptSecurityContext error, data 52e, v4563"). */
const BIND_DATA: Record<string, { reason: string; hint: string }> = {
  '525': { reason: 'the user does not exist', hint: 'check the account name (user principal name, DOMAIN\\name or DN)' },
  '52e': { reason: 'invalid credentials', hint: 'check the account name and password' },
  '530': { reason: 'logon not permitted at this time', hint: 'the account has logon hours' },
  '531': { reason: 'logon not permitted from this workstation', hint: 'the account is limited to some workstations' },
  '532': { reason: 'the password has expired', hint: 'set a new password for the account' },
  '533': { reason: 'the account is disabled', hint: 'enable the account' },
  '701': { reason: 'the account has expired', hint: 'extend the account expiry date' },
  '773': { reason: 'the password must be changed at next logon', hint: 'the user must change the password first' },
  '775': { reason: 'the account is locked out', hint: 'unlock the account (ad.unlockUser) or wait for the lockout to end' },
};

export function bindFailureReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const data = /data ([0-9a-f]{3})/i.exec(msg)?.[1]?.toLowerCase();
  return (data && BIND_DATA[data]?.reason) || (err instanceof ResultCodeError && err.code === 49 ? 'invalid credentials' : msg);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

const codeOf = (err: unknown): string | undefined => (err as { code?: string })?.code ?? ((err as { cause?: { code?: string } })?.cause?.code);

/** true for errors that mean "this DC could not be reached" (try the next one, retry later). */
export function isUnreachable(err: unknown): boolean {
  const code = codeOf(err);
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || /connection timeout|socket closed|connection closed|timeout/i.test((err as Error)?.message ?? '');
}

/**
 * The one map from what ldapts throws to the ActionError an operator reads: the LDAP result code's
 * name as the code, what went wrong in AD's words, and the fix.
 */
export function adError(err: unknown, what: string, conn?: Pick<AdConnection, 'name' | 'bindUser'>): ActionError {
  if (err instanceof ActionError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const code = codeOf(err);
  if (typeof code === 'string' && TLS_CODES.has(code))
    return new ActionError(`${what}: the domain controller's certificate is not trusted (${code})`, {
      code: 'CertificateUntrusted',
      hint: `give the AD connection${conn ? ` ${conn.name}` : ''} the PEM of the CA that issued the DC's certificate (caPem / AD_CA_FILE), and name the DC as its certificate does`,
    });
  if (isUnreachable(err))
    return new ActionError(`${what}: no domain controller answered (${code ?? msg})`, {
      code: 'DomainControllerUnreachable',
      retryable: true,
      hint: 'check the DC host names and that port 636 (LDAPS) or 389 (StartTLS) is open from the on-premises worker',
    });
  if (!(err instanceof ResultCodeError)) return new ActionError(`${what}: ${msg}`, { code: 'LdapError', retryable: false });
  const text = `${what}: ${msg.replace(/\s+$/, '')}`;
  const e = (c: string, hint?: string, retryable = false) => new ActionError(text, { code: c, hint, retryable, status: err.code });
  switch (err.code) {
    case 49: {
      const data = /data ([0-9a-f]{3})/i.exec(msg)?.[1]?.toLowerCase();
      const known = data ? BIND_DATA[data] : undefined;
      return new ActionError(`${what}: the service account could not sign in: ${known?.reason ?? 'invalid credentials'}`, {
        code: 'InvalidCredentials',
        hint: `${known?.hint ?? 'check the account name and password'} of the AD connection's bind account${conn ? ` (${conn.bindUser})` : ''}`,
        status: 49,
      });
    }
    case 8:
    case 13:
      return e('ConfidentialityRequired', 'the DC refuses this without transport encryption: use LDAPS (port 636) or StartTLS');
    case 50:
      return e('InsufficientAccessRights', `delegate the needed rights on the OU to the AD connection's bind account${conn ? ` (${conn.bindUser})` : ''}: create / delete user or group objects, reset password, write the attributes (see docs/hybrid.md)`);
    case 32:
      return e('NoSuchObject', 'check the distinguished name or the OU; it does not exist in this domain');
    case 68:
      // Adding a member a group already has: AD answers 68 too (00000562, ERROR_MEMBER_IN_GROUP).
      if (/00000562|attribute member already exists/i.test(msg)) return e('AttributeOrValueExists', 'the account is already a member of the group');
      return e('ObjectConflict', 'an object with that name already exists in this OU (or the account name is taken in the domain): pick another name');
    case 19:
      return /password|0000052D/i.test(msg)
        ? e('PasswordPolicy', "the password does not meet the domain's password policy (length, complexity, history or minimum age)")
        : e('ConstraintViolation', 'a value breaks a constraint of the schema (length, single value, uniqueness)');
    case 53:
      return /password|0000052D/i.test(msg)
        ? e('PasswordPolicy', "the password does not meet the domain's password policy (length, complexity, history or minimum age)")
        : e('UnwillingToPerform', 'the DC refused the operation; the message says why');
    case 66:
      return e('NotAllowedOnNonLeaf', 'the object has child objects: remove them first');
    case 17:
      return e('UndefinedAttribute', "an attribute is not in this forest's schema (Exchange attributes need the Exchange schema extension)");
    case 21:
      return e('InvalidAttributeSyntax', 'a value has the wrong syntax for its attribute');
    case 65:
      return e('ObjectClassViolation', 'a required attribute is missing or an attribute is not allowed on this object class');
    case 20:
      return e('AttributeOrValueExists', 'the value is already there');
    case 16:
      // Samba answers 16 (not 17) for an attribute its schema lacks.
      return /not found in the schema/i.test(msg)
        ? e('UndefinedAttribute', "an attribute is not in this forest's schema (Exchange attributes need the Exchange schema extension)")
        : e('NoSuchAttribute', 'the value is not there');
    case 34:
      return e('InvalidDnSyntax', 'check the distinguished name (e.g. OU=Staff,DC=corp,DC=contoso,DC=com)');
    case 51:
    case 52:
    case 80:
      return e('DirectoryUnavailable', 'the domain controller is busy or unavailable; the step is retried', true);
    case 3:
      return e('TimeLimitExceeded', 'the query took too long; narrow it', true);
    default:
      return e(`LdapResult${err.code}`);
  }
}

// ---- values ----

/** RFC 4515: escape a value inside a search filter. */
export function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514: escape a value used as an RDN (CN=<value>). */
export function escapeRdn(v: string): string {
  return v
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

/** The parent of a DN (everything after the first unescaped comma). */
export function parentDn(dn: string): string {
  for (let i = 0; i < dn.length; i++) {
    if (dn[i] === '\\') i++;
    else if (dn[i] === ',') return dn.slice(i + 1);
  }
  return '';
}

/** The first RDN of a DN, e.g. CN=Anna Lindqvist. */
export function rdnOf(dn: string): string {
  const parent = parentDn(dn);
  return parent ? dn.slice(0, dn.length - parent.length - 1) : dn;
}

export function sameDn(a: string, b: string): boolean {
  const norm = (d: string) => d.replace(/\s*,\s*/g, ',').toLowerCase();
  return norm(a) === norm(b);
}

/** objectGUID bytes (little-endian in the first three groups) to the usual string form. */
export function guidToString(b: Buffer): string {
  const h = b.toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function guidToBytes(g: string): Buffer {
  const h = g.replace(/-/g, '');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return Buffer.from(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16), 'hex');
}

/**
 * A filter string to send, where "(objectGUID=<GUID in its string form>)" is sent as the GUID's
 * bytes (an escaped \\xx form would reach the DC as UTF-8 text and match nothing).
 */
export function toFilter(filter: string): Filter {
  const guids: string[] = [];
  const text = filter.replace(/\(objectGUID=([0-9a-f-]{36})\)/gi, (_, g: string) => `(objectGUID=tenantflowguid${guids.push(g) - 1})`);
  const parsed = FilterParser.parseString(text);
  const fix = (f: Filter): Filter => {
    if (f instanceof EqualityFilter && /^tenantflowguid\d+$/.test(String(f.value))) return new EqualityFilter({ attribute: 'objectGUID', value: guidToBytes(guids[Number(String(f.value).slice(14))]!) });
    if (f instanceof AndFilter || f instanceof OrFilter) f.filters = f.filters.map(fix);
    if (f instanceof NotFilter) f.filter = fix(f.filter);
    return f;
  };
  return fix(parsed);
}

/** objectSid bytes to S-1-5-21-... */
export function sidToString(b: Buffer): string {
  const revision = b[0]!;
  const count = b[1]!;
  const authority = b.readUIntBE(2, 6);
  const subs = Array.from({ length: count }, (_, i) => b.readUInt32LE(8 + i * 4));
  return `S-${revision}-${authority}${subs.map((s) => `-${s}`).join('')}`;
}

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** userAccountControl flags (MS-ADTS 2.2.16). */
export const UAC = {
  ACCOUNTDISABLE: 0x2,
  LOCKOUT: 0x10,
  PASSWD_NOTREQD: 0x20,
  NORMAL_ACCOUNT: 0x200,
  DONT_EXPIRE_PASSWORD: 0x10000,
} as const;

/** groupType flags (MS-ADTS 2.2.12). */
export const GROUP_TYPE = { GLOBAL: 0x2, DOMAIN_LOCAL: 0x4, UNIVERSAL: 0x8, SECURITY: 0x80000000 } as const;

/** AD's FILETIME (100 ns since 1601-01-01) for accountExpires / lastLogonTimestamp; 0 and 2^63-1 = never. */
const EPOCH_DIFF_MS = 11_644_473_600_000n;
export const NEVER = '9223372036854775807';
export function toFileTime(iso: string): string {
  return ((BigInt(Date.parse(iso)) + EPOCH_DIFF_MS) * 10_000n).toString();
}
export function fromFileTime(v: string | undefined): string | null {
  if (!v || v === '0' || v === NEVER) return null;
  return new Date(Number(BigInt(v) / 10_000n - EPOCH_DIFF_MS)).toISOString();
}

/** GeneralizedTime (20261130212455.0Z) to ISO. */
export function fromGeneralizedTime(v: string | undefined): string | null {
  const m = v && /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(v);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
}

/** One string value of an attribute (the first), or undefined. */
export function str(e: AdEntry | undefined, attr: string): string | undefined {
  const key = e && Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key ? e[key] : undefined;
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/** Every string value of an attribute. */
export function strs(e: AdEntry | undefined, attr: string): string[] {
  const key = e && Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key ? e[key] : undefined;
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

/** The first binary value of an attribute. */
export function buf(e: AdEntry | undefined, attr: string): Buffer | undefined {
  const key = e && Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key ? e[key] : undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(first) ? first : undefined;
}

// ---- the client ----

async function connect(conn: AdConnection, what: string): Promise<Client> {
  let last: unknown;
  for (const url of dcUrls(conn)) {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    // TLS options on an ldap:// URL would make ldapts speak TLS at once; there they go to startTLS.
    const client = new Client({ url, ...(u.protocol === 'ldaps:' ? { tlsOptions: tlsOptions(conn, host) } : {}), connectTimeout: 10_000, timeout: 60_000 });
    try {
      // StartTLS upgrades the open socket: name the host, or Node checks the certificate against "localhost".
      if (u.protocol === 'ldap:') await client.startTLS({ ...tlsOptions(conn, host), host });
      return client;
    } catch (err) {
      last = err;
      await client.unbind().catch(() => {});
      if (!isUnreachable(err)) throw adError(err, what, conn);
    }
  }
  throw adError(last ?? new Error('the AD connection names no domain controller'), what, conn);
}

/** The bind name AD accepts: a UPN, DOMAIN\name or a DN, as given. */
function session(client: Client, conn: AdConnection, baseDn: string): AdSession {
  const wrap = async <T>(what: string, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      throw adError(err, what, conn);
    }
  };
  return {
    conn,
    baseDn,
    async search(base, opts) {
      const res = await wrap(
        `search ${base}`,
        client.search(base, { scope: opts.scope ?? 'sub', filter: toFilter(opts.filter), attributes: opts.attributes, explicitBufferAttributes: BINARY_ATTRIBUTES, paged: { pageSize: 500 } }),
      );
      return res.searchEntries;
    },
    async read(dn, attributes) {
      try {
        const res = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes, explicitBufferAttributes: BINARY_ATTRIBUTES });
        return res.searchEntries[0];
      } catch (err) {
        if (err instanceof ResultCodeError && err.code === 32) return undefined;
        throw adError(err, `read ${dn}`, conn);
      }
    },
    async add(dn, attributes) {
      const attrs = Object.entries(attributes)
        .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
        .map(([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] | Buffer[] }));
      await wrap(`create ${dn}`, client.add(dn, attrs));
    },
    async modify(dn, changes) {
      if (!changes.length) return;
      await wrap(
        `change ${dn}`,
        client.modify(
          dn,
          changes.map((c) => new Change({ operation: c.operation, modification: new Attribute({ type: c.attribute, values: c.values }) })),
        ),
      );
    },
    async modifyDn(dn, newDn) {
      await wrap(`move ${dn} to ${newDn}`, client.modifyDN(dn, newDn));
    },
    async del(dn) {
      await wrap(`delete ${dn}`, client.del(dn));
    },
    async setPassword(dn, password) {
      // unicodePwd: the password in double quotes, UTF-16LE; AD accepts it only on an encrypted connection.
      const value = Buffer.from(`"${password}"`, 'utf16le');
      await wrap(`set the password of ${dn}`, client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [value] }) })));
    },
  };
}

export function createAdClient(conn: AdConnection): AdClient {
  const baseDn = baseDnOf(conn);
  return {
    conn,
    baseDn,
    async session(fn) {
      const client = await connect(conn, `connect to ${conn.domain}`);
      try {
        try {
          await client.bind(conn.bindUser, conn.bindPassword);
        } catch (err) {
          throw adError(err, `sign in to ${conn.domain} as ${conn.bindUser}`, conn);
        }
        return await fn(session(client, conn, baseDn));
      } finally {
        await client.unbind().catch(() => {});
      }
    },
    async tryBind(user, password) {
      const client = await connect(conn, `connect to ${conn.domain}`);
      try {
        await client.bind(user, password);
        return null;
      } catch (err) {
        if (err instanceof ResultCodeError && err.code === 49) return bindFailureReason(err);
        throw adError(err, `sign in to ${conn.domain} as ${user}`, conn);
      } finally {
        await client.unbind().catch(() => {});
      }
    },
  };
}

/** One client per AD connection object (a changed connection gets a new one). */
export function adClientCache(): (conn: AdConnection) => AdClient {
  const clients = new Map<string, { conn: AdConnection; client: AdClient }>();
  return (conn) => {
    const hit = clients.get(conn.name);
    if (hit && hit.conn === conn) return hit.client;
    const client = createAdClient(conn);
    clients.set(conn.name, { conn, client });
    return client;
  };
}
