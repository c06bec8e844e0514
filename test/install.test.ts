// A reproducible install: `npm ci` accepts the committed package-lock.json, a fresh install
// rewrites no tracked file, and the image installs the same way and carries every runtime part.
// npm runs on a copy of package.json + package-lock.json: `npm ci` offline with an empty cache
// (the lockfile alone must hold everything), the lockfile check asking the registry for what the
// lockfile lacks (every platform's optional packages, e.g. @swc/core's).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = existsSync(join(root, 'node_modules/.bin/npm')) ? join(root, 'node_modules/.bin/npm') : 'npm';
const scratch = mkdtempSync(join(tmpdir(), 'tenantflow-install-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** npm in `dir`; offline with an empty cache, or (online) asking the registry what it lacks. */
function npmIn(dir: string, args: string[], online = false) {
  const net = online ? ['--prefer-offline'] : ['--offline', '--cache', join(scratch, 'cache')];
  const res = spawnSync(npm, [...args, ...net, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
  return { status: res.status, out: `${res.stdout}\n${res.stderr}` };
}

function copyManifests(name: string): string {
  const dir = join(scratch, name);
  spawnSync('mkdir', ['-p', dir]);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(root, f), join(dir, f));
  return dir;
}

const REGENERATE = 'npm install --package-lock-only --no-audit --no-fund';

describe('the npm install', () => {
  it('npm ci accepts package-lock.json as committed', () => {
    const res = npmIn(copyManifests('ci'), ['ci', '--dry-run']);
    assert.equal(res.status, 0, `npm ci refuses package-lock.json; regenerate it with \`${REGENERATE}\`:\n${res.out}`);
  });

  it('an install rewrites nothing: the lockfile is complete for every platform', () => {
    const dir = copyManifests('lock');
    const res = npmIn(dir, ['install', '--package-lock-only'], true);
    assert.equal(res.status, 0, `the lockfile cannot be resolved from itself alone; regenerate it with \`${REGENERATE}\`:\n${res.out}`);
    assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), readFileSync(join(root, 'package-lock.json'), 'utf8'), `an install rewrites package-lock.json; regenerate it with \`${REGENERATE}\``);
  });

  it('setup and the image install with npm ci, and the image carries every part the server and worker load', () => {
    const setup = readFileSync(join(root, 'scripts/setup.sh'), 'utf8');
    assert.match(setup, /^\s*npm ci\b/m);
    assert.doesNotMatch(setup, /^\s*npm install\b/m);
    const docker = readFileSync(join(root, 'Dockerfile'), 'utf8');
    assert.doesNotMatch(docker, /\bnpm install\b/);
    assert.equal(docker.match(/\bnpm ci\b/g)?.length, 2);
    for (const part of ['m365', 'catalog', 'runbook', 'workflows', 'worker', 'server', 'sandbox', 'scripts']) {
      assert.match(docker, new RegExp(`^COPY --from=build /app/${part} \\./${part}$`, 'm'), `the image lacks ${part}/`);
    }
  });
});
