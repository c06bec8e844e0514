// The runbook diff (runbook/diff.ts): what the server answers GET /api/runbooks/:id/diff with, what
// "has unpublished changes" rests on, and what the designer's compare shows for an unsaved draft.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { diffDefinitions, sameDefinition, sameJson } from '../runbook/diff.ts';
import { editedOnboarding, onboarding } from './runbook-fixtures.ts';


describe('runbook diff', () => {
  it('names added, removed and changed steps with their fields, and edges as source.handle->target', () => {
    const changed = editedOnboarding();
    changed.inputs = changed.inputs.filter((i) => i.name !== 'group');
    changed.settings.allowSelfApproval = !onboarding.settings.allowSelfApproval;
    changed.name = 'Onboarding v2';
    const d = diffDefinitions(onboarding, changed);
    assert.deepEqual(d.nodes.removed, ['add_to_group']);
    assert.deepEqual(d.nodes.added, ['notify']);
    assert.deepEqual(d.nodes.changed, [{ id: 'create_user', fields: ['params'] }]);
    assert.deepEqual(d.nodes.moved, []);
    assert.equal(d.edges.removed.length, 2);
    assert.ok(d.edges.removed.every((e) => /^[a-z_]+\.[a-z]+->[a-z_]+$/.test(e) && e.includes('add_to_group')), d.edges.removed.join());
    assert.deepEqual(d.inputs, { added: [], removed: ['group'], changed: [] });
    assert.deepEqual(d.settings, ['allowSelfApproval']);
    assert.deepEqual(d.name, { from: onboarding.name, to: 'Onboarding v2' });
  });

  it('counts a moved step as moved, not changed, and compares as JSON', () => {
    const moved = structuredClone(onboarding);
    moved.nodes[0]!.position = { x: 999, y: 999 };
    // A draft in the browser may carry keys whose value is undefined, in any order.
    (moved.nodes[1] as Record<string, unknown>).timeout = undefined;
    const d = diffDefinitions(onboarding, moved);
    assert.deepEqual(d.nodes.moved, [moved.nodes[0]!.id]);
    assert.deepEqual(d.nodes.changed, []);
    assert.equal(sameJson({ a: 1, b: [1, { c: undefined }] }, { b: [1, {}], a: 1 }), true);
    assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(sameJson({ a: null }, {}), false);
  });

  it('is the same runbook after defaults, whatever the layout', () => {
    const raw = JSON.parse(readFileSync(new URL('../server/examples/onboarding.json', import.meta.url), 'utf8'));
    const moved = structuredClone(raw);
    moved.nodes[0].position = { x: 1, y: 2 };
    assert.equal(sameDefinition(raw, onboarding), true, 'defaults filled in');
    assert.equal(sameDefinition(moved, onboarding), true, 'layout is not a change');
    assert.equal(sameDefinition({ ...raw, name: 'Other' }, onboarding), false);
  });
});
