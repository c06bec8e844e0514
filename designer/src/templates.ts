// Starting points for "New runbook". Server-stored runbooks can be cloned as well.
import type { RunbookDefinition } from '../../runbook/definition.ts';

export interface Template {
  id: string;
  title: string;
  description: string;
  definition: RunbookDefinition;
}

export const TEMPLATES: Template[] = [
  {
    id: 'blank',
    title: 'Blank runbook',
    description: 'An empty canvas with a start-to-end step to build on.',
    definition: {
      schemaVersion: 1,
      name: 'Untitled runbook',
      inputs: [],
      nodes: [{ id: 'done', kind: 'end', status: 'succeeded', position: { x: 0, y: 0 } }],
      edges: [],
      settings: { allowSelfApproval: false },
    },
  },
  {
    id: 'licence-request',
    title: 'Licence request with approval',
    description: 'An approver decides, then the licence is assigned to the user.',
    definition: {
      schemaVersion: 1,
      name: 'Licence request',
      description: 'Assigns a licence to a user once an approver agrees.',
      inputs: [
        { name: 'user', type: 'user', title: 'User', required: true },
        { name: 'licence', type: 'licence', title: 'Licence', required: true, default: 'SPE_E3' },
      ],
      nodes: [
        {
          id: 'approve',
          kind: 'approval',
          label: 'Approve the licence',
          approvers: { users: [], roles: ['approver'], groups: [] },
          quorum: 'any',
          onTimeout: 'reject',
          message: 'Give {{ inputs.licence }} to {{ inputs.user }}?',
          timeout: '2d',
        },
        { id: 'assign', kind: 'action', action: 'licence.assign', label: 'Assign licence', params: { user: '{{ inputs.user }}', licences: ['{{ inputs.licence }}'] }, onError: 'fail' },
        { id: 'done', kind: 'end', status: 'succeeded', message: 'Licence assigned' },
        { id: 'rejected', kind: 'end', status: 'succeeded', message: 'Request rejected' },
      ],
      edges: [
        { source: 'approve', sourceHandle: 'approved', target: 'assign' },
        { source: 'approve', sourceHandle: 'rejected', target: 'rejected' },
        { source: 'assign', sourceHandle: 'out', target: 'done' },
      ],
      settings: { allowSelfApproval: false },
    },
  },
];
