// Exchange admin API (InvokeCommand): each cmdlet's effect read back through its Get cmdlet.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ExchangeCallError, sandboxExchange, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let exo: ReturnType<typeof sandboxExchange>;

before(async () => {
  sb = await startSandbox({ seed: 9, users: 60 });
  exo = sandboxExchange(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const licensed = (n = 0) => [...sb.admin.store.users.values()].filter((u) => u.userType === 'Member' && u.assignedLicenses.some((l) => l.skuId === E3))[n]!;

async function exoError(p: Promise<unknown>): Promise<ExchangeCallError> {
  try {
    await p;
  } catch (err) {
    return err as ExchangeCallError;
  }
  assert.fail('expected the cmdlet to fail');
}

test('Get-Mailbox by UPN, alias or SMTP address; unknown identity is ManagementObjectNotFoundException', async () => {
  const u = licensed();
  const [byUpn] = (await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value;
  assert.equal(byUpn!['RecipientTypeDetails'], 'UserMailbox');
  assert.equal(byUpn!['ExternalDirectoryObjectId'], u.id);
  assert.equal((await exo('Get-Mailbox', { Identity: u.mailNickname })).value[0]!['UserPrincipalName'], u.userPrincipalName);
  const err = await exoError(exo('Get-Mailbox', { Identity: 'nobody@nowhere.example' }));
  assert.equal(err.status, 404);
  assert.match(err.message, /ManagementObjectNotFoundException/);
});

test('Set-Mailbox -Type Shared converts; forwarding, hidden from address lists, send on behalf, litigation hold, quotas', async () => {
  const u = licensed();
  const delegate = licensed(1);
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, Type: 'Shared' });
  await exo('Set-Mailbox', {
    Identity: u.userPrincipalName,
    ForwardingSmtpAddress: 'archive@fabrikam.com',
    DeliverToMailboxAndForward: true,
    HiddenFromAddressListsEnabled: true,
    GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', Add: [delegate.userPrincipalName] },
    LitigationHoldEnabled: true,
    ProhibitSendReceiveQuota: '20GB',
  });
  const mbx = (await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!;
  assert.equal(mbx['RecipientTypeDetails'], 'SharedMailbox');
  assert.equal(mbx['ForwardingSmtpAddress'], 'smtp:archive@fabrikam.com');
  assert.equal(mbx['DeliverToMailboxAndForward'], true);
  assert.equal(mbx['HiddenFromAddressListsEnabled'], true);
  assert.deepEqual(mbx['GrantSendOnBehalfTo'], [delegate.mailNickname]);
  assert.equal(mbx['LitigationHoldEnabled'], true);
  assert.match(String(mbx['ProhibitSendReceiveQuota']), /^20 GB \(21,474,836,480 bytes\)$/);
  assert.equal(sb.admin.mutationCount({ objectId: u.id, op: 'mailbox.convert' }), 1);
  const shared = await exo('Get-Mailbox', { RecipientTypeDetails: ['SharedMailbox'], ResultSize: 'Unlimited' });
  assert.ok(shared.value.some((m) => m['ExternalDirectoryObjectId'] === u.id));
  const bad = await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, Type: 'Banana' }));
  assert.equal(bad.status, 400);
});

test('full access and send as: add, read back, duplicate add is a warning, remove', async () => {
  const owner = licensed();
  const helper = licensed(2);
  await exo('Add-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['FullAccess'], AutoMapping: false });
  const again = await exo('Add-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['FullAccess'] });
  assert.equal(again.warnings.length, 1);
  const perms = (await exo('Get-MailboxPermission', { Identity: owner.userPrincipalName })).value;
  assert.ok(perms.some((p) => p['User'] === helper.userPrincipalName && (p['AccessRights'] as string[]).includes('FullAccess')));
  await exo('Add-RecipientPermission', { Identity: owner.userPrincipalName, Trustee: helper.userPrincipalName, AccessRights: ['SendAs'], Confirm: false });
  assert.ok((await exo('Get-RecipientPermission', { Identity: owner.userPrincipalName })).value.some((p) => p['Trustee'] === helper.userPrincipalName));
  await exo('Remove-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['FullAccess'], Confirm: false });
  assert.ok(!(await exo('Get-MailboxPermission', { Identity: owner.userPrincipalName })).value.some((p) => p['User'] === helper.userPrincipalName));
  assert.equal(sb.admin.mutationCount({ objectId: helper.id, op: 'mailbox.addFullAccess' }), 1);
});

test('automatic replies set through Exchange read back through Graph mailboxSettings', async () => {
  const u = licensed();
  await exo('Set-MailboxAutoReplyConfiguration', { Identity: u.userPrincipalName, AutoReplyState: 'Enabled', InternalMessage: 'Left the company', ExternalMessage: 'Left', ExternalAudience: 'All' });
  const back = (await exo('Get-MailboxAutoReplyConfiguration', { Identity: u.userPrincipalName })).value[0]!;
  assert.equal(back['AutoReplyState'], 'Enabled');
  const graph = sandboxGraphClient(sb);
  const settings = await graph.api(`/users/${u.id}/mailboxSettings`).get();
  assert.equal(settings.automaticRepliesSetting.status, 'alwaysEnabled');
  assert.equal(settings.automaticRepliesSetting.internalReplyMessage, 'Left the company');
  const bad = await exoError(exo('Set-MailboxAutoReplyConfiguration', { Identity: u.userPrincipalName, AutoReplyState: 'Scheduled', StartTime: '2030-01-02', EndTime: '2030-01-01' }));
  assert.equal(bad.status, 400);
});

test('archive, CAS settings, statistics', async () => {
  const u = licensed();
  await exo('Enable-Mailbox', { Identity: u.userPrincipalName, Archive: true });
  assert.equal((await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!['ArchiveStatus'], 'Active');
  assert.equal((await exoError(exo('Enable-Mailbox', { Identity: u.userPrincipalName, Archive: true }))).status, 400);
  await exo('Set-CASMailbox', { Identity: u.userPrincipalName, ActiveSyncEnabled: false, PopEnabled: false, ImapEnabled: false });
  const cas = (await exo('Get-CASMailbox', { Identity: u.userPrincipalName })).value[0]!;
  assert.deepEqual([cas['ActiveSyncEnabled'], cas['PopEnabled'], cas['ImapEnabled'], cas['OWAEnabled']], [false, false, false, true]);
  const stats = (await exo('Get-MailboxStatistics', { Identity: u.userPrincipalName })).value[0]!;
  assert.match(String(stats['TotalItemSize']), /GB \([\d,]+ bytes\)$/);
});

test('calendar folder permissions: add, duplicate is an error, set, remove', async () => {
  const u = licensed();
  const assistant = licensed(3);
  const folder = `${u.userPrincipalName}:\\Calendar`;
  await exo('Add-MailboxFolderPermission', { Identity: folder, User: assistant.userPrincipalName, AccessRights: ['Editor'] });
  const dup = await exoError(exo('Add-MailboxFolderPermission', { Identity: folder, User: assistant.userPrincipalName, AccessRights: ['Editor'] }));
  assert.match(dup.message, /UserAlreadyExistsInPermissionEntryException/);
  await exo('Set-MailboxFolderPermission', { Identity: folder, User: assistant.userPrincipalName, AccessRights: ['Reviewer'] });
  const perms = (await exo('Get-MailboxFolderPermission', { Identity: folder })).value;
  assert.deepEqual(perms.find((p) => p['User'] === assistant.displayName)!['AccessRights'], ['Reviewer']);
  await exo('Set-MailboxFolderPermission', { Identity: folder, User: 'Default', AccessRights: ['LimitedDetails'] });
  await exo('Remove-MailboxFolderPermission', { Identity: folder, User: assistant.userPrincipalName, Confirm: false });
  const after = (await exo('Get-MailboxFolderPermission', { Identity: folder })).value;
  assert.deepEqual(after.map((p) => p['User']), ['Default', 'Anonymous']);
  assert.deepEqual(after[0]!['AccessRights'], ['LimitedDetails']);
});

test('distribution groups: create, members (duplicate is MemberAlreadyExistsException), visible in Graph', async () => {
  const [a, b] = [licensed(), licensed(1)];
  const created = (await exo('New-DistributionGroup', { Name: 'Sales Europe', Alias: 'saleseurope', Members: [a.userPrincipalName], ManagedBy: [b.userPrincipalName] })).value[0]!;
  assert.equal(created['PrimarySmtpAddress'], `saleseurope@${sb.tenant.domain}`);
  await exo('Add-DistributionGroupMember', { Identity: 'saleseurope', Member: b.userPrincipalName });
  const dup = await exoError(exo('Add-DistributionGroupMember', { Identity: 'saleseurope', Member: b.userPrincipalName }));
  assert.match(dup.message, /MemberAlreadyExistsException/);
  const members = (await exo('Get-DistributionGroupMember', { Identity: 'Sales Europe' })).value.map((m) => m['ExternalDirectoryObjectId']);
  assert.deepEqual(members.sort(), [a.id, b.id].sort());
  await exo('Remove-DistributionGroupMember', { Identity: 'saleseurope', Member: a.userPrincipalName, Confirm: false });
  const graph = sandboxGraphClient(sb);
  const g = await graph.api(`/groups/${created['ExternalDirectoryObjectId']}`).get();
  assert.equal(g.mailEnabled, true);
  assert.equal(g.securityEnabled, false);
  const graphMembers = await graph.api(`/groups/${g.id}/members`).get();
  assert.deepEqual(graphMembers.value.map((m: { id: string }) => m.id), [b.id]);
});

test('mail contacts and shared mailboxes', async () => {
  await exo('New-MailContact', { Name: 'Vendor Support', ExternalEmailAddress: 'support@vendor.example' });
  const contact = (await exo('Get-MailContact', { Identity: 'support@vendor.example' })).value[0]!;
  assert.equal(contact['RecipientTypeDetails'], 'MailContact');
  const dup = await exoError(exo('New-MailContact', { Name: 'Again', ExternalEmailAddress: 'support@vendor.example' }));
  assert.match(dup.message, /ProxyAddressExistsException/);
  const shared = (await exo('New-Mailbox', { Shared: true, Name: 'Info', Alias: 'info' })).value[0]!;
  assert.equal(shared['RecipientTypeDetails'], 'SharedMailbox');
  assert.equal(shared['PrimarySmtpAddress'], `info@${sb.tenant.domain}`);
  await exo('Remove-MailContact', { Identity: 'Vendor Support', Confirm: false });
  assert.equal((await exoError(exo('Get-MailContact', { Identity: 'Vendor Support' }))).status, 404);
});

test('mobile devices: list and wipe', async () => {
  const withDevice = [...sb.admin.store.users.values()].find((u) => u.assignedLicenses.length && parseInt(u.id.slice(2, 4), 16) < 150)!;
  const devices = (await exo('Get-MobileDevice', { Mailbox: withDevice.userPrincipalName })).value;
  assert.equal(devices.length, 1);
  await exo('Clear-MobileDevice', { Identity: devices[0]!['Identity'], Confirm: false });
  assert.equal((await exo('Get-MobileDevice', { Mailbox: withDevice.userPrincipalName })).value[0]!['DeviceWipeStatus'], 'WipePending');
});

test('mobile devices: access state from the organisation (some quarantined) and the mailbox\'s allowed / blocked lists; unknown parameters refused', async () => {
  const owners = [...sb.admin.store.users.values()].filter((u) => u.assignedLicenses.length && parseInt(u.id.slice(2, 4), 16) < 150);
  let quarantined: { owner: string; device: Record<string, unknown> } | undefined;
  for (const u of owners) {
    const d = (await exo('Get-MobileDevice', { Mailbox: u.userPrincipalName })).value.find((x) => x['DeviceAccessState'] === 'Quarantined');
    if (d) {
      quarantined = { owner: u.userPrincipalName, device: d };
      break;
    }
  }
  assert.ok(quarantined, 'a seeded quarantined phone');
  const id = quarantined.device['DeviceId'] as string;
  assert.equal(quarantined.device['DeviceAccessStateReason'], 'Global');
  await exo('Set-CASMailbox', { Identity: quarantined.owner, ActiveSyncAllowedDeviceIDs: { Add: [id] } });
  const allowed = (await exo('Get-MobileDevice', { Mailbox: quarantined.owner })).value.find((x) => x['DeviceId'] === id)!;
  assert.deepEqual([allowed['DeviceAccessState'], allowed['DeviceAccessStateReason']], ['Allowed', 'Individual']);
  assert.deepEqual((await exo('Get-CASMailbox', { Identity: quarantined.owner })).value[0]!['ActiveSyncAllowedDeviceIDs'], [id]);
  const both = await exoError(exo('Set-CASMailbox', { Identity: quarantined.owner, ActiveSyncBlockedDeviceIDs: { Add: [id] } }));
  assert.match(both.message, /both allowed and blocked/);
  await exo('Set-CASMailbox', { Identity: quarantined.owner, ActiveSyncAllowedDeviceIDs: { Remove: [id] }, ActiveSyncBlockedDeviceIDs: { Add: [id] } });
  assert.equal((await exo('Get-MobileDevice', { Mailbox: quarantined.owner })).value.find((x) => x['DeviceId'] === id)!['DeviceAccessState'], 'Blocked');
  const unknown = await exoError(exo('Clear-MobileDevice', { Identity: quarantined.device['Identity'], Everything: true }));
  assert.match(unknown.message, /ParameterBindingException|parameter cannot be found/);
  await exo('Remove-MobileDevice', { Identity: quarantined.device['Identity'], Confirm: false });
  assert.ok(!(await exo('Get-MobileDevice', { Mailbox: quarantined.owner })).value.some((x) => x['DeviceId'] === id));
});

test('an app without Exchange.ManageAsApp is refused; an unknown cmdlet is CommandNotFoundException', async () => {
  const noRole = sandboxExchange(sb, sb.admin.createApp({ permissions: ['User.Read.All'] }));
  const denied = await exoError(noRole('Get-Mailbox', {}));
  assert.equal(denied.status, 403);
  const unknown = await exoError(exo('Get-Banana', {}));
  assert.match(unknown.message, /CommandNotFoundException/);
});

test('distribution groups: Send As through RecipientPermission, send on behalf through Set-DistributionGroup {add, remove}', async () => {
  const [a, b] = [licensed(0), licensed(1)];
  await exo('New-DistributionGroup', { Name: 'Finance announcements', Alias: 'finann' });
  const added = (await exo('Add-RecipientPermission', { Identity: 'finann', Trustee: a.userPrincipalName, AccessRights: ['SendAs'], Confirm: false })).value;
  assert.deepEqual([added[0]!['Identity'], added[0]!['Trustee'], added[0]!['AccessRights']], ['finann', a.userPrincipalName, ['SendAs']]);
  const again = await exo('Add-RecipientPermission', { Identity: 'finann', Trustee: a.userPrincipalName, AccessRights: ['SendAs'], Confirm: false });
  assert.equal(again.warnings.length, 1, 'a duplicate grant is a warning');
  const perms = (await exo('Get-RecipientPermission', { Identity: 'finann' })).value.map((r) => r['Trustee']);
  assert.deepEqual(perms, ['NT AUTHORITY\\SELF', a.userPrincipalName]);
  assert.equal((await exo('Get-RecipientPermission', { Identity: 'finann', Trustee: a.userPrincipalName })).value.length, 1);
  await exo('Remove-RecipientPermission', { Identity: 'finann', Trustee: a.userPrincipalName, AccessRights: ['SendAs'], Confirm: false });
  assert.equal((await exo('Get-RecipientPermission', { Identity: 'finann', Trustee: a.userPrincipalName })).value.length, 0);

  await exo('Set-DistributionGroup', { Identity: 'finann', GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', add: [a.userPrincipalName, b.userPrincipalName] } });
  await exo('Set-DistributionGroup', { Identity: 'finann', GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', remove: [a.userPrincipalName] } });
  assert.deepEqual((await exo('Get-DistributionGroup', { Identity: 'finann' })).value[0]!['GrantSendOnBehalfTo'], [b.mailNickname]);
  const m365 = [...sb.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;
  assert.equal((await exoError(exo('Get-RecipientPermission', { Identity: m365.mail! }))).status, 404, 'a Microsoft 365 group is not a RecipientPermission identity here');
});

test('UnifiedGroupLinks: members and owners are the directory\'s; subscribers must be members and leave with them', async () => {
  const graph = sandboxGraphClient(sb);
  const [a, b] = [licensed(0), licensed(1)];
  const g = await graph.api('/groups').post({ displayName: 'Project Falcon', mailNickname: 'falcon', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'] });
  const links = async (type: string) => (await exo('Get-UnifiedGroupLinks', { Identity: 'falcon', LinkType: type })).value.map((r) => r['ExternalDirectoryObjectId']);
  const notMember = await exoError(exo('Add-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Subscribers', Links: [a.userPrincipalName] }));
  assert.match(notMember.message, /Only members can be subscribers/);
  await exo('Add-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Members', Links: [a.userPrincipalName, b.userPrincipalName] });
  await exo('Add-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Owners', Links: [a.userPrincipalName] });
  await exo('Add-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Subscribers', Links: [a.userPrincipalName, b.userPrincipalName] });
  assert.deepEqual((await links('Members')).sort(), [a.id, b.id].sort());
  assert.deepEqual(await links('Owners'), [a.id]);
  assert.deepEqual((await graph.api(`/groups/${g.id}/owners`).get()).value.map((o: { id: string }) => o.id), [a.id], 'Graph sees the same owners');
  assert.deepEqual((await links('Subscribers')).sort(), [a.id, b.id].sort());
  const owner = await exoError(exo('Remove-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Members', Links: [a.userPrincipalName], Confirm: false }));
  assert.match(owner.message, /not owners can be removed/);
  await graph.api(`/groups/${g.id}/members/${b.id}/$ref`).delete();
  assert.deepEqual(await links('Subscribers'), [a.id], 'leaving the group through Graph ends the subscription');
  await exo('Remove-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Subscribers', Links: [a.userPrincipalName], Confirm: false });
  assert.deepEqual(await links('Subscribers'), []);
  assert.match((await exoError(exo('Get-UnifiedGroupLinks', { Identity: 'falcon', LinkType: 'Guests' }))).message, /Valid values: Members, Owners, Subscribers/);
  assert.equal((await exoError(exo('Get-UnifiedGroupLinks', { Identity: 'finance-nope', LinkType: 'Members' }))).status, 404);
});
