// Organisation policies a mailbox points at, and booking: retention policies (MRM), address book
// policies, and calendar processing of resource mailboxes (Get/Set-CalendarProcessing).
// A tenant starts with Exchange Online's "Default MRM Policy" and no address book policy; creating
// either is an organisation-management task (New-RetentionPolicy, New-AddressBookPolicy).
import { randomUUID } from 'node:crypto';
import { DEFAULT_RETENTION_POLICY, type CalendarProcessing } from '../mailboxes.ts';
import { bool, ExoError, int, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { resolveMailbox, resolveTrustee } from './recipients.ts';

export interface RetentionPolicy {
  name: string;
  guid: string;
  isDefault: boolean;
  retentionPolicyTagLinks: string[];
  whenCreated: string;
}

export interface AddressBookPolicy {
  name: string;
  guid: string;
  addressLists: string[];
  globalAddressList: string;
  offlineAddressBook: string;
  roomList: string;
  whenCreated: string;
}

const retentionPolicies = (ctx: ExoCtx): RetentionPolicy[] =>
  ctx.store.tenantState('exchange.retentionPolicies', () => [
    {
      name: DEFAULT_RETENTION_POLICY,
      guid: randomUUID(),
      isDefault: true,
      retentionPolicyTagLinks: ['1 Month Delete', '1 Week Delete', '1 Year Delete', '5 Year Delete', '6 Month Delete', 'Default 2 year move to archive', 'Junk Email', 'Never Delete', 'Personal 1 year move to archive', 'Personal 5 year move to archive', 'Personal never move to archive', 'Recoverable Items 14 days move to archive'],
      whenCreated: ctx.store.info.createdDateTime,
    },
  ]);

const addressBookPolicies = (ctx: ExoCtx): AddressBookPolicy[] => ctx.store.tenantState('exchange.addressBookPolicies', () => []);

const byName = <T extends { name: string; guid: string }>(list: T[], ref: string): T | undefined => list.find((x) => x.name.toLowerCase() === ref.toLowerCase() || x.guid === ref.toLowerCase());

export function retentionPolicyNamed(ctx: ExoCtx, ref: string): RetentionPolicy {
  const p = byName(retentionPolicies(ctx), ref);
  if (!p) throw notFoundExo(ref, ctx);
  return p;
}

export function addressBookPolicyNamed(ctx: ExoCtx, ref: string): AddressBookPolicy {
  const p = byName(addressBookPolicies(ctx), ref);
  if (!p) throw notFoundExo(ref, ctx);
  return p;
}

const retentionView = (p: RetentionPolicy) => ({ Identity: p.name, Name: p.name, Guid: p.guid, IsDefault: p.isDefault, RetentionPolicyTagLinks: p.retentionPolicyTagLinks, WhenCreated: p.whenCreated });
const abpView = (p: AddressBookPolicy) => ({ Identity: p.name, Name: p.name, Guid: p.guid, AddressLists: p.addressLists, GlobalAddressList: p.globalAddressList, OfflineAddressBook: p.offlineAddressBook, RoomList: p.roomList, WhenCreated: p.whenCreated });

/** The address lists of a new Exchange Online organisation, by the names New-AddressBookPolicy takes. */
const ADDRESS_LISTS = { lists: ['\\All Users', '\\All Contacts', '\\All Groups', '\\All Distribution Lists', '\\Public Folders', '\\Offline Global Address List'], gal: ['\\Default Global Address List'], oab: ['\\Default Offline Address Book'], rooms: ['\\All Rooms'] };

function addressList(ctx: ExoCtx, value: string, known: string[]): string {
  const v = value.startsWith('\\') ? value : `\\${value}`;
  const hit = known.find((k) => k.toLowerCase() === v.toLowerCase());
  if (!hit) throw notFoundExo(value, ctx);
  return hit;
}

const name = (ctx: ExoCtx, p: CmdletParams, taken: { name: string }[]): string => {
  const n = str(p, 'Name', true)!;
  if (n.length > 64) throw invalidParam('Name', `The length of the property is too long. The maximum length is 64 and the length of the value provided is ${n.length}.`);
  if (taken.some((x) => x.name.toLowerCase() === n.toLowerCase())) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ObjectAlreadyExistsException', `The object '${n}' already exists on '${ctx.store.info.initialDomain}'.`);
  return n;
};

// ---- calendar processing ----

const BOOLEANS: [string, keyof CalendarProcessing][] = [
  ['AllowConflicts', 'allowConflicts'],
  ['AllowRecurringMeetings', 'allowRecurringMeetings'],
  ['ScheduleOnlyDuringWorkHours', 'scheduleOnlyDuringWorkHours'],
  ['EnforceCapacity', 'enforceCapacity'],
  ['AllBookInPolicy', 'allBookInPolicy'],
  ['AllRequestInPolicy', 'allRequestInPolicy'],
  ['AddOrganizerToSubject', 'addOrganizerToSubject'],
  ['DeleteComments', 'deleteComments'],
  ['DeleteSubject', 'deleteSubject'],
  ['RemovePrivateProperty', 'removePrivateProperty'],
  ['ProcessExternalMeetingMessages', 'processExternalMeetingMessages'],
  ['AddAdditionalResponse', 'addAdditionalResponse'],
];
const LISTS: [string, 'bookInPolicy' | 'requestInPolicy' | 'resourceDelegates'][] = [
  ['BookInPolicy', 'bookInPolicy'],
  ['RequestInPolicy', 'requestInPolicy'],
  ['ResourceDelegates', 'resourceDelegates'],
];

function calendarView(ctx: ExoCtx, identity: string, c: CalendarProcessing): Record<string, unknown> {
  const out: Record<string, unknown> = { Identity: identity, AutomateProcessing: c.automateProcessing, BookingWindowInDays: c.bookingWindowInDays, MaximumDurationInMinutes: c.maximumDurationInMinutes, AdditionalResponse: c.additionalResponse };
  for (const [param, key] of BOOLEANS) out[param] = c[key];
  for (const [param, key] of LISTS) out[param] = c[key].map((id) => ctx.store.userById(id)?.userPrincipalName ?? id);
  return out;
}

registerCmdlets({
  'Get-RetentionPolicy': {
    params: ['Identity'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      return identity ? [retentionView(retentionPolicyNamed(ctx, identity))] : retentionPolicies(ctx).map(retentionView);
    },
  },
  'New-RetentionPolicy': {
    params: ['Name'],
    area: 'organization',
    run: (ctx, p) => {
      const list = retentionPolicies(ctx);
      const policy: RetentionPolicy = { name: name(ctx, p, list), guid: randomUUID(), isDefault: false, retentionPolicyTagLinks: [], whenCreated: ctx.nowIso };
      list.push(policy);
      ctx.mutated('exchange.createRetentionPolicy', policy.guid);
      return [retentionView(policy)];
    },
  },
  'Get-AddressBookPolicy': {
    params: ['Identity'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      return identity ? [abpView(addressBookPolicyNamed(ctx, identity))] : addressBookPolicies(ctx).map(abpView);
    },
  },
  'New-AddressBookPolicy': {
    params: ['Name', 'AddressLists', 'GlobalAddressList', 'OfflineAddressBook', 'RoomList'],
    area: 'organization',
    run: (ctx, p) => {
      const list = addressBookPolicies(ctx);
      const n = name(ctx, p, list);
      const lists = multi(p, 'AddressLists')?.set ?? [];
      if (!lists.length) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot bind argument to parameter 'AddressLists' because it is null or empty.");
      const policy: AddressBookPolicy = {
        name: n,
        guid: randomUUID(),
        addressLists: lists.map((l) => addressList(ctx, l, ADDRESS_LISTS.lists)),
        globalAddressList: addressList(ctx, str(p, 'GlobalAddressList', true)!, ADDRESS_LISTS.gal),
        offlineAddressBook: addressList(ctx, str(p, 'OfflineAddressBook', true)!, ADDRESS_LISTS.oab),
        roomList: addressList(ctx, str(p, 'RoomList', true)!, ADDRESS_LISTS.rooms),
        whenCreated: ctx.nowIso,
      };
      list.push(policy);
      ctx.mutated('exchange.createAddressBookPolicy', policy.guid);
      return [abpView(policy)];
    },
  },
  'Get-CalendarProcessing': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      return [calendarView(ctx, user.mailNickname, mbx.calendarProcessing)];
    },
  },
  'Set-CalendarProcessing': {
    params: ['Identity', 'AutomateProcessing', 'BookingWindowInDays', 'MaximumDurationInMinutes', 'AdditionalResponse', ...BOOLEANS.map(([param]) => param), ...LISTS.map(([param]) => param)],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const next: CalendarProcessing = structuredClone(mbx.calendarProcessing);
      const automate = str(p, 'AutomateProcessing');
      if (automate !== undefined) {
        const v = (['None', 'AutoUpdate', 'AutoAccept'] as const).find((x) => x.toLowerCase() === automate.toLowerCase());
        if (!v) throw invalidParam('AutomateProcessing', `Cannot convert value "${automate}" to type "Microsoft.Exchange.Data.Storage.Management.CalendarProcessingFlags". Valid values: None, AutoUpdate, AutoAccept.`);
        // "The default value for user mailboxes is AutoUpdate, but you can't change the value on a user mailbox."
        if (mbx.type !== 'RoomMailbox' && mbx.type !== 'EquipmentMailbox' && v !== 'AutoUpdate')
          throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `AutomateProcessing can't be changed on '${user.mailNickname}': it is a ${mbx.type}, and only room and equipment mailboxes process bookings.`);
        next.automateProcessing = v;
      }
      const window = int(p, 'BookingWindowInDays');
      if (window !== undefined) {
        if (window < 0 || window > 1080) throw invalidParam('BookingWindowInDays', `The value ${window} is out of range: a valid value is an integer from 0 through 1080.`);
        next.bookingWindowInDays = window;
      }
      const maxDuration = int(p, 'MaximumDurationInMinutes');
      if (maxDuration !== undefined) {
        if (maxDuration < 0) throw invalidParam('MaximumDurationInMinutes', `The value ${maxDuration} is out of range: a valid value is an integer from 0 through 2147483647.`);
        next.maximumDurationInMinutes = maxDuration;
      }
      for (const [param, key] of BOOLEANS) {
        const v = bool(p, param);
        if (v !== undefined) (next[key] as boolean) = v;
      }
      for (const [param, key] of LISTS) {
        const v = multi(p, param);
        if (v) next[key] = [...new Set((v.set ?? v.add).map((x) => resolveTrustee(ctx, x).id))];
      }
      const extra = str(p, 'AdditionalResponse');
      if (extra !== undefined) next.additionalResponse = extra;
      mbx.calendarProcessing = next;
      ctx.mutated('mailbox.setCalendarProcessing', user.id);
    },
  },
});
