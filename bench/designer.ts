// Designer benchmark: opening a 300-node runbook (load into the editor store, auto layout, validate
// as the editor does on open, and React Flow's render of the result, server-side so it runs without
// a browser) against bare @xyflow/react rendering the same 300 nodes at fixed positions, and against
// a 10-node runbook, interleaved in the same run.
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { ReactFlow } from '@xyflow/react';
import { editorStoreFor } from '../designer/src/editor/store.ts';
import type { RunbookDefinition, RunbookNode } from '../runbook/definition.ts';
import { validateRunbook } from '../runbook/validate.ts';

/** A plausible runbook of n steps: chains of approvals and actions that fan out and join. */
export function syntheticRunbook(n: number): RunbookDefinition {
  const nodes: RunbookNode[] = [];
  const edges: RunbookDefinition['edges'] = [];
  const actions = ['user.create', 'licence.assign', 'group.addMember'];
  for (let i = 0; i < n - 1; i++) {
    const id = `step_${i}`;
    if (i % 10 === 0) nodes.push({ id, kind: 'approval', approvers: { users: [], roles: ['approver'], groups: [] }, quorum: 'any', onTimeout: 'reject' });
    else
      nodes.push({
        id,
        kind: 'action',
        action: actions[i % 3]!,
        params:
          i % 3 === 0
            ? { userPrincipalName: `{{ inputs.upn }}`, displayName: 'Bench User' }
            : i % 3 === 1
              ? { user: '{{ inputs.upn }}', licences: ['SPE_E3'] }
              : { group: 'All Company', user: '{{ inputs.upn }}' },
        onError: 'fail',
      });
    if (i > 0) {
      // Mostly a chain, with a branch every few steps so the layout has real work to do.
      const from = i % 4 === 0 && i > 2 ? i - 2 : i - 1;
      const src = nodes[from]!;
      edges.push({ source: src.id, sourceHandle: src.kind === 'approval' ? 'approved' : 'out', target: id });
    }
  }
  nodes.push({ id: 'done', kind: 'end', status: 'succeeded' });
  const last = nodes[n - 2]!;
  edges.push({ source: last.id, sourceHandle: last.kind === 'approval' ? 'approved' : 'out', target: 'done' });
  return { schemaVersion: 1, name: `bench ${n}`, inputs: [{ name: 'upn', type: 'string', required: true }], nodes, edges, settings: { allowSelfApproval: false } };
}

/** The same 300 nodes as React Flow draws them: fixed positions and sizes, default node type. */
function flowElement(nodes: { id: string; position: { x: number; y: number } }[], edges: { source: string; target: string; sourceHandle?: string | null }[]) {
  return createElement(ReactFlow, {
    nodes: nodes.map((n) => ({ id: n.id, position: n.position, data: { label: n.id }, width: 240, height: 80 })),
    edges: edges.map((e, i) => ({ id: `e${i}`, source: e.source, target: e.target })),
    width: 1600,
    height: 1000,
    fitView: true,
  });
}

/** Bare @xyflow/react: the runbook's nodes at positions already known, rendered once. */
function bare(def: RunbookDefinition, positions: Record<string, { x: number; y: number }>): number {
  const t0 = performance.now();
  renderToString(flowElement(def.nodes.map((n) => ({ id: n.id, position: positions[n.id]! })), def.edges));
  return performance.now() - t0;
}

/** The designer's open: load into the editor store, auto layout, validate, then the same render. */
function open(def: RunbookDefinition): number {
  const t0 = performance.now();
  const store = editorStoreFor(def, { layout: true });
  validateRunbook(store.getState().definition());
  const { nodes, edges } = store.getState();
  renderToString(flowElement(nodes, edges));
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Warm-up opens before the timed rounds: V8 optimises the layout and validation code after a few
 * dozen calls, and React's renderer as soon; with three, the first rounds timed half-optimised code
 * (validation ran 10 ms then, 4 ms after twenty opens) and the median moved by up to 0.4 between runs.
 */
const WARM_UP = 20;

export function runDesignerBench(rounds = 15): { small: number; large: number; bare: number; ratio: number; vsBare: number } {
  const small = syntheticRunbook(10);
  const large = syntheticRunbook(300);
  const positions = Object.fromEntries(large.nodes.map((n, i) => [n.id, { x: (i % 3) * 288, y: i * 144 }]));
  for (let i = 0; i < WARM_UP; i++) {
    open(small);
    open(large);
    bare(large, positions);
  }
  const s: number[] = [];
  const l: number[] = [];
  const b: number[] = [];
  // Interleaved rounds: the three measures see the same machine load.
  for (let i = 0; i < rounds; i++) {
    s.push(open(small));
    l.push(open(large));
    b.push(bare(large, positions));
  }
  const result = { small: median(s), large: median(l), bare: median(b), ratio: median(l) / median(s), vsBare: median(l) / median(b) };
  console.log(
    `designer: open (load + auto layout + validate + render) 10 nodes ${result.small.toFixed(1)} ms, 300 nodes ${result.large.toFixed(1)} ms ` +
      `(${result.ratio.toFixed(1)}x for 30x the nodes); bare @xyflow/react 300 nodes at fixed positions ${result.bare.toFixed(1)} ms; ` +
      `open 300 / bare 300 = ${result.vsBare.toFixed(2)} (target <= 1.5; median of ${rounds})`,
  );
  return result;
}

if (import.meta.main) runDesignerBench();
