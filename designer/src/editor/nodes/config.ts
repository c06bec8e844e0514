// What each node kind looks like and offers in the palette.
import type { NodeKind } from '../../../../runbook/definition.ts';

export interface KindConfig {
  title: string;
  icon: string;
  description: string;
}

export const KINDS: Record<NodeKind, KindConfig> = {
  action: { title: 'Action', icon: '⚙', description: 'A Microsoft 365 action from the catalog' },
  approval: { title: 'Approval', icon: '✋', description: 'Wait for people to approve or reject' },
  condition: { title: 'Condition', icon: '◇', description: 'Branch on an expression (true / false or cases)' },
  delay: { title: 'Delay', icon: '◷', description: 'Wait for a duration or until a date' },
  end: { title: 'End', icon: '■', description: 'Finish the run with a status and message' },
  forEach: { title: 'For each', icon: '↻', description: 'Run steps once per item of a list (CSV rows, group members)' },
};


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
