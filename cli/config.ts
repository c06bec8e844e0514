// Where `tenantflow login` keeps the server URL and API token (readable by the user only).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  url: string;
  token: string;
}

export function configPath(): string {
  return process.env.TENANTFLOW_CONFIG ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'tenantflow', 'config.json');
}

export function loadConfig(): CliConfig | undefined {
  const p = configPath();
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as CliConfig;
}

export function saveConfig(c: CliConfig | undefined): void {
  const p = configPath();
  if (!c) {
    rmSync(p, { force: true });
    return;
  }
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  chmodSync(p, 0o600);
}
