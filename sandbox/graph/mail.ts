// Outlook mail: POST /users/{id}/sendMail delivers into the tenant's own mailboxes (inbox of each
// recipient who has one, members of a group address included) and keeps a copy in Sent Items;
// /messages and /mailFolders/{folder}/messages read them back; inbox rules (messageRules).
// Every sent message is also kept in the tenant's sent-mail log (admin API: sentMail()).
import { randomBytes, randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import { idByte } from '../derive.ts';
import { mailboxOf, type Mailbox } from '../mailboxes.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { Reply } from '../types.ts';
import type { TenantStore, User } from '../store.ts';
import { bodyObject, collection, entity, odataContext } from './common.ts';

const denied = (): GraphError => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
const outlook = { workload: 'outlook' as const, denied };

const MAIL_READ = ['Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'];
const RULES_READ = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
const RULES_WRITE = ['MailboxSettings.ReadWrite'];

interface Recipient {
  emailAddress: { name?: string; address: string };
}

export interface Message {
  id: string;
  folder: 'inbox' | 'sentitems';
  createdDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  importance: 'low' | 'normal' | 'high';
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  internetMessageId: string;
  conversationId: string;
  isRead: boolean;
  /** Extended properties the sender set (kept on the sender's Sent Items copy); returned only through $expand, found by $filter. */
  singleValueExtendedProperties?: ExtendedProperty[];
}

/** A single-value extended property: id "{type} {guid} Name {name}" or "{type} 0x{tag}", and its value as a string. */
export interface ExtendedProperty {
  id: string;
  value: string;
}

const EXTENDED_ID = /^(String|Integer|Boolean|SystemTime|Long|Double|Binary|CLSID|Short|Currency|ApplicationTime|Float|Object) (\{[0-9a-f-]{36}\} (Name \S+|Id 0x[0-9a-f]{1,4})|0x[0-9a-f]{1,4})$/i;

function extendedProperties(raw: unknown): ExtendedProperty[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new GraphError(400, 'RequestBodyRead', "Invalid value for property 'singleValueExtendedProperties'.");
  return raw.map((p) => {
    const { id, value } = (p ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !EXTENDED_ID.test(id)) throw new GraphError(400, 'ErrorInvalidExtendedPropertyValue', `The extended property id '${String(id)}' is not valid.`);
    if (typeof value !== 'string') throw new GraphError(400, 'ErrorInvalidExtendedPropertyValue', `The value of extended property '${id}' must be a string.`);
    return { id, value };
  });
}

/** One sendMail as the tenant saw it: who sent what to whom, and which mailboxes received it. */
export interface SentMail {
  id: string;
  sentDateTime: string;
  appId: string;
  from: string;
  subject: string;
  body: { contentType: string; content: string };
  importance: string;
  toRecipients: string[];
  ccRecipients: string[];
  bccRecipients: string[];
  /** Tenant users whose inbox received a copy. */
  deliveredTo: string[];
  /** Addresses outside the tenant (not delivered anywhere; the sandbox sends no real mail). */
  external: string[];
  internetMessageId: string;
}

export const sentMailLog = (store: TenantStore): SentMail[] => store.tenantState<SentMail[]>('sentMail', () => []);
const messagesOf = (store: TenantStore, user: User): Message[] => store.userState<Message[]>(user.id, 'messages', () => []);

const FOLDERS = { inbox: 'Inbox', sentitems: 'Sent Items' } as const;
type FolderName = keyof typeof FOLDERS;
const folderId = (user: User, folder: FolderName): string => `AAMkA${Buffer.from(`${user.id}:${folder}`).toString('base64url')}`;

/** The user and mailbox an Outlook URL names, with Outlook's own 404s. */
function mailUser(ctx: Ctx): { user: User; mailbox: Mailbox } {
  const ref = ctx.params['id']!;
  const user = ctx.store.findUser(ref);
  if (!user) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${ref}' is invalid.`);
  const mailbox = mailboxOf(ctx.store, user);
  if (!mailbox) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  return { user, mailbox };
}

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function recipients(raw: unknown, field: string): Recipient[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new GraphError(400, 'RequestBodyRead', `Invalid value for property '${field}'.`);
  return raw.map((r) => {
    const address = (r as Recipient | null)?.emailAddress?.address;
    if (typeof address !== 'string' || !ADDRESS.test(address)) {
      throw new GraphError(400, 'ErrorInvalidRecipients', `At least one recipient isn't valid., Recipient '${String(address)}' isn't resolved. All recipients must be resolved before a message can be submitted.`);
    }
    const name = (r as Recipient).emailAddress.name;
    return { emailAddress: { ...(name ? { name } : {}), address } };
  });
}

/** Tenant users with a mailbox that an address reaches: the user, or a group's members. */
function resolveMailboxes(store: TenantStore, address: string): User[] | undefined {
  const owner = store.addressOwner(address);
  if (!owner) return undefined;
  const user = store.userById(owner);
  if (user) return mailboxOf(store, user) ? [user] : [];
  if (!store.groupById(owner)) return undefined;
  return store
    .transitiveMembers(owner)
    .map((id) => store.userById(id))
    .filter((u): u is User => u !== undefined && mailboxOf(store, u) !== undefined);
}

function sendMail(ctx: Ctx, sender: User): SentMail {
  const body = bodyObject(ctx);
  const m = body['message'];
  if (!m || typeof m !== 'object') throw new GraphError(400, 'ErrorInvalidParameter', "The value of the parameter 'Message' is empty.");
  const msg = m as Record<string, unknown>;
  const to = recipients(msg['toRecipients'], 'toRecipients');
  const cc = recipients(msg['ccRecipients'], 'ccRecipients');
  const bcc = recipients(msg['bccRecipients'], 'bccRecipients');
  const extended = extendedProperties(msg['singleValueExtendedProperties']);
  if (!to.length && !cc.length && !bcc.length) throw new GraphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients.");
  const rawBody = (msg['body'] ?? {}) as { contentType?: unknown; content?: unknown };
  const contentType = String(rawBody.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text';
  const importance = String(msg['importance'] ?? 'normal').toLowerCase();
  if (!['low', 'normal', 'high'].includes(importance)) throw new GraphError(400, 'RequestBodyRead', `Invalid value '${importance}' for property 'importance'.`);
  const from: Recipient = { emailAddress: { name: sender.displayName, address: sender.mail ?? sender.userPrincipalName } };
  const base = {
    createdDateTime: ctx.nowIso,
    receivedDateTime: ctx.nowIso,
    sentDateTime: ctx.nowIso,
    subject: typeof msg['subject'] === 'string' ? msg['subject'] : '',
    body: { contentType, content: typeof rawBody.content === 'string' ? rawBody.content : '' } as Message['body'],
    importance: importance as Message['importance'],
    from,
    toRecipients: to,
    ccRecipients: cc,
    internetMessageId: `<${randomUUID().replace(/-/g, '').toUpperCase()}@${ctx.store.info.initialDomain.replace('.onmicrosoft.com', '')}.prod.outlook.com>`,
    conversationId: `AAQk${randomBytes(24).toString('base64url')}`,
  };
  const delivered = new Map<string, User>();
  const external: string[] = [];
  for (const r of [...to, ...cc, ...bcc]) {
    const users = resolveMailboxes(ctx.store, r.emailAddress.address);
    if (users === undefined) external.push(r.emailAddress.address);
    for (const u of users ?? []) delivered.set(u.id, u);
  }
  for (const u of delivered.values()) messagesOf(ctx.store, u).push({ ...base, id: newMessageId(), folder: 'inbox', bccRecipients: [], isRead: false });
  if (body['saveToSentItems'] !== false) messagesOf(ctx.store, sender).push({ ...base, id: newMessageId(), folder: 'sentitems', bccRecipients: bcc, isRead: true, ...(extended.length ? { singleValueExtendedProperties: extended } : {}) });
  const record: SentMail = {
    id: randomUUID(),
    sentDateTime: ctx.nowIso,
    appId: ctx.caller.appId,
    from: from.emailAddress.address,
    subject: base.subject,
    body: base.body,
    importance,
    toRecipients: to.map((r) => r.emailAddress.address),
    ccRecipients: cc.map((r) => r.emailAddress.address),
    bccRecipients: bcc.map((r) => r.emailAddress.address),
    deliveredTo: [...delivered.keys()],
    external,
    internetMessageId: base.internetMessageId,
  };
  const log = sentMailLog(ctx.store);
  log.push(record);
  if (log.length > 10_000) log.splice(0, log.length - 10_000);
  return record;
}

const newMessageId = (): string => `AAMkAD${randomBytes(30).toString('base64url')}`;

/** Puts a message that arrived from outside (e.g. released from quarantine) into a user's inbox. */
export function deliverToInbox(store: TenantStore, user: User, m: { from: string; subject: string; body: string; receivedDateTime: string; internetMessageId: string }): void {
  const from: Recipient = { emailAddress: { address: m.from } };
  messagesOf(store, user).push({
    id: newMessageId(),
    folder: 'inbox',
    createdDateTime: m.receivedDateTime,
    receivedDateTime: m.receivedDateTime,
    sentDateTime: m.receivedDateTime,
    subject: m.subject,
    body: { contentType: 'text', content: m.body },
    importance: 'normal',
    from,
    toRecipients: [{ emailAddress: { address: user.mail ?? user.userPrincipalName } }],
    ccRecipients: [],
    bccRecipients: [],
    internetMessageId: m.internetMessageId,
    conversationId: `AAQk${randomBytes(24).toString('base64url')}`,
    isRead: false,
  });
}

const MESSAGE_TYPE: TypeInfo = {
  name: 'microsoft.graph.message',
  properties: new Set([
    'id', 'createdDateTime', 'lastModifiedDateTime', 'receivedDateTime', 'sentDateTime', 'hasAttachments', 'internetMessageId', 'subject', 'bodyPreview',
    'importance', 'parentFolderId', 'conversationId', 'isRead', 'isDraft', 'body', 'sender', 'from', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'flag',
    // Filterable (singleValueExtendedProperties/any(ep: ep/id eq '...' and ep/value eq '...')), never in an answer without $expand.
    'singleValueExtendedProperties',
  ]),
  maxTop: 1000,
};

function messageView(user: User, m: Message): Record<string, unknown> {
  const text = m.body.contentType === 'html' ? m.body.content.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() : m.body.content;
  return {
    '@odata.etag': `W/"${m.id.slice(-12)}"`,
    id: m.id,
    createdDateTime: m.createdDateTime,
    lastModifiedDateTime: m.createdDateTime,
    receivedDateTime: m.receivedDateTime,
    sentDateTime: m.sentDateTime,
    hasAttachments: false,
    internetMessageId: m.internetMessageId,
    subject: m.subject,
    bodyPreview: text.slice(0, 255),
    importance: m.importance,
    parentFolderId: folderId(user, m.folder),
    conversationId: m.conversationId,
    isRead: m.isRead,
    isDraft: false,
    body: m.body,
    sender: m.from,
    from: m.from,
    toRecipients: m.toRecipients,
    ccRecipients: m.ccRecipients,
    bccRecipients: m.bccRecipients,
    replyTo: [],
    flag: { flagStatus: 'notFlagged' },
  };
}

/** Newest first, as Outlook lists messages. */
const newestFirst = (list: Message[]): Message[] => [...list].reverse();

function folderOf(ctx: Ctx, user: User): FolderName {
  const ref = ctx.params['folder']!.toLowerCase();
  for (const f of Object.keys(FOLDERS) as FolderName[]) if (ref === f || ref === folderId(user, f).toLowerCase()) return f;
  throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

// ---- inbox rules ----

export interface MessageRule {
  id: string;
  displayName: string;
  sequence: number;
  isEnabled: boolean;
  hasError: boolean;
  isReadOnly: boolean;
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>;
  exceptions: Record<string, unknown>;
}

/** Rule ids look like AQAAAJ5dZqA= in Outlook; kept URL-safe here. */
const ruleId = (): string => `AQAAA${randomBytes(6).toString('base64url')}=`;

/** Seeded users: a few tidy-up rules, and a very few suspicious forwards (what investigations look for). */
function seedRules(user: User): MessageRule[] {
  if (user._password !== null) return [];
  const roll = idByte(user.id, 5);
  if (roll < 5) {
    return [{ id: `AQAAA${user.id.slice(0, 6)}=`, displayName: '.', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: { bodyOrSubjectContains: ['invoice', 'payment', 'wire'] }, actions: { forwardTo: [{ emailAddress: { name: 'archive', address: `${user.mailNickname.replace('.', '')}.archive@proton.example` } }], markAsRead: true, moveToFolder: 'AQMkADeletedItems', stopProcessingRules: true }, exceptions: {} }];
  }
  if (roll < 70) {
    return [{ id: `AQAAB${user.id.slice(0, 6)}=`, displayName: 'Newsletters', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: { senderContains: ['newsletter', 'noreply'] }, actions: { moveToFolder: 'AQMkANewsletters', stopProcessingRules: false }, exceptions: {} }];
  }
  return [];
}

const rulesOf = (store: TenantStore, user: User): MessageRule[] => store.userState(user.id, 'messageRules', () => seedRules(user));

const RULE_TYPE: TypeInfo = {
  name: 'microsoft.graph.messageRule',
  properties: new Set(['id', 'displayName', 'sequence', 'isEnabled', 'hasError', 'isReadOnly', 'conditions', 'actions', 'exceptions']),
};

const RULE_ACTIONS = new Set(['assignCategories', 'copyToFolder', 'delete', 'forwardAsAttachmentTo', 'forwardTo', 'markAsRead', 'markImportance', 'moveToFolder', 'permanentDelete', 'redirectTo', 'stopProcessingRules']);

function applyRule(rule: MessageRule, body: Record<string, unknown>, creating: boolean): void {
  const known = new Set(['displayName', 'sequence', 'isEnabled', 'conditions', 'actions', 'exceptions', '@odata.type']);
  for (const k of Object.keys(body)) if (!known.has(k)) throw new GraphError(400, 'RequestBodyRead', `The property '${k}' does not exist on type 'microsoft.graph.messageRule'.`);
  if (creating || 'displayName' in body) {
    if (typeof body['displayName'] !== 'string' || !body['displayName']) throw new GraphError(400, 'ErrorInvalidRequest', "The 'displayName' property is required.");
    rule.displayName = body['displayName'];
  }
  if (creating || 'sequence' in body) {
    const seq = body['sequence'];
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) throw new GraphError(400, 'ErrorInvalidRequest', "The 'sequence' property must be an integer greater than zero.");
    rule.sequence = seq;
  }
  if ('isEnabled' in body) rule.isEnabled = body['isEnabled'] === true;
  for (const key of ['conditions', 'exceptions', 'actions'] as const) {
    if (!(key in body)) continue;
    const v = body[key];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new GraphError(400, 'RequestBodyRead', `Invalid value for property '${key}'.`);
    if (key === 'actions') for (const a of Object.keys(v)) if (!RULE_ACTIONS.has(a)) throw new GraphError(400, 'RequestBodyRead', `The property '${a}' does not exist on type 'microsoft.graph.messageRuleActions'.`);
    rule[key] = v as Record<string, unknown>;
  }
  if (creating && !Object.keys(rule.actions).length) throw new GraphError(400, 'ErrorInvalidRequest', 'A rule must have at least one action.');
}

function requireRule(ctx: Ctx, user: User): MessageRule {
  const rule = rulesOf(ctx.store, user).find((r) => r.id === ctx.params['ruleId']);
  if (!rule) throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  return rule;
}

function messageRoutes(): RouteDef[] {
  const list = (folder: boolean): RouteDef => ({
    method: 'GET',
    path: folder ? '/users/:id/mailFolders/:folder/messages' : '/users/:id/messages',
    permissions: MAIL_READ,
    ...outlook,
    handler: (ctx) => {
      const { user } = mailUser(ctx);
      const f = folder ? folderOf(ctx, user) : undefined;
      const items = newestFirst(messagesOf(ctx.store, user)).filter((m) => !f || m.folder === f);
      // Mail.ReadBasic.All covers no extended properties.
      if (/singleValueExtendedProperties/i.test(ctx.query.get('$filter') ?? '') && !['Mail.Read', 'Mail.ReadWrite'].some((r) => ctx.caller.roles.has(r))) throw denied();
      // Outlook pages messages 10 at a time unless $top says otherwise.
      if (!ctx.query.has('$top') && !ctx.query.has('top')) ctx.query.set('$top', '10');
      return collection(ctx, items, MESSAGE_TYPE, (m) => messageView(user, m), `users('${user.id}')/messages`);
    },
  });
  return [
    list(false),
    list(true),
    {
      method: 'GET',
      path: '/users/:id/messages/:messageId',
      permissions: MAIL_READ,
      ...outlook,
      handler: (ctx) => {
        const { user } = mailUser(ctx);
        const m = messagesOf(ctx.store, user).find((x) => x.id === ctx.params['messageId']);
        if (!m) throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        return entity(ctx, messageView(user, m), MESSAGE_TYPE, `users('${user.id}')/messages/$entity`);
      },
    },
    {
      method: 'GET',
      path: '/users/:id/mailFolders',
      permissions: MAIL_READ,
      ...outlook,
      handler: (ctx) => {
        const { user } = mailUser(ctx);
        const messages = messagesOf(ctx.store, user);
        const folders = (Object.keys(FOLDERS) as FolderName[]).map((f) => {
          const inFolder = messages.filter((m) => m.folder === f);
          return { id: folderId(user, f), displayName: FOLDERS[f], parentFolderId: `AAMkA${Buffer.from(`${user.id}:root`).toString('base64url')}`, childFolderCount: 0, unreadItemCount: inFolder.filter((m) => !m.isRead).length, totalItemCount: inFolder.length, isHidden: false };
        });
        return collection(ctx, folders, { name: 'microsoft.graph.mailFolder', properties: new Set(['id', 'displayName', 'parentFolderId', 'childFolderCount', 'unreadItemCount', 'totalItemCount', 'isHidden']) }, (f) => f, `users('${user.id}')/mailFolders`);
      },
    },
    {
      method: 'POST',
      path: '/users/:id/sendMail',
      permissions: ['Mail.Send'],
      ...outlook,
      handler: (ctx) => {
        const { user } = mailUser(ctx);
        const sent = sendMail(ctx, user);
        ctx.mutated('mail.send', user.id, ...sent.deliveredTo);
        return { status: 202 };
      },
    },
  ];
}

function ruleRoutes(): RouteDef[] {
  const base = '/users/:id/mailFolders/:folder/messageRules';
  const inbox = (ctx: Ctx): User => {
    const { user } = mailUser(ctx);
    if (folderOf(ctx, user) !== 'inbox') throw new GraphError(400, 'ErrorInvalidRequest', 'Rules are only supported on the Inbox folder.');
    return user;
  };
  const ruleWrite = (method: 'POST' | 'PATCH' | 'DELETE', path: string, op: string, act: (ctx: Ctx, user: User) => Reply): RouteDef => ({
    method,
    path,
    permissions: RULES_WRITE,
    ...outlook,
    handler: (ctx) => {
      const user = inbox(ctx);
      const reply = act(ctx, user);
      ctx.mutated(op, user.id);
      return reply;
    },
  });
  const ruleBody = (ctx: Ctx, user: User, r: MessageRule) => ({ '@odata.context': odataContext(ctx, `users('${user.id}')/mailFolders('inbox')/messageRules/$entity`), ...r });
  return [
    {
      method: 'GET',
      path: base,
      permissions: RULES_READ,
      ...outlook,
      handler: (ctx) => {
        const user = inbox(ctx);
        return collection(ctx, [...rulesOf(ctx.store, user)].sort((a, b) => a.sequence - b.sequence), RULE_TYPE, (r) => ({ ...r }), `users('${user.id}')/mailFolders('inbox')/messageRules`);
      },
    },
    {
      method: 'GET',
      path: `${base}/:ruleId`,
      permissions: RULES_READ,
      ...outlook,
      handler: (ctx) => {
        const user = inbox(ctx);
        return { status: 200, body: ruleBody(ctx, user, requireRule(ctx, user)) };
      },
    },
    ruleWrite('POST', base, 'mailbox.createInboxRule', (ctx, user) => {
      const rule: MessageRule = { id: ruleId(), displayName: '', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: {}, actions: {}, exceptions: {} };
      applyRule(rule, bodyObject(ctx), true);
      rulesOf(ctx.store, user).push(rule);
      return { status: 201, body: ruleBody(ctx, user, rule) };
    }),
    ruleWrite('PATCH', `${base}/:ruleId`, 'mailbox.updateInboxRule', (ctx, user) => {
      const rule = requireRule(ctx, user);
      const next = structuredClone(rule);
      applyRule(next, bodyObject(ctx), false);
      Object.assign(rule, next);
      return { status: 200, body: ruleBody(ctx, user, rule) };
    }),
    ruleWrite('DELETE', `${base}/:ruleId`, 'mailbox.deleteInboxRule', (ctx, user) => {
      const rules = rulesOf(ctx.store, user);
      rules.splice(rules.indexOf(requireRule(ctx, user)), 1);
      return { status: 204 };
    }),
  ];
}

export function registerMailRoutes(router: Router): void {
  router.add(...messageRoutes(), ...ruleRoutes());
}
