// Honest coverage (docs/coverage.md): the mappings name only actions that exist, and every
// management action of the reference documents' lists is mapped to actions or to a reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog } from '../catalog/index.ts';
import { loadCoverage, normalizeItem } from '../catalog/coverage.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The product documents (../shared/reference next to the clone, or above a worktree). */
const referenceDir =
  process.env.TENANTFLOW_REFERENCE ?? [1, 2, 3].map((up) => join(root, ...Array(up).fill('..'), 'shared', 'reference')).find((d) => existsSync(d)) ?? '';
/** The 001 list's titles, kept in the repo so the check runs where the documents are not. */
const LISTED_FILE = join(root, 'catalog/reference-001-items.json');
const mapped = loadCoverage().flatMap(({ file, entries }) => entries.map((e) => ({ file, ...e })));

/** The titles a reference document lists as management actions (bullets; "Title: description" keeps the title). */
function listedItems(prefix: string): string[] {
  const file = readdirSync(referenceDir).find((f) => f.startsWith(`${prefix}_`));
  if (!file) return [];
  return readFileSync(join(referenceDir, file), 'utf8')
    .split('\n')
    .map((l) => /^\s+•\s+(.+?)\s*$/.exec(l)?.[1])
    .filter((t): t is string => !!t && !/^last update/i.test(t))
    .map((t) => t.split(/:\s/)[0]!.trim());
}

describe('coverage of the reference documents', () => {
  test('every mapped action exists in the catalog', () => {
    const missing = mapped.flatMap((e) => ('actions' in e ? e.actions.filter((id) => !catalog.has(id)).map((id) => `${e.file}: "${e.item}" names ${id}`) : []));
    assert.deepEqual(missing, []);
  });

  test('the check above catches an action that does not exist', () => {
    assert.equal(catalog.has('mailbox.doesNotExist'), false);
    assert.equal(catalog.has('user.create'), true);
  });

  test('the kept list of 001 titles matches the reference document', { skip: !referenceDir && 'the reference documents are not next to this clone (set TENANTFLOW_REFERENCE)' }, () => {
    assert.deepEqual(JSON.parse(readFileSync(LISTED_FILE, 'utf8')), [...new Set(listedItems('001'))]);
  });

  test('every item of the 2024 action list (001) is mapped to actions or a reason', () => {
    const have = new Set(mapped.filter((e) => e.doc === '001').map((e) => normalizeItem(e.item)));
    const items: string[] = JSON.parse(readFileSync(LISTED_FILE, 'utf8'));
    assert.ok(items.length > 140, `found only ${items.length} items in the 001 list`);
    const unmapped = [...new Set(items.filter((i) => !have.has(normalizeItem(i))))];
    assert.deepEqual(unmapped, [], 'add these to catalog/coverage/<workload>.json');
  });

  test('docs/coverage.md is current', async () => {
    const { renderCoverageDoc } = await import('../scripts/gen-docs.ts');
    assert.equal(readFileSync(join(root, 'docs/coverage.md'), 'utf8'), renderCoverageDoc(), 'run node scripts/gen-docs.ts');
  });
});
