// Exchange admin API (InvokeCommand): each cmdlet's effect read back through its Get cmdlet.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ExchangeCallError, sandboxExchange, sandboxGraphClient } from '../sandbox/testing.ts';
import { cmdletNames } from '../sandbox/exchange/invoke.ts';

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

test('Get-Mailbox -Anr finds mailboxes whose name, display name, first or last name or alias starts with the text; not with -Identity', async () => {
  const u = licensed();
  const names = (r: { value: Record<string, unknown>[] }) => r.value.map((m) => m['UserPrincipalName']);
  assert.ok(names(await exo('Get-Mailbox', { Anr: u.surname!.slice(0, 4) })).includes(u.userPrincipalName));
  assert.ok(names(await exo('Get-Mailbox', { Anr: `${u.givenName} ${u.surname}` })).includes(u.userPrincipalName));
  assert.ok(names(await exo('Get-Mailbox', { Anr: u.mailNickname })).includes(u.userPrincipalName));
  const some = names(await exo('Get-Mailbox', { Anr: u.givenName! }));
  const all = names(await exo('Get-Mailbox', { ResultSize: 'Unlimited' }));
  assert.ok(some.length < all.length);
  for (const upn of some) {
    const other = sb.admin.findUser(upn as string)!;
    assert.ok([other.displayName, other.givenName, other.surname, other.mailNickname].some((v) => v?.toLowerCase().startsWith(u.givenName!.toLowerCase())), `${upn} matches`);
  }
  assert.deepEqual(names(await exo('Get-Mailbox', { Anr: u.givenName!.slice(0, 2), RecipientTypeDetails: 'SharedMailbox' })), []);
  const err = await exoError(exo('Get-Mailbox', { Identity: u.userPrincipalName, Anr: u.givenName! }));
  assert.match(err.message, /ParameterBindingException.*Parameter set cannot be resolved/s);
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
    IssueWarningQuota: '18GB',
    ProhibitSendQuota: '19GB',
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
  const before = (await exo('Get-MobileDeviceStatistics', { Identity: devices[0]!['Identity'] })).value[0]!;
  assert.deepEqual([before['Status'], before['DeviceWipeRequestTime']], ['DeviceOk', null]);
  await exo('Clear-MobileDevice', { Identity: devices[0]!['Identity'], Confirm: false });
  assert.equal((await exo('Get-MobileDevice', { Mailbox: withDevice.userPrincipalName })).value[0]!['DeviceWipeStatus'], 'WipePending');
  // Get-MobileDeviceStatistics records when the wipe was asked for; the phone has not synced, so it is not sent yet.
  const stats = (await exo('Get-MobileDeviceStatistics', { Mailbox: withDevice.userPrincipalName })).value[0]!;
  assert.deepEqual([stats['Status'], typeof stats['DeviceWipeRequestTime'], stats['DeviceWipeSentTime'], stats['AccountOnlyDeviceWipeRequestTime']], ['DeviceWipePending', 'string', null, null]);
  assert.match((await exoError(exo('Get-MobileDeviceStatistics', { Mailbox: withDevice.userPrincipalName, GetMailboxLog: true }))).message, /parameter cannot be found/);
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

// ---- strictness: what real Exchange refuses, the sandbox refuses ----

test('every cmdlet refuses a parameter it does not have, as Exchange does (ParameterBindingException), and changes nothing', async () => {
  const names = cmdletNames();
  assert.ok(names.length >= 50, `${names.length} cmdlets`);
  for (const name of names) {
    const err = await exoError(exo(name, { NoSuchParameter: 1 }));
    assert.equal(err.status, 400, name);
    assert.match(err.message, /^\|System\.Management\.Automation\.ParameterBindingException\|A parameter cannot be found that matches parameter name 'NoSuchParameter'\.$/, name);
  }
  const u = licensed();
  const before = sb.admin.mutationCount({ objectId: u.id });
  await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, HiddenFromAddressListsEnabled: true, Banana: 'yes' }));
  assert.equal((await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!['HiddenFromAddressListsEnabled'], false);
  assert.equal(sb.admin.mutationCount({ objectId: u.id }), before);
  assert.match((await exoError(exo('Get-Mailbox', { Identity: u.userPrincipalName, Confirm: false }))).message, /parameter name 'Confirm'/, 'Get cmdlets have no -Confirm');
  assert.match((await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, DomainController: 'dc1.contoso.com' }))).message, /parameter name 'DomainController'/, 'on-premises only parameters do not exist in Exchange Online');
});

test('a call refused for one bad value changes none of its other parameters; -WhatIf changes nothing', async () => {
  const u = licensed();
  const err = await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, DisplayName: 'Should Not Stick', MailTip: 'no', IssueWarningQuota: '60GB', ProhibitSendReceiveQuota: '50GB' }));
  assert.match(err.message, /DataValidationException.*IssueWarningQuota/);
  const m = (await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!;
  assert.deepEqual([m['DisplayName'], m['MailTip']], [u.displayName, null]);
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, HiddenFromAddressListsEnabled: true, WhatIf: true });
  assert.equal((await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!['HiddenFromAddressListsEnabled'], false);
});

test('Set-Mailbox: archive name, retention and address book policies, mail tip, custom attributes, auditing, primary address', async () => {
  const u = licensed();
  await exo('Enable-Mailbox', { Identity: u.userPrincipalName, Archive: true });
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, ArchiveName: ['Personal Archive'] });
  assert.deepEqual((await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!['ArchiveName'], ['Personal Archive']);
  assert.equal((await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, RetentionPolicy: 'No such policy' }))).status, 404);
  await exo('New-RetentionPolicy', { Name: 'Seven years' });
  assert.match((await exoError(exo('New-RetentionPolicy', { Name: 'seven YEARS' }))).message, /ObjectAlreadyExistsException/);
  await exo('New-AddressBookPolicy', { Name: 'Fabrikam ABP', AddressLists: ['\\All Users'], GlobalAddressList: '\\Default Global Address List', OfflineAddressBook: '\\Default Offline Address Book', RoomList: '\\All Rooms' });
  assert.equal((await exoError(exo('New-AddressBookPolicy', { Name: 'Bad', AddressLists: ['\\Nope'], GlobalAddressList: '\\Default Global Address List', OfflineAddressBook: '\\Default Offline Address Book', RoomList: '\\All Rooms' }))).status, 404);
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, RetentionPolicy: 'Seven years', AddressBookPolicy: 'Fabrikam ABP', MailTip: 'Out until May', CustomAttribute3: 'Berlin', AuditEnabled: false, AuditLogAgeLimit: '365' });
  const m = (await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!;
  assert.deepEqual([m['RetentionPolicy'], m['AddressBookPolicy'], m['MailTip'], m['CustomAttribute3'], m['AuditEnabled'], m['AuditLogAgeLimit']], ['Seven years', 'Fabrikam ABP', 'Out until May', 'Berlin', false, '365.00:00:00']);
  const graph = sandboxGraphClient(sb);
  assert.equal((await graph.api(`/users/${u.id}`).select('onPremisesExtensionAttributes').get()).onPremisesExtensionAttributes.extensionAttribute3, 'Berlin', 'custom attributes are the Entra extension attributes');
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, EmailAddresses: { Add: [`smtp:second@${sb.tenant.domain}`] } });
  await exo('Set-Mailbox', { Identity: u.userPrincipalName, WindowsEmailAddress: `second@${sb.tenant.domain}` });
  assert.equal((await exo('Get-Mailbox', { Identity: u.userPrincipalName })).value[0]!['PrimarySmtpAddress'], `second@${sb.tenant.domain}`);
  assert.match((await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, EmailAddresses: { Add: ['smtp:x@not-accepted.example'] } }))).message, /accepted domain/);
  assert.match((await exoError(exo('Set-Mailbox', { Identity: u.userPrincipalName, ResourceCapacity: 4 }))).message, /room or equipment/);
});

test('mailbox permissions: every right, partial removal; folder delegates need Editor on the calendar', async () => {
  const [owner, helper] = [licensed(), licensed(1)];
  await exo('Add-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['FullAccess', 'DeleteItem', 'ReadPermission'] });
  assert.match((await exoError(exo('Add-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['SendAs'] }))).message, /Valid values: ChangeOwner/);
  await exo('Remove-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName, AccessRights: ['DeleteItem'], Confirm: false });
  assert.deepEqual((await exo('Get-MailboxPermission', { Identity: owner.userPrincipalName, User: helper.userPrincipalName })).value[0]!['AccessRights'], ['FullAccess', 'ReadPermission']);
  await exo('Add-RecipientPermission', { Identity: owner.userPrincipalName, Trustee: helper.userPrincipalName, AccessRights: ['SendAs'], Confirm: false });
  const grants = (await exo('Get-RecipientPermission', { Trustee: helper.userPrincipalName })).value;
  assert.deepEqual(grants.map((g) => g['Identity']), [owner.mailNickname], 'Get-RecipientPermission -Trustee alone finds every Send As of the trustee');
  const cal = `${owner.userPrincipalName}:\\Calendar`;
  assert.match((await exoError(exo('Add-MailboxFolderPermission', { Identity: cal, User: helper.userPrincipalName, AccessRights: ['Reviewer'], SharingPermissionFlags: 'Delegate' }))).message, /Editor/);
  assert.match((await exoError(exo('Add-MailboxFolderPermission', { Identity: cal, User: helper.userPrincipalName, AccessRights: ['Editor'], SharingPermissionFlags: 'CanViewPrivateItems' }))).message, /together with Delegate/);
  await exo('Add-MailboxFolderPermission', { Identity: cal, User: helper.userPrincipalName, AccessRights: ['Editor'], SharingPermissionFlags: 'Delegate,CanViewPrivateItems' });
  assert.equal((await exo('Get-MailboxFolderPermission', { Identity: cal, User: helper.userPrincipalName })).value[0]!['SharingPermissionFlags'], 'Delegate, CanViewPrivateItems');
  assert.match((await exoError(exo('Add-MailboxFolderPermission', { Identity: `${owner.userPrincipalName}:\\Contacts`, User: helper.userPrincipalName, AccessRights: ['Editor'], SharingPermissionFlags: 'Delegate' }))).message, /calendar folders/);
  assert.deepEqual((await exo('Get-MailboxFolderStatistics', { Identity: owner.userPrincipalName, FolderScope: 'Calendar' })).value.map((f) => f['FolderType']), ['Calendar']);
});

test('calendar processing: resource mailboxes book, user mailboxes keep AutoUpdate, values in range', async () => {
  const room = (await exo('New-Mailbox', { Room: true, Name: 'Board Room', Alias: 'boardroom', ResourceCapacity: 20 })).value[0]!;
  assert.equal(room['ResourceCapacity'], 20);
  assert.equal((await exo('Get-CalendarProcessing', { Identity: 'boardroom' })).value[0]!['AutomateProcessing'], 'AutoAccept');
  await exo('Set-CalendarProcessing', { Identity: 'boardroom', AutomateProcessing: 'AutoUpdate', BookingWindowInDays: 365, BookInPolicy: [licensed().userPrincipalName], AllBookInPolicy: false });
  const cp = (await exo('Get-CalendarProcessing', { Identity: 'boardroom' })).value[0]!;
  assert.deepEqual([cp['AutomateProcessing'], cp['BookingWindowInDays'], cp['BookInPolicy'], cp['AllBookInPolicy']], ['AutoUpdate', 365, [licensed().userPrincipalName], false]);
  assert.match((await exoError(exo('Set-CalendarProcessing', { Identity: 'boardroom', BookingWindowInDays: 1081 }))).message, /0 through 1080/);
  assert.match((await exoError(exo('Set-CalendarProcessing', { Identity: licensed().userPrincipalName, AutomateProcessing: 'AutoAccept' }))).message, /can't be changed/);
  assert.match((await exoError(exo('New-Mailbox', { Shared: true, Room: true, Name: 'Both' }))).message, /Parameter set cannot be resolved/);
});

test('regional settings: language resets formats, time zones are Windows ids; Graph sees the same', async () => {
  const u = licensed();
  await exo('Set-MailboxRegionalConfiguration', { Identity: u.userPrincipalName, Language: 'fr-FR', TimeZone: 'Romance Standard Time', DateFormat: null, TimeFormat: null });
  const cfg = (await exo('Get-MailboxRegionalConfiguration', { Identity: u.userPrincipalName })).value[0]!;
  assert.deepEqual([cfg['Language'], cfg['TimeZone'], cfg['DateFormat'], cfg['TimeFormat']], ['fr-FR', 'Romance Standard Time', 'dd/MM/yyyy', 'HH:mm']);
  assert.equal((await sandboxGraphClient(sb).api(`/users/${u.id}/mailboxSettings`).get()).language.locale, 'fr-FR');
  assert.equal((await exoError(exo('Set-MailboxRegionalConfiguration', { Identity: u.userPrincipalName, TimeZone: 'Europe/Paris' }))).status, 400);
});

test('mail users and contacts: Enable-MailUser, Set-MailUser, Set-MailContact addresses, Set-Contact details', async () => {
  const graph = sandboxGraphClient(sb);
  const account = await graph.api('/users').post({ accountEnabled: true, displayName: 'Partner Pat', mailNickname: 'pat', userPrincipalName: `pat@${sb.tenant.domain}`, passwordProfile: { password: 'Start!2345678', forceChangePasswordNextSignIn: true } });
  await exo('Enable-MailUser', { Identity: account.userPrincipalName, ExternalEmailAddress: 'pat@partner.example' });
  assert.match((await exoError(exo('Enable-MailUser', { Identity: account.userPrincipalName, ExternalEmailAddress: 'pat@partner.example' }))).message, /already mail-enabled/);
  assert.match((await exoError(exo('Enable-MailUser', { Identity: licensed().userPrincipalName, ExternalEmailAddress: 'x@partner.example' }))).message, /already mail-enabled/);
  await exo('Set-MailUser', { Identity: account.id, ExternalEmailAddress: 'pat@new-partner.example', HiddenFromAddressListsEnabled: true, EmailAddresses: { Add: [`smtp:pat.p@${sb.tenant.domain}`] } });
  const mu = (await exo('Get-MailUser', { Identity: account.userPrincipalName })).value[0]!;
  assert.deepEqual([mu['ExternalEmailAddress'], mu['HiddenFromAddressListsEnabled']], ['SMTP:pat@new-partner.example', true]);
  assert.ok((mu['EmailAddresses'] as string[]).includes(`smtp:pat.p@${sb.tenant.domain}`));
  assert.ok((await exo('Get-MailUser', {})).value.some((x) => x['ExternalDirectoryObjectId'] === account.id));
  await exo('New-MailContact', { Name: 'Lee Vendor', ExternalEmailAddress: 'lee@vendor.example' });
  await exo('Set-MailContact', { Identity: 'Lee Vendor', EmailAddresses: { Add: ['smtp:lee.sales@vendor.example'] } });
  assert.equal((await exo('Get-Recipient', { Identity: 'lee.sales@vendor.example' })).value[0]!['RecipientTypeDetails'], 'MailContact', 'a contact is found by any of its addresses');
  assert.match((await exoError(exo('Set-MailContact', { Identity: 'Lee Vendor', EmailAddresses: ['smtp:other@vendor.example'] }))).message, /must keep the external address/);
  await exo('Set-Contact', { Identity: 'Lee Vendor', Company: 'Vendor Ltd', Title: 'Sales', City: 'Leeds' });
  const c = (await exo('Get-Contact', { Identity: 'lee@vendor.example' })).value[0]!;
  assert.deepEqual([c['Company'], c['Title'], c['City'], c['Department']], ['Vendor Ltd', 'Sales', 'Leeds', '']);
});

test('quarantine: details by identity, summary filters and paging, release (once, or -Force), delete', async () => {
  const u = licensed();
  const m = sb.admin.quarantineMessage({ to: [u.userPrincipalName], from: 'promo@offers.example', subject: 'Big sale', type: 'Bulk' });
  const detail = (await exo('Get-QuarantineMessage', { Identity: m.identity })).value[0]!;
  assert.deepEqual([detail['Type'], detail['QuarantineTypes'], detail['ReleaseStatus'], detail['ReleasedUser']], ['Bulk', 'Bulk', 'NOTRELEASED', []]);
  assert.match((await exoError(exo('Get-QuarantineMessage', { Identity: m.identity, PageSize: 10 }))).message, /Parameter set cannot be resolved/);
  assert.match((await exoError(exo('Get-QuarantineMessage', { Identity: 'not-an-identity' }))).message, /GUID1\\GUID2/);
  assert.ok((await exo('Get-QuarantineMessage', { PageSize: 1000 })).value.length > 1, 'the seeded tenant has quarantined mail');
  assert.equal((await exo('Get-QuarantineMessage', { RecipientAddress: [u.userPrincipalName], QuarantineTypes: ['Bulk'] })).value.length, 1);
  assert.equal((await exo('Get-QuarantineMessage', { PageSize: 1, Page: 2 })).value.length, 1);
  assert.match((await exoError(exo('Release-QuarantineMessage', { Identity: m.identity, ReleaseToAll: true, User: [u.userPrincipalName] }))).message, /Parameter set cannot be resolved/);
  await exo('Release-QuarantineMessage', { Identity: m.identity, ReleaseToAll: true });
  const inbox = (await sandboxGraphClient(sb).api(`/users/${u.id}/mailFolders/inbox/messages`).get()).value;
  assert.ok(inbox.some((x: { subject: string }) => x.subject === 'Big sale'));
  assert.match((await exoError(exo('Release-QuarantineMessage', { Identity: m.identity, ReleaseToAll: true }))).message, /already been released.*Force/);
  await exo('Release-QuarantineMessage', { Identity: m.identity, ReleaseToAll: true, Force: true });
  assert.deepEqual((await exo('Get-QuarantineMessage', { Identity: m.identity })).value[0]!['ReleasedUser'], [u.userPrincipalName]);
  await exo('Delete-QuarantineMessage', { Identity: m.identity });
  assert.equal((await exoError(exo('Get-QuarantineMessage', { Identity: m.identity }))).status, 404);
});

test('Exchange RBAC: a role hides the cmdlets and parameters it does not grant', async () => {
  const graph = sandboxGraphClient(sb);
  const assign = async (roleDefinitionId: string) => {
    const app = sb.admin.createApp({ permissions: ['Exchange/Exchange.ManageAsApp'] });
    const sp = (await graph.api('/servicePrincipals').filter(`appId eq '${app.clientId}'`).get()).value[0];
    await graph.api('/roleManagement/directory/roleAssignments').post({ principalId: sp.id, roleDefinitionId, directoryScopeId: '/' });
    return sandboxExchange(sb, app);
  };
  const u = licensed();
  const recipients = await assign('31392ffb-586c-42d1-9346-e59415a2cc4e');
  await recipients('Set-Mailbox', { Identity: u.userPrincipalName, HiddenFromAddressListsEnabled: true });
  assert.match((await exoError(recipients('Set-Mailbox', { Identity: u.userPrincipalName, LitigationHoldEnabled: true }))).message, /ParameterBindingException\|A parameter cannot be found that matches parameter name 'LitigationHoldEnabled'/);
  assert.match((await exoError(recipients('Get-QuarantineMessage', {}))).message, /CommandNotFoundException\|The term 'Get-QuarantineMessage' is not recognized/);
  assert.match((await exoError(recipients('New-RetentionPolicy', { Name: 'x' }))).message, /CommandNotFoundException/);
  const security = await assign('194ae4cb-b126-40b2-bd5b-6091b380977d');
  await security('Get-QuarantineMessage', {});
  assert.match((await exoError(security('Set-Mailbox', { Identity: u.userPrincipalName, HiddenFromAddressListsEnabled: false }))).message, /CommandNotFoundException/);
  const exchangeAdmin = await assign('29232cdf-9323-42fd-ade2-1d097af3e4de');
  await exchangeAdmin('Set-Mailbox', { Identity: u.userPrincipalName, LitigationHoldEnabled: true });
});

test('Remove-CalendarEvents -CancelOrganizedMeetings: meetings in the window leave the organizer\'s and attendees\' calendars; appointments and later meetings stay', async () => {
  const graph = sandboxGraphClient(sb);
  const [organizer, attendee] = [licensed(0), licensed(1)];
  const at = (days: number) => ({ dateTime: new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 19), timeZone: 'UTC' });
  const invite = [{ type: 'required', emailAddress: { address: attendee.userPrincipalName } }];
  const soon = await graph.api(`/users/${organizer.id}/events`).post({ subject: 'Weekly sync', start: at(2), end: at(2.05), attendees: invite });
  await graph.api(`/users/${organizer.id}/events`).post({ subject: 'Next year', start: at(400), end: at(400.05), attendees: invite });
  await graph.api(`/users/${organizer.id}/events`).post({ subject: 'Dentist', start: at(3), end: at(3.05) });
  const subjects = async (u: { id: string }) => ((await graph.api(`/users/${u.id}/events`).get()).value as { subject: string }[]).map((e) => e.subject).sort();
  assert.deepEqual(await subjects(attendee), ['Next year', 'Weekly sync'], 'the attendees got the invitations');
  assert.equal(soon.isOrganizer, true);

  const missing = await exoError(exo('Remove-CalendarEvents', { Identity: organizer.userPrincipalName, CancelOrganizedMeetings: true }));
  assert.match(missing.message, /QueryWindowInDays/);
  const tooLong = await exoError(exo('Remove-CalendarEvents', { Identity: organizer.userPrincipalName, CancelOrganizedMeetings: true, QueryWindowInDays: 1826 }));
  assert.match(tooLong.message, /1825/);
  await exo('Remove-CalendarEvents', { Identity: organizer.userPrincipalName, CancelOrganizedMeetings: true, QueryWindowInDays: 30, PreviewOnly: true });
  assert.deepEqual(await subjects(organizer), ['Dentist', 'Next year', 'Weekly sync'], 'a preview changes nothing');

  const done = await exo('Remove-CalendarEvents', { Identity: organizer.userPrincipalName, CancelOrganizedMeetings: true, QueryWindowInDays: 30 });
  assert.deepEqual(done.value, []);
  assert.deepEqual(await subjects(organizer), ['Dentist', 'Next year']);
  assert.deepEqual(await subjects(attendee), ['Next year']);
});
