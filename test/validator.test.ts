// Every rejection of the runbook validator names the node and the field, with a fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RUNBOOK_ID, slugify } from '../runbook/runbook-id.ts';
import { formatProblem, validateRunbook, type Problem } from '../runbook/validate.ts';
import { validateInputs } from '../runbook/inputs.ts';

const onboarding = JSON.parse(readFileSync(new URL('../server/examples/onboarding.json', import.meta.url), 'utf8'));

function base() {
  return {
    name: 'test',
    inputs: [{ name: 'upn', type: 'string', required: true }],
    nodes: [
      { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Anna' } },
      { id: 'group', kind: 'action', action: 'group.addMember', params: { group: 'All Staff', user: '{{ steps.create.output.id }}' } },
    ],
    edges: [{ source: 'create', target: 'group' }],
  } as { name: string; inputs: unknown[]; nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
}

function problems(def: unknown): Problem[] {
  const r = validateRunbook(def);
  assert.equal(r.ok, false, 'expected the runbook to be rejected');
  return r.problems;
}

function expectProblem(def: unknown, nodeId: string | undefined, field: string, pattern: RegExp) {
  const all = problems(def);
  const hit = all.find((p) => p.nodeId === nodeId && p.field === field && pattern.test(p.message));
  assert.ok(hit, `expected a problem on node ${nodeId} field ${field} matching ${pattern}, got:\n${all.map(formatProblem).join('\n')}`);
  return hit;
}

describe('runbook validator', () => {
  it('accepts the example onboarding runbook and a small valid graph', () => {
    assert.deepEqual(validateRunbook(onboarding).problems, []);
    assert.deepEqual(validateRunbook(base()).problems, []);
  });

  it('rejects an unknown action id on its node', () => {
    const def = base();
    def.nodes[1]!.action = 'group.addMembr';
    const p = expectProblem(def, 'group', 'action', /unknown action "group\.addMembr"/);
    assert.match(formatProblem(p), /^node "group", field "action"/);
  });

  it('rejects parameters that do not match the action input schema, naming the parameter', () => {
    const def = base();
    def.nodes[0]!.params = { userPrincipalName: 'not-an-email', displayName: 'Anna', usageLocation: 'Sweden' };
    expectProblem(def, 'create', 'params.userPrincipalName', /email/i);
    expectProblem(def, 'create', 'params.usageLocation', /two-letter country code/);
  });

  it('rejects a missing required parameter and an unknown parameter', () => {
    const def = base();
    def.nodes[0]!.params = { userPrincipalName: '{{ inputs.upn }}', colour: 'blue' };
    expectProblem(def, 'create', 'params.displayName', /required parameter of "user\.create" is missing/);
    expectProblem(def, 'create', 'params.colour', /has no parameter "colour"/);
  });

  it('rejects an unknown field on a node', () => {
    const def = base();
    def.nodes[0]!.retries = 3;
    expectProblem(def, 'create', 'node', /unknown field "retries"/);
  });

  it('rejects dangling edges: missing target, missing source, and a handle the node does not have', () => {
    const def = base();
    def.edges.push({ source: 'group', target: 'nowhere' });
    expectProblem(def, undefined, 'edges[1].target', /node "nowhere", which does not exist/);
    const def2 = base();
    def2.edges.push({ source: 'ghost', target: 'group' });
    expectProblem(def2, undefined, 'edges[1].source', /node "ghost", which does not exist/);
    const def3 = base();
    def3.edges[0]!.sourceHandle = 'error';
    expectProblem(def3, 'create', 'edges[0].sourceHandle', /only has "out".*set onError to "route"/);
  });

  it('rejects cycles, naming the loop', () => {
    const def = base();
    def.nodes.push({ id: 'again', kind: 'action', action: 'user.create', params: { userPrincipalName: 'a@b.co', displayName: 'A' } });
    def.edges.push({ source: 'group', target: 'again' }, { source: 'again', target: 'group' });
    expectProblem(def, 'again', 'edges', /cycle again → group → again/);
  });

  it('rejects unreachable and unconnected nodes', () => {
    const def = base();
    def.nodes.push({ id: 'orphan', kind: 'delay', duration: '1m' });
    expectProblem(def, 'orphan', 'edges', /not connected to any other step/);
    const def2 = base();
    def2.nodes.push({ id: 'after_end', kind: 'delay', duration: '1m' }, { id: 'stop', kind: 'end' });
    def2.edges.push({ source: 'group', target: 'stop' }, { source: 'stop', target: 'after_end' });
    expectProblem(def2, 'stop', 'edges[2].sourceHandle', /ends the run and cannot have outgoing edges/);
    expectProblem(def2, 'after_end', 'edges', /can never run/);
  });

  it('rejects expressions that do not parse', () => {
    const def = base();
    def.nodes[0]!.params = { userPrincipalName: '{{ inputs.upn & }}', displayName: 'Anna' };
    expectProblem(def, 'create', 'params.userPrincipalName', /does not parse/);
    const def2 = base();
    def2.nodes.push({ id: 'check', kind: 'condition', expression: 'steps.create.output.id = ' });
    def2.edges.push({ source: 'group', target: 'check' });
    expectProblem(def2, 'check', 'expression', /does not parse/);
  });

  it('rejects expressions that read a step that is not upstream, or an undeclared input', () => {
    const def = base();
    def.nodes[0]!.params = { userPrincipalName: '{{ inputs.upn }}', displayName: '{{ steps.group.output.groupId }}' };
    expectProblem(def, 'create', 'params.displayName', /steps\.group, but "group" does not run before this node/);
    const def2 = base();
    def2.nodes[1]!.params = { group: '{{ inputs.team }}', user: '{{ steps.nobody.output.id }}' };
    expectProblem(def2, 'group', 'params.group', /no input "team"/);
    expectProblem(def2, 'group', 'params.user', /there is no node "nobody"/);
  });

  it('rejects a delay with neither duration nor until, and an approval without approvers', () => {
    const def = base();
    def.nodes.push({ id: 'wait', kind: 'delay' }, { id: 'ok', kind: 'approval', approvers: {} });
    def.edges.push({ source: 'group', target: 'wait' }, { source: 'wait', target: 'ok' });
    expectProblem(def, 'wait', 'duration', /either a duration or an "until"/);
    expectProblem(def, 'ok', 'approvers', /at least one approver/);
  });
});

describe('run inputs', () => {
  it('applies defaults, coerces text, and names each bad field', () => {
    const ok = validateInputs(onboarding, { userPrincipalName: 'a@contoso.com', givenName: 'A', surname: 'B' });
    assert.deepEqual(ok.ok && ok.values.licence, 'SPE_E3');
    const bad = validateInputs(onboarding, { userPrincipalName: 'nope', givenName: 'A', shoeSize: 42, usageLocation: 'usa' });
    assert.equal(bad.ok, false);
    const fields = !bad.ok ? bad.problems.map((p) => p.field).sort() : [];
    assert.deepEqual(fields, ['inputs.shoeSize', 'inputs.surname', 'inputs.usageLocation', 'inputs.userPrincipalName']);
  });
});

describe('forEach validation', () => {
  it('checks the loop body as a graph of its own, naming loop.node and field', () => {
    const def = base();
    def.nodes.push({
      id: 'each',
      kind: 'forEach',
      items: 'steps.create.output.ids',
      body: {
        nodes: [
          { id: 'add', kind: 'action', action: 'group.addMember', params: { group: '{{ item.group }}', user: '{{ steps.later.output.id }}' } },
          { id: 'later', kind: 'delay', duration: '1s' },
        ],
        edges: [{ source: 'add', target: 'later' }],
      },
    });
    def.edges.push({ source: 'group', target: 'each' });
    expectProblem(def, 'each.add', 'params.user', /"later" does not run before this node/);
    const ok = base();
    ok.nodes.push({ id: 'each', kind: 'forEach', items: 'inputs.upn', body: { nodes: [{ id: 'wait', kind: 'delay', duration: '1s' }] } });
    ok.edges.push({ source: 'group', target: 'each' });
    assert.deepEqual(validateRunbook(ok).problems, []);
  });
});

describe('runbook ids', () => {
  it('are slugs of the name that the server accepts', () => {
    assert.equal(slugify('Offboard: Leaver (EU)'), 'offboard-leaver-eu');
    assert.equal(slugify('!!!'), 'runbook');
    assert.ok(RUNBOOK_ID.test(slugify('x'.repeat(200))));
  });
});
