// What every node kind provides, as types: its palette facts, its inspector form's props, and the
// draft a new node of the kind starts as. Each kind lives in nodes/<kind>/: Node.tsx (the canvas
// component), Form.tsx (the inspector form) and defaults.ts (palette facts and the new node).
import type { LucideIcon } from 'lucide-react';
import type { ComponentType } from 'react';
import type { NodeKind, RunbookNode } from '../../../../runbook/definition.ts';
import type { NodeDraft } from '../store.ts';

export interface KindConfig {
  title: string;
  /** An icon of lucide-react (SVG: renders whatever fonts the machine has). */
  icon: LucideIcon;
  description: string;
}

/** Changes the node: `field` names what changes (consecutive edits of one field are one undo step). */
export type Update = (field: string, patch: (d: RunbookNode) => RunbookNode) => void;
/** Sets one top-level property of the node; undefined or '' removes it. */
export type Setter = (field: string, value: unknown) => void;

/** The form of one step, whatever its kind (a forEach's form shows one per loop step). */
export type StepFormComponent = ComponentType<{ nodeId: string; def: RunbookNode; update: Update }>;

export interface KindFormProps<K extends NodeKind> {
  /** The node's id; "loop.step" for a step of a forEach body (the id the validator gives its problems). */
  nodeId: string;
  def: Extract<RunbookNode, { kind: K }>;
  update: Update;
  set: Setter;
  StepForm: StepFormComponent;
}

/** What a node of kind K starts as when it is added (its id is chosen by the store). */
export type Draft<K extends NodeKind> = Extract<NodeDraft, { kind: K }>;
