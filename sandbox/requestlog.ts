// Every request the sandbox answered, and every successful write per object and operation, so a
// test can prove "the user was created exactly once".

export interface RequestLogEntry {
  seq: number;
  time: string;
  surface: 'graph' | 'batch-item' | 'token' | 'exchange' | 'sharepoint' | 'admin' | 'discovery';
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  clientRequestId?: string;
  tenantId?: string;
  appId?: string;
  /** Why the sandbox failed the request on purpose: throttled, fault:503, fault:drop, ... */
  injected?: string;
  ops?: string[];
}

export interface MutationRecord {
  seq: number;
  time: string;
  tenantId: string;
  appId: string;
  op: string;
  objectIds: string[];
  method: string;
  path: string;
  requestId: string;
}

export interface MutationFilter {
  objectId?: string;
  op?: string;
  /** Substring of the request path, e.g. "/users". */
  path?: string;
  tenantId?: string;
  appId?: string;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private mutationList: MutationRecord[] = [];
  private seq = 0;
  private readonly limit: number;

  constructor(limit = 20000) {
    this.limit = limit;
  }

  add(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    // Drop the oldest half at once: amortised O(1) for long bulk runs.
    if (this.entries.length > this.limit) this.entries = this.entries.slice(this.entries.length - Math.floor(this.limit / 2));
    return full;
  }

  recordMutation(m: Omit<MutationRecord, 'seq'>): void {
    this.mutationList.push({ seq: ++this.seq, ...m });
  }

  requests(filter?: { since?: number; surface?: string; path?: string; method?: string }): RequestLogEntry[] {
    return this.entries.filter(
      (e) =>
        (filter?.since === undefined || e.seq > filter.since) &&
        (!filter?.surface || e.surface === filter.surface) &&
        (!filter?.method || e.method === filter.method.toUpperCase()) &&
        (!filter?.path || e.path.includes(filter.path)),
    );
  }

  mutations(filter: MutationFilter = {}): MutationRecord[] {
    const objectId = filter.objectId?.toLowerCase();
    return this.mutationList.filter(
      (m) =>
        (!objectId || m.objectIds.includes(objectId)) &&
        (!filter.op || m.op === filter.op) &&
        (!filter.path || m.path.includes(filter.path)) &&
        (!filter.tenantId || m.tenantId === filter.tenantId) &&
        (!filter.appId || m.appId === filter.appId),
    );
  }

  mutationCount(filter: MutationFilter = {}): number {
    return this.mutations(filter).length;
  }

  /** Counts per operation for the matching mutations, e.g. { 'user.create': 1, 'group.addMember': 1 }. */
  mutationSummary(filter: MutationFilter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.mutations(filter)) out[m.op] = (out[m.op] ?? 0) + 1;
    return out;
  }

  clear(): void {
    this.entries = [];
    this.mutationList = [];
  }
}
