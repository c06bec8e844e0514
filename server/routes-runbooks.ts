// Runbooks: drafts, validation, immutable published versions, diff, archive, clone, import /
// export, custom actions offered to operators, and the action catalog.
import { catalog, catalogJson } from '../catalog/index.ts';
import { maskDefinitionSecrets, restoreMaskedSecrets } from '../runbook/secrets.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { createFromTemplate, templates } from './template-gallery.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { hasRole, hasRoleAnywhere, type Principal } from './people.ts';
import { checkSharing, defaultPlacement, requireEditable, requireVisible, runbookVisible, type Placement } from './runbook-access.ts';
import { diffDefinitions } from '../runbook/diff.ts';
import type { Services } from './services.ts';


const secretFieldsOf = (a: string) => catalog.get(a)?.secretFields;
/** Literal secrets in a definition are write-only: shown as "[secret]". */
const mask = <T>(definition: T): T => maskDefinitionSecrets(definition, secretFieldsOf);

export function requireDesigner(p: Principal): void {
  if (!hasRoleAnywhere(p, 'designer')) throw new HttpError(403, 'only designers (or admins) may change runbooks');
}

export function runbookRoutes(api: Api, s: Services): void {
  const anyone = (p: Principal) => {
    if (p.grants.length === 0) throw new HttpError(403, 'you have no role on any tenant yet: ask an admin');
  };
  /** A runbook the caller may see (404 for any other: its existence is not told). */
  const visible = async (p: Principal, id: string) => {
    anyone(p);
    const rb = await s.runbooks.get(id);
    requireVisible(p, id, rb);
    return rb!;
  };
  /** A runbook the caller may change: a designer of its owning tenant. */
  const editable = async (p: Principal, id: string) => {
    requireDesigner(p);
    const rb = await s.runbooks.get(id);
    requireEditable(p, id, rb);
    return rb!;
  };
  /** Where a new runbook goes: the tenant named (the caller designs for it) or the caller's one tenant. */
  const placementOf = async (p: Principal, tenant: string | undefined, sharedWith: string[] | undefined): Promise<Placement> => {
    let place: Placement;
    if (tenant === undefined) place = defaultPlacement(p);
    else {
      if (!(await s.tenants.exists(tenant))) throw new HttpError(400, `tenant ${tenant} does not exist`, { problems: [{ field: 'tenant', message: `unknown tenant ${tenant}` }] });
      if (!hasRole(p, 'designer', tenant)) throw new HttpError(403, `you are not a designer of tenant ${tenant}`);
      place = { tenant, sharedWith: [] };
    }
    if (sharedWith !== undefined) {
      await knownTenants(sharedWith);
      const next = { tenant: place.tenant, sharedWith: [...new Set(sharedWith)] };
      checkSharing(p, place.tenant ? { tenant: place.tenant, sharedWith: [] } : undefined, next);
      place = next;
    }
    return place;
  };
  const knownTenants = async (names: string[]) => {
    for (const [i, t] of names.entries())
      if (t !== '*' && !(await s.tenants.exists(t))) throw new HttpError(400, `tenant ${t} does not exist`, { problems: [{ field: `sharedWith.${i}`, message: `unknown tenant ${t}` }] });
  };

  api.route('GET /api/actions', () => catalogJson());
  api.route('GET /api/templates', ({ me: p }) => {
    anyone(p);
    return templates();
  });
  api.route('POST /api/templates/:id/runbooks', async ({ req, res, me: p, params, body }) => {
    requireDesigner(p);
    const place = await placementOf(p, body.tenant, undefined);
    const rb = await createFromTemplate(s.runbooks, params.id!, { id: body.id, name: body.name, by: p.user.email, placement: place });
    for (const c of rb.children.filter((x) => x.created)) {
      await s.audit.record(originOf(req, p), 'runbook.created', c.id, { template: c.id });
      await s.audit.record(originOf(req, p), 'runbook.published', c.id, { version: c.version, comment: `sub-runbook of template ${params.id}` });
    }
    await s.audit.record(originOf(req, p), 'runbook.created', rb.id, { template: params.id });
    res.status(201).location(`/api/runbooks/${rb.id}`);
    return rb;
  });

  api.route('GET /api/runbooks',
    async ({ me: p, query }) => {
      anyone(p);
      return (await s.runbooks.list({ archived: query.archived === 'all' ? undefined : query.archived === 'true' })).filter((rb) => runbookVisible(p, rb));
    },
  );

  api.route('POST /api/runbooks',
    async ({ req, res, me: p, body }) => {
      requireDesigner(p);
      const place = await placementOf(p, body.tenant, body.sharedWith);
      const rb = await s.runbooks.create({ id: body.id, definition: body.definition, by: p.user.email, customAction: body.customAction, ...place });
      await s.audit.record(originOf(req, p), 'runbook.created', rb.id);
      res.status(201).location(`/api/runbooks/${rb.id}`);
      return rb;
    },
  );

  api.route('POST /api/runbooks/validate', ({ res, me: p, req }) => {
    anyone(p);
    // The body as sent (no body at all is a problem of its own).
    const result = validateRunbook(req.body);
    res.status(result.ok ? 200 : 422);
    return { ok: result.ok, problems: result.problems, warnings: result.warnings };
  });

  api.route('POST /api/runbooks/import', async ({ req, res, me: p, body }) => {
    requireDesigner(p);
    const id = body.id ?? body.file.id;
    if (body.publish) {
      const checked = validateRunbook(body.file.definition);
      if (!checked.ok) throw new HttpError(422, 'the runbook file has problems', { problems: checked.problems });
    }
    const existing = await s.runbooks.get(id);
    if (existing && !runbookVisible(p, existing)) throw new HttpError(409, `runbook id ${id} is taken: import it under another id`, { problems: [{ field: 'id', message: 'taken' }] });
    if (existing) requireEditable(p, id, existing);
    if (existing) await s.runbooks.saveDraft(id, body.file.definition, p.user.email);
    else await s.runbooks.create({ id, definition: body.file.definition, by: p.user.email, customAction: body.file.customAction, ...(await placementOf(p, body.tenant, undefined)) });
    const version = body.publish ? await s.runbooks.publish(id, p.user.email, `imported${body.file.version ? ` from version ${body.file.version}` : ''}`) : undefined;
    await s.audit.record(originOf(req, p), 'runbook.imported', id, { version: version?.version });
    res.status(201);
    return { ...(await s.runbooks.get(id))!, publishedVersion: version?.version };
  });

  api.route('GET /api/runbooks/:id', async ({ me: p, params }) => {
    const rb = await visible(p, params.id!);
    const latest = await s.runbooks.version(rb.id);
    const { problems, warnings } = validateRunbook(rb.draft);
    return { ...rb, draft: mask(rb.draft), problems, warnings, version: latest?.version, definition: mask(latest?.definition) };
  });

  api.route('PUT /api/runbooks/:id/draft', async ({ req, me: p, params, body }) => {
    // A draft saved back as it was shown keeps the stored secrets in place of "[secret]".
    const current = await editable(p, params.id!);
    const definition = restoreMaskedSecrets(body.definition, current.draft, secretFieldsOf);
    const rb = await s.runbooks.saveDraft(params.id!, definition, p.user.email);
    await s.audit.record(originOf(req, p), 'runbook.draft.saved', rb.id);
    const { problems, warnings } = validateRunbook(definition);
    return { ...rb, draft: mask(rb.draft), problems, warnings };
  });

  api.route('POST /api/runbooks/:id/validate', async ({ me: p, params }) => {
    const rb = await visible(p, params.id!);
    const r = validateRunbook(rb.draft);
    return { ok: r.ok, problems: r.problems, warnings: r.warnings };
  });

  api.route('POST /api/runbooks/:id/publish', async ({ req, res, me: p, params, body }) => {
    await editable(p, params.id!);
    const v = await s.runbooks.publish(params.id!, p.user.email, body.comment);
    await s.audit.record(originOf(req, p), 'runbook.published', v.runbookId, { version: v.version, comment: body.comment });
    res.status(201);
    // Rule warnings never block publishing; the answer carries them so the publisher sees them.
    return { ...v, warnings: validateRunbook(v.definition).warnings };
  });

  api.route('GET /api/runbooks/:id/versions', async ({ me: p, params }) => {
    await visible(p, params.id!);
    return s.runbooks.versions(params.id!);
  });

  api.route('GET /api/runbooks/:id/versions/:version', async ({ me: p, params }) => {
    await visible(p, params.id!);
    const n = Number(params.version);
    const v = Number.isInteger(n) ? await s.runbooks.version(params.id!, n) : undefined;
    if (!v) throw new HttpError(404, `runbook ${params.id} has no version ${params.version}`);
    return { ...v, definition: mask(v.definition) };
  });

  api.route('GET /api/runbooks/:id/diff',
    async ({ me: p, params, query }) => {
      const rb = await visible(p, params.id!);
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

  api.route('PATCH /api/runbooks/:id', async ({ req, me: p, params, body }) => {
    const current = await editable(p, params.id!);
    if (body.tenant !== undefined || body.sharedWith !== undefined) {
      if (body.tenant) await placementOf(p, body.tenant, undefined);
      if (body.sharedWith) await knownTenants(body.sharedWith);
      checkSharing(p, current, { tenant: body.tenant === undefined ? current.tenant : body.tenant ?? undefined, sharedWith: body.sharedWith ?? current.sharedWith });
    }
    const rb = await s.runbooks.update(params.id!, body);
    await s.audit.record(originOf(req, p), body.archived === true ? 'runbook.archived' : body.archived === false ? 'runbook.restored' : 'runbook.updated', rb.id, body);
    return rb;
  });

  api.route('POST /api/runbooks/:id/clone', async ({ req, res, me: p, params, body }) => {
    requireDesigner(p);
    await visible(p, params.id!);
    const rb = await s.runbooks.clone(params.id!, { newId: body.id, name: body.name, by: p.user.email, ...(await placementOf(p, body.tenant, undefined)) });
    await s.audit.record(originOf(req, p), 'runbook.cloned', rb.id, { from: params.id });
    res.status(201);
    return rb;
  });

  api.route('GET /api/runbooks/:id/export',
    async ({ res, me: p, params, query }) => {
      await visible(p, params.id!);
      const file = await s.runbooks.export(params.id!, query.version);
      res.attachment(`${file.id}${file.version ? `.v${file.version}` : '.draft'}.json`);
      return { ...file, definition: mask(file.definition) };
    },
  );

  api.route('GET /api/custom-actions', async ({ me: p }) => {
    anyone(p);
    const list = await s.runbooks.list({ archived: false, customAction: true });
    const out = [];
    for (const rb of list.filter((r) => runbookVisible(p, r))) {
      const v = await s.runbooks.version(rb.id);
      if (v) out.push({ id: rb.id, name: v.definition.name, description: v.definition.description, version: v.version, inputs: v.definition.inputs });
    }
    return out;
  });
}
