// What each node kind looks like and offers in the palette (from nodes/<kind>/defaults.ts), and the
// names of the handles edges leave from.
import type { NodeKind } from '../../../../runbook/definition.ts';
import { config as action } from './action/defaults.ts';
import { config as approval } from './approval/defaults.ts';
import { config as condition } from './condition/defaults.ts';
import { config as delay } from './delay/defaults.ts';
import { config as end } from './end/defaults.ts';
import { config as forEach } from './forEach/defaults.ts';
import { config as subRunbook } from './subRunbook/defaults.ts';
import type { KindConfig } from './kind.ts';

export const KINDS: Record<NodeKind, KindConfig> = { action, approval, condition, delay, end, forEach, subRunbook };

export const HANDLE_LABELS: Record<string, string> = {
  out: 'next',
  error: 'on error',
  approved: 'approved',
  rejected: 'rejected',
  timeout: 'timed out',
  true: 'true',
  false: 'false',
  default: 'otherwise',
};
