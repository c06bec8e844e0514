// Exchange Online mailbox state, shared by Graph (mailboxSettings) and the Exchange admin API. A
// licensed user (an Exchange service plan) has a user mailbox; shared, room and equipment
// mailboxes need no licence. State is created on first use, so seeding 100,000 users stays cheap.
import { hasMailboxPlan } from './licensing.ts';
import { OFFICES } from './names.ts';
import type { TenantStore, User } from './store.ts';

export type MailboxType = 'UserMailbox' | 'SharedMailbox' | 'RoomMailbox' | 'EquipmentMailbox';

export interface FolderPermission {
  /** A user id, or 'Default' / 'Anonymous'. */
  user: string;
  accessRights: string[];
  /** Calendar delegates: Delegate, CanViewPrivateItems (Exchange Online only). */
  sharingPermissionFlags?: string[];
}

/** Set-CalendarProcessing: how a resource mailbox answers meeting requests (booking). */
export interface CalendarProcessing {
  automateProcessing: 'None' | 'AutoUpdate' | 'AutoAccept';
  allowConflicts: boolean;
  bookingWindowInDays: number;
  maximumDurationInMinutes: number;
  allowRecurringMeetings: boolean;
  scheduleOnlyDuringWorkHours: boolean;
  enforceCapacity: boolean;
  allBookInPolicy: boolean;
  allRequestInPolicy: boolean;
  /** User ids. */
  bookInPolicy: string[];
  requestInPolicy: string[];
  resourceDelegates: string[];
  addOrganizerToSubject: boolean;
  deleteComments: boolean;
  deleteSubject: boolean;
  removePrivateProperty: boolean;
  processExternalMeetingMessages: boolean;
  addAdditionalResponse: boolean;
  additionalResponse: string | null;
}

export interface MobileDevice {
  id: string;
  friendlyName: string;
  deviceModel: string;
  deviceOS: string;
  deviceType: string;
  firstSyncTime: string;
  wipeStatus: string | null;
  /** When Clear-MobileDevice last asked for a wipe (Get-MobileDeviceStatistics' DeviceWipeRequestTime / AccountOnlyDeviceWipeRequestTime). */
  wipeRequestTime?: string | null;
}

export interface AutoReply {
  state: 'Disabled' | 'Enabled' | 'Scheduled';
  internalMessage: string;
  externalMessage: string;
  externalAudience: 'None' | 'Known' | 'All';
  startTime: string | null;
  endTime: string | null;
}

export interface Mailbox {
  type: MailboxType;
  exchangeGuid: string;
  createdDateTime: string;
  hiddenFromAddressLists: boolean;
  forwardingSmtpAddress: string | null;
  forwardingAddress: string | null;
  deliverToMailboxAndForward: boolean;
  grantSendOnBehalfTo: string[];
  fullAccess: { user: string; autoMapping: boolean }[];
  /** Mailbox permissions other than FullAccess (ExternalAccount, DeleteItem, ReadPermission, ChangePermission, ChangeOwner). */
  otherRights: { user: string; rights: string[] }[];
  sendAs: string[];
  litigationHoldEnabled: boolean;
  litigationHoldDuration: string;
  archiveGuid: string | null;
  /** Set-Mailbox -ArchiveName / Enable-Mailbox -ArchiveName; null = Exchange's default name. */
  archiveName: string | null;
  retentionPolicy: string | null;
  addressBookPolicy: string | null;
  mailTip: string | null;
  resourceCapacity: number | null;
  auditLogAgeLimit: string;
  /** Set-Clutter (the older low-priority mail sorter, off unless turned on). */
  clutterEnabled: boolean;
  calendarProcessing: CalendarProcessing;
  quotas: { issueWarningQuota: string; prohibitSendQuota: string; prohibitSendReceiveQuota: string };
  auditEnabled: boolean;
  autoReply: AutoReply;
  cas: { owaEnabled: boolean; activeSyncEnabled: boolean; popEnabled: boolean; imapEnabled: boolean; mapiEnabled: boolean; ewsEnabled: boolean; smtpClientAuthenticationDisabled: boolean | null };
  settings: { timeZone: string; language: string; dateFormat: string; timeFormat: string; workingHours: { daysOfWeek: string[]; startTime: string; endTime: string } };
  folderPermissions: Record<string, FolderPermission[]>;
  mobileDevices: MobileDevice[];
  itemCount: number;
  totalItemSizeMB: number;
}

const GB = 1024 ** 3;
export const formatSize = (bytes: number): string => {
  const gb = bytes / GB;
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB (${bytes.toLocaleString('en-US')} bytes)`;
};

function guidFrom(id: string, salt: string): string {
  const hex = (id.replace(/-/g, '') + salt).split('').reverse().join('').slice(0, 32).padEnd(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const isResource = (type: MailboxType): boolean => type === 'RoomMailbox' || type === 'EquipmentMailbox';

export function defaultCalendarProcessing(type: MailboxType): CalendarProcessing {
  return {
    // Exchange Online: resource mailboxes created since November 2018 auto-accept; user mailboxes AutoUpdate.
    automateProcessing: isResource(type) ? 'AutoAccept' : 'AutoUpdate',
    allowConflicts: false,
    bookingWindowInDays: 180,
    maximumDurationInMinutes: 1440,
    allowRecurringMeetings: true,
    scheduleOnlyDuringWorkHours: false,
    enforceCapacity: false,
    allBookInPolicy: true,
    allRequestInPolicy: false,
    bookInPolicy: [],
    requestInPolicy: [],
    resourceDelegates: [],
    addOrganizerToSubject: true,
    deleteComments: true,
    deleteSubject: true,
    removePrivateProperty: true,
    processExternalMeetingMessages: false,
    addAdditionalResponse: false,
    additionalResponse: null,
  };
}

/** Fields added after the first mailboxes were stored: filled in on read, so saved state keeps working. */
function upgrade(mbx: Mailbox): Mailbox {
  const m = mbx as Partial<Mailbox> & Mailbox;
  m.otherRights ??= [];
  m.archiveName ??= null;
  if (m.retentionPolicy === undefined) m.retentionPolicy = DEFAULT_RETENTION_POLICY;
  m.addressBookPolicy ??= null;
  m.mailTip ??= null;
  m.resourceCapacity ??= null;
  m.auditLogAgeLimit ??= '90.00:00:00';
  m.clutterEnabled ??= false;
  m.calendarProcessing ??= defaultCalendarProcessing(m.type);
  return m;
}

/** The retention policy Exchange Online gives every new mailbox. */
export const DEFAULT_RETENTION_POLICY = 'Default MRM Policy';

function newMailbox(user: User, type: MailboxType): Mailbox {
  const office = OFFICES.find((o) => o.officeLocation === user.officeLocation) ?? OFFICES[0]!;
  const seeded = user._password === null;
  const roll = parseInt(user.id.slice(2, 4), 16);
  return {
    type,
    exchangeGuid: guidFrom(user.id, 'e1'),
    createdDateTime: user.createdDateTime,
    hiddenFromAddressLists: false,
    forwardingSmtpAddress: null,
    forwardingAddress: null,
    deliverToMailboxAndForward: false,
    grantSendOnBehalfTo: [],
    fullAccess: [],
    otherRights: [],
    sendAs: [],
    litigationHoldEnabled: false,
    litigationHoldDuration: 'Unlimited',
    archiveGuid: null,
    archiveName: null,
    retentionPolicy: DEFAULT_RETENTION_POLICY,
    addressBookPolicy: null,
    mailTip: null,
    resourceCapacity: null,
    auditLogAgeLimit: '90.00:00:00',
    clutterEnabled: false,
    calendarProcessing: defaultCalendarProcessing(type),
    quotas: { issueWarningQuota: formatSize(49 * GB), prohibitSendQuota: formatSize(49.5 * GB), prohibitSendReceiveQuota: formatSize(50 * GB) },
    auditEnabled: true,
    autoReply: { state: 'Disabled', internalMessage: '', externalMessage: '', externalAudience: 'All', startTime: null, endTime: null },
    cas: { owaEnabled: true, activeSyncEnabled: true, popEnabled: true, imapEnabled: true, mapiEnabled: true, ewsEnabled: true, smtpClientAuthenticationDisabled: null },
    settings: {
      timeZone: office.timeZone,
      language: user.preferredLanguage ?? 'en-US',
      dateFormat: user.preferredLanguage === 'en-US' ? 'M/d/yyyy' : 'dd/MM/yyyy',
      timeFormat: user.preferredLanguage === 'en-US' ? 'h:mm tt' : 'HH:mm',
      workingHours: { daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], startTime: '08:00:00.0000000', endTime: '17:00:00.0000000' },
    },
    folderPermissions: {
      Calendar: [
        { user: 'Default', accessRights: ['AvailabilityOnly'] },
        { user: 'Anonymous', accessRights: ['None'] },
      ],
      Contacts: [
        { user: 'Default', accessRights: ['None'] },
        { user: 'Anonymous', accessRights: ['None'] },
      ],
    },
    mobileDevices:
      seeded && roll < 150
        ? [
            {
              id: guidFrom(user.id, 'd1'),
              friendlyName: roll % 2 ? 'iPhone' : 'Pixel 8',
              deviceModel: roll % 2 ? 'iPhone15,2' : 'Pixel 8',
              deviceOS: roll % 2 ? 'iOS 17.5' : 'Android 14',
              deviceType: roll % 2 ? 'Outlook' : 'Android',
              firstSyncTime: user.createdDateTime,
              wipeStatus: null,
            },
          ]
        : [],
    itemCount: seeded ? 500 + roll * 37 : 0,
    totalItemSizeMB: seeded ? 50 + roll * 11 : 0,
  };
}

/**
 * The user's mailbox, or undefined when the user has none: a user mailbox comes with an Exchange
 * plan; once it exists it survives licence removal (Exchange's grace period) and type conversions.
 * `persist: false` reads a licensed user's default mailbox without storing it (listing 100,000 users).
 */
export function mailboxOf(store: TenantStore, user: User, persist = true): Mailbox | undefined {
  const existing = store.perUser.get(user.id)?.['mailbox'] as Mailbox | undefined;
  if (existing) return upgrade(existing);
  if (!hasMailboxPlan(user)) return undefined;
  return persist ? store.userState(user.id, 'mailbox', () => newMailbox(user, 'UserMailbox')) : newMailbox(user, 'UserMailbox');
}

/** A mailbox that needs no licence (shared, room, equipment) for a user object. */
export function createUnlicensedMailbox(store: TenantStore, user: User, type: MailboxType): Mailbox {
  const mbx = newMailbox(user, type);
  store.userState(user.id, 'mailbox', () => mbx);
  return mbx;
}
