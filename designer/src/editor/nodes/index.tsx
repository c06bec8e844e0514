// Every node kind's parts, by kind: the canvas component React Flow draws (nodeTypes) and the
// inspector form (FORMS; `After` renders below the step's notes). Each kind lives in nodes/<kind>/.
import type { NodeTypes } from '@xyflow/react';
import type { ComponentType } from 'react';
import type { NodeKind } from '../../../../runbook/definition.ts';
import { ActionForm, ActionNotInCatalog } from './action/Form.tsx';
import { ActionNode } from './action/Node.tsx';
import { ApprovalForm } from './approval/Form.tsx';
import { ApprovalNode } from './approval/Node.tsx';
import { ConditionForm } from './condition/Form.tsx';
import { ConditionNode } from './condition/Node.tsx';
import { DelayForm } from './delay/Form.tsx';
import { DelayNode } from './delay/Node.tsx';
import { EndForm } from './end/Form.tsx';
import { EndNode } from './end/Node.tsx';
import { ForEachForm } from './forEach/Form.tsx';
import { ForEachNode } from './forEach/Node.tsx';
import type { KindFormProps } from './kind.ts';
import { SubRunbookForm } from './subRunbook/Form.tsx';
import { SubRunbookNode } from './subRunbook/Node.tsx';

export const nodeTypes: NodeTypes = {
  forEach: ForEachNode,
  action: ActionNode,
  approval: ApprovalNode,
  condition: ConditionNode,
  delay: DelayNode,
  end: EndNode,
  subRunbook: SubRunbookNode,
};

type Forms = { [K in NodeKind]: { Form: ComponentType<KindFormProps<K>>; After?: ComponentType<KindFormProps<K>> } };

export const FORMS: Forms = {
  action: { Form: ActionForm, After: ActionNotInCatalog },
  approval: { Form: ApprovalForm },
  condition: { Form: ConditionForm },
  delay: { Form: DelayForm },
  end: { Form: EndForm },
  forEach: { Form: ForEachForm },
  subRunbook: { Form: SubRunbookForm },
};
