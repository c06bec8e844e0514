// Plans, recorded changes and undo of the other Teams actions (creation and deletion, settings,
// channels and their members, ownership hand-over, policies, phone numbers), of OneDrive and of
// Windows Autopilot (docs/plan.md): the plan shows before -> after and writes nothing, the step records
// the same, a second plan says "no change" (or, for a new object, that its name is taken now), and
// where the action can be undone, the inverse steps built from the record put the tenant back, read
// back through Graph and SharePoint REST.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { SKU_BY_PART } from '../sandbox/index.ts';
import { sandboxSharePoint } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';
import { planOf, planRunAgain, roundTrip } from './plan-kit.ts';

let env: ActionsEnv;
let sp: ReturnType<typeof sandboxSharePoint>;
let owner: { id: string; userPrincipalName: string };
let people: { id: string; userPrincipalName: string }[];

before(async () => {
  // Microsoft's delays at 1/20 (a team in under a second); throttling has its own tests.
  env = await startActionsEnv({ sandbox: { timeScale: 20, throttling: false } });
  sp = sandboxSharePoint(env.sandbox);
  owner = await env.newUser('tmowner');
  // Seeded licensed members: each has a OneDrive.
  const e3 = SKU_BY_PART.get('SPE_E3')!.skuId;
  people = [...env.sandbox.admin.store.users.values()]
    .filter((u) => u.userType === 'Member' && u.accountEnabled && u.assignedLicenses.some((l) => l.skuId === e3))
    .slice(0, 8)
    .map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName }));
});
after(async () => env?.close());

const short = () => randomUUID().slice(0, 6);
const cert = { tenant: 'sandbox-cert' };

async function newTeam(tag: string, extra: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const name = `Plan ${tag} ${short()}`;
  const r = await env.run('teams.create', { displayName: name, owner: owner.userPrincipalName, description: 'Made by the plan tests', ...extra });
  ok(r);
  return { id: r.output.id, name };
}
const roster = (teamId: string) => async () =>
  ((await env.graph.api(`/teams/${teamId}/members`).get()).value as { userId: string; roles: string[] }[]).map((m) => `${m.userId}: ${[...m.roles].sort().join(',')}`).sort();
const channels = (teamId: string) => async () =>
  ((await env.graph.api(`/teams/${teamId}/channels`).get()).value as { displayName: string; description: string | null; membershipType: string }[]).map((c) => `${c.displayName} (${c.membershipType}): ${c.description ?? ''}`).sort();
const channelRoster = (teamId: string, channelId: string) => async () =>
  ((await env.graph.api(`/teams/${teamId}/channels/${encodeURIComponent(channelId)}/members`).get()).value as { userId: string; roles: string[] }[]).map((m) => `${m.userId}: ${[...m.roles].sort().join(',')}`).sort();
const teamsNamed = (name: string) => async () => ((await env.graph.api('/groups').filter(`displayName eq '${name}'`).get()).value as { id: string }[]).map((g) => g.id);

describe('plans and undo of the other Teams, OneDrive and Autopilot actions (one at a time: the mutation log is the whole sandbox)', () => {
  // ---- Teams: creation, properties, settings, deletion ----

  it('teams.create: the team, its properties and people appear; the name is then taken; undone by deleting it', async () => {
    const name = `Plan create ${short()}`;
    const member = await env.newUser('tcmember');
    const o = `team ${name}`;
    await roundTrip(
      env,
      'teams.create',
      { displayName: name, description: 'Quarterly planning', owner: owner.userPrincipalName, members: [member.id] },
      [`${o} | exists | false -> true`, `${o} | displayName | null -> "${name}"`, `${o} | description | null -> "Quarterly planning"`, `${o} | visibility | null -> "private"`, `${o} | role ${owner.userPrincipalName} | null -> "owner"`, `${o} | role ${member.userPrincipalName} | null -> "member"`],
      teamsNamed(name),
      { again: 'would-fail' },
    );
  });

  it('teams.createFromGroup: the group gets a team (cannot be undone); a group that has one plans as no change', async () => {
    const alias = `plan-fg-${short()}`;
    const g = await env.run('group.createM365', { displayName: `Plan fg ${alias}`, mailNickname: alias, owners: [owner.id] });
    ok(g);
    await planRunAgain(env, 'teams.createFromGroup', { group: g.output.id }, [`group Plan fg ${alias} | team | false -> true`]);
    assert.equal((await env.graph.api(`/teams/${g.output.id}`).get()).displayName, `Plan fg ${alias}`);
    assert.ok(catalog.get('teams.createFromGroup')!.irreversible);
  });

  it('teams.update: name, description and visibility, undone to the recorded values', async () => {
    const t = await newTeam('upd');
    await roundTrip(
      env,
      'teams.update',
      { team: t.id, displayName: `${t.name} renamed`, description: 'New purpose', visibility: 'public' },
      [`team ${t.name} | displayName | "${t.name}" -> "${t.name} renamed"`, `team ${t.name} | description | "Made by the plan tests" -> "New purpose"`, `team ${t.name} | visibility | "private" -> "public"`],
      async () => {
        const x = await env.graph.api(`/teams/${t.id}`).get();
        return [x.displayName, x.description, x.visibility];
      },
    );
  });

  it('teams.setSettings: one row per setting, undone to the recorded values', async () => {
    const t = await newTeam('set');
    await roundTrip(
      env,
      'teams.setSettings',
      { team: t.id, memberSettings: { allowDeleteChannels: false }, funSettings: { allowGiphy: false, giphyContentRating: 'strict' } },
      [`team ${t.name} | memberSettings.allowDeleteChannels | true -> false`, `team ${t.name} | funSettings.allowGiphy | true -> false`, `team ${t.name} | funSettings.giphyContentRating | "moderate" -> "strict"`],
      async () => {
        const x = await env.graph.api(`/teams/${t.id}`).get();
        return [x.memberSettings, x.guestSettings, x.messagingSettings, x.funSettings];
      },
    );
  });

  it('teams.delete: the team goes (restorable); planned again, no change; undone by restoring its group', async () => {
    const t = await newTeam('del');
    await roundTrip(env, 'teams.delete', { team: t.id }, [`team ${t.name} | exists | true -> false`], async () => {
      const x = await env.graph
        .api(`/teams/${t.id}`)
        .get()
        .catch((e: { statusCode?: number }) => (e.statusCode === 404 ? null : Promise.reject(e)));
      return x && [x.displayName, x.description];
    });
  });

  // ---- channels and their members ----

  it('teams.addChannel: the channel appears; its name is then taken; undone by removing it', async () => {
    const t = await newTeam('ch');
    const o = `channel Projects of team ${t.name}`;
    await roundTrip(
      env,
      'teams.addChannel',
      { team: t.name, displayName: 'Projects', description: 'Project work' },
      [`${o} | exists | false -> true`, `${o} | displayName | null -> "Projects"`, `${o} | description | null -> "Project work"`, `${o} | membershipType | null -> "standard"`],
      channels(t.id),
      { again: 'would-fail' },
    );
  });

  it('teams.updateChannel: name and description, undone by the channel id; teams.removeChannel cannot be undone', async () => {
    const t = await newTeam('chu');
    const ch = await env.run('teams.addChannel', { team: t.id, displayName: 'Ops', description: 'Operations' });
    ok(ch);
    await roundTrip(
      env,
      'teams.updateChannel',
      { team: t.id, channel: ch.output.channelId, displayName: 'Operations', description: 'Day to day' },
      [`channel Ops of team ${t.name} | displayName | "Ops" -> "Operations"`, `channel Ops of team ${t.name} | description | "Operations" -> "Day to day"`],
      channels(t.id),
    );
    await planRunAgain(env, 'teams.removeChannel', { team: t.id, channel: ch.output.channelId }, [`channel Ops of team ${t.name} | exists | true -> false`]);
    assert.deepEqual(await channels(t.id)(), ['General (standard): ']);
    assert.ok(catalog.get('teams.removeChannel')!.irreversible);
  });

  it('a private channel with its owner; teams.addChannelMember, as member then promoted to owner, and teams.removeChannelMember, each undone', async () => {
    const m = await env.newUser('tchm');
    const t = await newTeam('chm', { members: [m.id] });
    const o = `channel Board of team ${t.name}`;
    const ch = await planRunAgain(
      env,
      'teams.addChannel',
      { team: t.id, displayName: 'Board', membershipType: 'private', owner: owner.id },
      [`${o} | exists | false -> true`, `${o} | displayName | null -> "Board"`, `${o} | membershipType | null -> "private"`, `${o} | role ${owner.userPrincipalName} | null -> "owner"`],
      { again: 'would-fail' },
    );
    const state = channelRoster(t.id, ch.output.channelId);
    await roundTrip(env, 'teams.addChannelMember', { team: t.id, channel: 'Board', user: m.userPrincipalName }, [`${o} | role ${m.userPrincipalName} | null -> "member"`], state);
    ok(await env.run('teams.addChannelMember', { team: t.id, channel: 'Board', user: m.id }));
    await roundTrip(env, 'teams.addChannelMember', { team: t.id, channel: 'Board', user: m.id, owner: true }, [`${o} | role ${m.userPrincipalName} | "member" -> "owner"`], state);
    await roundTrip(env, 'teams.removeChannelMember', { team: t.id, channel: ch.output.channelId, user: m.id }, [`${o} | role ${m.userPrincipalName} | "member" -> null`], state);
  });

  it('teams.transferOwnership of every team the leaver owns: per team, the new owner in and the leaver out; undone team by team', async () => {
    const leaver = await env.newUser('tleaver');
    const heir = await env.newUser('their');
    const a = await env.run('teams.create', { displayName: `Plan hand A ${short()}`, owner: leaver.id, members: [heir.id] });
    const b = await env.run('teams.create', { displayName: `Plan hand B ${short()}`, owner: leaver.id });
    ok(a);
    ok(b);
    const state = async () => [await roster(a.output.id)(), await roster(b.output.id)()];
    const rows = [
      `team ${a.output.displayName} | role ${heir.userPrincipalName} | "member" -> "owner"`,
      `team ${a.output.displayName} | role ${leaver.userPrincipalName} | "owner" -> null`,
      `team ${b.output.displayName} | role ${heir.userPrincipalName} | null -> "owner"`,
      `team ${b.output.displayName} | role ${leaver.userPrincipalName} | "owner" -> null`,
    ];
    const joined = ((await env.graph.api(`/users/${leaver.id}/joinedTeams`).get()).value as { id: string }[]).map((t) => t.id);
    if (joined[0] !== a.output.id) rows.push(...rows.splice(0, 2));
    await roundTrip(env, 'teams.transferOwnership', { from: leaver.userPrincipalName, to: heir.userPrincipalName, previousOwner: 'remove' }, rows, state);
  });

  // ---- Teams administration: policies and phone numbers ----

  it('teams.assignPolicy, unassignPolicy and a replaced assignment, each undone to the recorded policy', async () => {
    const u = await env.newUser('tpol');
    const config = async () =>
      ((await env.graph.api(`/admin/teams/userConfigurations/${u.id}`).get()).effectivePolicyAssignments as { policyType: string; policyAssignment: { displayName: string } }[]).map((x) => `${x.policyType}: ${x.policyAssignment.displayName}`);
    const p = `user ${u.userPrincipalName} | Teams policy TeamsMeetingPolicy`;
    await roundTrip(env, 'teams.assignPolicy', { user: u.id, policyType: 'TeamsMeetingPolicy', policyName: 'Tag:AllOn' }, [`${p} | null -> "AllOn"`], config);
    ok(await env.run('teams.assignPolicy', { user: u.id, policyType: 'TeamsMeetingPolicy', policyName: 'AllOn' }));
    await roundTrip(env, 'teams.assignPolicy', { user: u.id, policyType: 'TeamsMeetingPolicy', policyName: 'AllOff' }, [`${p} | "AllOn" -> "AllOff"`], config);
    await roundTrip(env, 'teams.unassignPolicy', { user: u.userPrincipalName, policyType: 'TeamsMeetingPolicy' }, [`${p} | "AllOn" -> null`], config);
    const missing = await planOf(env, 'teams.assignPolicy', { user: u.id, policyType: 'TeamsMeetingPolicy', policyName: 'Nope' });
    assert.deepEqual([missing?.outcome, missing?.outcome === 'would-fail' && missing.code], ['would-fail', 'NotFound']);
  });

  it('teams.assignPhoneNumber (a new primary number replaces the old) and unassignPhoneNumber, undone; a user without Teams Phone would fail', async () => {
    const u = await env.newUser('tphone', { licences: ['SPE_E5'] });
    const numbers = async () =>
      ((await env.graph.api('/admin/teams/telephoneNumberManagement/numberAssignments').filter(`assignmentTargetId eq '${u.id}'`).get()).value as { telephoneNumber: string; assignmentCategory: string }[])
        .map((n) => `${n.telephoneNumber} ${n.assignmentCategory}`)
        .sort();
    const p = `user ${u.userPrincipalName} | phone number`;
    const first = { user: u.id, numberType: 'directRouting', phoneNumber: '+14255550181' };
    await roundTrip(env, 'teams.assignPhoneNumber', first, [`${p} +14255550181 | null -> {"numberType":"directRouting","category":"primary"}`], numbers);
    ok(await env.run('teams.assignPhoneNumber', first));
    await roundTrip(
      env,
      'teams.assignPhoneNumber',
      { user: u.userPrincipalName, numberType: 'directRouting', phoneNumber: '14255550182' },
      [`${p} +14255550181 | {"numberType":"directRouting","category":"primary"} -> null`, `${p} +14255550182 | null -> {"numberType":"directRouting","category":"primary"}`],
      numbers,
    );
    await roundTrip(env, 'teams.unassignPhoneNumber', { user: u.id }, [`${p} +14255550181 | {"numberType":"directRouting","category":"primary"} -> null`], numbers);
    const unlicensed = await env.newUser('tnophone');
    const refused = await planOf(env, 'teams.assignPhoneNumber', { user: unlicensed.id, numberType: 'directRouting', phoneNumber: '+14255550183' });
    assert.deepEqual([refused?.outcome, refused?.outcome === 'would-fail' && refused.code], ['would-fail', 'NotLicensed']);
  });

  it('teams.updatePhoneNumber: emergency location and reverse number lookup, undone (cleared again)', async () => {
    const number = '+14255550115';
    const location = '93cb8a70-b4af-41df-9928-d07607e21776';
    const read = async () => {
      const n = (await env.graph.api('/admin/teams/telephoneNumberManagement/numberAssignments').filter(`telephoneNumber eq '%2B${number.slice(1)}'`).get()).value[0];
      return [n.locationId, n.reverseNumberLookupOptions];
    };
    await roundTrip(env, 'teams.updatePhoneNumber', { phoneNumber: number, emergencyLocationId: location, skipInternalVoip: true }, [`phone number ${number} | emergencyLocationId | "" -> "${location}"`, `phone number ${number} | skipInternalVoip | false -> true`], read);
  });

  // ---- OneDrive ----

  it('onedrive.provision: a licensed user\'s OneDrive comes to exist, an unlicensed user is a note; cannot be undone', async () => {
    const licensed = await env.newUser('odp', { licences: ['SPE_E3'] });
    const unlicensed = await env.newUser('odpnone');
    const params = { users: [licensed.userPrincipalName, unlicensed.id] };
    const planned = await planOf(env, 'onedrive.provision', params);
    assert.deepEqual(planned?.outcome === 'changes' && planned.notes, [`${unlicensed.userPrincipalName} is skipped: no licence with SharePoint Online or OneDrive`]);
    await planRunAgain(env, 'onedrive.provision', params, [`OneDrive of ${licensed.userPrincipalName} | exists | false -> true`], cert);
    assert.equal((await env.graph.api(`/users/${licensed.id}/drive`).get()).owner.user.id, licensed.id);
    assert.ok(catalog.get('onedrive.provision')!.irreversible);
  });

  it('onedrive.addOwner and removeOwner (SharePoint REST site administrators), each undone', async () => {
    const [user, manager] = [people[0]!, people[1]!];
    const url = (await env.graph.api(`/users/${user.id}/drive`).get()).webUrl.replace(/\/Documents$/, '');
    const admins = async () => (await sp('GET', `${url}/_api/web/siteusers?$filter=IsSiteAdmin eq true`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName.toLowerCase()).sort();
    const row = `OneDrive of ${user.userPrincipalName} | owner ${manager.userPrincipalName}`;
    await roundTrip(env, 'onedrive.addOwner', { user: user.userPrincipalName, owner: manager.userPrincipalName }, [`${row} | false -> true`], admins, cert);
    ok(await env.run('onedrive.addOwner', { user: user.id, owner: manager.id }, cert));
    await roundTrip(env, 'onedrive.removeOwner', { user: user.id, owner: manager.id }, [`${row} | true -> false`], admins, cert);
    const self = await planOf(env, 'onedrive.removeOwner', { user: user.id, owner: user.id }, cert);
    assert.equal(self?.outcome, 'would-fail');
  });

  it('onedrive.setQuota: maximum and warning level, undone to the recorded levels', async () => {
    const user = people[2]!;
    const url = (await env.graph.api(`/users/${user.id}/drive`).get()).webUrl.replace(/\/Documents$/, '');
    const name = env.sandbox.admin.store.info.initialDomain.split('.')[0]!.toLowerCase();
    const levels = async () => {
      const p = (await sp('POST', `https://${name}-admin.sharepoint.com/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url, includeDetail: true })).body;
      return [p.StorageMaximumLevel, p.StorageWarningLevel];
    };
    const [max, warn] = await levels();
    const row = `OneDrive of ${user.userPrincipalName}`;
    await roundTrip(env, 'onedrive.setQuota', { user: user.id, storageMaximumMB: 2_097_152 }, [`${row} | storageMaximumMB | ${max} -> 2097152`, `${row} | storageWarningMB | ${warn} -> 1887436`], levels, cert);
  });

  it('onedrive.shareWith: the colleague\'s access to a folder, then read upgraded to write', async () => {
    const [user, colleague] = [people[3]!, people[4]!];
    const drive = await env.graph.api(`/users/${user.id}/drive`).get();
    const folder = await env.graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Handover', folder: {} });
    const o = `OneDrive of ${user.userPrincipalName} folder Handover | access ${colleague.userPrincipalName}`;
    await planRunAgain(env, 'onedrive.shareWith', { user: user.id, with: colleague.userPrincipalName, folder: 'Handover' }, [`${o} | null -> "read"`]);
    await planRunAgain(env, 'onedrive.shareWith', { user: user.id, with: colleague.id, folder: 'Handover', role: 'write' }, [`${o} | "read" -> "write"`]);
    const perms = (await env.graph.api(`/drives/${drive.id}/items/${folder.id}/permissions`).get()).value as { roles: string[]; grantedToV2?: { user?: { id: string } } }[];
    assert.deepEqual(perms.filter((p) => p.grantedToV2?.user?.id === colleague.id).map((p) => p.roles), [['write']]);
  });

  it('onedrive.addShortcut: a shortcut to a site folder at the OneDrive root; planned again, no change', async () => {
    const user = people[5]!;
    const group = [...env.sandbox.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;
    const site = await env.graph.api(`/groups/${group.id}/sites/root`).get();
    const name = `${group.displayName} - General`;
    const o = `shortcut ${name} in OneDrive of ${user.userPrincipalName}`;
    const { output } = await planRunAgain(env, 'onedrive.addShortcut', { user: user.id, site: site.webUrl, folder: 'General', name }, [`${o} | exists | false -> true`, `${o} | name | null -> "${name}"`, `${o} | target | null -> "${site.webUrl}/General"`]);
    const drive = await env.graph.api(`/users/${user.id}/drive`).get();
    assert.ok(((await env.graph.api(`/drives/${drive.id}/root/children`).get()).value as { id: string }[]).some((c) => c.id === output.shortcutId));
  });

  // ---- Windows Autopilot ----

  it('autopilot.import: each device comes to exist; the serial is then registered (would fail); undone by deregistering it', async () => {
    const serial = `PLAN-${short().toUpperCase()}`;
    const o = `Autopilot device ${serial}`;
    await roundTrip(
      env,
      'autopilot.import',
      { devices: [{ serialNumber: serial, hardwareHash: Buffer.from(randomUUID().repeat(8)).toString('base64'), groupTag: 'Sales' }] },
      [`${o} | exists | false -> true`, `${o} | serialNumber | null -> "${serial}"`, `${o} | groupTag | null -> "Sales"`],
      async () => ((await env.graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').filter(`contains(serialNumber,'${serial}')`).get()).value as { id: string }[]).map((d) => d.id),
      { again: 'would-fail' },
    );
  });

  it('autopilot.setGroupTag, assignUser and unassignUser, each undone to the recorded value; autopilot.delete cannot be undone', async () => {
    const devices = (await env.graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').top(100).get()).value as { id: string; serialNumber: string; groupTag: string; userPrincipalName: string }[];
    const d = devices.find((x) => x.userPrincipalName)!;
    const read = async () => {
      const x = await env.graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${d.id}`).get();
      return [x.groupTag, x.userPrincipalName];
    };
    const o = `Autopilot device ${d.serialNumber}`;
    await roundTrip(env, 'autopilot.setGroupTag', { device: d.serialNumber, groupTag: 'Plan-Tag' }, [`${o} | groupTag | ${JSON.stringify(d.groupTag ?? '')} -> "Plan-Tag"`], read);
    const other = people.find((p) => p.userPrincipalName !== d.userPrincipalName)!;
    await roundTrip(env, 'autopilot.assignUser', { device: d.id, user: other.id }, [`${o} | assignedUser | "${d.userPrincipalName}" -> "${other.userPrincipalName}"`], read);
    await roundTrip(env, 'autopilot.unassignUser', { device: d.id }, [`${o} | assignedUser | "${d.userPrincipalName}" -> null`], read);
    const gone = devices.find((x) => x.id !== d.id)!;
    await planRunAgain(env, 'autopilot.delete', { device: gone.id }, [`Autopilot device ${gone.serialNumber} | exists | true -> false`], { again: 'would-fail' });
    assert.ok(catalog.get('autopilot.delete')!.irreversible);
  });
});
