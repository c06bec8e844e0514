// Builds designer/ with Vite when its sources, or the parts it imports, are newer than designer/dist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const designer = join(root, 'designer');

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export async function buildDesignerIfStale(): Promise<void> {
  const config = join(designer, 'vite.config.ts');
  if (!existsSync(config)) return;
  const stamp = join(designer, 'dist', 'index.html');
  const sources = Math.max(...['designer', 'runbook', 'catalog', 'api-client'].map((d) => newest(join(root, d))));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  console.log('tenantflow: building the designer...');
  const res = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: designer,
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new Error('designer build failed');
}
