// The condition node: its palette facts and what it starts as.
import { GitBranch } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Condition', icon: GitBranch, description: 'Branch on an expression (true / false or cases)' };

export const draft = (): Draft<'condition'> => ({ kind: 'condition', expression: '' });
