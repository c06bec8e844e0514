// The delay node: its palette facts and what it starts as.
import { Clock } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Delay', icon: Clock, description: 'Wait for a duration or until a date' };

export const draft = (): Draft<'delay'> => ({ kind: 'delay', duration: '1h' });
