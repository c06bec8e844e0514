// docs/openapi.json is generated from the routes and their zod schemas: this fails when it is
// stale (run `node server/openapi.ts`), and checks the document describes what the API does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OPENAPI_FILE, openapiDocument, openapiText } from '../server/openapi.ts';

describe('OpenAPI document', () => {
  it('docs/openapi.json is up to date (regenerate with: node server/openapi.ts)', () => {
    assert.equal(readFileSync(OPENAPI_FILE, 'utf8'), openapiText());
  });

  it('describes request bodies from the validating schemas', () => {
    const doc = openapiDocument() as { paths: Record<string, Record<string, any>> };
    const start = doc.paths['/api/runs']!.post;
    const schema = start.requestBody.content['application/json'].schema;
    assert.equal(schema.additionalProperties, false, 'unknown fields are refused, and the document says so');
    assert.ok(schema.properties.runbookId && schema.properties.inputs);
    assert.ok(doc.paths['/api/runs/{id}/approvals/{nodeId}']!.post.requestBody);
    assert.equal(doc.paths['/api/runs/{id}/approvals/{nodeId}']!.get.responses['405'].description, 'always');
    assert.deepEqual(doc.paths['/api/auth/login']!.post.security, []);
    const list = doc.paths['/api/runs']!.get.parameters.map((p: { name: string }) => p.name);
    assert.deepEqual(list.sort(), ['batch', 'from', 'pageSize', 'pageToken', 'parent', 'q', 'requester', 'runbook', 'status', 'tenant', 'to']);
  });
});
