// Finding 1 of issue 16 for the on-premises Active Directory actions, on the real Samba DC: every
// AD write action is safe to repeat. The on-premises worker reaches the DC through
// test/ldap-fault-proxy.ts. For each action the same step runs on fresh fixtures: once cleanly,
// then once per LDAP write of the clean run with that write's answer lost after the DC applied it
// (the proxy forwards the write, waits for the DC's answer and cuts the worker's connection
// instead). The step's retry must recognise its own earlier write. What was written is counted by
// the DC itself:
//   - the directory: every originating write of an attribute raises that attribute's version in the
//     object's replPropertyMetaData, plus the link values (member, manager, managedBy) added or
//     removed; read back as the domain's administrator, objects keyed by objectGUID so a moved object
//     is the same object and a deleted one is read as its tombstone; the lost run may count no more;
//   - the DC's answers: the writes it accepted (result 0) on the step's objects, as the proxy saw
//     them; the lost run may have no more;
// and the step must succeed both times, ending in the same state (each case's check) and reporting
// the same change (its output's shape: what a retry found already written is still the step's change).
//   Check that it catches a repeat: make addMembers in worker/actions/ad.ts write without reading
//   (or drop resetPassword's check), and run `npm test -- repeat-safety-ad`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as Ldap, Control } from 'ldapts';
import { adSkip, ok, startAdEnv, stopOwnDc, type AdEnv } from './ad-kit.ts';
import { startLdapFaultProxy, type LdapFaultProxy } from './ldap-fault-proxy.ts';
import { REPEATED_BY_AD_TESTS } from './repeat-coverage-ad.ts';
import { catalog } from '../catalog/index.ts';
import { createAdClient, GROUP_TYPE, guidToString, sameDn, type AdClient, type AdValue } from '../m365/ad.ts';

let env: AdEnv;
let proxy: LdapFaultProxy | undefined;
let admin: AdClient;
const PW = 'Corr3ct-Horse-Battery!';
const NEW_PW = 'N3w-Passw0rd-For-You!';

before(async () => {
  if (adSkip) return;
  env = await startAdEnv({
    connection: async (ad, dc) => {
      proxy = await startLdapFaultProxy({ host: dc.host, caPem: dc.connection.caPem! });
      return { ...ad, hosts: [proxy.hostEntry], caPem: proxy.caPem };
    },
  });
  admin = createAdClient({ ...env.dc.connection, name: 'repeat-admin', bindUser: env.dc.admin.user, bindPassword: env.dc.admin.password });
});
after(async () => {
  await env?.close();
  await proxy?.close();
  await stopOwnDc();
});

/** Reads as the domain's administrator, straight from the DC (not through the proxy). */
async function ldap<T>(fn: (c: Ldap) => Promise<T>): Promise<T> {
  const c = new Ldap({ url: `ldaps://${env.dc.host}:636`, tlsOptions: { ca: [env.dc.connection.caPem!] } });
  try {
    await c.bind(env.dc.admin.user, env.dc.admin.password);
    return await fn(c);
  } finally {
    await c.unbind().catch(() => {});
  }
}

async function read(dn: string, attributes: string[]): Promise<Record<string, unknown> | undefined> {
  return ldap(async (c) => {
    try {
      return (await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes, explicitBufferAttributes: ['objectGUID', 'replPropertyMetaData'] })).searchEntries[0];
    } catch (err) {
      if ((err as { code?: number }).code === 32) return undefined;
      throw err;
    }
  });
}
const values = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

/**
 * Each attribute's version in replPropertyMetaData (Samba's drsblobs.idl replPropertyMetaDataBlob,
 * version 1: version, reserved, count, reserved, then 48-byte entries that start with the attribute's
 * attid and its version, little-endian).
 */
function attributeVersions(blob: Buffer): Map<number, number> {
  assert.equal(blob.readUInt32LE(0), 1, 'replPropertyMetaData version 1');
  const count = blob.readUInt32LE(8);
  assert.equal(blob.length, 16 + count * 48, 'replPropertyMetaData holds count entries of 48 bytes');
  const out = new Map<number, number>();
  for (let i = 0; i < count; i++) out.set(blob.readUInt32LE(16 + i * 48), blob.readUInt32LE(20 + i * 48));
  return out;
}

/**
 * Controls to read what the DC records of each write: link values named by their target's
 * objectGUID (the extended DN form), and deleted objects (their tombstones keep their attributes'
 * versions). Samba's LDAP server does not show a link value's own version (msDS-ReplValueMetaData is
 * empty, its reveal-internals control is refused over LDAP), so link values are counted as values
 * added or removed.
 */
const INTERNALS = [
  new Control('1.2.840.113556.1.4.529'), // LDAP_SERVER_EXTENDED_DN_OID
  new Control('1.2.840.113556.1.4.417'), // LDAP_SERVER_SHOW_DELETED_OID
];
const LINKS = ['member', 'manager', 'managedBy'];

/** One object's write record: attribute versions (0x<attid>) and link values (<attr>→<target objectGUID>: 1). */
async function writeRecord(base: string): Promise<[string, Map<string, number>] | undefined> {
  const e = await ldap(async (c) => {
    try {
      const r = await c.search(base, { scope: 'base', filter: '(objectClass=*)', attributes: ['objectGUID', 'replPropertyMetaData', ...LINKS], explicitBufferAttributes: ['objectGUID', 'replPropertyMetaData'] }, INTERNALS);
      return r.searchEntries[0];
    } catch (err) {
      if ((err as { code?: number }).code === 32) return undefined;
      throw err;
    }
  });
  if (!e) return undefined;
  const record = new Map<string, number>();
  for (const [attid, v] of attributeVersions(e['replPropertyMetaData'] as Buffer)) record.set(`0x${attid.toString(16)}`, v);
  for (const attr of LINKS)
    for (const v of values(e[attr])) {
      const target = /^<GUID=([0-9a-f-]+)>/i.exec(v)?.[1];
      assert.ok(target, `the DC names ${attr}'s target by objectGUID: ${v}`);
      record.set(`${attr}→${target}`, 1);
    }
  return [guidToString(e['objectGUID'] as Buffer), record];
}

type Snapshot = Map<string, Map<string, number>>;

/** The write records of the objects at these DNs, and of the objects seen before by objectGUID (moved or deleted since). */
async function snapshot(dns: string[], seen: Snapshot = new Map()): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const base of [...dns, ...[...seen.keys()].map((g) => `<GUID=${g}>`)]) {
    const r = await writeRecord(base);
    if (r) out.set(r[0], r[1]);
  }
  return out;
}

/** How many attribute versions went up, and link values came or went, between two snapshots (what is new since the first counts from 0). */
function versionsWritten(before: Snapshot, after: Snapshot): { total: number; detail: string[] } {
  let total = 0;
  const detail: string[] = [];
  const short = (guid: string, key: string) => `${guid.slice(0, 8)}:${key.replace(/→(.{8}).*/, '→$1')}`;
  for (const [guid, record] of after) {
    for (const [key, v] of record) {
      const was = before.get(guid)?.get(key) ?? 0;
      if (v > was) {
        total += v - was;
        detail.push(`${short(guid, key)}+${v - was}`);
      }
    }
    for (const key of before.get(guid)?.keys() ?? [])
      if (key.includes('→') && !record.has(key)) {
        total += 1;
        detail.push(`${short(guid, key)} removed`);
      }
  }
  return { total, detail };
}

// ---- fixtures, written as the domain's administrator straight to the DC ----

async function fixtureUser(extra: Record<string, AdValue> = {}, opts: { disabled?: boolean } = {}) {
  const sam = env.uniq('rep');
  const upn = `${sam}@${env.upnSuffix}`;
  const dn = `CN=Repeat ${sam},${env.dc.seeded.staffOu}`;
  await admin.session((s) =>
    s.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      sAMAccountName: sam,
      userPrincipalName: upn,
      displayName: `Repeat ${sam}`,
      unicodePwd: Buffer.from(`"${PW}"`, 'utf16le'),
      userAccountControl: String(opts.disabled ? 514 : 512),
      ...extra,
    }),
  );
  return { sam, upn, dn };
}

async function fixtureGroup(members: string[] = []) {
  const name = env.uniq('repg');
  const dn = `CN=${name},${env.dc.seeded.groupsOu}`;
  await admin.session((s) => s.add(dn, { objectClass: ['top', 'group'], sAMAccountName: name, groupType: String((GROUP_TYPE.GLOBAL | GROUP_TYPE.SECURITY) | 0), ...(members.length ? { member: members } : {}) }));
  return { name, dn };
}

interface Made {
  /** The objects whose writes are counted (DNs before and after the step: a moved object under both). */
  dns: string[];
  params: Record<string, unknown>;
  /** What the step must have left in the directory (run after the clean and the lost run alike). */
  check(output: any): Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Fresh fixtures and the step's parameters for each AD write action. */
const CASES: Record<string, () => Promise<Made>> = {
  'ad.createUser': async () => {
    const g = await fixtureGroup();
    const sam = env.uniq('repnew');
    const dn = `CN=Repeat New ${sam},${env.dc.seeded.staffOu}`;
    return {
      dns: [dn, g.dn],
      params: { sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, displayName: `Repeat New ${sam}`, department: 'Finance', password: PW, groups: [g.name] },
      check: async (out) => {
        assert.equal(out.dn, dn);
        const e = (await read(dn, ['department', 'memberOf', 'pwdLastSet']))!;
        assert.equal(e['department'], 'Finance');
        assert.deepEqual(values(e['memberOf']), [g.dn]);
        assert.equal(e['pwdLastSet'], '0', 'must change the password at next logon');
      },
    };
  },
  'ad.cloneUser': async () => {
    const src = await fixtureUser({ title: 'Analyst', department: 'Finance' });
    const g = await fixtureGroup([src.dn]);
    const sam = env.uniq('repclone');
    const dn = `CN=Repeat Clone ${sam},${env.dc.seeded.staffOu}`;
    return {
      dns: [dn, g.dn],
      params: { source: src.sam, sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, displayName: `Repeat Clone ${sam}`, password: PW },
      check: async () => {
        const e = (await read(dn, ['title', 'memberOf']))!;
        assert.equal(e['title'], 'Analyst');
        assert.deepEqual(values(e['memberOf']), [g.dn]);
      },
    };
  },
  'ad.updateUser': async () => {
    const u = await fixtureUser({ department: 'Sales' });
    return {
      dns: [u.dn],
      params: { user: u.sam, jobTitle: 'Repeated', department: 'Operations' },
      check: async () => {
        const e = (await read(u.dn, ['title', 'department']))!;
        assert.deepEqual([e['title'], e['department']], ['Repeated', 'Operations']);
      },
    };
  },
  'ad.enableUser': async () => {
    const u = await fixtureUser({}, { disabled: true });
    return { dns: [u.dn], params: { user: u.sam }, check: async () => assert.equal((await read(u.dn, ['userAccountControl']))!['userAccountControl'], '512') };
  },
  'ad.disableUser': async () => {
    const u = await fixtureUser();
    return { dns: [u.dn], params: { user: u.upn }, check: async () => assert.equal((await read(u.dn, ['userAccountControl']))!['userAccountControl'], '514') };
  },
  'ad.unlockUser': async () => {
    const u = await fixtureUser();
    for (let i = 0; i < 6; i++) await env.bindAs(u.upn, 'Wrong-Passw0rd!');
    assert.ok(Number((await read(u.dn, ['lockoutTime']))!['lockoutTime']) > 0, 'locked out by the domain policy');
    return {
      dns: [u.dn],
      params: { user: u.sam },
      check: async () => {
        assert.equal((await read(u.dn, ['lockoutTime']))!['lockoutTime'], '0');
        assert.equal(await env.bindAs(u.upn, PW), null);
      },
    };
  },
  'ad.resetPassword': async () => {
    const u = await fixtureUser();
    return {
      dns: [u.dn],
      params: { user: u.sam, password: NEW_PW, mustChangePassword: false },
      check: async (out) => {
        assert.equal(out.verified, true);
        assert.equal(await env.bindAs(u.upn, NEW_PW), null, 'the new password signs in');
        assert.notEqual((await read(u.dn, ['pwdLastSet']))!['pwdLastSet'], '0');
      },
    };
  },
  // Named by its DN: a repeat after the move must find the account in the target OU.
  'ad.moveUser': async () => {
    const u = await fixtureUser();
    const target = `CN=Repeat ${u.sam},${env.dc.seeded.leaversOu}`;
    return {
      dns: [u.dn, target],
      params: { user: u.dn, ou: env.dc.seeded.leaversOu },
      check: async (out) => {
        assert.equal(out.changed, true, 'the step moved the account');
        assert.equal(await read(u.dn, ['cn']), undefined);
        assert.ok(await read(target, ['cn']));
      },
    };
  },
  'ad.setManager': async () => {
    const [u, m] = [await fixtureUser(), await fixtureUser()];
    return { dns: [u.dn], params: { user: u.sam, manager: m.sam }, check: async () => assert.equal((await read(u.dn, ['manager']))!['manager'], m.dn) };
  },
  'ad.setExpiry': async () => {
    const u = await fixtureUser();
    return {
      dns: [u.dn],
      params: { user: u.sam, expires: '2031-01-31T17:00:00Z' },
      check: async () => {
        const ft = BigInt(String((await read(u.dn, ['accountExpires']))!['accountExpires']));
        assert.equal(new Date(Number(ft / 10_000n - 11_644_473_600_000n)).toISOString(), '2031-01-31T17:00:00.000Z');
      },
    };
  },
  'ad.deleteUser': async () => {
    const u = await fixtureUser();
    return { dns: [u.dn], params: { user: u.sam }, check: async () => assert.equal(await read(u.dn, ['cn']), undefined) };
  },
  'ad.enableRemoteMailbox': async () => {
    const u = await fixtureUser();
    const routing = `${u.sam}@contoso.mail.onmicrosoft.com`;
    return {
      dns: [u.dn],
      params: { user: u.sam, remoteRoutingAddress: routing },
      check: async () => {
        const e = (await read(u.dn, ['targetAddress', 'proxyAddresses', 'msExchRecipientTypeDetails']))!;
        assert.equal(e['targetAddress'], `SMTP:${routing}`);
        assert.deepEqual(values(e['proxyAddresses']).sort(), [`SMTP:${u.upn}`, `smtp:${routing}`].sort());
        assert.equal(e['msExchRecipientTypeDetails'], '2147483648');
      },
    };
  },
  'ad.hideFromAddressList': async () => {
    const u = await fixtureUser();
    return { dns: [u.dn], params: { user: u.sam }, check: async () => assert.equal((await read(u.dn, ['msExchHideFromAddressLists']))!['msExchHideFromAddressLists'], 'TRUE') };
  },
  'ad.removeUserFromAllGroups': async () => {
    const u = await fixtureUser();
    const [g1, g2, keep] = [await fixtureGroup([u.dn]), await fixtureGroup([u.dn]), await fixtureGroup([u.dn])];
    return {
      dns: [g1.dn, g2.dn, keep.dn, u.dn],
      params: { user: u.sam, keep: [keep.name] },
      check: async () => assert.deepEqual(values((await read(u.dn, ['memberOf']))!['memberOf']), [keep.dn]),
    };
  },
  'ad.createGroup': async () => {
    const u = await fixtureUser();
    const name = env.uniq('repnewg');
    const dn = `CN=${name},${env.dc.seeded.groupsOu}`;
    return {
      dns: [dn],
      params: { name, description: 'Repeated', members: [u.sam] },
      check: async (out) => {
        assert.equal(out.dn, dn);
        const e = (await read(dn, ['member', 'description']))!;
        assert.deepEqual(values(e['member']), [u.dn]);
        assert.equal(e['description'], 'Repeated');
      },
    };
  },
  'ad.updateGroup': async () => {
    const g = await fixtureGroup();
    return {
      dns: [g.dn],
      params: { group: g.name, description: 'Repeated', scope: 'universal' },
      check: async () => {
        const e = (await read(g.dn, ['description', 'groupType']))!;
        assert.equal(e['description'], 'Repeated');
        assert.equal(e['groupType'], String((GROUP_TYPE.UNIVERSAL | GROUP_TYPE.SECURITY) | 0));
      },
    };
  },
  'ad.deleteGroup': async () => {
    const g = await fixtureGroup();
    return { dns: [g.dn], params: { group: g.name }, check: async () => assert.equal(await read(g.dn, ['cn']), undefined) };
  },
  'ad.addGroupMember': async () => {
    const [u1, u2] = [await fixtureUser(), await fixtureUser()];
    const g = await fixtureGroup();
    return { dns: [g.dn], params: { group: g.name, members: [u1.sam, u2.sam] }, check: async () => assert.deepEqual(values((await read(g.dn, ['member']))!['member']).sort(), [u1.dn, u2.dn].sort()) };
  },
  'ad.removeGroupMember': async () => {
    const [u1, u2, stay] = [await fixtureUser(), await fixtureUser(), await fixtureUser()];
    const g = await fixtureGroup([u1.dn, u2.dn, stay.dn]);
    return { dns: [g.dn], params: { group: g.name, members: [u1.sam, u2.sam] }, check: async () => assert.deepEqual(values((await read(g.dn, ['member']))!['member']), [stay.dn]) };
  },
};

interface Count {
  /** Attribute versions the step raised (the directory's own record). */
  versions: number;
  /** Writes the DC accepted on the step's objects. */
  accepted: number;
  detail: string;
  /** What the step reported, in shape: booleans as they are, lists by length, other values by type. */
  report: unknown;
}

/** A step's output in shape (fixtures differ between runs): booleans kept, lists by length. `created` is left out: false by contract when an earlier attempt created the object. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'created').map(([k, x]) => [k, shape(x)]));
  return typeof v === 'boolean' ? v : typeof v;
}

/** One run of the action's step on fresh fixtures; with `lose` (1, 2, ...), the answer to its lose-th LDAP write is lost. */
async function writesOfOneRun(action: string, lose = 0): Promise<Count> {
  const made = await CASES[action]!();
  const before = await snapshot(made.dns);
  const since = proxy!.answered.length;
  // That LDAP write of the step takes effect in the directory and its answer is lost.
  if (lose) proxy!.loseNextAnswer({ skip: lose - 1 });
  let r: Awaited<ReturnType<AdEnv['run']>>;
  try {
    r = await env.run(action, made.params, { maximumAttempts: 3 });
  } finally {
    proxy!.disarm();
  }
  ok(r);
  const answered = proxy!.answered.slice(since);
  if (lose) assert.ok(answered.some((w) => w.lost), `${action}: the answer to write ${lose} was not lost: the run proves nothing`);
  // Counted before the check, whose sign-ins may make the DC stamp logon attributes.
  const after = await snapshot(made.dns, before);
  await made.check(r.output);
  const v = versionsWritten(before, after);
  const accepted = answered.filter((w) => w.resultCode === 0 && made.dns.some((dn) => sameDn(dn, w.dn)));
  return { report: shape(r.output), versions: v.total, accepted: accepted.length, detail: `${accepted.map((w) => `${w.op}${w.lost ? '(answer lost)' : ''}`).join(', ')}; versions ${v.detail.join(' ')}` };
}

describe('every on-premises AD write action is safe to repeat (a lost LDAP answer on the real DC)', { skip: adSkip, concurrency: false }, () => {
  it('the cases here are the AD actions test/repeat-coverage-ad.ts declares proven, and every AD write action is one', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...REPEATED_BY_AD_TESTS].sort());
    const adWrites = [...catalog.values()].filter((a) => a.id.startsWith('ad.') && !a.readOnly).map((a) => a.id).sort();
    assert.deepEqual(Object.keys(CASES).sort(), adWrites);
  });

  // TENANTFLOW_REPEAT_ONLY=ad.createUser (or a comma-separated list) runs only those actions' checks.
  for (const action of Object.keys(CASES).filter((a) => !process.env.TENANTFLOW_REPEAT_ONLY || process.env.TENANTFLOW_REPEAT_ONLY.split(',').includes(a)))
    it(`${action}: a retry after a lost answer (to each of its writes) writes no more than a clean run`, { timeout: 300_000 }, async () => {
      const clean = await writesOfOneRun(action);
      assert.ok(clean.accepted > 0, `${action} wrote nothing on a clean run: the count would prove nothing`);
      // The first write's answer lost, and for a step that writes more than once each later one's too.
      for (let n = 1; n <= clean.accepted; n++) {
        const lost = await writesOfOneRun(action, n);
        const said = `clean run: ${clean.accepted} writes (${clean.detail}); after the answer to write ${n} was lost: ${lost.accepted} writes (${lost.detail})`;
        if (process.env.TENANTFLOW_REPEAT_ONLY) console.log(`${action}: ${said}`);
        assert.ok(lost.accepted <= clean.accepted, `${action} repeated a write the DC had applied: ${said}`);
        assert.ok(lost.versions <= clean.versions, `${action} raised more attribute versions after a lost answer: ${said}`);
        assert.deepEqual(lost.report, clean.report, `${action} reports what it changed after a lost answer as after a clean run`);
      }
    });
});
