// The on-premises Active Directory actions on a real domain controller (Samba AD DC): each runs as a
// runbook step routed by the interpreter to the on-premises worker's own task queue, over LDAPS, and
// the test reads the object back over LDAP as the domain's administrator. Passwords are checked by
// signing in as the user.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as Ldap } from 'ldapts';
import { adSkip, ok, startAdEnv, stopOwnDc, type AdEnv } from './ad-kit.ts';
import { createAdClient } from '../m365/ad.ts';
import { adCreateUser } from '../worker/actions/ad.ts';
import type { ActionContext } from '../worker/activity.ts';

let env: AdEnv;
/** ldapts answers a requested attribute that is not set as []. */
const absent = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
const str = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
const PW = 'Corr3ct-Horse-Battery!';

before(async () => {
  if (!adSkip) env = await startAdEnv();
});
after(async () => {
  await env?.close();
  await stopOwnDc();
});

/** A new account through ad.createUser; returns its sAMAccountName, UPN and DN. */
async function newUser(tag: string, extra: Record<string, unknown> = {}) {
  const sam = env.uniq(tag);
  const r = await env.run('ad.createUser', { sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, displayName: `Test ${sam}`, password: PW, mustChangePassword: false, ...extra });
  ok(r);
  return { sam, upn: `${sam}@${env.upnSuffix}`, dn: r.output.dn as string };
}

describe('AD users', { skip: adSkip, concurrency: true }, () => {
  it('ad.createUser writes the account in the OU with its attributes, manager, groups and a password that must be changed', async () => {
    const sam = env.uniq('create');
    const r = await env.run('ad.createUser', {
      sAMAccountName: sam,
      userPrincipalName: `${sam}@${env.upnSuffix}`,
      givenName: 'Anna',
      surname: 'Lindqvist',
      displayName: `Anna Lindqvist ${sam}`,
      jobTitle: 'Analyst',
      department: 'Finance',
      countryCode: 'SE',
      businessPhone: '+46 8 555 0100',
      manager: 'nora.berg',
      groups: ['Finance'],
      password: PW,
    });
    ok(r);
    assert.equal(r.output.created, true);
    const e = (await env.read(`(sAMAccountName=${sam})`, ['title', 'department', 'c', 'telephoneNumber', 'manager', 'memberOf', 'userAccountControl', 'pwdLastSet', 'objectGUID', 'givenName', 'sn']))!;
    assert.equal(e.dn, `CN=Anna Lindqvist ${sam},${env.dc.seeded.staffOu}`);
    assert.equal(e['title'], 'Analyst');
    assert.equal(e['c'], 'SE');
    assert.equal(e['manager'], `CN=Nora Berg,${env.dc.seeded.staffOu}`);
    assert.ok(str(e['memberOf']).includes(`CN=Finance,${env.dc.seeded.groupsOu}`));
    assert.equal(e['userAccountControl'], '512', 'a normal, enabled account');
    assert.equal(e['pwdLastSet'], '0', 'must change the password at next logon');
    assert.equal(r.output.immutableId, (e['objectGUID'] as Buffer).toString('base64'));
    // The password is right, and must be changed first: AD answers data 773.
    assert.match((await env.bindAs(`${sam}@${env.upnSuffix}`, PW)) ?? '', /data 773/);
    assert.match((await env.bindAs(`${sam}@${env.upnSuffix}`, 'Wrong-Passw0rd!')) ?? '', /data 52e/);
  });

  it('ad.createUser refuses a password the domain policy rejects, and leaves nothing behind', async () => {
    const sam = env.uniq('weak');
    const r = await env.run('ad.createUser', { sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, displayName: `Weak ${sam}`, password: 'abc' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'PasswordPolicy');
    assert.match(r.error!.hint!, /password policy/);
    assert.equal(r.attempts, 1, 'not retried');
    assert.equal(await env.read(`(sAMAccountName=${sam})`), undefined);
  });

  it('ad.createUser refuses a logon name that is taken', async () => {
    const r = await env.run('ad.createUser', { sAMAccountName: 'omar.haddad', userPrincipalName: `someone.else@${env.upnSuffix}`, displayName: 'Someone else' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'ObjectConflict');
  });

  it('ad.createUser: a repeated attempt recognises the account its first attempt created', async () => {
    const sam = env.uniq('retry');
    const input = adCreateUser.contract.input.parse({ sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, displayName: `Retry ${sam}`, password: PW, groups: ['Staff'] });
    const ctx = (attempt: number) => ({ ad: createAdClient(env.ad), attempt, stepScheduledAt: Date.now() - 2000 }) as unknown as ActionContext;
    const first = (await adCreateUser.handler(input, ctx(1))) as { created: boolean; dn: string };
    const second = (await adCreateUser.handler(input, ctx(2))) as { created: boolean; dn: string };
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.dn, first.dn);
    assert.equal(str((await env.read(first.dn, ['memberOf']))!['memberOf']).length, 1, 'added to the group once');
  });

  it('ad.cloneUser copies attributes, manager, OU and groups', async () => {
    const sam = env.uniq('clone');
    const r = await env.run('ad.cloneUser', { source: 'omar.haddad', sAMAccountName: sam, userPrincipalName: `${sam}@${env.upnSuffix}`, givenName: 'Cleo', surname: 'Clone', displayName: `Cleo Clone ${sam}`, password: PW });
    ok(r);
    const e = (await env.read(r.output.dn, ['title', 'department', 'company', 'manager', 'memberOf', 'givenName']))!;
    assert.equal(e['title'], 'Accountant');
    assert.equal(e['department'], 'Finance');
    assert.equal(e['givenName'], 'Cleo');
    assert.equal(e['manager'], `CN=Nora Berg,${env.dc.seeded.staffOu}`);
    assert.deepEqual(str(e['memberOf']).sort(), [`CN=Finance,${env.dc.seeded.groupsOu}`, `CN=Staff,${env.dc.seeded.groupsOu}`].sort());
    assert.ok(r.output.dn.endsWith(env.dc.seeded.staffOu));
  });

  it('ad.updateUser changes only what is given and clears with an empty string; the UPN too', async () => {
    const u = await newUser('update', { description: 'temp', department: 'Sales' });
    const r = await env.run('ad.updateUser', { user: u.sam, jobTitle: 'Lead', description: '', userPrincipalName: `${u.sam}.new@${env.upnSuffix}` });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['description', 'title', 'userPrincipalName']);
    const e = (await env.read(u.dn, ['title', 'description', 'department', 'userPrincipalName']))!;
    assert.equal(e['title'], 'Lead');
    assert.ok(absent(e['description']));
    assert.equal(e['department'], 'Sales');
    assert.equal(e['userPrincipalName'], `${u.sam}.new@${env.upnSuffix}`);
    const again = await env.run('ad.updateUser', { user: u.dn, jobTitle: 'Lead' });
    assert.deepEqual(again.output.changed, [], 'a repeat writes nothing');
  });

  it('ad.disableUser and ad.enableUser flip ACCOUNTDISABLE; a disabled account cannot sign in', async () => {
    const u = await newUser('disable');
    ok(await env.run('ad.disableUser', { user: u.upn }));
    assert.equal((await env.read(u.dn, ['userAccountControl']))!['userAccountControl'], '514');
    assert.match((await env.bindAs(u.upn, PW)) ?? '', /data 533/);
    const again = await env.run('ad.disableUser', { user: u.upn });
    assert.equal(again.output.changed, false);
    ok(await env.run('ad.enableUser', { user: u.upn }));
    assert.equal((await env.read(u.dn, ['userAccountControl']))!['userAccountControl'], '512');
    assert.equal(await env.bindAs(u.upn, PW), null);
  });

  it('ad.unlockUser unlocks an account locked out by wrong passwords', async () => {
    const u = await newUser('lock');
    for (let i = 0; i < 6; i++) await env.bindAs(u.upn, 'Wrong-Passw0rd!');
    assert.ok(Number((await env.read(u.dn, ['lockoutTime']))!['lockoutTime']) > 0, 'locked out by the domain policy');
    assert.match((await env.bindAs(u.upn, PW)) ?? '', /data 775/);
    const r = await env.run('ad.unlockUser', { user: u.sam });
    ok(r);
    assert.equal(r.output.wasLocked, true);
    assert.equal((await env.read(u.dn, ['lockoutTime']))!['lockoutTime'], '0');
    assert.equal(await env.bindAs(u.upn, PW), null);
  });

  it('ad.resetPassword sets the password over LDAPS and checks it by signing in as the user', async () => {
    const u = await newUser('reset');
    const NEW = 'N3w-Passw0rd-For-You!';
    const r = await env.run('ad.resetPassword', { user: u.sam, password: NEW, mustChangePassword: false });
    ok(r);
    assert.equal(r.output.verified, true);
    assert.equal(await env.bindAs(u.upn, NEW), null);
    // (Samba, like Windows for NTLM, may accept the previous password for a while: "old password allowed period".)
    const must = await env.run('ad.resetPassword', { user: u.sam, password: 'An0ther-Passw0rd!' });
    ok(must);
    assert.equal((await env.read(u.dn, ['pwdLastSet']))!['pwdLastSet'], '0');
  });

  it('ad.moveUser moves to the leavers OU, once', async () => {
    const u = await newUser('move');
    const r = await env.run('ad.moveUser', { user: u.sam, ou: env.dc.seeded.leaversOu });
    ok(r);
    assert.equal(r.output.changed, true);
    assert.equal(await env.read(u.dn), undefined);
    assert.ok(await env.read(`CN=Test ${u.sam},${env.dc.seeded.leaversOu}`));
    const again = await env.run('ad.moveUser', { user: u.sam, ou: env.dc.seeded.leaversOu });
    assert.equal(again.output.changed, false);
    const bad = await env.run('ad.moveUser', { user: u.sam, ou: `OU=Nowhere,${env.dc.seeded.rootOu}` });
    assert.equal(bad.error?.code, 'NoSuchObject');
  });

  it('ad.setManager sets and clears the manager', async () => {
    const u = await newUser('manager');
    ok(await env.run('ad.setManager', { user: u.sam, manager: 'lena.fischer' }));
    assert.equal((await env.read(u.dn, ['manager']))!['manager'], `CN=Lena Fischer,${env.dc.seeded.staffOu}`);
    ok(await env.run('ad.setManager', { user: u.sam, manager: null }));
    assert.ok(absent((await env.read(u.dn, ['manager']))!['manager']));
  });

  it('ad.setExpiry writes accountExpires and clears it', async () => {
    const u = await newUser('expiry');
    ok(await env.run('ad.setExpiry', { user: u.sam, expires: '2030-01-31T17:00:00Z' }));
    const ft = BigInt(String((await env.read(u.dn, ['accountExpires']))!['accountExpires']));
    assert.equal(new Date(Number(ft / 10_000n - 11_644_473_600_000n)).toISOString(), '2030-01-31T17:00:00.000Z');
    ok(await env.run('ad.setExpiry', { user: u.sam, expires: null }));
    assert.equal((await env.read(u.dn, ['accountExpires']))!['accountExpires'], '9223372036854775807');
  });

  it('ad.getUser reads the account; an unknown account is an operator error', async () => {
    const r = await env.run('ad.getUser', { user: 'tom.wright' });
    ok(r);
    assert.equal(r.output.department, 'Sales');
    assert.equal(r.output.manager, `CN=Lena Fischer,${env.dc.seeded.staffOu}`);
    assert.equal(r.output.enabled, true);
    const missing = await env.run('ad.getUser', { user: 'nobody.here' });
    assert.equal(missing.error?.code, 'UserNotFound');
    assert.equal(missing.attempts, 1);
  });

  it('ad.deleteUser deletes the account; a repeat reports it gone', async () => {
    const u = await newUser('delete');
    const r = await env.run('ad.deleteUser', { user: u.sam });
    ok(r);
    assert.equal(r.output.deleted, true);
    assert.equal(await env.read(u.dn), undefined);
    const again = await env.run('ad.deleteUser', { user: u.sam });
    ok(again);
    assert.equal(again.output.deleted, false);
  });

  it('ad.enableRemoteMailbox writes the Exchange hybrid recipient attributes, once', async () => {
    const u = await newUser('mailbox');
    const routing = `${u.sam}@contoso.mail.onmicrosoft.com`;
    const r = await env.run('ad.enableRemoteMailbox', { user: u.sam, remoteRoutingAddress: routing });
    ok(r);
    const e = (await env.read(u.dn, ['mailNickname', 'mail', 'targetAddress', 'proxyAddresses', 'msExchRecipientTypeDetails', 'msExchRemoteRecipientType', 'msExchRecipientDisplayType']))!;
    assert.equal(e['mailNickname'], u.sam);
    assert.equal(e['mail'], u.upn);
    assert.equal(e['targetAddress'], `SMTP:${routing}`);
    assert.deepEqual(str(e['proxyAddresses']).sort(), [`SMTP:${u.upn}`, `smtp:${routing}`].sort());
    assert.equal(e['msExchRecipientTypeDetails'], '2147483648');
    assert.equal(e['msExchRemoteRecipientType'], '1');
    assert.equal(e['msExchRecipientDisplayType'], '-2147483642');
    const again = await env.run('ad.enableRemoteMailbox', { user: u.sam, remoteRoutingAddress: routing });
    assert.deepEqual(again.output.changed, []);
  });

  it('ad.hideFromAddressList sets msExchHideFromAddressLists', async () => {
    const u = await newUser('hide');
    ok(await env.run('ad.hideFromAddressList', { user: u.sam }));
    assert.equal((await env.read(u.dn, ['msExchHideFromAddressLists']))!['msExchHideFromAddressLists'], 'TRUE');
    ok(await env.run('ad.hideFromAddressList', { user: u.sam, hidden: false }));
    assert.equal((await env.read(u.dn, ['msExchHideFromAddressLists']))!['msExchHideFromAddressLists'], 'FALSE');
  });
});

describe('AD groups', { skip: adSkip, concurrency: true }, () => {
  it('ad.createGroup writes scope, category, OU, manager, mail and members; ad.updateGroup changes scope and category; ad.deleteGroup deletes', async () => {
    const name = env.uniq('dl');
    const r = await env.run('ad.createGroup', { name, category: 'distribution', scope: 'universal', mail: `${name}@${env.upnSuffix}`, mailNickname: name, managedBy: 'lena.fischer', members: ['tom.wright'], description: 'Sales news' });
    ok(r);
    let e = (await env.read(r.output.dn, ['groupType', 'mail', 'mailNickname', 'managedBy', 'member', 'description']))!;
    assert.equal(r.output.dn, `CN=${name},${env.dc.seeded.groupsOu}`);
    assert.equal(e['groupType'], '8', 'universal distribution');
    assert.equal(e['mail'], `${name}@${env.upnSuffix}`);
    assert.equal(e['managedBy'], `CN=Lena Fischer,${env.dc.seeded.staffOu}`);
    assert.deepEqual(str(e['member']), [`CN=Tom Wright,${env.dc.seeded.staffOu}`]);
    const u = await env.run('ad.updateGroup', { group: name, scope: 'domainLocal', category: 'security', description: 'Sales access', managedBy: null });
    ok(u);
    e = (await env.read(r.output.dn, ['groupType', 'managedBy', 'description']))!;
    assert.equal(e['groupType'], String((0x80000000 | 0x4) | 0), 'domain local security');
    assert.ok(absent(e['managedBy']));
    assert.equal(e['description'], 'Sales access');
    const d = await env.run('ad.deleteGroup', { group: name });
    ok(d);
    assert.equal(d.output.deleted, true);
    assert.equal(await env.read(r.output.dn), undefined);
  });

  it('ad.createGroup refuses a taken name', async () => {
    const r = await env.run('ad.createGroup', { name: 'Finance' });
    assert.equal(r.error?.code, 'ObjectConflict');
  });

  it('ad.addGroupMember / ad.removeGroupMember with nested groups; ad.listUserGroups direct and transitive', async () => {
    const outer = env.uniq('outer');
    const inner = env.uniq('inner');
    ok(await env.run('ad.createGroup', { name: outer }));
    ok(await env.run('ad.createGroup', { name: inner }));
    const u = await newUser('member');
    const add = await env.run('ad.addGroupMember', { group: inner, members: [u.sam] });
    ok(add);
    const nest = await env.run('ad.addGroupMember', { group: outer, members: [inner, u.sam] });
    ok(nest);
    assert.equal(nest.output.added.length, 2);
    const again = await env.run('ad.addGroupMember', { group: outer, members: [inner] });
    assert.equal(again.output.alreadyMembers.length, 1);
    const rm = await env.run('ad.removeGroupMember', { group: outer, members: [u.sam] });
    ok(rm);
    assert.deepEqual(str((await env.read(`CN=${outer},${env.dc.seeded.groupsOu}`, ['member']))!['member']), [`CN=${inner},${env.dc.seeded.groupsOu}`]);
    const direct = await env.run('ad.listUserGroups', { user: u.sam });
    assert.deepEqual(direct.output.groups.map((g: { name: string }) => g.name), [inner]);
    const transitive = await env.run('ad.listUserGroups', { user: u.sam, transitive: true });
    assert.deepEqual(transitive.output.groups.map((g: { name: string }) => g.name).sort(), [inner, outer].sort());
  });

  it('ad.removeUserFromAllGroups leaves every group but the kept ones', async () => {
    const u = await newUser('strip', { groups: ['Staff', 'Finance'] });
    const r = await env.run('ad.removeUserFromAllGroups', { user: u.sam, keep: ['Staff'] });
    ok(r);
    assert.deepEqual(r.output.removed, [`CN=Finance,${env.dc.seeded.groupsOu}`]);
    assert.deepEqual(str((await env.read(u.dn, ['memberOf']))!['memberOf']), [`CN=Staff,${env.dc.seeded.groupsOu}`]);
  });
});

describe('AD transport and routing', { skip: adSkip, concurrency: true }, () => {
  it('the DC refuses a simple bind without transport encryption, as AD does', async () => {
    const c = new Ldap({ url: `ldap://${env.dc.host}:389` });
    await assert.rejects(c.bind(env.ad.bindUser, env.ad.bindPassword), /Transport encryption required|strong/i);
    await c.unbind().catch(() => {});
  });

  it('wrong bind password, untrusted certificate and an unreachable DC become operator errors', async () => {
    const wrong = createAdClient({ ...env.ad, bindPassword: 'not-the-password' });
    await assert.rejects(wrong.session(async () => {}), (e: Error & { code?: string; hint?: string }) => e.code === 'InvalidCredentials' && /bind account/.test(e.hint ?? ''));
    const untrusted = createAdClient({ ...env.ad, caPem: undefined });
    await assert.rejects(untrusted.session(async () => {}), (e: Error & { code?: string }) => e.code === 'CertificateUntrusted');
    const down = createAdClient({ ...env.ad, hosts: ['127.0.0.1:1'] });
    await assert.rejects(down.session(async () => {}), (e: Error & { code?: string; retryable?: boolean }) => e.code === 'DomainControllerUnreachable' && e.retryable === true);
  });

  it('StartTLS on 389 works as well as LDAPS', async () => {
    const starttls = createAdClient({ ...env.ad, hosts: [`ldap://${env.dc.host}:389`] });
    assert.equal(await starttls.session(async (s) => (await s.search(s.baseDn, { filter: '(sAMAccountName=tom.wright)', attributes: ['cn'] })).length), 1);
  });

  it('an ad step of a run without an AD connection fails with what to do', async () => {
    const id = await env.runs.start({
      definition: (await import('../runbook/definition.ts')).RunbookDefinition.parse({ name: 'no ad', nodes: [{ id: 'step', kind: 'action', action: 'ad.getUser', params: { user: 'tom.wright' }, onError: 'continue' }], edges: [] }),
      inputs: {},
      run: { startedBy: 'operator@tenantflow.test', tenant: 'sandbox', runbookId: 'test', version: 1 },
    });
    const step = ((await env.client.workflow.getHandle(id).result()) as { nodes: Record<string, { status: string; error?: { code?: string; hint?: string } }> }).nodes['step']!;
    assert.equal(step.status, 'failed');
    assert.equal(step.error?.code, 'NoAdConnection');
    assert.match(step.error!.hint!, /tenantflow-onprem-/);
  });
});
