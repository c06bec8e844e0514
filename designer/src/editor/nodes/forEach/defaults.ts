// The forEach node: its palette facts and what it starts as (one end step per item).
import { Repeat } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'For each', icon: Repeat, description: 'Run steps once per item of a list (CSV rows, group members)' };

export const draft = (): Draft<'forEach'> =>
  ({ kind: 'forEach', items: '', body: { nodes: [{ id: 'each', kind: 'end', status: 'succeeded' }], edges: [] }, concurrency: 10, onItemError: 'continue' }) as Draft<'forEach'>;
