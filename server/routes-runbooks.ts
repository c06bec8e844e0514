// Runbooks: drafts, validation, immutable published versions, diff, archive, clone, import /
// export, custom actions offered to operators, and the action catalog.
import { z } from 'zod';
import { catalogJson } from '../catalog/index.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRoleAnywhere, type Principal } from './people.ts';
import { diffDefinitions } from '../runbook/diff.ts';
import { RUNBOOK_ID } from './runbooks.ts';
import type { Services } from './services.ts';

const Definition = z.record(z.string(), z.unknown()).describe('A runbook definition (schema: workflows/definition.ts); drafts may still have problems');
const NewRunbook = z.strictObject({
  id: z.string().regex(RUNBOOK_ID, 'lower-case letters, digits, - and _').optional().describe('Defaults to a slug of the name'),
  definition: Definition,
  customAction: z.boolean().optional().describe('Offer the published runbook to operators as a custom action'),
});
const DraftBody = z.strictObject({ definition: Definition });
const PublishBody = z.strictObject({ comment: z.string().max(2000).optional() });
const Patch = z.strictObject({ customAction: z.boolean().optional(), archived: z.boolean().optional() });
const CloneBody = z.strictObject({ id: z.string().regex(RUNBOOK_ID).optional(), name: z.string().min(1).optional() });
const ExportFile = z.strictObject({
  tenantflowRunbook: z.literal(1),
  id: z.string().regex(RUNBOOK_ID),
  version: z.number().int().optional(),
  customAction: z.boolean().optional(),
  definition: Definition,
});
const ImportBody = z.strictObject({
  file: ExportFile.describe('A file from GET /api/runbooks/:id/export'),
  id: z.string().regex(RUNBOOK_ID).optional().describe('Import under this id instead of the file\'s'),
  publish: z.boolean().default(true).describe('Publish a new version right away (the definition must be valid)'),
});
const VersionRef = z.union([z.literal('draft'), z.literal('latest'), z.coerce.number().int().min(1)]);

export function requireDesigner(p: Principal): void {
  if (!hasRoleAnywhere(p, 'designer')) throw new HttpError(403, 'only designers (or admins) may change runbooks');
}

export function runbookRoutes(api: Api, s: Services): void {
  const anyone = (p: Principal) => {
    if (p.grants.length === 0) throw new HttpError(403, 'you have no role on any tenant yet: ask an admin');
  };

  api.route({ method: 'get', path: '/api/actions', tag: 'runbooks', summary: 'The action catalog with JSON Schemas of inputs and outputs', roles: 'any' }, () => catalogJson());

  api.route(
    { method: 'get', path: '/api/runbooks', tag: 'runbooks', summary: 'Runbooks (latest version, draft state)', roles: 'any', query: z.object({ archived: z.enum(['true', 'false', 'all']).default('false') }) },
    async ({ me: p, query }) => {
      anyone(p);
      return s.runbooks.list({ archived: query.archived === 'all' ? undefined : query.archived === 'true' });
    },
  );

  api.route(
    { method: 'post', path: '/api/runbooks', tag: 'runbooks', summary: 'Create a runbook with a draft', roles: 'designer', body: NewRunbook, statuses: { 201: 'created', 409: 'the id is taken' } },
    async ({ req, res, me: p, body }) => {
      requireDesigner(p);
      const rb = await s.runbooks.create({ id: body.id, definition: body.definition, by: p.user.email, customAction: body.customAction });
      await s.audit.record(originOf(req, p), 'runbook.created', rb.id);
      res.status(201).location(`/api/runbooks/${rb.id}`);
      return rb;
    },
  );

  api.route({ method: 'post', path: '/api/runbooks/validate', tag: 'runbooks', summary: 'Every problem of a definition, with node id and field (422 when there are problems)', roles: 'any', statuses: { 422: 'problems found' } }, ({ res, me: p, req }) => {
    anyone(p);
    const result = validateRunbook(req.body);
    res.status(result.ok ? 200 : 422);
    return { ok: result.ok, problems: result.problems };
  });

  api.route({ method: 'post', path: '/api/runbooks/import', tag: 'runbooks', summary: 'Import a runbook file (creates the runbook or a new draft, and publishes by default)', roles: 'designer', body: ImportBody, statuses: { 201: 'imported', 422: 'the definition has problems' } }, async ({ req, res, me: p, body }) => {
    requireDesigner(p);
    const id = body.id ?? body.file.id;
    if (body.publish) {
      const checked = validateRunbook(body.file.definition);
      if (!checked.ok) throw new HttpError(422, 'the runbook file has problems', { problems: checked.problems });
    }
    const existing = await s.runbooks.get(id);
    if (existing) await s.runbooks.saveDraft(id, body.file.definition, p.user.email);
    else await s.runbooks.create({ id, definition: body.file.definition, by: p.user.email, customAction: body.file.customAction });
    const version = body.publish ? await s.runbooks.publish(id, p.user.email, `imported${body.file.version ? ` from version ${body.file.version}` : ''}`) : undefined;
    await s.audit.record(originOf(req, p), 'runbook.imported', id, { version: version?.version });
    res.status(201);
    return { ...(await s.runbooks.get(id))!, publishedVersion: version?.version };
  });

  api.route({ method: 'get', path: '/api/runbooks/:id', tag: 'runbooks', summary: 'A runbook: summary, its draft with problems, and the latest published definition', roles: 'any', statuses: { 404: 'no such runbook' } }, async ({ me: p, params }) => {
    anyone(p);
    const rb = await s.runbooks.require(params.id!);
    const latest = await s.runbooks.version(rb.id);
    const problems = validateRunbook(rb.draft).problems;
    return { ...rb, problems, version: latest?.version, definition: latest?.definition };
  });

  api.route({ method: 'put', path: '/api/runbooks/:id/draft', tag: 'runbooks', summary: 'Save the draft (problems are returned, not refused)', roles: 'designer', body: DraftBody, statuses: { 404: 'no such runbook', 409: 'archived' } }, async ({ req, me: p, params, body }) => {
    requireDesigner(p);
    const rb = await s.runbooks.saveDraft(params.id!, body.definition, p.user.email);
    await s.audit.record(originOf(req, p), 'runbook.draft.saved', rb.id);
    return { ...rb, problems: validateRunbook(body.definition).problems };
  });

  api.route({ method: 'post', path: '/api/runbooks/:id/validate', tag: 'runbooks', summary: 'Validate the draft', roles: 'any', statuses: { 404: 'no such runbook' } }, async ({ me: p, params }) => {
    anyone(p);
    const rb = await s.runbooks.require(params.id!);
    const r = validateRunbook(rb.draft);
    return { ok: r.ok, problems: r.problems };
  });

  api.route({ method: 'post', path: '/api/runbooks/:id/publish', tag: 'runbooks', summary: 'Publish the draft as the next immutable version', roles: 'designer', body: PublishBody, statuses: { 201: 'published', 422: 'the draft has problems', 409: 'archived' } }, async ({ req, res, me: p, params, body }) => {
    requireDesigner(p);
    const v = await s.runbooks.publish(params.id!, p.user.email, body.comment);
    await s.audit.record(originOf(req, p), 'runbook.published', v.runbookId, { version: v.version, comment: body.comment });
    res.status(201);
    return v;
  });

  api.route({ method: 'get', path: '/api/runbooks/:id/versions', tag: 'runbooks', summary: 'Published versions, newest first', roles: 'any', statuses: { 404: 'no such runbook' } }, async ({ me: p, params }) => {
    anyone(p);
    return s.runbooks.versions(params.id!);
  });

  api.route({ method: 'get', path: '/api/runbooks/:id/versions/:version', tag: 'runbooks', summary: 'One published version', roles: 'any', statuses: { 404: 'no such version' } }, async ({ me: p, params }) => {
    anyone(p);
    const n = Number(params.version);
    const v = Number.isInteger(n) ? await s.runbooks.version(params.id!, n) : undefined;
    if (!v) throw new HttpError(404, `runbook ${params.id} has no version ${params.version}`);
    return v;
  });

  api.route(
    { method: 'get', path: '/api/runbooks/:id/diff', tag: 'runbooks', summary: 'What changed between two versions (or a version and the draft)', roles: 'any', query: z.object({ from: VersionRef, to: VersionRef.default('draft') }), statuses: { 404: 'no such version', 422: 'the draft is not valid' } },
    async ({ me: p, params, query }) => {
      anyone(p);
      const rb = await s.runbooks.require(params.id!);
      const load = async (ref: 'draft' | 'latest' | number) => {
        if (ref === 'draft') {
          const r = validateRunbook(rb.draft);
          if (!r.ok) throw new HttpError(422, 'the draft has problems, so it cannot be compared', { problems: r.problems });
          return r.definition;
        }
        const v = await s.runbooks.version(rb.id, ref === 'latest' ? undefined : ref);
        if (!v) throw new HttpError(404, `runbook ${rb.id} has no version ${ref}`);
        return v.definition;
      };
      return { from: query.from, to: query.to, ...diffDefinitions(await load(query.from), await load(query.to)) };
    },
  );

  api.route({ method: 'patch', path: '/api/runbooks/:id', tag: 'runbooks', summary: 'Archive / restore, offer as a custom action', roles: 'designer', body: Patch, statuses: { 404: 'no such runbook' } }, async ({ req, me: p, params, body }) => {
    requireDesigner(p);
    const rb = await s.runbooks.update(params.id!, body);
    await s.audit.record(originOf(req, p), body.archived === true ? 'runbook.archived' : body.archived === false ? 'runbook.restored' : 'runbook.updated', rb.id, body);
    return rb;
  });

  api.route({ method: 'post', path: '/api/runbooks/:id/clone', tag: 'runbooks', summary: 'Copy the runbook (its draft) into a new runbook', roles: 'designer', body: CloneBody, statuses: { 201: 'cloned', 404: 'no such runbook', 409: 'the id is taken' } }, async ({ req, res, me: p, params, body }) => {
    requireDesigner(p);
    const rb = await s.runbooks.clone(params.id!, { newId: body.id, name: body.name, by: p.user.email });
    await s.audit.record(originOf(req, p), 'runbook.cloned', rb.id, { from: params.id });
    res.status(201);
    return rb;
  });

  api.route(
    { method: 'get', path: '/api/runbooks/:id/export', tag: 'runbooks', summary: 'The runbook as a JSON file (latest version, a version, or the draft)', roles: 'any', query: z.object({ version: VersionRef.default('latest') }), statuses: { 404: 'no such version' } },
    async ({ res, me: p, params, query }) => {
      anyone(p);
      const file = await s.runbooks.export(params.id!, query.version);
      res.attachment(`${file.id}${file.version ? `.v${file.version}` : '.draft'}.json`);
      return file;
    },
  );

  api.route({ method: 'get', path: '/api/custom-actions', tag: 'runbooks', summary: 'Published runbooks offered to operators, with their run forms', roles: 'any' }, async ({ me: p }) => {
    anyone(p);
    const list = await s.runbooks.list({ archived: false, customAction: true });
    const out = [];
    for (const rb of list) {
      const v = await s.runbooks.version(rb.id);
      if (v) out.push({ id: rb.id, name: v.definition.name, description: v.definition.description, version: v.version, inputs: v.definition.inputs });
    }
    return out;
  });
}
