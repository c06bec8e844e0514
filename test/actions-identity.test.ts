// The identity actions against the sandbox tenant: each runs as a runbook step on real Temporal,
// through the real activity wrapper, and the test reads the tenant back through Graph. Then the
// failure modes: not found, conflict, missing permission, and retries after an attempt whose
// effect happened but whose answer was lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { changesIn } from '../catalog/contract.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
const SEC = `Actions security ${randomUUID().slice(0, 6)}`;
const M365 = `actions${randomUUID().slice(0, 6)}`;
let manager: { id: string; userPrincipalName: string };
let member: { id: string; userPrincipalName: string };

before(async () => {
  env = await startActionsEnv();
  await env.graph.api('/groups').post({ displayName: SEC, mailEnabled: false, mailNickname: SEC.replace(/\W/g, ''), securityEnabled: true });
  const seeded = (await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(5).get()).value;
  [manager, member] = seeded;
});
after(async () => env?.close());

const upn = (tag: string) => env.upn(tag);
const newUser = (tag: string, extra: Record<string, unknown> = {}) => env.newUser(tag, extra);
const read = (ref: string, select: string) => env.graph.api(`/users/${encodeURIComponent(ref)}`).select(select).get();
const groupIdsOf = async (userId: string): Promise<string[]> => (await env.graph.api(`/users/${userId}/memberOf`).get()).value.map((g: { id: string }) => g.id);
const groupByName = async (name: string) => (await env.graph.api('/groups').filter(`displayName eq '${name}'`).get()).value[0];


describe('user actions', { concurrency: true }, () => {
  it('user.create sets properties, licences, groups and manager', async () => {
    const who = upn('create');
    const r = await env.run('user.create', {
      userPrincipalName: who,
      displayName: 'Anna Create',
      givenName: 'Anna',
      jobTitle: 'Analyst',
      department: 'Finance',
      businessPhone: '+1 555 0100',
      usageLocation: 'SE',
      licences: ['FLOW_FREE'],
      groups: [SEC],
      manager: manager.userPrincipalName,
    });
    ok(r);
    assert.equal(r.output.created, true);
    assert.equal(r.output.passwordSentTo, null, 'no password mail was asked for');
    assert.deepEqual(r.output.licences, ['FLOW_FREE']);
    const u = await read(who, 'id,jobTitle,department,usageLocation,businessPhones,assignedLicenses,givenName');
    assert.equal(u.jobTitle, 'Analyst');
    assert.equal(u.usageLocation, 'SE');
    assert.deepEqual(u.businessPhones, ['+1 555 0100']);
    assert.equal(u.assignedLicenses.length, 1);
    assert.ok((await groupIdsOf(u.id)).includes((await groupByName(SEC)).id));
    assert.equal((await env.graph.api(`/users/${u.id}/manager`).get()).id, manager.id);
    assert.ok(!JSON.stringify(r).match(/password"\s*:\s*"/i), 'no password anywhere in the step');
  });

  it('user.create refuses a user principal name that is taken, before touching anything', async () => {
    const r = await env.run('user.create', { userPrincipalName: manager.userPrincipalName, displayName: 'Someone else' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'ObjectConflict');
    assert.match(r.error!.message, /already exists/);
    assert.equal(r.attempts, 1, 'a conflict is not retried');
  });

  it('user.create fails with the licence names when a licence is unknown, and creates nothing', async () => {
    const who = upn('nolicence');
    const r = await env.run('user.create', { userPrincipalName: who, displayName: 'X', usageLocation: 'US', licences: ['NOT_A_SKU'] });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.message, /licence NOT_A_SKU is not subscribed/);
    assert.match(r.error!.hint!, /FLOW_FREE/);
    assert.equal((await env.graph.api('/users').filter(`userPrincipalName eq '${who}'`).get()).value.length, 0);
  });

  it('user.clone copies properties, licences, groups and manager', async () => {
    const source = await newUser('source', { jobTitle: 'Engineer', department: 'R&D', city: 'Oslo', licences: ['FLOW_FREE'], groups: [SEC], manager: manager.id });
    const who = upn('clone');
    const r = await env.run('user.clone', { source: source.userPrincipalName, userPrincipalName: who, displayName: 'Clone' });
    ok(r);
    assert.deepEqual(r.output.licences, ['FLOW_FREE']);
    const u = await read(who, 'id,jobTitle,department,city,assignedLicenses');
    assert.equal(u.jobTitle, 'Engineer');
    assert.equal(u.city, 'Oslo');
    assert.equal(u.assignedLicenses.length, 1);
    assert.ok((await groupIdsOf(u.id)).includes((await groupByName(SEC)).id));
    assert.equal((await env.graph.api(`/users/${u.id}/manager`).get()).id, manager.id);
  });

  it('user.update changes and clears properties; a second run changes nothing', async () => {
    const u = await newUser('update', { jobTitle: 'Old', officeLocation: 'B1' });
    const r = await env.run('user.update', { user: u.userPrincipalName, jobTitle: 'New', city: 'Lund', clear: ['officeLocation'] });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['city', 'jobTitle', 'officeLocation']);
    const back = await read(u.id, 'jobTitle,city,officeLocation');
    assert.deepEqual([back.jobTitle, back.city, back.officeLocation], ['New', 'Lund', null]);
    const again = await env.run('user.update', { user: u.userPrincipalName, jobTitle: 'New', city: 'Lund' });
    assert.deepEqual(again.output.changed, []);
  });

  it('user.updateBulk changes every user it can and names the ones it cannot', async () => {
    const [a, b] = [await newUser('bulka'), await newUser('bulkb')];
    const missing = `nobody.${randomUUID().slice(0, 6)}@${env.domain}`;
    const r = await env.run('user.updateBulk', { users: [a.userPrincipalName, missing, b.id], department: 'Moved' });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.message, new RegExp(`1 of 3 users could not be changed: ${missing.replace(/\./g, '\\.')}: user ${missing.replace(/\./g, '\\.')} does not exist`));
    assert.equal((await read(a.id, 'department')).department, 'Moved');
    assert.equal((await read(b.id, 'department')).department, 'Moved');
    const fine = await env.run('user.updateBulk', { users: [a.id, b.id], department: 'Moved' });
    ok(fine);
    assert.deepEqual(fine.output.results.map((x: { changed: string[] }) => x.changed), [[], []]);
  });

  it('user.setContactInfo changes the address and phones', async () => {
    const u = await newUser('contact');
    ok(await env.run('user.setContactInfo', { user: u.id, streetAddress: '1 Main St', postalCode: '111 22', mobilePhone: '+46 70 000 0000' }));
    const back = await read(u.id, 'streetAddress,postalCode,mobilePhone');
    assert.deepEqual([back.streetAddress, back.postalCode, back.mobilePhone], ['1 Main St', '111 22', '+46 70 000 0000']);
  });

  it('user.rename and user.changeUpnDomain rename the user', async () => {
    const u = await newUser('rename');
    const renamed = upn('renamed');
    const r = await env.run('user.rename', { user: u.userPrincipalName, userPrincipalName: renamed, displayName: 'Renamed', surname: 'Renamed' });
    ok(r);
    assert.equal(r.output.previousUserPrincipalName, u.userPrincipalName);
    const back = await read(u.id, 'userPrincipalName,displayName,surname');
    assert.deepEqual([back.userPrincipalName, back.displayName, back.surname], [renamed, 'Renamed', 'Renamed']);
    const initial = env.sandbox.admin.store.info.initialDomain;
    const moved = await env.run('user.changeUpnDomain', { user: renamed, domain: initial });
    ok(moved);
    assert.equal((await read(u.id, 'userPrincipalName')).userPrincipalName, `${renamed.split('@')[0]}@${initial}`);
    const bad = await env.run('user.changeUpnDomain', { user: u.id, domain: 'not-ours.example' });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!.message, /not in a verified domain/);
  });

  it('user.setManager, user.getManager and user.removeManager', async () => {
    const u = await newUser('managed');
    const set = await env.run('user.setManager', { user: u.id, manager: manager.userPrincipalName });
    ok(set);
    assert.equal(set.output.previousManagerId, null);
    const got = await env.run('user.getManager', { user: u.userPrincipalName });
    assert.equal(got.output.manager.id, manager.id);
    ok(await env.run('user.removeManager', { user: u.id }));
    const none = await env.run('user.getManager', { user: u.id });
    assert.equal(none.output.found, false);
    const again = await env.run('user.removeManager', { user: u.id });
    assert.equal(again.output.removed, false);
  });

  it('user.disableSignIn, user.enableSignIn and user.revokeSessions', async () => {
    const u = await newUser('signin');
    const before = (await read(u.id, 'signInSessionsValidFromDateTime')).signInSessionsValidFromDateTime;
    const off = await env.run('user.disableSignIn', { user: u.userPrincipalName });
    assert.equal(off.output.changed, true);
    assert.equal((await read(u.id, 'accountEnabled')).accountEnabled, false);
    assert.equal((await env.run('user.disableSignIn', { user: u.id })).output.changed, false);
    // Entra keeps whole seconds: move the sandbox clock on, so a revocation is later than the creation.
    env.sandbox.admin.advanceClock(2);
    const revoked = await env.run('user.revokeSessions', { user: u.id });
    ok(revoked);
    assert.equal(revoked.output.revoked, true);
    assert.ok((await read(u.id, 'signInSessionsValidFromDateTime')).signInSessionsValidFromDateTime > before, 'sessions are valid only from the revocation on');
    assert.equal((await env.run('user.enableSignIn', { user: u.id })).output.changed, true);
    assert.equal((await read(u.id, 'accountEnabled')).accountEnabled, true);
  });

  it('user.resetPassword with a given password; the run never shows it', async () => {
    const u = await newUser('password');
    const r = await env.run('user.resetPassword', { user: u.id, password: 'Correct-Horse-42', forceChangeAtNextSignIn: false });
    ok(r);
    assert.equal(r.output.generated, false);
    const stored = env.sandbox.admin.findUser(u.id)!;
    assert.equal(stored._password, 'Correct-Horse-42');
    assert.equal(stored._forceChangePasswordNextSignIn, false);
    assert.ok(!JSON.stringify(r.output).includes('Correct-Horse-42'));
    const weak = await env.run('user.resetPassword', { user: u.id, password: 'aaaaaaaa' });
    assert.equal(weak.error?.code, 'PasswordComplexity');
  });

  it('user.setPasswordNeverExpires turns it on and off', async () => {
    const u = await newUser('expiry');
    assert.equal((await env.run('user.setPasswordNeverExpires', { user: u.id, neverExpires: true })).output.passwordPolicies, 'DisablePasswordExpiration');
    assert.equal((await read(u.id, 'passwordPolicies')).passwordPolicies, 'DisablePasswordExpiration');
    assert.equal((await env.run('user.setPasswordNeverExpires', { user: u.id, neverExpires: true })).output.changed, false);
    ok(await env.run('user.setPasswordNeverExpires', { user: u.id, neverExpires: false }));
    assert.equal((await read(u.id, 'passwordPolicies')).passwordPolicies, 'None');
  });

  it('user.delete, user.restore and user.permanentDelete go through deleted items', async () => {
    const u = await newUser('lifecycle');
    const del = await env.run('user.delete', { user: u.userPrincipalName });
    assert.equal(del.output.deleted, true);
    assert.equal((await env.graph.api(`/directory/deletedItems/${u.id}`).get()).id, u.id);
    assert.equal((await env.run('user.delete', { user: u.userPrincipalName })).output.deleted, false, 'deleting again is done');
    const restored = await env.run('user.restore', { user: u.userPrincipalName });
    ok(restored);
    assert.equal((await read(u.id, 'id')).id, u.id);
    const notDeleted = await env.run('user.permanentDelete', { user: u.id });
    assert.equal(notDeleted.error?.code, 'NotDeleted');
    ok(await env.run('user.delete', { user: u.id }));
    const purged = await env.run('user.permanentDelete', { user: u.id });
    assert.equal(purged.output.purged, true);
    await assert.rejects(env.graph.api(`/directory/deletedItems/${u.id}`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
    const gone = await env.run('user.restore', { user: u.id });
    assert.equal(gone.error?.code, 'Request_ResourceNotFound');
    assert.match(gone.error!.message, /no deleted user/);
  });

  it('user.removeFromAllGroups leaves security and Microsoft 365 groups', async () => {
    const u = await newUser('leaver', { groups: [SEC] });
    const m365 = await env.graph.api('/groups').post({ displayName: `M365 ${u.id.slice(0, 6)}`, mailNickname: `m${u.id.slice(0, 8)}`, groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false });
    await env.graph.api(`/groups/${m365.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.graphBaseUrl}/directoryObjects/${u.id}` });
    const r = await env.run('user.removeFromAllGroups', { user: u.userPrincipalName });
    ok(r);
    assert.equal(r.output.removed.length, 2);
    assert.deepEqual(await groupIdsOf(u.id), []);
  });

  it('user.clearImmutableId empties onPremisesImmutableId', async () => {
    const u = await newUser('immutable');
    await env.graph.api(`/users/${u.id}`).patch({ onPremisesImmutableId: 'abc123==' });
    const r = await env.run('user.clearImmutableId', { user: u.id });
    assert.deepEqual([r.output.previousImmutableId, r.output.cleared], ['abc123==', true]);
    assert.equal((await read(u.id, 'onPremisesImmutableId')).onPremisesImmutableId, null);
  });

  it('user.get, user.find and user.listGroups read the directory', async () => {
    const dept = `Dept ${randomUUID().slice(0, 6)}`;
    const a = await newUser('finda', { department: dept, groups: [SEC] });
    await newUser('findb', { department: dept });
    const got = await env.run('user.get', { user: a.userPrincipalName });
    assert.equal(got.output.user.department, dept);
    const missing = await env.run('user.get', { user: `nobody@${env.domain}`, failIfMissing: false });
    assert.deepEqual(missing.output, { found: false, user: null });
    const found = await env.run('user.find', { department: dept });
    assert.equal(found.output.count, 2);
    const limited = await env.run('user.find', { department: dept, max: 1 });
    assert.deepEqual([limited.output.count, limited.output.truncated], [1, true]);
    const groups = await env.run('user.listGroups', { user: a.id });
    assert.deepEqual(groups.output.groups.map((g: { displayName: string; kind: string }) => [g.displayName, g.kind]), [[SEC, 'security']]);
  });
});

describe('licence actions', { concurrency: true }, () => {
  it('licence.assign, licence.setServicePlans, user.getLicences, licence.unassign and licence.removeAll', async () => {
    const u = await newUser('licences');
    ok(await env.run('licence.assign', { user: u.id, licences: ['EXCHANGESTANDARD', 'FLOW_FREE'] }));
    const again = await env.run('licence.assign', { user: u.id, licences: ['FLOW_FREE'] });
    assert.deepEqual(again.output.alreadyAssigned, ['FLOW_FREE']);
    const skus = (await env.graph.api('/subscribedSkus').get()).value as { skuPartNumber: string; servicePlans: { servicePlanName: string }[] }[];
    const plan = skus.find((s) => s.skuPartNumber === 'EXCHANGESTANDARD')!.servicePlans[0]!.servicePlanName;
    const off = await env.run('licence.setServicePlans', { user: u.id, licence: 'EXCHANGESTANDARD', disable: [plan] });
    assert.deepEqual(off.output.disabledPlans, [plan]);
    const lic = await env.run('user.getLicences', { user: u.userPrincipalName });
    assert.deepEqual(lic.output.skuPartNumbers.sort(), ['EXCHANGESTANDARD', 'FLOW_FREE']);
    assert.deepEqual(lic.output.licences.find((l: { skuPartNumber: string }) => l.skuPartNumber === 'EXCHANGESTANDARD').disabledPlans, [plan]);
    const on = await env.run('licence.setServicePlans', { user: u.id, licence: 'EXCHANGESTANDARD', enable: ['*'] });
    assert.deepEqual(on.output.disabledPlans, []);
    const un = await env.run('licence.unassign', { user: u.id, licences: ['FLOW_FREE', 'SPE_E5'] });
    assert.deepEqual([un.output.removed, un.output.notAssigned], [['FLOW_FREE'], ['SPE_E5']]);
    const all = await env.run('licence.removeAll', { user: u.id });
    assert.deepEqual(all.output.removed, ['EXCHANGESTANDARD']);
    assert.deepEqual((await read(u.id, 'assignedLicenses')).assignedLicenses, []);
  });

  it('licence.getAvailable counts free seats; licence.assign fails clearly when none are free', async () => {
    const r = await env.run('licence.getAvailable', { licences: ['SPE_E5'] });
    ok(r);
    const e5 = r.output.licences[0];
    assert.equal(e5.available, e5.enabled - e5.consumed);
    assert.equal(r.output.available, e5.available);
    const sku = env.sandbox.admin.store.skus.get(e5.skuId)!;
    sku.prepaidEnabled = e5.consumed; // every seat taken
    try {
      const u = await newUser('noseat');
      const none = await env.run('licence.assign', { user: u.id, licences: ['SPE_E5'] });
      assert.equal(none.error?.code, 'LicenceUnavailable');
      assert.match(none.error!.message, /no SPE_E5 licence is free/);
      assert.equal((await env.run('licence.getAvailable', { licences: ['SPE_E5'] })).output.available, 0);
    } finally {
      sku.prepaidEnabled = e5.enabled;
    }
  });
});

describe('group actions', { concurrency: true }, () => {
  it('group.createSecurity with owners and members, group.update, group.listMembers, group.delete', async () => {
    const name = `Sec ${randomUUID().slice(0, 6)}`;
    const r = await env.run('group.createSecurity', { displayName: name, description: 'd', owners: [manager.userPrincipalName], members: [member.userPrincipalName] });
    ok(r);
    const g = await env.graph.api(`/groups/${r.output.id}`).get();
    assert.deepEqual([g.displayName, g.securityEnabled, g.mailEnabled], [name, true, false]);
    assert.deepEqual((await env.graph.api(`/groups/${g.id}/owners`).get()).value.map((o: { id: string }) => o.id), [manager.id]);
    const members = await env.run('group.listMembers', { group: name });
    assert.deepEqual(members.output.members.map((m: { id: string }) => m.id), [member.id]);
    const dup = await env.run('group.createSecurity', { displayName: name });
    assert.equal(dup.error?.code, 'ObjectConflict');
    const upd = await env.run('group.update', { group: g.id, description: 'changed', displayName: `${name} 2` });
    assert.deepEqual(upd.output.changed.sort(), ['description', 'displayName']);
    assert.equal((await env.graph.api(`/groups/${g.id}`).get()).description, 'changed');
    ok(await env.run('group.delete', { group: g.id }));
    await assert.rejects(env.graph.api(`/groups/${g.id}`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('group.createM365, group.manageM365Members, group.delete and group.restore', async () => {
    const nick = `${M365}${randomUUID().slice(0, 4)}`;
    const r = await env.run('group.createM365', { displayName: `M365 ${nick}`, mailNickname: nick, owners: [manager.id], visibility: 'Public' });
    ok(r);
    assert.match(r.output.mail, new RegExp(`^${nick}@`));
    const g = await env.graph.api(`/groups/${r.output.id}`).get();
    assert.deepEqual([g.groupTypes, g.visibility], [['Unified'], 'Public']);
    const m = await env.run('group.manageM365Members', { group: g.id, addMembers: [member.id, manager.id], addOwners: [member.id] });
    ok(m);
    assert.equal((await env.graph.api(`/groups/${g.id}/members`).get()).value.length, 2);
    assert.equal((await env.graph.api(`/groups/${g.id}/owners`).get()).value.length, 2);
    const rm = await env.run('group.manageM365Members', { group: g.id, removeMembers: [member.id], removeOwners: [member.id] });
    assert.ok(rm.output.changes.every((x: { changed: boolean }) => x.changed));
    ok(await env.run('group.delete', { group: nick + '@' + env.domain }));
    const restored = await env.run('group.restore', { group: `M365 ${nick}` });
    assert.equal(restored.output.restored, true);
    assert.equal((await env.graph.api(`/groups/${g.id}`).get()).id, g.id);
    assert.equal((await env.run('group.restore', { group: g.id })).output.restored, false);
  });

  it('group.addMembers and group.removeMembers work many users by many groups, idempotently', async () => {
    const [a, b] = [await newUser('mema'), await newUser('memb')];
    const other = await env.run('group.createSecurity', { displayName: `Other ${randomUUID().slice(0, 6)}` });
    const add = await env.run('group.addMembers', { users: [a.id, b.userPrincipalName], groups: [SEC, other.output.id] });
    ok(add);
    assert.equal(add.output.results.length, 4);
    assert.ok(add.output.results.every((x: { changed: boolean }) => x.changed));
    const again = await env.run('group.addMembers', { users: [a.id], groups: [SEC] });
    assert.equal(again.output.results[0].changed, false);
    const rm = await env.run('group.removeMembers', { users: [a.id, b.id], groups: [other.output.id] });
    ok(rm);
    assert.deepEqual(await groupIdsOf(b.id), [(await groupByName(SEC)).id]);
    const single = await env.run('group.removeMember', { user: a.id, group: SEC });
    assert.equal(single.output.removed, true);
    assert.equal((await env.run('group.removeMember', { user: a.id, group: SEC })).output.removed, false);
  });

  it('group.addOwner and group.removeOwner', async () => {
    const g = await env.run('group.createSecurity', { displayName: `Owned ${randomUUID().slice(0, 6)}` });
    assert.equal((await env.run('group.addOwner', { group: g.output.id, user: member.id })).output.added, true);
    assert.equal((await env.run('group.addOwner', { group: g.output.id, user: member.id })).output.added, false);
    assert.equal((await env.run('group.removeOwner', { group: g.output.id, user: member.id })).output.removed, true);
    assert.equal((await env.graph.api(`/groups/${g.output.id}/owners`).get()).value.length, 0);
  });

  it('group.transferOwnership: the new owner first, then the leaver out, in every group the leaver owns (the last owner of a group with members too)', async () => {
    const [leaver, heir, colleague] = [await newUser('gtleaver'), await newUser('gtheir'), await newUser('gtcol')];
    const tag = randomUUID().slice(0, 6);
    const sec = await env.run('group.createSecurity', { displayName: `Leaver owns ${tag}`, owners: [leaver.id] });
    const m365 = await env.run('group.createM365', { displayName: `Leaver M365 ${tag}`, mailNickname: `leaverm365${tag}`, owners: [leaver.id], members: [colleague.id] });
    const notHis = await env.run('group.createSecurity', { displayName: `Not the leaver's ${tag}`, owners: [colleague.id] });
    for (const g of [sec, m365, notHis]) ok(g);
    const owners = async (id: string) => ((await env.graph.api(`/groups/${id}/owners`).get()).value as { id: string }[]).map((o) => o.id).sort();
    const r = await env.run('group.transferOwnership', { from: leaver.userPrincipalName, to: heir.id });
    ok(r);
    assert.deepEqual(
      r.output.groups.map((g: { groupId: string; newOwnerAdded: boolean; previousOwnerRemoved: boolean }) => [g.groupId, g.newOwnerAdded, g.previousOwnerRemoved]).sort(),
      [[sec.output.id, true, true], [m365.output.id, true, true]].sort(),
    );
    assert.deepEqual([await owners(sec.output.id), await owners(m365.output.id), await owners(notHis.output.id)], [[heir.id], [heir.id], [colleague.id]]);
    const again = await env.run('group.transferOwnership', { from: leaver.id, to: heir.userPrincipalName });
    ok(again);
    assert.deepEqual([again.output.groups, again.output.skipped], [[], []], 'a repeat finds nothing left to hand over');
    // The undo from the first run's record: the leaver an owner again first, then the new owner out.
    const recorded = changesIn(r.output)!;
    assert.deepEqual(recorded.map((c) => `${c.objectId} | ${c.property} | ${String(c.before)} -> ${String(c.after)}`).sort(), [
      `${sec.output.id} | owner ${heir.userPrincipalName} | false -> true`, `${sec.output.id} | owner ${leaver.userPrincipalName} | true -> false`,
      `${m365.output.id} | owner ${heir.userPrincipalName} | false -> true`, `${m365.output.id} | owner ${leaver.userPrincipalName} | true -> false`,
    ].sort());
    const contract = catalog.get('group.transferOwnership')!;
    const reversal = contract.reverse!({ input: contract.input.parse({ from: leaver.id, to: heir.id }), output: r.output, changes: recorded });
    assert.ok('steps' in reversal, JSON.stringify(reversal));
    for (const s of reversal.steps) ok(await env.run(s.action, s.params));
    assert.deepEqual([await owners(sec.output.id), await owners(m365.output.id)], [[leaver.id], [leaver.id]]);
  });
});

describe('tag actions', { concurrency: true }, () => {
  it('tags.add, tags.remove, tags.manage, tags.findUsers and tags.flush keep tags in the user\'s open extension com.tenantflow.tags', async () => {
    const u = await newUser('tagged');
    const tag = `pilot-${randomUUID().slice(0, 4)}`;
    assert.deepEqual((await env.run('tags.add', { user: u.userPrincipalName, tags: [tag, 'VIP'] })).output.tags, ['VIP', tag].sort((a, b) => a.localeCompare(b)));
    assert.deepEqual((await env.run('tags.add', { user: u.id, tags: ['vip'] })).output.tags.length, 2, 'tags compare without case');
    assert.deepEqual((await env.run('tags.findUsers', { tag })).output.userIds, [u.id]);
    assert.deepEqual((await env.run('tags.remove', { user: u.id, tags: ['vip'] })).output.tags, [tag]);
    assert.deepEqual((await env.run('tags.manage', { user: u.id, add: ['a', 'b'], remove: [tag] })).output.tags, ['a', 'b']);
    const ext = await env.graph.api(`/users/${u.id}/extensions/com.tenantflow.tags`).get();
    assert.deepEqual([ext.extensionName, ext.tags], ['com.tenantflow.tags', ['a', 'b']]);
    const flushed = await env.run('tags.flush', { user: u.id });
    assert.deepEqual([flushed.output.tags, flushed.output.removed], [[], ['a', 'b']]);
    await assert.rejects(env.graph.api(`/users/${u.id}/extensions/com.tenantflow.tags`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual((await env.run('tags.flush', { user: u.id })).output.removed, [], 'a repeated flush finds nothing');
    const entra = await read(u.id, 'id,jobTitle,department');
    assert.ok(!JSON.stringify(entra).includes(tag), 'no user property changes');
  });
});

describe('notification actions', { concurrency: true }, () => {
  it('notify.teams posts an adaptive card; notify.webhook sends JSON with a stable idempotency key', async () => {
    const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
    let failures = 1;
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ path: req.url!, headers: req.headers, body });
      if (req.url === '/flaky' && failures-- > 0) {
        res.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      if (req.url === '/bad') {
        res.writeHead(400).end('no');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ticket: 42 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const teams = await env.run('notify.teams', { webhookUrl: `${base}/teams`, title: 'Leaver', text: 'Anna left', facts: { Manager: 'Bo' } });
      ok(teams);
      const card = JSON.parse(seen.find((s) => s.path === '/teams')!.body);
      assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
      assert.match(JSON.stringify(card), /Anna left/);
      const hook = await env.run('notify.webhook', { url: `${base}/flaky`, body: { user: 'anna' } });
      ok(hook);
      assert.deepEqual([hook.output.status, hook.output.body, hook.attempts], [200, { ticket: 42 }, 2]);
      const calls = seen.filter((s) => s.path === '/flaky');
      assert.equal(calls.length, 2);
      assert.equal(calls[0]!.headers['idempotency-key'], calls[1]!.headers['idempotency-key'], 'same key on the retry');
      assert.deepEqual(JSON.parse(calls[1]!.body), { user: 'anna' });
      const bad = await env.run('notify.webhook', { url: `${base}/bad` });
      assert.equal(bad.status, 'failed');
      assert.equal(bad.attempts, 1, '4xx is not retried');
      assert.match(bad.error!.message, /answered HTTP 400/);
    } finally {
      server.close();
    }
  });
});

describe('failure modes', () => {
  it('a user that does not exist is named in the error, and not retried', async () => {
    const ghost = `ghost.${randomUUID().slice(0, 6)}@${env.domain}`;
    const r = await env.run('group.addMember', { user: ghost, group: SEC });
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.message, `user ${ghost} does not exist`);
    assert.equal(r.attempts, 1);
    const g = await env.run('group.addMember', { user: member.id, group: 'No such group' });
    assert.match(g.error!.message, /group "No such group" does not exist/);
  });

  it('a missing permission names the permissions to grant', async () => {
    const r = await env.run('user.disableSignIn', { user: member.id }, { tenant: 'limited' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.code, 'Authorization_RequestDenied');
    assert.match(r.error!.hint!, /User\.EnableDisableAccount\.All/);
    assert.equal((await read(member.id, 'accountEnabled')).accountEnabled, true);
    const g = await env.run('group.createSecurity', { displayName: 'Not allowed' }, { tenant: 'limited' });
    assert.match(g.error!.hint!, /Group\.Create/);
  });

  it('invalid parameters fail before any call, naming the field', async () => {
    const r = await env.run('user.create', { userPrincipalName: 'not-an-email', displayName: 'x' });
    assert.equal(r.error!.code, 'InvalidInput');
    assert.match(r.error!.message, /userPrincipalName/);
  });
});

// Scripted faults match by request path, so these run one at a time.
describe('retries after an attempt whose answer was lost', () => {
  const ops = (id: string) => env.sandbox.admin.mutationSummary({ objectId: id });

  it('user.create finds its own user instead of failing or duplicating', async () => {
    const who = upn('lost');
    env.sandbox.admin.failNext({ status: 504, match: '^POST /v1\\.0/users$', afterEffect: true });
    const r = await env.run('user.create', { userPrincipalName: who, displayName: 'Lost answer', usageLocation: 'US', licences: ['FLOW_FREE'] });
    ok(r);
    assert.equal(r.attempts, 2);
    assert.equal(r.output.created, false);
    assert.deepEqual(r.output.licences, ['FLOW_FREE']);
    assert.equal((await env.graph.api('/users').filter(`userPrincipalName eq '${who}'`).get()).value.length, 1);
    assert.equal(ops(r.output.id)['user.create'], 1);
  });

  it('group.addMember and group.createSecurity treat their own earlier effect as done', async () => {
    const u = await newUser('lostmember');
    env.sandbox.admin.failNext({ status: 503, match: '^POST /v1\\.0/groups/[^/]+/members/\\$ref$', afterEffect: true });
    const r = await env.run('group.addMember', { user: u.id, group: SEC });
    ok(r);
    assert.deepEqual([r.attempts, r.output.added], [2, false]);
    const name = `Lost group ${randomUUID().slice(0, 6)}`;
    env.sandbox.admin.failNext({ status: 504, match: '^POST /v1\\.0/groups$', afterEffect: true });
    const g = await env.run('group.createSecurity', { displayName: name, members: [u.id] });
    ok(g);
    assert.equal(g.output.created, false);
    assert.equal((await env.graph.api('/groups').filter(`displayName eq '${name}'`).get()).value.length, 1);
    assert.equal((await env.graph.api(`/groups/${g.output.id}/members`).get()).value.length, 1);
  });

  it('user.rename finds the user under its new name', async () => {
    const u = await newUser('lostrename');
    const renamed = upn('lostrenamed');
    env.sandbox.admin.failNext({ status: 504, match: '^PATCH /v1\\.0/users/', afterEffect: true });
    const r = await env.run('user.rename', { user: u.userPrincipalName, userPrincipalName: renamed });
    ok(r);
    assert.equal(r.attempts, 2);
    assert.equal((await read(u.id, 'userPrincipalName')).userPrincipalName, renamed);
  });

  it('user.revokeSessions recognises its own revocation and does not revoke again', async () => {
    const u = await newUser('lostrevoke');
    env.sandbox.admin.advanceClock(2);
    env.sandbox.admin.failNext({ status: 504, match: `^POST /v1\\.0/users/${u.id}/revokeSignInSessions$`, afterEffect: true });
    const r = await env.run('user.revokeSessions', { user: u.id });
    ok(r);
    assert.deepEqual([r.attempts, r.output.revoked], [2, false]);
    assert.equal(ops(u.id)['user.revokeSignInSessions'], 1);
  });

  it('user.delete counts a user already in deleted items as done', async () => {
    const u = await newUser('lostdelete');
    env.sandbox.admin.failNext({ status: 504, match: '^DELETE /v1\\.0/users/', afterEffect: true });
    const r = await env.run('user.delete', { user: u.id });
    ok(r);
    // The step's own first attempt deleted the user (its answer was lost): the step says so.
    assert.deepEqual([r.attempts, r.output.deleted], [2, true]);
    assert.equal(ops(u.id)['user.delete'], 1);
  });
});
