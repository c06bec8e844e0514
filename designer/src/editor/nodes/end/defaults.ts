// The end node: its palette facts and what it starts as.
import { Flag } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'End', icon: Flag, description: 'Finish the run with a status and message' };

export const draft = (): Draft<'end'> => ({ kind: 'end', status: 'succeeded' });
