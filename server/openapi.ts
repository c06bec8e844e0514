// The OpenAPI document, generated from the API contract (api-contract.ts: request and response
// schemas of every route). `node server/openapi.ts` rewrites docs/openapi.json; test/api-openapi.test.ts
// fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_INFO, buildApi } from './app.ts';
import { secretBox } from '../m365/secret-box.ts';
import type { Db } from './db.ts';
import type { Runs } from './temporal.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

export function openapiDocument(): Record<string, unknown> {
  // Routes are only registered, never called: no database or Temporal is needed.
  const { api } = buildApi({ db: {} as Db, runs: {} as Runs, secretBox: secretBox(Buffer.alloc(32)), defaultTenant: 'sandbox' });
  return api.openapi(API_INFO);
}

export function openapiText(): string {
  return JSON.stringify(openapiDocument(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, openapiText());
  console.log(`wrote ${OPENAPI_FILE}`);
}
