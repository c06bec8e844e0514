// The designer's pure parts, in Node: the editor store (add, connect, undo / redo, copy / paste,
// rename, layout), auto layout, forms generated from the catalog's JSON Schemas, expression
// completions and previews, and the run form's prefill.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { catalog } from '../catalog/index.ts';
import { prefill } from '../designer/src/bulk.ts';
import type { ActionInfo, JsonSchema, RunSummary } from '../designer/src/api.ts';
import { addBodyStep, bodySteps, chain, isChain, moveBodyStep, removeBodyStep, renameBodyStep, updateBodyStep, type Body } from '../designer/src/editor/nodes/forEach/body.ts';
import { diffLines } from '../designer/src/editor/diff.ts';
import { diffDefinitions } from '../runbook/diff.ts';
import { editedOnboarding, onboarding } from './runbook-fixtures.ts';
import { applyCompletion, completionsFor, expressionShape, filterCompletions, sampleContext, tokenAt, upstreamOf } from '../designer/src/editor/expressions.ts';
import { coerceField, fieldText, formFields, labelOf, parseList, pickerTerm, withPicked } from '../designer/src/editor/forms.ts';
import { layoutGraph } from '../designer/src/editor/layout.ts';
import { newNode } from '../designer/src/editor/nodes/defaults.ts';
import { createEditorStore, editorStoreFor, freshId } from '../designer/src/editor/store.ts';
import { abilities, visiblePages } from '../designer/src/access.ts';
import { applyRunEvent, upsertRun } from '../designer/src/live.ts';
import { filterRunbooks } from '../designer/src/repo.ts';
import { RunbookDefinition } from '../runbook/definition.ts';
import { resolveMessage, resolveTemplate } from '../runbook/expressions.ts';
import { runsLink } from '../designer/src/dashboard-links.ts';
import { validateRunbook } from '../runbook/validate.ts';


/** The catalog as GET /api/actions serves it. */
const actions: ActionInfo[] = [...catalog.values()].map((a) => ({
  id: a.id,
  title: a.title,
  category: a.category,
  description: a.description,
  permissions: a.permissions,
  bulk: a.bulk,
  input: z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
  output: z.toJSONSchema(a.output, { unrepresentable: 'any' }) as JsonSchema,
}));
const byId = new Map(actions.map((a) => [a.id, a]));

describe('editor store', () => {
  it('round-trips a definition: load then definition() is what the validator accepts', () => {
    const store = editorStoreFor(onboarding);
    const def = store.getState().definition();
    assert.deepEqual(def.nodes.map((n) => n.id), onboarding.nodes.map((n) => n.id));
    assert.deepEqual(
      def.edges.map((e) => `${e.source}:${e.sourceHandle}->${e.target}`),
      onboarding.edges.map((e) => `${e.source}:${e.sourceHandle}->${e.target}`),
    );
    assert.equal(validateRunbook(def).ok, true, JSON.stringify(validateRunbook(def).problems));
  });

  it('opens a stored runbook as its author wrote it, without the schema defaults', () => {
    // The server keeps the author's JSON: this approval lists only roles, edges omit "out".
    const raw = JSON.parse(readFileSync(new URL('../server/examples/onboarding.json', import.meta.url), 'utf8'));
    const store = createEditorStore();
    store.getState().load(raw);
    const def = store.getState().definition();
    const approval = def.nodes.find((n) => n.id === 'approve_request');
    assert.deepEqual(approval?.kind === 'approval' && approval.approvers, { users: [], roles: ['approver'], groups: [] });
    assert.equal(def.edges.find((e) => e.source === 'create_user')?.sourceHandle, 'out');
    assert.equal(validateRunbook(def).ok, true, JSON.stringify(validateRunbook(def).problems));
  });

  it('adds nodes with readable unique ids and connects only existing handles', () => {
    const store = createEditorStore();
    const s = store.getState();
    const a = s.addNode(newNode('action', 'user.create'));
    const b = s.addNode(newNode('action', 'user.create'));
    const approval = s.addNode(newNode('approval'));
    assert.equal(a, 'user_create');
    assert.equal(b, 'user_create_2');
    assert.ok(s.connect({ source: approval, sourceHandle: 'approved', target: a, targetHandle: null }));
    assert.equal(s.connect({ source: approval, sourceHandle: 'error', target: b, targetHandle: null }), undefined, 'approvals have no error handle');
    assert.equal(s.connect({ source: a, sourceHandle: 'out', target: a, targetHandle: null }), undefined, 'no self loops');
    assert.equal(s.connect({ source: approval, sourceHandle: 'approved', target: a, targetHandle: null }), undefined, 'no duplicate edges');
    assert.equal(store.getState().edges.length, 1);
  });

  it('undoes and redoes every change, and coalesces typing in one field', () => {
    const store = createEditorStore();
    const s = store.getState();
    const id = s.addNode(newNode('action', 'user.create'));
    for (const text of ['a', 'an', 'ann', 'anna@contoso.com'])
      s.updateNode(id, (d) => (d.kind === 'action' ? { ...d, params: { ...d.params, userPrincipalName: text } } : d), 'params.userPrincipalName');
    const param = () => { const d = store.getState().nodes[0]?.data.def; return d?.kind === 'action' ? d.params.userPrincipalName : undefined; };
    assert.equal(param(), 'anna@contoso.com');
    store.getState().undo();
    assert.equal(param(), undefined, 'one undo reverts the whole typing');
    store.getState().undo();
    assert.equal(store.getState().nodes.length, 0);
    store.getState().redo();
    store.getState().redo();
    assert.equal(param(), 'anna@contoso.com');
  });

  it('copies and pastes a selection with fresh ids and its inner edges', () => {
    const store = editorStoreFor(onboarding);
    store.getState().select(['create_user', 'assign_licence']);
    const clip = store.getState().copy()!;
    assert.equal(clip.nodes.length, 2);
    assert.equal(clip.edges.length, 1);
    const pasted = store.getState().paste(clip);
    assert.deepEqual(pasted, ['create_user_2', 'assign_licence_2']);
    const edges = store.getState().edges.map((e) => `${e.source}->${e.target}`);
    assert.ok(edges.includes('create_user_2->assign_licence_2'));
    assert.deepEqual(store.getState().selected().map((n) => n.id), pasted, 'the pasted copy is selected');
  });

  it('renames a node and rewires its edges; refuses a taken or invalid id', () => {
    const store = editorStoreFor(onboarding);
    assert.equal(store.getState().renameNode('create_user', 'make_account'), 'make_account');
    assert.ok(store.getState().edges.some((e) => e.source === 'make_account' && e.target === 'assign_licence'));
    assert.equal(store.getState().renameNode('make_account', 'done'), undefined);
    assert.equal(store.getState().renameNode('make_account', '1bad'), undefined);
  });

  it('removes the selection and the edges touching it', () => {
    const store = editorStoreFor(onboarding);
    store.getState().select(['create_user']);
    store.getState().removeSelected();
    assert.ok(!store.getState().nodes.some((n) => n.id === 'create_user'));
    assert.ok(!store.getState().edges.some((e) => e.source === 'create_user' || e.target === 'create_user'));
    store.getState().undo();
    assert.equal(store.getState().edges.length, onboarding.edges.length);
  });

  it('lays out a definition without positions top to bottom', () => {
    const bare = { ...onboarding, nodes: onboarding.nodes.map(({ position: _p, ...n }) => n) } as RunbookDefinition;
    const store = editorStoreFor(bare);
    const y = Object.fromEntries(store.getState().nodes.map((n) => [n.id, n.position.y]));
    assert.ok(y.approve_request! < y.create_user!);
    assert.ok(y.create_user! < y.assign_licence!);
    assert.ok(y.assign_licence! < y.done!);
  });

  it('new nodes of every kind start with the problems a designer is expected to fix', () => {
    const store = createEditorStore();
    const s = store.getState();
    s.addNode(newNode('approval'));
    const problems = validateRunbook(s.definition()).problems;
    assert.ok(problems.some((p) => p.nodeId === 'approval' && p.field === 'approvers'), JSON.stringify(problems));
  });
});

describe('auto layout', () => {
  it('places each rank below the previous one without overlaps', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => ({ id, width: 200, height: 80 }));
    const pos = layoutGraph(nodes, [
      { source: 'a', target: 'b' },
      { source: 'a', target: 'c', sourceHandle: 'error' },
      { source: 'b', target: 'd' },
      { source: 'c', target: 'd' },
    ]);
    assert.ok(pos.a!.y < pos.b!.y && pos.b!.y < pos.d!.y);
    assert.equal(pos.b!.y, pos.c!.y);
    assert.ok(Math.abs(pos.b!.x - pos.c!.x) >= 200, 'siblings do not overlap');
  });

  it('keeps error, rejected, timeout, false and default branches to the right of the happy path', () => {
    const ids = ['ap', 'create', 'cond', 'ok', 'no', 'failed', 'rejected', 'timedOut', 'sw', 'a', 'b', 'other'];
    const nodes = ids.map((id) => ({ id, width: 200, height: 80, handles: id === 'sw' ? ['b', 'a', 'default'] : undefined }));
    // Listed with the side branches first: the order of the edges must not matter.
    const edges = [
      { source: 'ap', target: 'timedOut', sourceHandle: 'timeout' },
      { source: 'ap', target: 'rejected', sourceHandle: 'rejected' },
      { source: 'ap', target: 'create', sourceHandle: 'approved' },
      { source: 'create', target: 'failed', sourceHandle: 'error' },
      { source: 'create', target: 'cond', sourceHandle: 'out' },
      { source: 'cond', target: 'no', sourceHandle: 'false' },
      { source: 'cond', target: 'sw', sourceHandle: 'true' },
      { source: 'sw', target: 'other', sourceHandle: 'default' },
      { source: 'sw', target: 'b', sourceHandle: 'b' },
      { source: 'sw', target: 'a', sourceHandle: 'a' },
    ];
    const pos = layoutGraph(nodes, edges);
    const lane = 200 + 48;
    const rank = 80 + 64;
    // The happy path is one straight column at x = 0, one rank below the other.
    assert.deepEqual(['ap', 'create', 'cond', 'sw', 'b'].map((id) => pos[id]), [0, 1, 2, 3, 4].map((r) => ({ x: 0, y: r * rank })));
    // Every side branch opens the nearest free lane to the right of its parent.
    assert.deepEqual(pos.rejected, { x: lane, y: rank });
    assert.deepEqual(pos.timedOut, { x: 2 * lane, y: rank });
    assert.deepEqual(pos.failed, { x: lane, y: 2 * rank });
    assert.deepEqual(pos.no, { x: lane, y: 3 * rank });
    assert.deepEqual(pos.a, { x: lane, y: 4 * rank }, 'a further case sits right of the first (cases in their own order)');
    assert.deepEqual(pos.other, { x: 2 * lane, y: 4 * rank }, 'default right of the cases');
    // The same with the edges in any other order.
    assert.deepEqual(layoutGraph(nodes, [...edges].reverse()), pos);
  });

  it('puts a side branch\'s own chain in its lane and never two steps on one spot', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, width: 200, height: 80 }));
    const pos = layoutGraph(nodes, [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
      { source: 'c', target: 'd' },
      { source: 'a', target: 'e', sourceHandle: 'error' },
      { source: 'e', target: 'f' },
      { source: 'b', target: 'f', sourceHandle: 'error' },
    ]);
    assert.deepEqual([pos.a!.x, pos.b!.x, pos.c!.x, pos.d!.x], [0, 0, 0, 0]);
    assert.equal(pos.e!.x, pos.f!.x, 'the error branch continues straight down');
    assert.ok(pos.e!.x > 0);
    const spots = Object.values(pos).map((p) => `${p.x},${p.y}`);
    assert.equal(new Set(spots).size, spots.length);
  });

  it('ignores edges to unknown nodes and self loops', () => {
    const pos = layoutGraph([{ id: 'a', width: 10, height: 10 }], [{ source: 'a', target: 'zzz' }, { source: 'a', target: 'a' }]);
    assert.deepEqual(Object.keys(pos), ['a']);
  });
});

describe('forEach body', () => {
  const body: Body = {
    nodes: [
      { id: 'done', kind: 'end', status: 'succeeded' },
      { id: 'disable', kind: 'action', action: 'user.disableSignIn', params: { userId: '{{ item }}' }, onError: 'fail' },
      { id: 'ok', kind: 'approval', approvers: { users: [], roles: ['approver'], groups: [] }, quorum: 'any', onTimeout: 'reject' },
    ],
    edges: [
      { source: 'ok', sourceHandle: 'approved', target: 'disable' },
      { source: 'disable', sourceHandle: 'out', target: 'done' },
    ],
  };
  const ids = (b: Body) => bodySteps(b).map((n) => n.id);
  const edges = (b: Body) => b.edges.map((e) => `${e.source}.${e.sourceHandle}->${e.target}`);

  it('lists the steps in the order they run and knows a chain from a branching body', () => {
    assert.deepEqual(ids(body), ['ok', 'disable', 'done']);
    assert.ok(isChain(body));
    assert.ok(!isChain({ ...body, edges: [...body.edges, { source: 'ok', sourceHandle: 'rejected', target: 'done' }] }), 'two ways out of one step');
    assert.ok(!isChain({ ...body, edges: [{ source: 'ok', sourceHandle: 'rejected', target: 'disable' }, body.edges[1]!] }), 'not the first handle');
    assert.ok(isChain({ nodes: [body.nodes[0]!], edges: [] }));
  });

  it('adds, removes and reorders steps, chaining them by their first handle', () => {
    const added = addBodyStep(body, { kind: 'delay', duration: '1h' }, 'delay');
    assert.deepEqual(ids(added), ['ok', 'disable', 'delay', 'done'], 'before the final end');
    assert.deepEqual(edges(added), ['ok.approved->disable', 'disable.out->delay', 'delay.out->done']);
    const ended = addBodyStep(added, { kind: 'end', status: 'failed' }, 'end');
    assert.deepEqual(ids(ended), ['ok', 'disable', 'delay', 'done', 'end']);
    assert.deepEqual(edges(ended), edges(added), 'after an end nothing follows');
    assert.ok(isChain(ended));
    const moved = moveBodyStep(added, 2, -2);
    assert.deepEqual(ids(moved), ['delay', 'ok', 'disable', 'done']);
    assert.deepEqual(edges(moved), ['delay.out->ok', 'ok.approved->disable', 'disable.out->done']);
    assert.equal(moveBodyStep(moved, 0, -1), moved, 'nothing above the first');
    const removed = removeBodyStep(moved, 1);
    assert.deepEqual(edges(removed), ['delay.out->disable', 'disable.out->done']);
    assert.ok(isChain(removed));
    assert.deepEqual(ids(addBodyStep(removed, { kind: 'delay', duration: '2h' }, 'delay')), ['delay', 'disable', 'delay_2', 'done'], 'fresh ids');
    assert.deepEqual(chain([]), { nodes: [], edges: [] });
  });

  it('edits one step in place and renames it with its edges; the result validates as a runbook', () => {
    const edited = updateBodyStep(body, 'disable', (n) => ({ ...n, label: 'Block sign-in' }));
    assert.equal(edited.nodes[1]!.label, 'Block sign-in');
    assert.deepEqual(edited.edges, body.edges);
    const renamed = renameBodyStep(edited, 'disable', 'block')!;
    assert.deepEqual(edges(renamed), ['ok.approved->block', 'block.out->done']);
    assert.equal(renameBodyStep(body, 'disable', 'ok'), undefined, 'taken');
    assert.equal(renameBodyStep(body, 'disable', '1x'), undefined, 'not an identifier');
    const def = { ...structuredClone(onboarding), nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.users', body: renamed, concurrency: 2, onItemError: 'continue' }], edges: [], inputs: [{ name: 'users', type: 'string', required: true }] };
    const r = validateRunbook(def);
    assert.deepEqual(r.problems.filter((p) => p.field.startsWith('body')), []);
  });
});

describe('forms from JSON Schema', () => {
  it('turns user.create into fields: required first, emails, help texts, defaults', () => {
    const fields = formFields(byId.get('user.create')!.input);
    const names = fields.map((f) => f.name);
    assert.deepEqual(names.slice(0, 2), ['userPrincipalName', 'displayName']);
    const upn = fields[0]!;
    assert.equal(upn.kind, 'email');
    assert.equal(upn.required, true);
    assert.equal(upn.label, 'User principal name');
    assert.match(upn.description!, /Sign-in name/);
    const enabled = fields.find((f) => f.name === 'accountEnabled')!;
    assert.equal(enabled.kind, 'boolean');
    assert.equal(enabled.required, false, 'a field with a default is optional');
    assert.equal(enabled.default, true);
  });

  it('gives user, group and licence fields pickers, also inside lists', () => {
    const licence = formFields(byId.get('licence.assign')!.input);
    assert.equal(licence.find((f) => f.name === 'user')!.picker, 'user');
    const list = licence.find((f) => f.name === 'licences')!;
    assert.equal(list.kind, 'list');
    assert.equal(list.picker, 'licence');
    assert.equal(formFields(byId.get('group.addMember')!.input).find((f) => f.name === 'group')!.picker, 'group');
  });

  it('reads enums, numbers and explicit x-picker', () => {
    const fields = formFields({
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['soft', 'hard'] },
        days: { type: 'integer', minimum: 1 },
        owner: { type: 'string', 'x-picker': 'user' },
      },
      required: ['mode'],
    });
    assert.deepEqual(fields.map((f) => [f.name, f.kind]), [['mode', 'enum'], ['days', 'integer'], ['owner', 'text']]);
    assert.deepEqual(fields[0]!.options, ['soft', 'hard']);
    assert.equal(fields[2]!.picker, 'user');
  });

  it("gives the new workloads' object fields their pickers, from the catalog's x-picker", () => {
    const picker = (action: string, field: string) => formFields(byId.get(action)!.input).find((f) => f.name === field)!.picker;
    assert.equal(picker('mailbox.setForwarding', 'mailbox'), 'mailbox');
    assert.equal(picker('mailbox.convertToRegular', 'mailbox'), 'sharedMailbox');
    assert.equal(picker('mailbox.addDelegate', 'mailboxes'), 'mailbox');
    assert.equal(picker('device.wipe', 'device'), 'device');
    assert.equal(picker('teams.addChannelMember', 'team'), 'team');
    assert.equal(picker('teams.addChannelMember', 'channel'), 'channel');
    assert.equal(picker('site.lock', 'site'), 'site');
    assert.equal(picker('onedrive.addOwner', 'user'), 'oneDrive');
    assert.equal(picker('onedrive.addOwner', 'owner'), 'user');
    assert.equal(picker('app.addSecret', 'app'), 'application');
    assert.equal(picker('domain.verify', 'domain'), 'domain');
    assert.equal(picker('domain.add', 'domain'), undefined, 'a new domain is not picked among the existing ones');
    assert.equal(formFields({ type: 'object', properties: { x: { type: 'string', 'x-picker': 'nonsense' } } })[0]!.picker, undefined);
  });

  it('searches for the item being typed in a list field and puts the picked value in its place', () => {
    assert.equal(pickerTerm('anna', false), 'anna');
    assert.equal(pickerTerm('a@contoso.com, bo', true), 'bo');
    assert.equal(withPicked('a@contoso.com, bo', 'bo@contoso.com', true), 'a@contoso.com, bo@contoso.com');
    assert.equal(withPicked('bo', 'bo@contoso.com', true), 'bo@contoso.com');
    assert.equal(withPicked('anything', 'x', false), 'x');
  });

  it('coerces typed text into parameter values and back, keeping expressions', () => {
    const [list] = formFields({ type: 'object', properties: { licences: { type: 'array', items: { type: 'string' } } } });
    assert.deepEqual(coerceField(list!, 'SPE_E3, EMS'), ['SPE_E3', 'EMS']);
    assert.deepEqual(coerceField(list!, '{{ inputs.licence }}, EMS'), ['{{ inputs.licence }}', 'EMS']);
    assert.equal(coerceField(list!, '{{ inputs.licences }}'), '{{ inputs.licences }}');
    assert.equal(fieldText(list!, ['a', 'b']), 'a, b');
    assert.deepEqual(parseList('a; {{ $join(["x","y"], ",") }}'), ['a', '{{ $join(["x","y"], ",") }}']);
    assert.equal(labelOf('mailNickname'), 'Mail nickname');
    assert.equal(coerceField({ name: 'n', label: 'n', kind: 'integer', required: false }, '42'), 42);
    assert.equal(coerceField({ name: 'n', label: 'n', kind: 'text', required: false }, ''), undefined);
    assert.deepEqual(coerceField(list!, '{{ a }}, {{ b }}'), ['{{ a }}', '{{ b }}'], 'two expressions are two items, not one string');
  });

  it('makes one expression in a list field the list\'s only item when it gives a single value', () => {
    const [list] = formFields({ type: 'object', properties: { licences: { type: 'array', items: { type: 'string' } } } });
    const def = RunbookDefinition.parse({
      name: 'shapes',
      inputs: [{ name: 'licence', type: 'licence' }, { name: 'licences', type: 'list' }],
      nodes: [{ id: 'create_user', kind: 'action', action: 'user.create', params: {} }, { id: 'done', kind: 'end' }],
      edges: [{ source: 'create_user', target: 'done' }],
    });
    const shape = (e: string) => expressionShape(def, byId, e);
    assert.deepEqual(coerceField(list!, '{{ inputs.licence }}', shape), ['{{ inputs.licence }}']);
    assert.equal(coerceField(list!, '{{ inputs.licences }}', shape), '{{ inputs.licences }}');
    assert.deepEqual(coerceField(list!, '{{ steps.create_user.output.id }}', shape), ['{{ steps.create_user.output.id }}']);
    assert.equal(coerceField(list!, '{{ $split(inputs.licence, "+") }}', shape), '{{ $split(inputs.licence, "+") }}', 'unknown shapes stay whole');
    assert.equal(shape('[inputs.licence]'), 'list');
  });
});

describe('expression editor', () => {
  it('offers inputs, upstream outputs from the catalog and run context, never downstream steps', () => {
    const all = completionsFor(onboarding, 'assign_licence', byId).map((c) => c.text);
    assert.ok(all.includes('inputs.userPrincipalName'));
    assert.ok(all.includes('steps.create_user.output.id'));
    assert.ok(all.includes('steps.approve_request.output.decision'));
    assert.ok(all.includes('run.startedBy'));
    assert.ok(!all.some((t) => t.startsWith('steps.add_to_group')), 'a sibling does not run before');
    assert.deepEqual(upstreamOf(onboarding, 'done').sort(), ['add_to_group', 'approve_request', 'assign_licence', 'create_user']);
  });

  it('completes the word at the cursor inside {{ }}', () => {
    const text = 'Hello {{ inp';
    const tok = tokenAt(text, text.length)!;
    assert.equal(tok.prefix, 'inp');
    assert.equal(tokenAt('no braces here', 5), undefined);
    const matches = filterCompletions(completionsFor(onboarding, 'create_user', byId), tok.prefix);
    assert.equal(matches[0]!.text.startsWith('inputs.'), true);
    const done = applyCompletion(text, text.length, { text: 'inputs.givenName', detail: '', kind: 'input' });
    assert.equal(done.text, 'Hello {{ inputs.givenName');
    assert.equal(done.cursor, done.text.length);
  });

  it('previews a value on sample data', async () => {
    const ctx = sampleContext(onboarding, byId);
    assert.equal(await resolveTemplate("{{ inputs.givenName & ' ' & inputs.surname }}", ctx), 'Anna Lindqvist');
    assert.equal(typeof (await resolveTemplate('{{ steps.create_user.output.id }}', ctx)), 'string');
    assert.equal(await resolveTemplate('{{ inputs.licence }}', ctx), 'SPE_E3', 'defaults are the sample values');
  });
});

describe('version compare', () => {
  it('lists the changes between two versions next to the canvases', () => {
    const lines = diffLines(diffDefinitions(onboarding, editedOnboarding()));
    assert.ok(lines.includes('Steps added: notify'), lines.join('\n'));
    assert.ok(lines.includes('Steps removed: add_to_group'), lines.join('\n'));
    assert.ok(lines.includes('Step create_user changed: params'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('Connections removed: ') && l.includes('add_to_group')), lines.join('\n'));
    assert.deepEqual(diffLines(diffDefinitions(onboarding, onboarding)), []);
  });
});

describe('runbooks list', () => {
  it('hides archived runbooks unless asked for, and searches names, ids and descriptions', () => {
    const rows = [
      { id: 'onboard', name: 'Onboard a user', archived: false },
      { id: 'offboard', name: 'Offboard a user', description: 'Leavers', archived: true },
      { id: 'reset-mfa', name: 'Reset MFA' },
    ];
    assert.deepEqual(filterRunbooks(rows, '', false).map((r) => r.id), ['onboard', 'reset-mfa']);
    assert.deepEqual(filterRunbooks(rows, '', true).map((r) => r.id), ['onboard', 'offboard', 'reset-mfa']);
    assert.deepEqual(filterRunbooks(rows, 'leavers', true).map((r) => r.id), ['offboard']);
    assert.deepEqual(filterRunbooks(rows, 'leavers', false), []);
    assert.deepEqual(filterRunbooks(rows, ' USER ', false).map((r) => r.id), ['onboard']);
  });
});

describe('node ids', () => {
  it('are identifiers the expression language can read', () => {
    assert.equal(freshId('user.create', []), 'user_create');
    assert.equal(freshId('9lives', []), 'step_9lives');
    assert.equal(freshId('end', ['end', 'end_2']), 'end_3');
  });
});

describe('live updates', () => {
  it('applies node and run events of a run stream to the run view', () => {
    const run = { id: 'r1', status: 'running' as const, startedAt: '2026-01-01T00:00:00Z', nodes: { a: { id: 'a', kind: 'action', status: 'running', attempts: 1 } } } as never;
    const after = applyRunEvent(run, 'node', { id: 'a', kind: 'action', status: 'succeeded', attempts: 1, output: { id: 'u1' } });
    assert.equal(after.nodes.a!.status, 'succeeded');
    const b = applyRunEvent(after, 'node', { id: 'b', kind: 'end', status: 'running', attempts: 0 });
    assert.deepEqual(Object.keys(b.nodes), ['a', 'b']);
    const done = applyRunEvent(b, 'run', { id: 'r1', status: 'succeeded', message: 'Onboarded' });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.message, 'Onboarded');
    assert.equal(applyRunEvent(done, 'error', { error: 'x' }), done, 'other events change nothing');
    assert.equal((run as { status: string }).status, 'running', 'the old state is not mutated');
  });

  it('upserts runs of the board stream, newest first', () => {
    // Only the fields the board merges by; the stream sends whole rows.
    const row = (r: Partial<RunSummary>) => r as RunSummary;
    const list = [row({ id: 'b', status: 'running', startedAt: '2026-01-02T00:00:00Z' }), row({ id: 'a', status: 'running', startedAt: '2026-01-01T00:00:00Z' })];
    const changed = upsertRun(list, row({ id: 'a', status: 'succeeded' }));
    assert.deepEqual(changed.map((r) => [r.id, r.status]), [['b', 'running'], ['a', 'succeeded']]);
    const added = upsertRun(changed, row({ id: 'c', status: 'running', startedAt: '2026-01-03T00:00:00Z' }));
    assert.deepEqual(added.map((r) => r.id), ['c', 'b', 'a']);
  });
});

describe('pages by role', () => {
  it('shows people and the audit log to admins only, and forms to those who may use them', () => {
    const admin = [{ tenant: '*', role: 'admin' }];
    const approver = [{ tenant: 'sandbox', role: 'approver' }];
    const tenantAdmin = [{ tenant: 'contoso', role: 'admin' }];
    assert.deepEqual([...visiblePages(approver)].sort(), ['approvals', 'dashboard', 'runbooks', 'runs', 'schedules', 'tenants', 'triggers']);
    assert.ok(visiblePages(admin).has('people') && visiblePages(admin).has('audit'));
    assert.ok(visiblePages(tenantAdmin).has('people'));
    assert.ok(visiblePages([{ tenant: 'sandbox', role: 'operator' }]).has('helpdesk'), 'operators get the help desk');
    assert.ok(visiblePages(admin).has('helpdesk'));
    assert.equal(abilities(approver).schedule, false);
    assert.equal(abilities([{ tenant: 'sandbox', role: 'operator' }]).schedule, true);
    assert.equal(abilities(tenantAdmin).addTenants, false, 'only an admin of every tenant adds tenants');
    assert.equal(abilities(tenantAdmin).adminOf('contoso'), true);
    assert.equal(abilities(tenantAdmin).adminOf('fabrikam'), false);
    assert.equal(abilities(admin).adminOf('fabrikam'), true);
  });
});

describe('run form', () => {
  it('prefills inputs from the query string, never a secret one', () => {
    const def = { inputs: [{ name: 'userPrincipalName', type: 'string', required: true }, { name: 'password', type: 'string', required: true, secret: true }] } as never;
    assert.deepEqual(prefill(def, new URLSearchParams('userPrincipalName=a@b.c&password=hunter2')), { userPrincipalName: 'a@b.c', password: '' });
  });
  it("applies a rule warning's fix as one undo step: Convert to shared inserted before Remove licences", () => {
    const store = createEditorStore();
    store.getState().load(RunbookDefinition.parse({
      name: 'Offboard',
      inputs: [{ name: 'user', type: 'user' }],
      nodes: [
        { id: 'block', kind: 'action', action: 'user.disableSignIn', params: { user: '{{ inputs.user }}' }, position: { x: 0, y: 0 } },
        { id: 'strip', kind: 'action', action: 'licence.removeAll', params: { user: '{{ inputs.user }}' }, position: { x: 0, y: 200 } },
      ],
      edges: [{ source: 'block', target: 'strip' }],
    }));
    const before = validateRunbook(store.getState().definition());
    const w = before.warnings.find((x) => x.rule === 'licence-before-shared-mailbox')!;
    assert.ok(w.fix);
    const id = store.getState().applyRuleFix(w.fix);
    const def = store.getState().definition();
    assert.deepEqual(def.edges.map((e) => `${e.source}->${e.target}`).sort(), [`block->${id}`, `${id}->strip`]);
    assert.equal(def.nodes.find((n) => n.id === id)?.kind === 'action' && (def.nodes.find((n) => n.id === id) as { action: string }).action, 'mailbox.convertToShared');
    const after = validateRunbook(def);
    assert.equal(after.ok, true, JSON.stringify(after.problems));
    assert.deepEqual(after.warnings.filter((x) => x.rule === 'licence-before-shared-mailbox'), []);
    store.getState().undo();
    assert.equal(store.getState().definition().nodes.length, 2);
  });
});

describe('rough edges (issue 17)', () => {
  const ctx = (inputs: Record<string, unknown>) => ({ inputs, steps: {}, run: {} });
  const ask = "Create an account for {{ inputs.givenName & ' ' & inputs.surname }} ({{ inputs.jobTitle }}, {{ inputs.department }})?";

  it('an approval message drops its empty parts cleanly, and is unchanged when none is empty', async () => {
    const full = { givenName: 'Ada', surname: 'Lovelace', jobTitle: 'Analyst', department: 'Engineering' };
    assert.equal(await resolveMessage(ask, ctx(full)), 'Create an account for Ada Lovelace (Analyst, Engineering)?');
    assert.equal(await resolveMessage(ask, ctx(full)), await resolveTemplate(ask, ctx(full)), 'identical to the old text when nothing is empty (replay)');
    assert.equal(await resolveMessage(ask, ctx({ ...full, jobTitle: '' })), 'Create an account for Ada Lovelace (Engineering)?');
    assert.equal(await resolveMessage(ask, ctx({ ...full, department: null })), 'Create an account for Ada Lovelace (Analyst)?');
    assert.equal(await resolveMessage(ask, ctx({ givenName: 'Ada', surname: 'Lovelace' })), 'Create an account for Ada Lovelace?');
    assert.equal(await resolveMessage('Remove {{ inputs.who }} from {{ inputs.group }} now', ctx({ group: 'Sales' })), 'Remove from Sales now');
    assert.equal(await resolveMessage('Plain text, no parts', ctx({})), 'Plain text, no parts');
  });

  it('inside a forEach body, completion offers item (and its fields) besides inputs and run', () => {
    const def = RunbookDefinition.parse({
      name: 'loop',
      inputs: [{ name: 'users', type: 'list' }],
      nodes: [
        {
          id: 'each',
          kind: 'forEach',
          items: '{{ inputs.users }}',
          body: { nodes: [{ id: 'disable', kind: 'action', action: 'user.disableSignIn', params: {} }, { id: 'done', kind: 'end', status: 'succeeded' }], edges: [{ source: 'disable', target: 'done' }] },
        },
        { id: 'end', kind: 'end', status: 'succeeded' },
      ],
      edges: [{ source: 'each', sourceHandle: 'out', target: 'end' }],
    });
    const texts = completionsFor(def, 'each.disable', byId).map((c) => c.text);
    assert.ok(texts.includes('item'), `item offered: ${texts.join(', ')}`);
    assert.ok(texts.includes('inputs.users') && texts.includes('run.startedBy'));
    assert.deepEqual(filterCompletions(completionsFor(def, 'each.disable', byId), 'it').map((c) => c.text), ['item']);
    assert.ok(!completionsFor(def, 'end', byId).some((c) => c.text === 'item'), 'no item outside the loop');
  });

  it('clone and archive are offered only to roles that may use them', () => {
    assert.equal(abilities([{ tenant: 'sandbox', role: 'approver' }]).clone, false);
    assert.equal(abilities([{ tenant: 'sandbox', role: 'operator' }]).archive, false);
    assert.equal(abilities([{ tenant: 'sandbox', role: 'designer' }]).clone, true);
    assert.equal(abilities([{ tenant: '*', role: 'admin' }]).archive, true);
  });

  it('dashboard charts link to the filtered run list', () => {
    assert.equal(runsLink({}), '/runs');
    assert.equal(runsLink({ status: ['failed', 'partially-failed'], tenant: 'contoso', from: '2026-01-01T00:00:00.000Z' }), '/runs?status=failed%2Cpartially-failed&tenant=contoso&from=2026-01-01T00%3A00%3A00.000Z');
    assert.equal(runsLink({ batch: 'b-1' }), '/runs?batch=b-1');
  });
});
