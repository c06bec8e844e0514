// The sub-runbook node: its palette facts and what it starts as.
import { Workflow } from 'lucide-react';
import type { Draft, KindConfig } from '../kind.ts';

export const config: KindConfig = { title: 'Sub-runbook', icon: Workflow, description: 'Run another published runbook as one step' };

export const draft = (): Draft<'subRunbook'> => ({ kind: 'subRunbook', runbook: '', version: 'latest', inputs: {}, onError: 'fail' });
