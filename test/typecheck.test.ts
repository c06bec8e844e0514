// The project is one strict TypeScript build; Node runs the sources by stripping types, so only
// this check catches a type error before a user does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('typescript', () => {
  it('the whole project type-checks in strict mode', () => {
    const res = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
    assert.equal(res.status, 0, `tsc found errors:\n${res.stdout}${res.stderr}`);
  });
});
