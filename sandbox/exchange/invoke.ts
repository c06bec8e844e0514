// The Exchange Online admin API the ExchangeOnlineManagement module uses:
// POST /adminapi/beta/{tenant}/InvokeCommand  { CmdletInput: { CmdletName, Parameters } }
// Token audience https://outlook.office365.com with the Exchange.ManageAsApp role. Answers
// { value: [...objects], '@adminapi.warnings': [...] }; errors carry the cmdlet's exception type.
import { randomUUID } from 'node:crypto';
import { verifyBearer, WWW_AUTHENTICATE } from '../auth.ts';
import { GraphError } from '../errors.ts';
import { RESOURCES } from '../permissions.ts';
import type { Surface } from '../server.ts';
import type { Runtime } from '../runtime.ts';
import type { Caller } from '../types.ts';
import type { TenantStore } from '../store.ts';
import { faultReply } from '../graph/dispatch.ts';
import { rbacDenial, type CmdletArea } from './roles.ts';

export interface ExoCtx {
  rt: Runtime;
  store: TenantStore;
  caller: Caller;
  nowMs: number;
  nowIso: string;
  warnings: string[];
  mutated(op: string, ...objectIds: string[]): void;
}

export type CmdletParams = Record<string, unknown>;
export type CmdletFn = (ctx: ExoCtx, params: CmdletParams) => Record<string, unknown>[] | void;

/**
 * One emulated cmdlet: the parameters it takes, named as Exchange Online names them, and what it does.
 * A parameter outside `params` is refused the way Exchange refuses a parameter a cmdlet does not have,
 * so a parameter the sandbox does not emulate can never answer OK and change nothing.
 */
export interface Cmdlet {
  params: readonly string[];
  run: CmdletFn;
  /** The Exchange role that grants the cmdlet (see exchangeRoles.ts); default: recipient management. */
  area?: CmdletArea;
  /** Parameters that need more than recipient management (litigation hold, auditing, ...). */
  privileged?: readonly string[];
}


/** PowerShell's common parameters, which every cmdlet accepts. */
const COMMON_PARAMS = ['Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable', 'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable'];
/** Cmdlets that change something also take -Confirm and -WhatIf (ShouldProcess). */
const SHOULD_PROCESS = ['Confirm', 'WhatIf'];

/** A cmdlet failure: the .NET exception type Exchange reports, and the message. */
export class ExoError extends Error {
  readonly status: number;
  readonly exception: string;
  constructor(status: number, exception: string, message: string) {
    super(message);
    this.status = status;
    this.exception = exception;
  }
}

export const notFoundExo = (identity: unknown, ctx: ExoCtx): ExoError =>
  new ExoError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The operation couldn't be performed because object '${String(identity)}' couldn't be found on '${serverName(ctx)}'.`);

export const serverName = (ctx: ExoCtx): string => `${ctx.store.info.initialDomain.split('.')[0]!.toUpperCase()}01.PROD.OUTLOOK.COM`;

export const invalidParam = (name: string, message: string): ExoError =>
  new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `Cannot process argument transformation on parameter '${name}'. ${message}`);

const registry = new Map<string, { name: string; cmdlet: Cmdlet; allowed: Set<string> }>();

export function registerCmdlets(cmdlets: Record<string, Cmdlet>): void {
  for (const [name, cmdlet] of Object.entries(cmdlets)) {
    const changes = !/^Get-/i.test(name);
    const allowed = new Set([...cmdlet.params, ...COMMON_PARAMS, ...(changes ? SHOULD_PROCESS : [])].map((p) => p.toLowerCase()));
    registry.set(name.toLowerCase(), { name, cmdlet, allowed });
  }
}

/** The parameters an emulated cmdlet accepts (its own, the common ones, -Confirm / -WhatIf), or undefined. */
export function cmdletParameters(name: string): string[] | undefined {
  const entry = registry.get(name.toLowerCase());
  if (!entry) return undefined;
  return [...entry.cmdlet.params, ...COMMON_PARAMS, ...(/^Get-/i.test(entry.name) ? [] : SHOULD_PROCESS)];
}

export const parameterNotFound = (name: string): ExoError =>
  new ExoError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${name}'.`);

export const commandNotFound = (name: string): ExoError =>
  new ExoError(400, 'System.Management.Automation.CommandNotFoundException', `The term '${name}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`);

export function cmdletNames(): string[] {
  return [...registry.keys()];
}

function errorBody(status: number, exception: string, message: string, requestId: string): unknown {
  const full = `|${exception}|${message}`;
  return {
    error: {
      code: status === 404 ? 'NotFound' : status === 403 ? 'Forbidden' : status === 401 ? 'Unauthorized' : 'BadRequest',
      message: full,
      details: [{ code: 'Context', message: `Ex${requestId.slice(0, 6).toUpperCase()}|${exception}|${message}`, target: '' }],
      innererror: { message, type: exception, '@odata.type': '#Exchange.ErrorInfo' },
      adminapi: { warnings: [] },
    },
  };
}

export function exchangeSurface(): Surface {
  return {
    matches: (path) => /^\/adminapi\/(beta|v1\.0)\/[^/]+\/InvokeCommand$/i.test(path),
    async handle(rt, req) {
      const started = performance.now();
      const nowMs = rt.now();
      const requestId = randomUUID();
      const tenantPart = /^\/adminapi\/[^/]+\/([^/]+)\//i.exec(req.url.pathname)![1]!;
      const headers: Record<string, string> = { 'request-id': requestId, 'x-ms-request-id': requestId, 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' };
      const input = (req.body as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } } | undefined)?.CmdletInput;
      const cmdletName = typeof input?.CmdletName === 'string' ? input.CmdletName : '';
      let caller: Caller | undefined;
      let injected: string | undefined;
      const pending: { op: string; objectIds: string[] }[] = [];
      const finish = (status: number, body: unknown, extra: Record<string, string> = {}) => {
        rt.log.add({ time: new Date(nowMs).toISOString(), surface: 'exchange', method: req.method, path: `${req.url.pathname} ${cmdletName}`, status, durationMs: Math.round(performance.now() - started), requestId, tenantId: caller?.tenantId, appId: caller?.appId, ...(injected ? { injected } : {}), ...(pending.length && status < 400 ? { ops: pending.map((p) => p.op) } : {}) });
        return { status, body, headers: { ...headers, ...extra } };
      };
      try {
        caller = verifyBearer(req.headers['authorization'], rt.signing, [RESOURCES.exchange], nowMs).caller;
      } catch (err) {
        const e = err as GraphError;
        return finish(401, errorBody(401, 'Microsoft.Exchange.Security.Authorization.UnauthorizedAccessException', e.message, requestId), { 'www-authenticate': WWW_AUTHENTICATE });
      }
      const store = rt.tenants.get(caller.tenantId);
      if (!store || (rt.tenant(tenantPart) !== store)) return finish(401, errorBody(401, 'Microsoft.Exchange.Security.Authorization.UnauthorizedAccessException', `The token's tenant does not match '${tenantPart}'.`, requestId));
      if (!caller.roles.has('Exchange.ManageAsApp')) {
        return finish(403, errorBody(403, 'Microsoft.Exchange.Security.Authorization.UnauthorizedAccessException', `The role assigned to application ${caller.appId} isn't supported in this scenario. Grant it the Exchange.ManageAsApp permission and an Exchange administrator role.`, requestId));
      }
      if (req.method !== 'POST' || !input) return finish(400, errorBody(400, 'System.ArgumentException', 'The request body must be { "CmdletInput": { "CmdletName": ..., "Parameters": {...} } }.', requestId));
      // Faults match the cmdlet as registered ("Set-Mailbox" for "set-mailbox"), so a pattern by verb catches every spelling.
      const fault = rt.faults.decide(`POST /adminapi/InvokeCommand ${registry.get(cmdletName.toLowerCase())?.name ?? cmdletName}`);
      // A dropped answer is logged with status 0, as Graph's are.
      const dropped = () => ({ ...finish(0, undefined), status: 0, drop: true });
      if (fault && !fault.afterEffect) {
        injected = fault.reason;
        if (fault.status === 'drop') return dropped();
        const r = faultReply(fault);
        const ge = r.body as GraphError;
        return finish(r.status, errorBody(r.status, 'Microsoft.Exchange.Data.Storage.ServerBusyException', ge.message, requestId), r.headers);
      }
      const entry = registry.get(cmdletName.toLowerCase());
      const params = input.Parameters && typeof input.Parameters === 'object' && !Array.isArray(input.Parameters) ? (input.Parameters as CmdletParams) : {};
      // Exchange's RBAC hides the cmdlets and parameters the caller's roles do not grant: they answer
      // exactly as if they did not exist.
      const denial = entry ? rbacDenial(store, caller, entry.cmdlet, params) : undefined;
      if (!entry || denial === 'cmdlet') {
        const e = commandNotFound(cmdletName);
        return finish(e.status, errorBody(e.status, e.exception, e.message, requestId));
      }
      const unknownParam = Object.keys(params).find((k) => !entry.allowed.has(k.toLowerCase())) ?? denial;
      if (unknownParam) {
        const e = parameterNotFound(unknownParam);
        return finish(e.status, errorBody(e.status, e.exception, e.message, requestId));
      }
      const { cmdlet } = entry;
      const ctx: ExoCtx = {
        rt,
        store,
        caller,
        nowMs,
        nowIso: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        warnings: [],
        mutated: (op, ...ids) => pending.push({ op, objectIds: ids.map((i) => i.toLowerCase()) }),
      };
      let value: Record<string, unknown>[];
      try {
        const lowered = lowerKeys(params);
        // -WhatIf: Exchange says what it would do (to the host, not the pipeline) and changes nothing.
        value = bool(lowered, 'WhatIf') ? [] : (cmdlet.run(ctx, lowered) ?? []);
        if ('resultsize' in lowered) value = value.slice(0, resultSize(lowered));
      } catch (err) {
        pending.length = 0;
        if (err instanceof ExoError) return finish(err.status, errorBody(err.status, err.exception, err.message, requestId));
        rt.opts.log(`sandbox: ${cmdletName} failed: ${(err as Error).stack}`);
        return finish(500, errorBody(500, 'System.Exception', 'An internal error occurred in the sandbox.', requestId));
      }
      for (const m of pending) rt.log.recordMutation({ time: new Date(nowMs).toISOString(), tenantId: caller.tenantId, appId: caller.appId, op: m.op, objectIds: m.objectIds, method: 'POST', path: `/adminapi/InvokeCommand ${cmdletName}`, requestId });
      if (fault?.afterEffect) {
        injected = `${fault.reason}:after-effect`;
        if (fault.status === 'drop') return dropped();
        const r = faultReply(fault);
        return finish(r.status, errorBody(r.status, 'Microsoft.Exchange.Data.Storage.ServerBusyException', (r.body as GraphError).message, requestId), r.headers);
      }
      return finish(200, {
        '@odata.context': `${rt.baseUrl}/adminapi/beta/${store.info.id}/$metadata#Collection(Exchange.GenericHashTable)`,
        'adminapi.warnings@odata.type': '#Collection(String)',
        '@adminapi.warnings': ctx.warnings,
        value,
      });
    },
  };
}

/** Cmdlet parameters are case-insensitive: handlers read them lower-cased. */
function lowerKeys(params: CmdletParams): CmdletParams {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toLowerCase(), v]));
}

// ---- parameter helpers ----

export function str(params: CmdletParams, name: string, required = false): string | undefined {
  const v = params[name.toLowerCase()];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', `Cannot bind argument to parameter '${name}' because it is null or empty.`);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw invalidParam(name, `Expected a string, got ${typeof v}.`);
  return String(v);
}

export function bool(params: CmdletParams, name: string): boolean | undefined {
  const v = params[name.toLowerCase()];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'True' || v === 'true' || v === '$true') return true;
  if (v === 'False' || v === 'false' || v === '$false') return false;
  throw invalidParam(name, `Cannot convert value "${String(v)}" to type "System.Boolean".`);
}

export function int(params: CmdletParams, name: string): number | undefined {
  const v = params[name.toLowerCase()];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || Math.abs(n) > 2147483647) throw invalidParam(name, `Cannot convert value "${String(v)}" to type "System.Int32".`);
  return n;
}

/** -ResultSize: a number or Unlimited (Infinity); Infinity when not given. */
export function resultSize(params: CmdletParams): number {
  const v = str(params, 'ResultSize');
  if (v === undefined || /^unlimited$/i.test(v)) return Infinity;
  if (!/^\d+$/.test(v)) throw invalidParam('ResultSize', `Cannot convert value "${v}" to type "Microsoft.Exchange.Data.Unlimited\`1[System.UInt32]".`);
  return Number(v);
}

export function has(params: CmdletParams, name: string): boolean {
  return name.toLowerCase() in params;
}

/** A multi-valued parameter: a value, an array, or { Add: [...], Remove: [...] }. */
export function multi(params: CmdletParams, name: string): { set?: string[]; add: string[]; remove: string[] } | undefined {
  const v = params[name.toLowerCase()];
  if (v === undefined) return undefined;
  if (v === null) return { set: [], add: [], remove: [] };
  if (Array.isArray(v)) return { set: v.map(String), add: [], remove: [] };
  if (typeof v === 'object') {
    const o = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k.toLowerCase(), x]));
    const list = (x: unknown): string[] => (x === undefined ? [] : Array.isArray(x) ? x.map(String) : [String(x)]);
    return { add: list(o['add']), remove: list(o['remove']) };
  }
  return { set: [String(v)], add: [], remove: [] };
}

export function applyMulti(current: string[], change: { set?: string[]; add: string[]; remove: string[] }, same: (a: string, b: string) => boolean = (a, b) => a.toLowerCase() === b.toLowerCase()): string[] {
  let next = change.set ? [...change.set] : [...current];
  for (const a of change.add) if (!next.some((x) => same(x, a))) next.push(a);
  next = next.filter((x) => !change.remove.some((r) => same(x, r)));
  return next;
}
