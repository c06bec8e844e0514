// The directory's change feed: every successful Graph write to a user bumps the tenant's change
// sequence and records the user's latest sequence number. /users/delta answers from it (a delta
// token is a sequence watermark) and change notifications are sent from it (graph/subscriptions.ts).

export type ChangeType = 'created' | 'updated' | 'deleted';

export interface UserChange {
  tenantId: string;
  userId: string;
  changeType: ChangeType;
  seq: number;
  atMs: number;
}

/** The user write operations (dispatch's mutation records) and the change each one is. */
function changeOf(op: string): ChangeType | undefined {
  if (!op.startsWith('user.')) return undefined;
  if (op === 'user.create' || op === 'user.invite') return 'created';
  if (op === 'user.delete') return 'deleted';
  if (op === 'user.reinvite' || op === 'user.revokeSignInSessions') return undefined;
  return 'updated';
}

export class ChangeFeed {
  private readonly seq = new Map<string, number>();
  private readonly users = new Map<string, Map<string, UserChange>>();
  private readonly listeners: ((c: UserChange) => void)[] = [];

  /** Records the user changes of one successful request (op and the ids it names; the first id is the user). */
  record(tenantId: string, op: string, objectIds: string[], atMs: number): void {
    const changeType = changeOf(op);
    const userId = objectIds[0];
    if (!changeType || !userId) return;
    const seq = (this.seq.get(tenantId) ?? 0) + 1;
    this.seq.set(tenantId, seq);
    let byUser = this.users.get(tenantId);
    if (!byUser) this.users.set(tenantId, (byUser = new Map()));
    const change = { tenantId, userId, changeType, seq, atMs };
    byUser.set(userId, change);
    for (const l of this.listeners) l(change);
  }

  /** The tenant's current sequence number: a delta token taken now sees only later changes. */
  watermark(tenantId: string): number {
    return this.seq.get(tenantId) ?? 0;
  }

  /** Each user changed after `seq`, once (its latest change), oldest first. */
  since(tenantId: string, seq: number): UserChange[] {
    return [...(this.users.get(tenantId)?.values() ?? [])].filter((c) => c.seq > seq).sort((a, b) => a.seq - b.seq);
  }

  onChange(listener: (c: UserChange) => void): void {
    this.listeners.push(listener);
  }

  clear(): void {
    this.seq.clear();
    this.users.clear();
  }
}
