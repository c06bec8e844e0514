// Designer benchmark: opening a 300-node runbook (load into the editor store, auto layout, validate
// as the editor does on open) against a 10-node one, in the same run. Prints the per-node cost
// ratio; a ratio near 1 means opening scales linearly with the runbook's size.
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

function open(def: RunbookDefinition): number {
  const t0 = performance.now();
  const store = editorStoreFor(def, { layout: true });
  validateRunbook(store.getState().definition());
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function runDesignerBench(): { small: number; large: number; ratio: number; perNodeRatio: number } {
  const small = syntheticRunbook(10);
  const large = syntheticRunbook(300);
  for (let i = 0; i < 3; i++) {
    open(small);
    open(large);
  }
  const s: number[] = [];
  const l: number[] = [];
  for (let i = 0; i < 9; i++) {
    s.push(open(small));
    l.push(open(large));
  }
  const result = { small: median(s), large: median(l), ratio: median(l) / median(s), perNodeRatio: median(l) / 300 / (median(s) / 10) };
  console.log(
    `designer: open (load + auto layout + validate) 10 nodes ${result.small.toFixed(2)} ms, 300 nodes ${result.large.toFixed(2)} ms; ` +
      `ratio ${result.ratio.toFixed(1)}x for 30x the nodes (per-node cost ratio ${result.perNodeRatio.toFixed(2)})`,
  );
  return result;
}

if (import.meta.main) runDesignerBench();
