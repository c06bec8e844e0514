// The approval node: its palette facts and what it starts as.
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Approval', icon: '✋', description: 'Wait for people to approve or reject' };

export const draft = (): Draft<'approval'> => ({ kind: 'approval', approvers: { users: [], roles: [], groups: [] }, quorum: 'any', onTimeout: 'reject' });
