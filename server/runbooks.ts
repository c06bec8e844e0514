// Runbooks as a team keeps them: an editable draft, immutable numbered versions published from
// it (validated first), archive, clone, import / export as JSON files.
import type { RunbookDefinition } from '../runbook/definition.ts';
import { sameDefinition } from '../runbook/diff.ts';
import { RUNBOOK_ID, slugify } from '../runbook/runbook-id.ts';
import { pinSubRunbooks, subRunbookNodes, type ChildLookup, type ChildResolver } from '../runbook/subrunbooks.ts';
import { validateRunbook, type Problem } from '../runbook/validate.ts';
import { deepFreeze, KeptReads } from './changes.ts';
import type { Db } from './db.ts';
import { json } from './db.ts';
import { iso } from './people.ts';
import { childUsable } from './runbook-access.ts';

export interface RunbookSummary {
  id: string;
  name: string;
  description?: string;
  customAction: boolean;
  archived: boolean;
  latestVersion?: number;
  draftUpdatedAt?: string;
  draftUpdatedBy?: string;
  /** The draft differs from the latest version (or nothing is published yet). */
  hasUnpublishedChanges: boolean;
  createdAt: string;
  createdBy: string;
  /** The owning tenant, whose designers edit it; absent: a global runbook (designers of every tenant). */
  tenant?: string;
  /** Other tenants that may see and run it; "*" = every tenant. */
  sharedWith: string[];
}

/** A runbook with its draft (the latest version when there is no draft). */
export type StoredRunbook = RunbookSummary & { draft: unknown };

export interface RunbookVersion {
  runbookId: string;
  version: number;
  definition: RunbookDefinition;
  comment?: string;
  publishedAt: string;
  publishedBy: string;
}

/** What the runbook store refuses; the error middleware (app.ts) answers it with its status and problems. */
export class RunbookError extends Error {
  readonly status: number;
  readonly problems?: Problem[];
  constructor(status: number, message: string, problems?: Problem[]) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

/** What starting a run reads of a runbook: its placement and state, and the published version asked for. */
export interface StartableRunbook {
  runbook: Pick<StoredRunbook, 'archived' | 'customAction' | 'tenant' | 'sharedWith'>;
  version?: RunbookVersion;
}

export class Runbooks {
  readonly db: Db;
  /** What a definition becomes before it is stored (its literal secrets sealed at rest). */
  private readonly atRest: (definition: unknown) => unknown;
  /** startable's reads, kept until the runbook or its versions change (server/changes.ts). */
  private readonly kept: KeptReads<StartableRunbook>;
  constructor(db: Db, atRest: (definition: unknown) => unknown = (d) => d) {
    this.db = db;
    this.atRest = atRest;
    this.kept = new KeptReads(db.changes, ['runbooks', 'runbook_versions'], { ttlMs: 10 * 60_000, max: 2_000 });
  }

  private summary(r: Record<string, any>): RunbookSummary {
    return {
      id: r.id,
      name: r.name,
      description: r.description ?? undefined,
      customAction: r.custom_action,
      archived: r.archived_at !== null,
      latestVersion: r.latest_version ?? undefined,
      draftUpdatedAt: iso(r.draft_updated_at),
      draftUpdatedBy: r.draft_updated_by ?? undefined,
      hasUnpublishedChanges: r.latest_definition == null || (r.draft != null && !sameDefinition(r.draft, r.latest_definition)),
      createdAt: iso(r.created_at)!,
      createdBy: r.created_by,
      tenant: r.owner_tenant ?? undefined,
      sharedWith: r.shared_with ?? [],
    };
  }

  private readonly select = `select r.*, v.version as latest_version, v.definition as latest_definition from runbooks r
    left join lateral (select version, definition from runbook_versions where runbook_id = r.id order by version desc limit 1) v on true`;

  async list(opts: { archived?: boolean; customAction?: boolean } = {}): Promise<RunbookSummary[]> {
    const rows = await this.db.query(`${this.select} where ($1::boolean is null or (r.archived_at is not null) = $1) and ($2::boolean is null or r.custom_action = $2) order by r.name`, [
      opts.archived ?? null,
      opts.customAction ?? null,
    ]);
    return rows.map((r) => this.summary(r));
  }

  async get(id: string): Promise<StoredRunbook | undefined> {
    const r = await this.db.one(`${this.select} where r.id = $1`, [id]);
    return r ? { ...this.summary(r), draft: r.draft ?? r.latest_definition } : undefined;
  }

  async require(id: string): Promise<StoredRunbook> {
    const rb = await this.get(id);
    if (!rb) throw new RunbookError(404, `runbook ${id} does not exist`);
    return rb;
  }

  /** A new runbook; with no tenant given it is global and shared with every tenant (examples, the system's own). */
  async create(opts: { id?: string; definition: unknown; by: string; customAction?: boolean; tenant?: string; sharedWith?: string[] }): Promise<StoredRunbook> {
    const def = (opts.definition ?? {}) as { name?: unknown; description?: unknown };
    const name = typeof def.name === 'string' && def.name ? def.name : 'Untitled runbook';
    let id = opts.id ?? slugify(name);
    if (!RUNBOOK_ID.test(id)) throw new RunbookError(400, `runbook id "${id}" must be lower-case letters, digits, - and _ (at most 63)`);
    if (!opts.id) for (let n = 2; await this.get(id); n++) id = `${slugify(name)}-${n}`;
    else if (await this.get(id)) throw new RunbookError(409, `runbook ${id} already exists`);
    await this.db.query(
      `insert into runbooks (id, name, description, draft, draft_updated_at, draft_updated_by, custom_action, created_by, owner_tenant, shared_with)
       values ($1, $2, $3, $4::jsonb, now(), $5, $6, $5, $7, $8::text[])`,
      [id, name, typeof def.description === 'string' ? def.description : null, json(this.atRest(opts.definition)), opts.by, opts.customAction ?? false, opts.tenant ?? null, opts.sharedWith ?? (opts.tenant ? [] : ['*'])],
    );
    return (await this.get(id))!;
  }

  async saveDraft(id: string, definition: unknown, by: string): Promise<StoredRunbook> {
    const rb = await this.require(id);
    if (rb.archived) throw new RunbookError(409, `runbook ${id} is archived: restore it before editing`);
    const def = (definition ?? {}) as { name?: unknown; description?: unknown };
    await this.db.query(
      `update runbooks set draft = $2::jsonb, draft_updated_at = now(), draft_updated_by = $3,
         name = coalesce($4, name), description = $5 where id = $1`,
      [id, json(this.atRest(definition)), by, typeof def.name === 'string' && def.name ? def.name : null, typeof def.description === 'string' ? def.description : null],
    );
    return (await this.get(id))!;
  }

  async update(id: string, patch: { customAction?: boolean; archived?: boolean; tenant?: string | null; sharedWith?: string[] }): Promise<StoredRunbook> {
    await this.require(id);
    if (patch.tenant !== undefined) await this.db.query('update runbooks set owner_tenant = $2 where id = $1', [id, patch.tenant]);
    if (patch.sharedWith !== undefined) await this.db.query('update runbooks set shared_with = $2::text[] where id = $1', [id, [...new Set(patch.sharedWith)]]);
    if (patch.customAction !== undefined) await this.db.query('update runbooks set custom_action = $2 where id = $1', [id, patch.customAction]);
    if (patch.archived !== undefined)
      await this.db.query(`update runbooks set archived_at = case when $2 then coalesce(archived_at, now()) else null end where id = $1`, [id, patch.archived]);
    this.db.changes.changed('runbooks');
    return (await this.get(id))!;
  }

  async publish(id: string, by: string, comment?: string): Promise<RunbookVersion> {
    const rb = await this.require(id);
    if (rb.archived) throw new RunbookError(409, `runbook ${id} is archived: restore it before publishing`);
    const draft = validateRunbook(rb.draft);
    const resolve = draft.definition ? await this.childResolver(draft.definition, (child) => childUsable(rb, child)) : undefined;
    const checked = validateRunbook(rb.draft, { self: id, resolve });
    if (!checked.ok) throw new RunbookError(422, 'the draft has problems; fix them before publishing', checked.problems);
    // Each sub-runbook is pinned now: the version chosen, or the latest published at this moment.
    const definition = resolve ? pinSubRunbooks(checked.definition, resolve) : checked.definition;
    const published = await this.db.tx(async (q) => {
      const last = (await q.query('select max(version) as v from runbook_versions where runbook_id = $1', [id]))[0]?.v as number | null;
      const version = (last ?? 0) + 1;
      await q.query(
        'insert into runbook_versions (runbook_id, version, definition, comment, published_by) values ($1, $2, $3::jsonb, $4, $5)',
        [id, version, json(definition), comment ?? null, by],
      );
      return { runbookId: id, version, definition, comment, publishedAt: new Date().toISOString(), publishedBy: by };
    });
    // The latest version a run starts from is now this one.
    this.db.changes.changed('runbook_versions');
    return published;
  }

  /**
   * What the validator needs to check and pin a definition's sub-runbooks: each child looked up
   * once; a child that usable refuses (another tenant's runbook) is as good as missing.
   */
  async childResolver(def: RunbookDefinition, usable: (child: StoredRunbook) => boolean = () => true): Promise<ChildResolver> {
    const known = new Map<string, ChildLookup>();
    for (const { node } of subRunbookNodes(def)) {
      const key = `${node.runbook}@${node.version}`;
      if (known.has(key)) continue;
      const rb = await this.get(node.runbook);
      if (!rb || !usable(rb)) known.set(key, { found: false });
      else {
        const v = await this.version(node.runbook, node.version === 'latest' ? undefined : node.version);
        known.set(key, { found: true, archived: rb.archived, version: v && { version: v.version, definition: v.definition } });
      }
    }
    return (runbook, version) => known.get(`${runbook}@${version}`) ?? { found: false };
  }

  async versions(id: string): Promise<Omit<RunbookVersion, 'definition'>[]> {
    await this.require(id);
    const rows = await this.db.query('select runbook_id, version, comment, published_at, published_by from runbook_versions where runbook_id = $1 order by version desc', [id]);
    return rows.map((r) => ({ runbookId: r.runbook_id, version: r.version, comment: r.comment ?? undefined, publishedAt: iso(r.published_at)!, publishedBy: r.published_by }));
  }

  /** A published version; the latest when version is undefined. */
  async version(id: string, version?: number): Promise<RunbookVersion | undefined> {
    const r = await this.db.one(
      `select * from runbook_versions where runbook_id = $1 and ($2::int is null or version = $2) order by version desc limit 1`,
      [id, version ?? null],
    );
    if (!r) return undefined;
    return { runbookId: r.runbook_id, version: r.version, definition: r.definition, comment: r.comment ?? undefined, publishedAt: iso(r.published_at)!, publishedBy: r.published_by };
  }

  /**
   * What starting a run needs, in one read: the runbook's placement and state, and the published
   * version asked for (the latest when version is undefined); the draft is not read.
   */
  async startable(id: string, version?: number): Promise<StartableRunbook | undefined> {
    return this.kept.get(`${id}|${version ?? 'latest'}`, async () => {
      const r = await this.db.one(
        `select r.archived_at, r.custom_action, r.owner_tenant, r.shared_with, v.version, v.definition, v.comment, v.published_at, v.published_by from runbooks r
         left join lateral (select * from runbook_versions where runbook_id = r.id and ($2::int is null or version = $2) order by version desc limit 1) v on true
         where r.id = $1`,
        [id, version ?? null],
      );
      if (!r) return undefined;
      // Kept and shared by every start that reads it: frozen, so no caller can change it for the next.
      return {
        value: deepFreeze({
          runbook: { archived: r.archived_at !== null, customAction: r.custom_action, tenant: r.owner_tenant ?? undefined, sharedWith: r.shared_with ?? [] },
          version: r.version === null || r.version === undefined ? undefined : { runbookId: id, version: r.version, definition: r.definition, comment: r.comment ?? undefined, publishedAt: iso(r.published_at)!, publishedBy: r.published_by },
        }),
      };
    });
  }

  async clone(id: string, opts: { newId?: string; name?: string; by: string; tenant?: string; sharedWith?: string[] }): Promise<StoredRunbook> {
    const rb = await this.require(id);
    const definition = { ...(rb.draft as object), name: opts.name ?? `${rb.name} (copy)` };
    return this.create({ id: opts.newId, definition, by: opts.by, tenant: opts.tenant, sharedWith: opts.sharedWith });
  }

  /** The "runbook as code" file: the latest version (or the draft) and the runbook's settings. */
  async export(id: string, which: number | 'draft' | 'latest' = 'latest') {
    const rb = await this.require(id);
    let definition: unknown;
    let version: number | undefined;
    if (which === 'draft') definition = rb.draft;
    else {
      const v = await this.version(id, which === 'latest' ? undefined : which);
      if (!v) throw new RunbookError(404, which === 'latest' ? `runbook ${id} has no published version` : `runbook ${id} has no version ${which}`);
      definition = v.definition;
      version = v.version;
    }
    return { tenantflowRunbook: 1 as const, id, version, customAction: rb.customAction, definition };
  }
}
