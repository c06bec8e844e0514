// Who is calling, and the runbook a run starts from, are kept in each server process's memory
// (server/changes.ts): these tests hold that a kept read never outlives the change that undoes it,
// whichever process (or psql) made the change, and that nothing is kept while changes cannot be
// heard. Two "processes" here are two database handles on one PostgreSQL, each with its own
// listening connection, as two server processes have.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db } from '../server/db.ts';
import { People } from '../server/people.ts';
import { Runbooks } from '../server/runbooks.ts';
import { needsPostgres, postgresForTests } from './api-harness.ts';

/** Polls until check passes (a notification crosses processes in milliseconds). */
async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts the statements a handle sends (to see a read answered from memory). */
function counting(db: Db): { reads: () => number } {
  let n = 0;
  const query = db.query.bind(db);
  const one = db.one.bind(db);
  (db as { query: Db['query'] }).query = (sql, params) => (n++, query(sql, params));
  (db as { one: Db['one'] }).one = (sql, params) => (n++, one(sql, params));
  return { reads: () => n };
}

/** Until a read is answered without a statement (notifications of the test's own setup may still arrive and drop it first). */
async function answeredFromMemory(db: Db, read: () => Promise<unknown>): Promise<void> {
  const count = counting(db);
  await eventually(async () => {
    const before = count.reads();
    assert.ok(await read());
    return count.reads() === before;
  }, 'a read answered from memory');
}

describe('kept reads across server processes (PostgreSQL)', { skip: needsPostgres() }, () => {
  let cluster: Awaited<ReturnType<typeof postgresForTests>>;
  let dbA: Db;
  let dbB: Db;
  let admin: Db;
  let a: People;
  let b: People;
  before(async () => {
    cluster = await postgresForTests();
    dbA = await openDatabase({ url: cluster.url });
    dbB = await openDatabase({ url: cluster.url });
    admin = await openDatabase({ url: cluster.url, keepReads: false });
    a = new People(dbA);
    b = new People(dbB);
  });
  after(async () => {
    await dbA?.close();
    await dbB?.close();
    await admin?.close();
    await cluster?.stop();
  });

  it('a token is read once, then answered from memory until it is revoked in another process', async () => {
    const u = await a.create({ email: 'kept@contoso.test' });
    await a.grant(u.id, 'contoso', 'operator');
    const { id, token } = await a.createToken(u.id, 'kept');
    assert.equal((await b.fromToken(token))?.user.email, 'kept@contoso.test');
    await answeredFromMemory(dbB, () => b.fromToken(token));
    assert.equal(await a.revokeToken(u.id, id), true);
    await eventually(async () => (await b.fromToken(token)) === undefined, 'process B refuses the token process A revoked');
  });

  it('a grant given, a grant taken and an account disabled by SQL outside Tenantflow reach every process', async () => {
    const u = await a.create({ email: 'grants@contoso.test' });
    const g = await a.grant(u.id, 'contoso', 'viewer');
    const { token } = await a.createToken(u.id, 'grants');
    assert.deepEqual((await b.fromToken(token))!.grants.map((x) => x.role), ['viewer']);
    await a.grant(u.id, 'contoso', 'approver');
    await eventually(async () => (await b.fromToken(token))!.grants.length === 2, 'B sees the new grant');
    await a.revoke(u.id, g.id);
    await eventually(async () => (await b.fromToken(token))!.grants.map((x) => x.role).join() === 'approver', 'B sees the grant taken');
    // psql, another tool: the database's trigger tells the processes.
    await admin.query('update users set disabled = true where id = $1', [u.id]);
    await eventually(async () => (await b.fromToken(token)) === undefined, 'B refuses a disabled account');
    await eventually(async () => (await a.fromToken(token)) === undefined, 'A too');
  });

  it('a session ended in one process is refused by the other; the process that ended it refuses it at once', async () => {
    const u = await a.create({ email: 'session@contoso.test' });
    await a.grant(u.id, 'contoso', 'operator');
    const s = await a.createSession(u.id);
    assert.equal((await a.fromSession(s.sessionId))?.csrfToken, s.csrfToken);
    assert.equal((await b.fromSession(s.sessionId))?.via, 'session');
    await a.endSession(s.sessionId);
    assert.equal(await a.fromSession(s.sessionId), undefined, 'no wait in the process that wrote');
    await eventually(async () => (await b.fromSession(s.sessionId)) === undefined, 'B refuses the ended session');
  });

  it('a kept caller cannot be changed by the code that reads it', async () => {
    const u = await a.create({ email: 'frozen@contoso.test' });
    await a.grant(u.id, 'contoso', 'viewer');
    const { token } = await a.createToken(u.id, 'frozen');
    const p = (await a.fromToken(token))!;
    assert.throws(() => (p.grants as unknown[]).push({ tenant: '*', role: 'admin' }), TypeError);
    assert.throws(() => Object.assign(p.user, { email: 'admin@contoso.test' }), TypeError);
    assert.deepEqual((await a.fromToken(token))!.grants.map((x) => x.role), ['viewer']);
  });

  it('the runbook a run starts from follows a publish and an archive made in another process', async () => {
    const [ra, rb] = [new Runbooks(dbA), new Runbooks(dbB)];
    const definition = { name: 'Kept', nodes: [{ id: 'check', kind: 'condition', expression: 'true' }] };
    await ra.create({ id: 'kept', definition, by: 'd@contoso.test' });
    await ra.publish('kept', 'd@contoso.test');
    assert.equal((await rb.startable('kept'))!.version!.version, 1);
    await ra.saveDraft('kept', { ...definition, name: 'Kept 2' }, 'd@contoso.test');
    await ra.publish('kept', 'd@contoso.test');
    await eventually(async () => (await rb.startable('kept'))!.version!.version === 2, 'B starts the latest version');
    assert.equal((await rb.startable('kept', 1))!.version!.definition.name, 'Kept', 'a pinned version stays what it was');
    await ra.update('kept', { archived: true });
    await eventually(async () => (await rb.startable('kept'))!.runbook.archived, 'B sees it archived');
  });

  it('keeps nothing while its listening connection is down, and keeps again once it is back', async () => {
    const u = await a.create({ email: 'lost@contoso.test' });
    await a.grant(u.id, 'contoso', 'viewer');
    const { id, token } = await a.createToken(u.id, 'lost');
    assert.ok(await b.fromToken(token));
    assert.equal(dbB.changes.listening, true);
    // Every listening connection ends (as when the database restarts or a network path drops).
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen tenantflow_changes' and datname = current_database()`);
    await eventually(async () => !dbB.changes.listening, 'B notices its listener is gone');
    // A change nobody can hear now: B must not answer from memory.
    await admin.query('update api_tokens set revoked_at = now() where id = $1', [id]);
    assert.equal(await b.fromToken(token), undefined, 'read from the database while not listening');
    await eventually(async () => dbB.changes.listening, 'B listens again');
    const other = await a.createToken(u.id, 'after');
    await answeredFromMemory(dbB, () => b.fromToken(other.token));
  });
});

describe('kept reads on the embedded database', () => {
  it('a revoked token is refused on the very next request, and keepReads: false reads every time', async () => {
    const db = await openDatabase({});
    try {
      const people = new People(db);
      const u = await people.create({ email: 'embedded@contoso.test' });
      await people.grant(u.id, 'contoso', 'viewer');
      const { id, token } = await people.createToken(u.id, 'embedded');
      await answeredFromMemory(db, () => people.fromToken(token));
      await people.revokeToken(u.id, id);
      assert.equal(await people.fromToken(token), undefined);
    } finally {
      await db.close();
    }
    const plain = await openDatabase({ keepReads: false });
    try {
      const people = new People(plain);
      const u = await people.create({ email: 'plain@contoso.test' });
      const { token } = await people.createToken(u.id, 'plain');
      const reads = counting(plain);
      await people.fromToken(token);
      const first = reads.reads();
      await people.fromToken(token);
      assert.ok(reads.reads() > first, 'read again');
    } finally {
      await plain.close();
    }
  });
});
