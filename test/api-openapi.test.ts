// docs/openapi.json is generated from the API contract (server/api-contract.ts): this fails when
// it is stale (run `node server/openapi.ts`), and checks the document describes what the API does.
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

  it('describes answers from the contract\'s response schemas, shared shapes once', () => {
    const doc = openapiDocument() as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
    const schemaOf = (ref: string) => doc.components.schemas[ref.replace('#/components/schemas/', '')];
    const run = schemaOf(doc.paths['/api/runs/{id}']!.get.responses['200'].content['application/json'].schema.$ref);
    assert.ok(run.properties.nodes && run.properties.status.enum.includes('waiting-approval'));
    assert.deepEqual(run.properties.nodes.additionalProperties, { $ref: '#/components/schemas/NodeState' });
    const bulk = doc.paths['/api/runs/bulk']!.post.responses;
    assert.deepEqual(bulk['422'].content, bulk['202'].content, 'the 422 of a bulk check carries the same report');
    assert.equal(schemaOf(doc.paths['/api/runbooks/{id}/versions/{version}']!.get.responses['200'].content['application/json'].schema.$ref).$ref, undefined);
    assert.equal(JSON.stringify(doc).split('"#/components/schemas/RunbookDefinition"').length > 2, true, 'versions refer to one definition schema');
    // Every JSON answer has a schema; streams, files and redirects say what they are.
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const ok = op.responses['200'] ?? op.responses['201'] ?? op.responses['202'];
        assert.ok(ok.content === undefined ? op.responses['302'] : Object.values(ok.content as Record<string, { schema?: unknown }>).some((c) => c.schema) || !ok.content['application/json'], `${method} ${path}`);
      }
  });
});
