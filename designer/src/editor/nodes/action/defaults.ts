// The action node: its palette facts and what it starts as (the action dropped from the palette).
import { Zap } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Action', icon: Zap, description: 'A Microsoft 365 action from the catalog' };

export const draft = (action?: string): Draft<'action'> => ({ kind: 'action', action: action ?? '', params: {}, onError: 'fail' });
