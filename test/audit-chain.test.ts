// The audit log is append-only and hash-chained: on the embedded database (triggers, and the chain
// shows what they cannot stop) and on a real PostgreSQL with an owner role and the application's
// role, where the database itself refuses the application any rewrite.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEntryHash, GENESIS_HASH, verifyChain } from '../runbook/fingerprint.ts';
import { Audit } from '../server/audit.ts';
import { auditProtection, migrate, openDatabase, type Db } from '../server/db.ts';
import { MIGRATIONS } from '../server/migrations.ts';
import { databaseBefore, needsPostgres, postgresForTests, splitRoles } from './api-harness.ts';

const origin = { actor: 'alex@contoso.test', ip: '10.0.0.7', userAgent: 'test' };

async function writeSome(audit: Audit) {
  await audit.record(origin, 'run.started', 'run-1', { runbook: 'onboarding', version: 3, inputs: { user: 'anna@contoso.com', nested: [1, { b: 2, a: 1 }] } }, 'contoso');
  await audit.record({ actor: 'boss@contoso.test' }, 'approval.approve', 'run-1', { node: 'ask', comment: 'ok “quoted”' }, 'contoso');
  await audit.record(origin, 'm365.change', 'run-1', { step: 'licence', changes: [{ object: 'user anna', property: 'licence SPE_E3', before: false, after: true }] }, 'contoso');
}

describe('audit hash chain (embedded database)', () => {
  let db: Db;
  let audit: Audit;
  before(async () => {
    db = await openDatabase({});
    audit = new Audit(db);
    await writeSome(audit);
  });
  after(async () => db?.close());

  it('links every entry to the one before it, and the links recompute from the fields', async () => {
    const check = await audit.verify();
    assert.deepEqual({ ok: check.ok, entries: check.entries }, { ok: true, entries: 3 });
    const rows = (await audit.search({})).reverse();
    assert.equal(rows[0]!.prevHash, GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prevHash, rows[i - 1]!.hash);
    const last = rows.at(-1)!;
    assert.equal(last.hash, auditEntryHash(last.prevHash!, last), 'anyone can recompute a link from the entry');
    assert.equal(check.ok && check.head, last.hash);
  });

  it('refuses UPDATE, DELETE and TRUNCATE through SQL', async () => {
    await assert.rejects(db.query(`update audit_log set actor = 'mallory'`), /append-only/);
    await assert.rejects(db.query('delete from audit_log'), /append-only/);
    await assert.rejects(db.query('truncate audit_log'), /append-only/);
  });

  it('names the first broken link when the triggers are bypassed: a changed entry, then a removed one', async () => {
    // The embedded database cannot stop its own process: the chain is what shows the rewrite.
    await db.exec('alter table audit_log disable trigger audit_log_append_only');
    try {
      const [second] = await db.query(`select id from audit_log where action = 'approval.approve'`);
      await db.query(`update audit_log set detail = '{"node":"ask","comment":"rejected"}'::jsonb where id = $1`, [second!.id]);
      const changed = await audit.verify();
      assert.equal(changed.ok, false);
      assert.equal(!changed.ok && changed.brokenAt, Number(second!.id));
      assert.match(!changed.ok ? changed.reason : '', /was changed after it was written/);
      await db.query('delete from audit_log where id = $1', [second!.id]);
      const removed = await audit.verify();
      assert.equal(!removed.ok && removed.brokenAt, Number(second!.id) + 1);
      assert.match(!removed.ok ? removed.reason : '', /does not follow the entry before it/);
    } finally {
      await db.exec('alter table audit_log enable trigger audit_log_append_only');
    }
    const protection = await auditProtection(db);
    assert.equal(protection.engine, 'pglite');
    assert.match(protection.summary, /hash chain/);
  });

  it('seals entries written before the chain existed into it, oldest first', async () => {
    // A database at migration 1 with entries, then upgraded.
    const { pg, db: legacy } = await databaseBefore(2);
    for (const a of ['runbook.published', 'run.started', 'approval.reject'])
      await pg.query(`insert into audit_log (actor, action, target, detail) values ('old@contoso.test', $1, 'x', '{"k": 1}'::jsonb)`, [a]);
    assert.deepEqual(await migrate(legacy), MIGRATIONS.slice(1).map((m) => m.version));
    const upgraded = new Audit(legacy);
    await upgraded.record(origin, 'run.started', 'y');
    const check = await upgraded.verify();
    assert.deepEqual({ ok: check.ok, entries: check.entries }, { ok: true, entries: 4 });
    await assert.rejects(legacy.query(`update audit_log set actor = 'x'`), /append-only/, 'the trigger is back on after sealing');
    await legacy.close();
  });

  it('verifies an exported chain in pieces, starting from the hash before the piece', () => {
    const a = { id: 1, at: '2026-01-01T00:00:00.000Z', actor: 'a', action: 'x' };
    const h1 = auditEntryHash(GENESIS_HASH, a);
    const b = { id: 5, at: '2026-01-01T00:00:01.000Z', actor: 'b', action: 'y', detail: { z: 1, a: [true, null] } };
    const h2 = auditEntryHash(h1, b);
    assert.deepEqual(verifyChain([{ ...b, prevHash: h1, hash: h2 }], h1), { ok: true, entries: 1, head: h2, firstId: 5, lastId: 5 });
    const forged = verifyChain([{ ...a, prevHash: GENESIS_HASH, hash: h1 }, { ...b, actor: 'mallory', prevHash: h1, hash: h2 }]);
    assert.equal(!forged.ok && forged.brokenAt, 5);
  });
});

describe('audit log on PostgreSQL with an owner role', { skip: needsPostgres() }, () => {
  let cluster: Awaited<ReturnType<typeof postgresForTests>>;
  let roles: Awaited<ReturnType<typeof splitRoles>>;
  let app: Db;
  let owner: Db;
  before(async () => {
    cluster = await postgresForTests();
    roles = await splitRoles(cluster.url);
    app = await openDatabase({ url: roles.appUrl, ownerUrl: roles.ownerUrl });
    await writeSome(new Audit(app));
    owner = await openDatabase({ url: roles.ownerUrl });
  });
  after(async () => {
    await app?.close();
    await owner?.close();
    await roles?.stop();
    await cluster?.stop();
  });

  it("the application's role appends and reads, and cannot UPDATE, DELETE, TRUNCATE or touch the triggers", async () => {
    assert.equal((await app.query('select count(*)::int as n from audit_log'))[0]!.n, 3);
    for (const sql of [
      `update audit_log set actor = 'mallory'`,
      'delete from audit_log',
      'truncate audit_log',
      'drop trigger audit_log_append_only on audit_log',
      'alter table audit_log disable trigger audit_log_append_only',
      'alter table audit_log disable trigger all',
      'drop table audit_log',
      'drop function audit_log_is_append_only() cascade',
      'create table sneaky (id int)',
      'delete from run_changes_audited',
      `insert into schema_migrations (version, name) values (999, 'fake')`,
    ])
      await assert.rejects(app.query(sql), /permission denied|must be owner/, sql);
    const protection = await auditProtection(app);
    assert.deepEqual(protection.canRewrite, []);
    assert.match(protection.summary, /can only read and append the audit log/);
    assert.equal((await new Audit(app).verify()).ok, true);
    // The rest of the application works under the same role (the API suite on PostgreSQL runs so too).
    await app.query(`insert into settings (key, value) values ('x', '1'::jsonb)`);
    await app.query(`update settings set value = '2'::jsonb where key = 'x'`);
    assert.deepEqual(await migrate(app), [], 'the application reads the migration history without creating anything');
  });

  it('the chain names the entry an owner rewrote', async () => {
    await owner.exec('alter table audit_log disable trigger audit_log_append_only');
    const [first] = await owner.query(`select id from audit_log order by id limit 1`);
    await owner.query(`update audit_log set actor = 'someone else' where id = $1`, [first!.id]);
    await owner.exec('alter table audit_log enable trigger audit_log_append_only');
    const check = await new Audit(app).verify();
    assert.equal(!check.ok && check.brokenAt, Number(first!.id));
    const protection = await auditProtection(owner);
    assert.match(protection.summary, /owns the audit log: set DATABASE_OWNER_URL/);
  });
});

describe('audit appends from several server processes (PostgreSQL)', { skip: needsPostgres() }, () => {
  let cluster: Awaited<ReturnType<typeof postgresForTests>>;
  let one: Db;
  let two: Db;
  before(async () => {
    cluster = await postgresForTests();
    one = await openDatabase({ url: cluster.url });
    two = await openDatabase({ url: cluster.url });
  });
  after(async () => {
    await one?.close();
    await two?.close();
    await cluster?.stop();
  });

  it('race without a lock and still form one chain: every entry written once, ids rising along it', async () => {
    // Two processes' appenders, each keeping the slot after its own last entry; the other's
    // entries make that slot stale again and again, and both also append inside transactions.
    const [a, b] = [new Audit(one), new Audit(two)];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      writes.push(a.record(origin, 'race.a', `a-${i}`));
      writes.push(b.record(origin, 'race.b', `b-${i}`));
      if (i % 10 === 0) writes.push(two.tx((q) => b.recordIn(q, origin, 'race.tx', `tx-${i}`)));
    }
    await Promise.all(writes);
    const check = await a.verify();
    assert.deepEqual({ ok: check.ok, entries: check.entries }, { ok: true, entries: 126 });
    const targets = (await one.query<{ target: string }>('select target from audit_log order by id')).map((r) => r.target);
    assert.equal(new Set(targets).size, 126, 'no entry twice');
  });

  it('the database itself refuses a second successor to an entry (a fork)', async () => {
    const [head] = await one.query<{ prev_hash: string }>('select prev_hash from audit_log order by id desc limit 1');
    await assert.rejects(
      one.query(`insert into audit_log (actor, action, prev_hash, hash) values ('mallory', 'fork', $1, 'x')`, [head!.prev_hash]),
      /duplicate key value violates unique constraint "audit_log_one_successor"/,
    );
  });
});

describe('audit chain index on a log that was already forked', () => {
  it('still migrates: the index then covers the entries written after it', async () => {
    const { pg, db } = await databaseBefore(10);
    for (const actor of ['one', 'two']) await pg.query(`insert into audit_log (actor, action, prev_hash, hash) values ($1, 'forked', $2, $3)`, [actor, GENESIS_HASH, `h-${actor}`]);
    assert.equal((await migrate(db))[0], 10, 'migration 10 applies (and the later ones after it)');
    const [index] = await db.query<{ def: string }>(`select indexdef as def from pg_indexes where indexname = 'audit_log_one_successor'`);
    assert.match(index!.def, /WHERE \(id > 2\)/);
    // New entries are guarded: the next append joins after the newest entry, and no fork is possible among them.
    await new Audit(db).record(origin, 'after.migration');
    const [last] = await db.query<{ prev_hash: string }>('select prev_hash from audit_log order by id desc limit 1');
    assert.equal(last!.prev_hash, 'h-two');
    await assert.rejects(db.query(`insert into audit_log (actor, action, prev_hash, hash) values ('mallory', 'fork', 'h-two', 'x')`), /audit_log_one_successor/);
    await db.close();
  });
});
