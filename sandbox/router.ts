// Route table shared by the Graph surface and $batch: a handler takes a request context and returns
// a reply (or throws GraphError), so a batch item runs exactly the code a direct call runs.
import type { TenantStore } from './store.ts';
import type { Runtime } from './runtime.ts';
import { GraphError } from './errors.ts';

export type Workload = 'directory' | 'intune' | 'teams' | 'outlook' | 'sharepoint' | 'files' | 'other';

export interface Caller {
  tenantId: string;
  appId: string;
  servicePrincipalId: string;
  appDisplayName: string;
  roles: ReadonlySet<string>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Ctx {
  method: string;
  /** Resource path after the version segment, e.g. /users/1234/memberOf */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  version: 'v1.0' | 'beta';
  /** e.g. https://127.0.0.1:4443/v1.0, for @odata.context and @odata.nextLink */
  serviceRoot: string;
  store: TenantStore;
  rt: Runtime;
  caller: Caller;
  requestId: string;
  clientRequestId: string;
  nowMs: number;
  nowIso: string;
  /** Records a successful write so tests can count it (`op` e.g. user.create). */
  mutated(op: string, ...objectIds: string[]): void;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  /** Any one of these application permissions grants access; [] means any valid token. */
  permissions: readonly string[];
  workload?: Workload;
  /** beta-only routes answer 400 on v1.0, like Graph does for a segment v1.0 lacks. */
  betaOnly?: boolean;
  /** Overrides the 403 body (non-directory workloads do not answer Authorization_RequestDenied). */
  denied?: (route: RouteDef, caller: Caller) => GraphError;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

interface CompiledRoute extends RouteDef {
  segs: string[];
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

/** Splits a Graph path into decoded segments; `users('id')` is the same as `users/id`. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (!raw) continue;
    const seg = decodeURIComponent(raw);
    const keyed = /^([^(]+)\('?([^')]*)'?\)$/.exec(seg);
    if (keyed) out.push(keyed[1]!, keyed[2]!);
    else out.push(seg);
  }
  return out;
}

function literalMatches(literal: string, seg: string): boolean {
  const s = seg.toLowerCase();
  const l = literal.toLowerCase();
  return s === l || s === `microsoft.graph.${l}`;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(...defs: RouteDef[]): void {
    for (const def of defs) this.routes.push({ ...def, segs: splitPath(def.path) });
  }

  /** Returns the match, 'method' when the path exists under another verb, or undefined. */
  match(method: string, path: string): RouteMatch | 'method' | undefined {
    const segs = splitPath(path);
    let pathExists = false;
    let best: RouteMatch | undefined;
    let bestLiterals = -1;
    for (const route of this.routes) {
      if (route.segs.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const r = route.segs[i]!;
        if (r.startsWith(':')) params[r.slice(1)] = segs[i]!;
        else if (literalMatches(r, segs[i]!)) literals++;
        else {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathExists = true;
      // The most specific route wins: /users/delta beats /users/:id.
      if (route.method === method && literals > bestLiterals) {
        best = { route, params };
        bestLiterals = literals;
      }
    }
    if (best) return best;
    return pathExists ? 'method' : undefined;
  }
}
