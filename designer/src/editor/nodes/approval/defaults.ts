// The approval node: its palette facts and what it starts as.
import { UserCheck } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Approval', icon: UserCheck, description: 'Wait for people to approve or reject' };

export const draft = (): Draft<'approval'> => ({ kind: 'approval', approvers: { users: [], roles: [], groups: [] }, quorum: 'any', onTimeout: 'reject' });
