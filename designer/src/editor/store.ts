// The editor's state: the runbook being designed as React Flow nodes and edges plus its inputs and
// settings, with undo / redo, copy / paste and auto layout. A zustand store made by a factory
// (one per open editor, provided by context); pure enough to drive from tests in Node.
import { addEdge, applyEdgeChanges, applyNodeChanges, type Connection, type Edge, type EdgeChange, type Node, type NodeChange } from '@xyflow/react';
import { createStore } from 'zustand/vanilla';
import {
  handlesOf,
  RunbookEdge as RunbookEdgeSchema,
  RunbookNode as RunbookNodeSchema,
  type NodeKind,
  type RunbookDefinition,
  type RunbookEdge,
  type RunbookInput,
  type RunbookNode,
  type RunbookSettings,
} from '../../../runbook/definition.ts';
import type { Problem } from '../../../runbook/validate.ts';
import { applyFix, type RuleFix, type RuleWarning } from '../../../runbook/rules.ts';
import { layoutGraph } from './layout.ts';

export type NodeData = { def: RunbookNode };
export type FlowNode = Node<NodeData, NodeKind>;
export type FlowEdge = Edge<{ handle: string }>;

export interface Meta {
  name: string;
  description?: string;
  inputs: RunbookInput[];
  settings: RunbookSettings;
}

interface Snapshot {
  meta: Meta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface Clipboard {
  nodes: RunbookNode[];
  edges: RunbookEdge[];
}

export const NODE_WIDTH = 248;
export function nodeHeight(kind: NodeKind): number {
  return kind === 'action' ? 92 : kind === 'end' ? 60 : 76;
}

/** A node as added to the canvas: its id is chosen by the store unless given. */
export type NodeDraft = RunbookNode extends infer T ? (T extends RunbookNode ? Omit<T, 'id'> & { id?: string } : never) : never;

export interface EditorState {
  meta: Meta;
  nodes: FlowNode[];
  edges: FlowEdge[];
  past: Snapshot[];
  future: Snapshot[];
  /** Bumped by every change to the runbook (not by selection): autosave and validation watch it. */
  revision: number;
  problems: Problem[];
  /** The Microsoft 365 rules checker's warnings: shown, never blocking. */
  warnings: RuleWarning[];
  readOnly: boolean;

  load(def: RunbookDefinition, opts?: { layout?: boolean }): void;
  definition(): RunbookDefinition;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  connect(c: Connection): string | undefined;
  addNode(def: NodeDraft, position?: { x: number; y: number }): string;
  /** `field` names what is being edited: consecutive edits of one field are one undo step. */
  updateNode(id: string, update: (def: RunbookNode) => RunbookNode, field?: string): void;
  renameNode(id: string, newId: string): string | undefined;
  removeSelected(): void;
  select(ids: string[]): void;
  selectAll(): void;
  selected(): FlowNode[];
  updateMeta(update: (m: Meta) => Meta, field?: string): void;
  undo(): void;
  redo(): void;
  copy(): Clipboard | undefined;
  paste(clip: Clipboard, offset?: { x: number; y: number }): string[];
  autoLayout(): void;
  setProblems(p: Problem[], warnings?: RuleWarning[]): void;
  /** Applies a rule's one-click fix (one undo step); answers the new node's id. */
  applyRuleFix(fix: RuleFix): string;
}

const HISTORY = 100;

function edgeId(source: string, handle: string, target: string): string {
  return `${source}:${handle}->${target}`;
}

export function toFlowNode(def: RunbookNode, position = def.position ?? { x: 0, y: 0 }): FlowNode {
  const { position: _drop, ...rest } = def;
  return { id: def.id, type: def.kind, position, data: { def: rest as RunbookNode }, width: NODE_WIDTH };
}

export function toFlowEdge(e: RunbookEdge): FlowEdge {
  const handle = e.sourceHandle ?? 'out';
  return {
    id: e.id ?? edgeId(e.source, handle, e.target),
    source: e.source,
    target: e.target,
    sourceHandle: handle,
    data: { handle },
    label: handle === 'out' ? undefined : handle,
    className: `edge-${handle}`,
  };
}

/** A node id from what it does: user.create -> user_create, user_create_2, ... */
export function freshId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let stem = base.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[A-Za-z]/.test(stem)) stem = `step_${stem}`;
  if (!used.has(stem)) return stem;
  for (let i = 2; ; i++) if (!used.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

function strip(n: FlowNode): FlowNode {
  const { selected: _s, dragging: _d, measured: _m, ...rest } = n;
  return rest as FlowNode;
}

/**
 * Stored runbooks are the author's JSON, without the schema's defaults (an approval may list only
 * roles, an edge may omit its handle). Fill the defaults in wherever a node or edge parses, and
 * keep whatever does not parse as it is, so the validator can point at it.
 */
export function withDefaults(def: RunbookDefinition): RunbookDefinition {
  const nodes = (def.nodes ?? []).map((n) => {
    const parsed = RunbookNodeSchema.safeParse(n);
    return parsed.success ? { ...parsed.data, position: n.position } : n;
  });
  const edges = (def.edges ?? []).map((e) => {
    const parsed = RunbookEdgeSchema.safeParse(e);
    return parsed.success ? parsed.data : e;
  });
  return { ...def, inputs: def.inputs ?? [], nodes, edges };
}

export function createEditorStore(opts: { readOnly?: boolean } = {}) {
  return createStore<EditorState>()((set, get) => {
    let dragging = false;
    const snapshot = (): Snapshot => {
      const s = get();
      return { meta: s.meta, nodes: s.nodes.map(strip), edges: s.edges.map((e) => ({ ...e, selected: false })) };
    };
    /** Record the current state for undo, then apply the change. */
    // Typing into one field makes one undo step, not one per key.
    let lastKey: string | undefined;
    let lastAt = 0;
    const commit = (change: (s: EditorState) => Partial<EditorState>, coalesce?: string) => {
      const now = Date.now();
      const merge = coalesce !== undefined && coalesce === lastKey && now - lastAt < 1500;
      lastKey = coalesce;
      lastAt = now;
      if (merge) {
        set((s) => ({ ...change(s), revision: s.revision + 1 }));
        return;
      }
      const before = snapshot();
      set((s) => ({ ...change(s), past: [...s.past.slice(-HISTORY + 1), before], future: [], revision: s.revision + 1 }));
    };
    const restore = (snap: Snapshot): Pick<EditorState, 'meta' | 'nodes' | 'edges'> => ({ meta: snap.meta, nodes: snap.nodes, edges: snap.edges });

    return {
      meta: { name: 'Untitled runbook', inputs: [], settings: { allowSelfApproval: false } },
      nodes: [],
      edges: [],
      past: [],
      future: [],
      revision: 0,
      problems: [],
      warnings: [],
      readOnly: opts.readOnly ?? false,

      load(raw, o = {}) {
        const def = withDefaults(raw);
        const nodes = def.nodes.map((n) => toFlowNode(n));
        const edges = def.edges.map(toFlowEdge);
        set({
          meta: { name: def.name, description: def.description, inputs: def.inputs ?? [], settings: def.settings ?? { allowSelfApproval: false } },
          nodes,
          edges,
          past: [],
          future: [],
          revision: 0,
        });
        if (o.layout || (nodes.length > 1 && def.nodes.every((n) => !n.position))) {
          const pos = layoutPositions(nodes, edges);
          set({ nodes: nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })) });
        }
      },

      definition() {
        const s = get();
        return {
          schemaVersion: 1,
          name: s.meta.name,
          ...(s.meta.description ? { description: s.meta.description } : {}),
          inputs: s.meta.inputs,
          nodes: s.nodes.map((n) => ({ ...n.data.def, id: n.id, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } }) as RunbookNode),
          edges: s.edges.map((e) => ({ source: e.source, sourceHandle: e.sourceHandle ?? 'out', target: e.target })),
          settings: s.meta.settings,
        };
      },

      onNodesChange(changes) {
        if (get().readOnly) changes = changes.filter((c) => c.type === 'select' || c.type === 'dimensions');
        const removes = changes.filter((c) => c.type === 'remove').map((c) => c.id);
        const moving = changes.some((c) => c.type === 'position' && c.dragging);
        const moved = changes.some((c) => c.type === 'position');
        if (removes.length) {
          commit((s) => ({
            nodes: applyNodeChanges(changes, s.nodes),
            edges: s.edges.filter((e) => !removes.includes(e.source) && !removes.includes(e.target)),
          }));
          return;
        }
        if (moving && !dragging) {
          dragging = true;
          commit((s) => ({ nodes: applyNodeChanges(changes, s.nodes) }));
          return;
        }
        if (!moving && dragging && moved) dragging = false;
        set((s) => ({ nodes: applyNodeChanges(changes, s.nodes), revision: moved ? s.revision + 1 : s.revision }));
      },

      onEdgesChange(changes) {
        if (get().readOnly) changes = changes.filter((c) => c.type === 'select');
        if (changes.some((c) => c.type === 'remove')) commit((s) => ({ edges: applyEdgeChanges(changes, s.edges) }));
        else set((s) => ({ edges: applyEdgeChanges(changes, s.edges) }));
      },

      connect(c) {
        const s = get();
        if (s.readOnly || !c.source || !c.target || c.source === c.target) return undefined;
        const source = s.nodes.find((n) => n.id === c.source);
        if (!source) return undefined;
        const handle = c.sourceHandle ?? handlesOf(source.data.def)[0] ?? 'out';
        if (!handlesOf({ ...source.data.def, id: source.id }).includes(handle)) return undefined;
        const edge = toFlowEdge({ source: c.source, sourceHandle: handle, target: c.target });
        if (s.edges.some((e) => e.id === edge.id)) return undefined;
        commit((st) => ({ edges: addEdge(edge, st.edges) }));
        return edge.id;
      },

      addNode(def, position) {
        const s = get();
        const id = def.id && !s.nodes.some((n) => n.id === def.id) ? def.id : freshId(def.id ?? baseId(def as RunbookNode), s.nodes.map((n) => n.id));
        const p = position ?? nextFreePosition(s.nodes);
        const node = { ...toFlowNode({ ...def, id } as RunbookNode, p), selected: true };
        commit((st) => ({ nodes: [...st.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] }));
        return id;
      },

      updateNode(id, update, field) {
        commit(
          (s) => ({
            nodes: s.nodes.map((n) => {
              if (n.id !== id) return n;
              const def = update(n.data.def);
              return { ...n, type: def.kind, data: { def } };
            }),
          }),
          field === undefined ? undefined : `${id}/${field}`,
        );
      },

      renameNode(id, newId) {
        const s = get();
        if (id === newId) return id;
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(newId) || s.nodes.some((n) => n.id === newId)) return undefined;
        commit((st) => ({
          nodes: st.nodes.map((n) => (n.id === id ? { ...n, id: newId, data: { def: { ...n.data.def, id: newId } } } : n)),
          edges: st.edges.map((e) => {
            if (e.source !== id && e.target !== id) return e;
            const source = e.source === id ? newId : e.source;
            const target = e.target === id ? newId : e.target;
            return { ...e, source, target, id: edgeId(source, e.sourceHandle ?? 'out', target) };
          }),
        }));
        return newId;
      },

      removeSelected() {
        const s = get();
        if (s.readOnly) return;
        const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
        const edgesGone = new Set(s.edges.filter((e) => e.selected).map((e) => e.id));
        if (!gone.size && !edgesGone.size) return;
        commit((st) => ({
          nodes: st.nodes.filter((n) => !gone.has(n.id)),
          edges: st.edges.filter((e) => !edgesGone.has(e.id) && !gone.has(e.source) && !gone.has(e.target)),
        }));
      },

      select(ids) {
        const want = new Set(ids);
        set((s) => ({
          nodes: s.nodes.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) })),
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        }));
      },

      selectAll() {
        set((s) => ({ nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) }));
      },

      selected() {
        return get().nodes.filter((n) => n.selected);
      },

      updateMeta(update, field) {
        commit((s) => ({ meta: update(s.meta) }), field === undefined ? undefined : `meta/${field}`);
      },

      undo() {
        const s = get();
        const prev = s.past.at(-1);
        if (!prev) return;
        const now = snapshot();
        set({ ...restore(prev), past: s.past.slice(0, -1), future: [now, ...s.future], revision: s.revision + 1 });
      },

      redo() {
        const s = get();
        const next = s.future[0];
        if (!next) return;
        const now = snapshot();
        set({ ...restore(next), past: [...s.past, now], future: s.future.slice(1), revision: s.revision + 1 });
      },

      copy() {
        const s = get();
        const chosen = s.nodes.filter((n) => n.selected);
        if (!chosen.length) return undefined;
        const ids = new Set(chosen.map((n) => n.id));
        return {
          nodes: chosen.map((n) => ({ ...n.data.def, id: n.id, position: n.position }) as RunbookNode),
          edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ source: e.source, sourceHandle: e.sourceHandle ?? 'out', target: e.target })),
        };
      },

      paste(clip, offset = { x: 40, y: 40 }) {
        const s = get();
        const taken = s.nodes.map((n) => n.id);
        const rename = new Map<string, string>();
        for (const n of clip.nodes) {
          const id = freshId(n.id, [...taken, ...rename.values()]);
          rename.set(n.id, id);
        }
        const nodes = clip.nodes.map((n) => ({
          ...toFlowNode({ ...n, id: rename.get(n.id)! }, { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y }),
          selected: true,
        }));
        const edges = clip.edges
          .filter((e) => rename.has(e.source) && rename.has(e.target))
          .map((e) => toFlowEdge({ source: rename.get(e.source)!, sourceHandle: e.sourceHandle, target: rename.get(e.target)! }));
        commit((st) => ({
          nodes: [...st.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...nodes],
          edges: [...st.edges, ...edges],
        }));
        return [...rename.values()];
      },

      autoLayout() {
        commit((s) => {
          const pos = layoutPositions(s.nodes, s.edges);
          return { nodes: s.nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })) };
        });
      },

      setProblems(problems, warnings = []) {
        set({ problems, warnings });
      },

      applyRuleFix(fix) {
        const before = get().definition();
        const next = applyFix(before, fix);
        const loop = fix.nodeId.includes('.') ? fix.nodeId.split('.')[0] : undefined;
        const known = new Set(before.nodes.map((n) => n.id));
        const added = next.nodes.filter((n) => !known.has(n.id));
        commit((s) => ({
          nodes: [
            ...s.nodes.map((n) => {
              if (n.id !== loop) return n;
              const { position: _p, ...def } = next.nodes.find((x) => x.id === loop)!;
              return { ...n, data: { ...n.data, def: def as RunbookNode } };
            }),
            ...added.map((n) => toFlowNode(n)),
          ],
          edges: next.edges.map(toFlowEdge),
        }));
        return loop ? fix.nodeId : added[0]!.id;
      },

    };
  });
}

export type EditorStore = ReturnType<typeof createEditorStore>;

export function layoutPositions(nodes: FlowNode[], edges: FlowEdge[]) {
  return layoutGraph(
    nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: n.measured?.height ?? nodeHeight(n.data.def.kind), handles: handlesOf(n.data.def) })),
    edges.map((e) => ({ source: e.source, target: e.target, sourceHandle: e.sourceHandle ?? undefined })),
  );
}

function baseId(def: RunbookNode): string {
  if (def.kind === 'action') return def.action ? def.action.replace(/\./g, '_') : 'action';
  return def.kind;
}

/** Below the lowest node, so a node added from the keyboard never lands on another. */
function nextFreePosition(nodes: FlowNode[]): { x: number; y: number } {
  if (!nodes.length) return { x: 0, y: 0 };
  const lowest = nodes.reduce((a, b) => (b.position.y > a.position.y ? b : a));
  return { x: lowest.position.x, y: lowest.position.y + nodeHeight(lowest.data.def.kind) + 60 };
}

/** Makes a store already holding a definition. */
export function editorStoreFor(def: RunbookDefinition, opts: { readOnly?: boolean; layout?: boolean } = {}): EditorStore {
  const store = createEditorStore(opts);
  store.getState().load(def, { layout: opts.layout });
  return store;
}
