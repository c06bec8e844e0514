// docker-compose.yml is the production topology. No Docker engine runs here, so the file is
// checked by the Compose client itself (Debian's docker-compose, installed by .ci/run).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));

function compose(args: string[]) {
  const env = { ...process.env, POSTGRES_PASSWORD: 'x', TENANTFLOW_SECRET_KEY: 'y' };
  const v1 = spawnSync('docker-compose', args, { cwd: root, env, encoding: 'utf8' });
  if (!v1.error) return v1;
  return spawnSync('docker', ['compose', ...args], { cwd: root, env, encoding: 'utf8' });
}

describe('docker-compose.yml', () => {
  it('is valid Compose with the production services', () => {
    const res = compose(['config', '--services']);
    assert.equal(res.status, 0, `docker-compose config failed (install Debian's docker-compose):\n${res.stderr}`);
    assert.deepEqual(res.stdout.trim().split('\n').sort(), ['postgresql', 'server', 'temporal', 'temporal-admin', 'temporal-ui', 'worker']);
  });
});
