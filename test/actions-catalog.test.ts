// The catalog as the designer, the docs and the worker see it: every contract complete and
// described, every contract implemented, the generated docs current. No Temporal needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CATEGORIES, defineAction } from '../catalog/contract.ts';
import { buildCatalog, catalog, catalogJson, permissionManifest, requiredPermissions } from '../catalog/index.ts';
import { implementations } from '../worker/actions/index.ts';
import { staleDocs } from '../scripts/gen-docs.ts';

/** Actions that call no Microsoft 365 API (webhooks). */
const NO_PERMISSION = new Set(['notify.teams', 'notify.webhook']);

describe('action catalog', () => {
  it('docs/actions.md and docs/permissions.md are generated from the current contracts', () => {
    assert.deepEqual(staleDocs(), [], 'run: node scripts/gen-docs.ts');
  });

  it('every contract is complete: id, category, texts, described parameters, permissions', () => {
    for (const a of catalog.values()) {
      assert.match(a.id, /^[a-z][A-Za-z]+\.[a-z][A-Za-z0-9]+$/, `${a.id}: ids are area.verbObject`);
      assert.ok(CATEGORIES.includes(a.category), `${a.id}: category ${a.category}`);
      assert.ok(a.title.length > 3 && a.description.length > 20, `${a.id}: title and description`);
      const schema = z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string; anyOf?: { description?: string }[] }> };
      for (const [field, s] of Object.entries(schema.properties ?? {}))
        assert.ok(s.description ?? s.anyOf?.some((v) => v.description), `${a.id}: parameter "${field}" has no description`);
      for (const f of a.secretFields ?? []) assert.ok(schema.properties?.[f], `${a.id}: secret field ${f} is not a parameter`);
      if (!NO_PERMISSION.has(a.id)) assert.ok(a.permissions.length + (a.otherPermissions?.length ?? 0) + (a.adRights?.length ?? 0) > 0, `${a.id}: names no permission`);
      if (a.undo) assert.ok(catalog.has(a.undo), `${a.id}: undo ${a.undo}`);
    }
  });

  it('every contract has exactly one implementation, and every implementation a contract', () => {
    const implemented = implementations.map((i) => i.contract.id).sort();
    assert.deepEqual(implemented, [...catalog.keys()].sort());
    for (const i of implementations) assert.equal(i.contract, catalog.get(i.contract.id), `${i.contract.id}: the worker uses the catalog's own contract`);
  });

  it('the registry refuses a duplicate id and an undo that does not exist', () => {
    const a = defineAction({ id: 'x.one', title: 'One', category: 'user', description: 'd', input: z.object({}), output: z.object({}), permissions: [], bulk: false });
    assert.throws(() => buildCatalog([a, a]), /duplicate action id x\.one/);
    assert.throws(() => buildCatalog([{ ...a, undo: 'x.missing' }]), /undo action x\.missing/);
  });

  it('catalogJson gives JSON Schemas for inputs and outputs', () => {
    const json = catalogJson();
    assert.equal(json.length, catalog.size);
    const create = json.find((a) => a.id === 'user.create')!;
    assert.deepEqual((create.input as { required: string[] }).required.sort(), ['displayName', 'userPrincipalName']);
    assert.equal((create.input as { properties: Record<string, { 'x-picker'?: string }> }).properties['manager']!['x-picker'], 'user');
    assert.ok((create.output as { properties: Record<string, unknown> }).properties['passwordSentTo']);
    assert.doesNotThrow(() => JSON.stringify(json));
  });

  it('the permission manifest lists every permission, its API and the actions needing it', () => {
    const manifest = permissionManifest();
    assert.deepEqual(manifest.map((p) => p.permission).sort(), requiredPermissions());
    assert.equal(manifest.find((p) => p.permission === 'Exchange.ManageAsApp')!.api, 'Office 365 Exchange Online');
    assert.ok(manifest.find((p) => p.permission === 'Mail.Send')!.actions.includes('notify.email'));
  });

  it('no output schema has a field that could carry a generated secret', () => {
    for (const a of catalog.values()) {
      const out = JSON.stringify(z.toJSONSchema(a.output, { unrepresentable: 'any' }));
      assert.doesNotMatch(out, /"(password|temporaryAccessPass|secret|code)"/i, `${a.id}: output must not carry secrets`);
    }
  });
});
