// Handlers of the mail contact and mail user actions (catalog/actions/contacts.ts), through the Exchange
// Online admin API; a mail user's account is created and edited through Microsoft Graph.
import * as c from '../../catalog/actions/contacts.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { PlanContext } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { GONE_NOTE, RESTORABLE_NOTE } from '../../catalog/reversal.ts';
import { change, creation } from './changes.ts';
import { ActionError } from '../../m365/errors.ts';
import { isExchangeError, NOT_FOUND } from '../../m365/exchange.ts';
import { createdByThisStep, deliverSecret, generatePassword, orNotFound, patchUser, profileToGraph, type GraphUser } from './shared.ts';
import { exoDate, orExoNotFound, removeOnce } from './exchange-shared.ts';

interface ExoContact {
  Identity?: string;
  Name: string;
  DisplayName: string;
  Alias?: string;
  ExternalEmailAddress: string;
  EmailAddresses?: string[];
  HiddenFromAddressListsEnabled?: boolean;
  ExternalDirectoryObjectId: string;
  WhenCreated?: string;
}

const bare = (a: string | null | undefined) => (a ?? '').replace(/^smtp:/i, '');
const same = (a: string | null | undefined, b: string | null | undefined) => bare(a).toLowerCase() === bare(b).toLowerCase();
const hashTable = (add: string[], remove: string[]) => ({ '@odata.type': '#Exchange.GenericHashTable', ...(add.length ? { Add: add.map((a) => `smtp:${a}`) } : {}), ...(remove.length ? { Remove: remove.map((a) => `smtp:${a}`) } : {}) });

/** Plans read with the same transports an action uses. */
const readCtx = (ctx: PlanContext) => ctx as unknown as ActionContext;

const findContact = (ctx: ActionContext, ref: string) => orExoNotFound(ctx.exchange.invoke<ExoContact>('Get-MailContact', { Identity: ref }, ctx.signal));

const contactNotFound = (ref: string) => new ActionError(`mail contact ${ref} does not exist`, { code: 'ContactNotFound', hint: 'use the contact\'s external address, name or alias', status: 404 });

async function getContact(ctx: ActionContext, ref: string): Promise<ExoContact> {
  const contact = await findContact(ctx, ref);
  if (!contact) throw contactNotFound(ref);
  return contact;
}

/** Set-Contact parameters, by catalog field. */
const DETAILS = {
  firstName: 'FirstName',
  lastName: 'LastName',
  company: 'Company',
  title: 'Title',
  department: 'Department',
  phone: 'Phone',
  mobilePhone: 'MobilePhone',
  office: 'Office',
  streetAddress: 'StreetAddress',
  city: 'City',
  stateOrProvince: 'StateOrProvince',
  postalCode: 'PostalCode',
  countryOrRegion: 'CountryOrRegion',
} as const;

/** Contact details that differ (Get-Contact): field, Set-Contact parameter, before, after (empty is null). Shared by the handlers and the plans. */
async function detailEdits(ctx: ActionContext, contact: ExoContact, input: Partial<Record<keyof typeof DETAILS, string>>): Promise<Edit[]> {
  const wanted = Object.entries(DETAILS).filter(([field]) => input[field as keyof typeof DETAILS] !== undefined) as [keyof typeof DETAILS, string][];
  if (!wanted.length) return [];
  const current = (await ctx.exchange.invoke<Record<string, string | null>>('Get-Contact', { Identity: contact.ExternalDirectoryObjectId }, ctx.signal))[0] ?? {};
  return wanted.filter(([field, param]) => (current[param] ?? '') !== input[field]).map(([field, param]) => ({ field, param, before: current[param] || null, after: input[field] || null }));
}

/** Sets contact details that differ (Set-Contact); returns the fields changed. */
async function applyDetails(ctx: ActionContext, contact: ExoContact, input: Partial<Record<keyof typeof DETAILS, string>>): Promise<string[]> {
  const edits = await detailEdits(ctx, contact, input);
  if (edits.length) await ctx.exchange.invoke('Set-Contact', { Identity: contact.ExternalDirectoryObjectId, ...Object.fromEntries(edits.map((e) => [e.param, e.after])) }, ctx.signal);
  return edits.map((e) => e.field);
}

/** One property a handler would change: catalog field, cmdlet parameter, before and after. */
interface Edit {
  field: string;
  param: string;
  before: unknown;
  after: unknown;
}

/** Set-MailContact / Set-MailUser edits that differ (shared by the handlers and the plans); addresses as one EmailAddresses hash table. */
function recipientEdits(r: { DisplayName: string; ExternalEmailAddress: string; HiddenFromAddressListsEnabled?: boolean; EmailAddresses?: string[] }, input: { displayName?: string; externalEmailAddress?: string; hiddenFromAddressLists?: boolean; addEmailAddresses: string[]; removeEmailAddresses: string[] }) {
  const edits: Edit[] = [];
  if (input.displayName !== undefined && input.displayName !== r.DisplayName) edits.push({ field: 'displayName', param: 'DisplayName', before: r.DisplayName, after: input.displayName });
  if (input.externalEmailAddress !== undefined && !same(input.externalEmailAddress, r.ExternalEmailAddress))
    edits.push({ field: 'externalEmailAddress', param: 'ExternalEmailAddress', before: bare(r.ExternalEmailAddress), after: input.externalEmailAddress });
  if (input.hiddenFromAddressLists !== undefined && input.hiddenFromAddressLists !== (r.HiddenFromAddressListsEnabled ?? false))
    edits.push({ field: 'hiddenFromAddressLists', param: 'HiddenFromAddressListsEnabled', before: r.HiddenFromAddressListsEnabled ?? false, after: input.hiddenFromAddressLists });
  const has = (a: string) => (r.EmailAddresses ?? []).some((x) => same(x, a));
  const add = input.addEmailAddresses.filter((a) => !has(a));
  const remove = input.removeEmailAddresses.filter(has);
  const desired: Record<string, unknown> = Object.fromEntries(edits.map((e) => [e.param, e.after]));
  if (add.length || remove.length) desired['EmailAddresses'] = hashTable(add, remove);
  const changed = [...edits.map((e) => e.field), ...(add.length || remove.length ? ['emailAddresses'] : [])];
  const rows = (object: string, objectId: string): Change[] => [
    ...edits.map((e) => change(object, e.field, e.before, e.after, { objectId })),
    ...add.map((a) => change(object, `address ${a.toLowerCase()}`, false, true, { objectId })),
    ...remove.map((a) => change(object, `address ${a.toLowerCase()}`, true, false, { objectId })),
  ];
  return { desired, changed, rows };
}

const pickDetails = (input: Record<string, unknown>) => Object.fromEntries(Object.keys(DETAILS).map((k) => [k, input[k]])) as Partial<Record<keyof typeof DETAILS, string>>;

export const contactList = implement(c.contactList, async (input, ctx) => {
  const rows = await ctx.exchange.invoke<ExoContact>('Get-MailContact', { ResultSize: input.max }, ctx.signal);
  return {
    contacts: rows.map((r) => ({ id: r.ExternalDirectoryObjectId, name: r.Name, displayName: r.DisplayName, externalEmailAddress: bare(r.ExternalEmailAddress), hiddenFromAddressLists: r.HiddenFromAddressListsEnabled ?? false })),
  };
});

const contactTaken = (address: string, contact: ExoContact) =>
  new ActionError(`a mail contact with the address ${address} already exists (${contact.Name})`, { code: 'ObjectConflict', hint: 'use "Edit mail contact" to change it' });

export const contactCreate = implement(c.contactCreate, async (input, ctx) => {
  let contact = await findContact(ctx, input.externalEmailAddress);
  const created = !contact;
  if (contact && !createdByThisStep(ctx, exoDate(contact.WhenCreated))) throw contactTaken(input.externalEmailAddress, contact);
  contact ??= (
    await ctx.exchange.invoke<ExoContact>(
      'New-MailContact',
      {
        Name: input.name,
        DisplayName: input.displayName ?? input.name,
        ExternalEmailAddress: input.externalEmailAddress,
        ...(input.alias ? { Alias: input.alias } : {}),
        ...(input.firstName ? { FirstName: input.firstName } : {}),
        ...(input.lastName ? { LastName: input.lastName } : {}),
      },
      ctx.signal,
    )
  )[0]!;
  const extra = input.emailAddresses.filter((a) => !(contact!.EmailAddresses ?? []).some((x) => same(x, a)));
  if (extra.length || input.hiddenFromAddressLists !== (contact.HiddenFromAddressListsEnabled ?? false))
    await ctx.exchange.invoke('Set-MailContact', { Identity: contact.ExternalDirectoryObjectId, ...(extra.length ? { EmailAddresses: hashTable(extra, []) } : {}), HiddenFromAddressListsEnabled: input.hiddenFromAddressLists }, ctx.signal);
  await applyDetails(ctx, contact, pickDetails(input));
  return { id: contact.ExternalDirectoryObjectId, name: contact.Name, externalEmailAddress: bare(contact.ExternalEmailAddress), created };
}, async (input, ctx) => {
  const existing = await findContact(readCtx(ctx), input.externalEmailAddress);
  if (existing) throw contactTaken(input.externalEmailAddress, existing);
  return creation(`mail contact ${input.externalEmailAddress.toLowerCase()}`, {
    name: input.name,
    displayName: input.displayName ?? input.name,
    externalEmailAddress: input.externalEmailAddress,
    alias: input.alias,
    emailAddresses: input.emailAddresses.map((a) => a.toLowerCase()),
    hiddenFromAddressLists: input.hiddenFromAddressLists || undefined,
    ...Object.fromEntries(Object.entries(pickDetails(input)).filter(([, v]) => v)),
  });
});

const contactObject = (contact: ExoContact) => `mail contact ${bare(contact.ExternalEmailAddress).toLowerCase()}`;

export const contactUpdate = implement(c.contactUpdate, async (input, ctx) => {
  const contact = await getContact(ctx, input.contact);
  const { desired, changed } = recipientEdits(contact, input);
  if (changed.length) await ctx.exchange.invoke('Set-MailContact', { Identity: contact.ExternalDirectoryObjectId, ...desired }, ctx.signal);
  changed.push(...(await applyDetails(ctx, contact, pickDetails(input))));
  return { id: contact.ExternalDirectoryObjectId, changed };
}, async (input, ctx) => {
  const contact = await getContact(readCtx(ctx), input.contact);
  const id = contact.ExternalDirectoryObjectId;
  const details = await detailEdits(readCtx(ctx), contact, pickDetails(input));
  return [...recipientEdits(contact, input).rows(contactObject(contact), id), ...details.map((e) => change(contactObject(contact), e.field, e.before, e.after, { objectId: id }))];
});

export const contactDelete = implement(
  c.contactDelete,
  async (input, ctx) =>
    removeOnce(ctx, await findContact(ctx, input.contact), () => contactNotFound(input.contact), (contact) => ctx.exchange.invoke('Remove-MailContact', { Identity: contact.ExternalDirectoryObjectId, Confirm: false }, ctx.signal)),
  async (input, ctx) => {
    const contact = await getContact(readCtx(ctx), input.contact);
    return [change(contactObject(contact), 'exists', true, false, { objectId: contact.ExternalDirectoryObjectId, note: GONE_NOTE })];
  },
);

// ---- mail users ----

interface ExoMailUser {
  Name?: string;
  DisplayName: string;
  UserPrincipalName: string;
  ExternalEmailAddress: string;
  EmailAddresses?: string[];
  HiddenFromAddressListsEnabled?: boolean;
  ExternalDirectoryObjectId: string;
}

const findMailUser = (ctx: ActionContext, ref: string) => orExoNotFound(ctx.exchange.invoke<ExoMailUser>('Get-MailUser', { Identity: ref }, ctx.signal));

const mailUserNotFound = (ref: string) => new ActionError(`mail user ${ref} does not exist`, { code: 'MailUserNotFound', hint: 'use the mail user\'s user principal name; a user with a mailbox is not a mail user', status: 404 });

async function getMailUser(ctx: ActionContext, ref: string): Promise<ExoMailUser> {
  const mu = await findMailUser(ctx, ref);
  if (!mu) throw mailUserNotFound(ref);
  return mu;
}

const accountOf = (ctx: PlanContext, upn: string) =>
  orNotFound(ctx.graph.api(`/users/${encodeURIComponent(upn)}`).select('id,userPrincipalName,createdDateTime').get() as Promise<GraphUser & { createdDateTime?: string }>);
const accountTaken = (upn: string) => new ActionError(`a user ${upn} already exists`, { code: 'ObjectConflict', hint: 'pick another sign-in name; to mail-enable an existing account ask an Exchange administrator' });

export const mailUserCreate = implement(c.mailUserCreate, async (input, ctx) => {
  let account = await accountOf(ctx, input.userPrincipalName);
  const created = !account;
  if (account && !createdByThisStep(ctx, account.createdDateTime)) throw accountTaken(input.userPrincipalName);
  const password = generatePassword();
  if (!account) {
    account = (await ctx.graph.api('/users').post({
      accountEnabled: true,
      displayName: input.displayName,
      mailNickname: input.userPrincipalName.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, ''),
      userPrincipalName: input.userPrincipalName,
      ...(input.givenName ? { givenName: input.givenName } : {}),
      ...(input.surname ? { surname: input.surname } : {}),
      passwordProfile: { password, forceChangePasswordNextSignIn: true },
    })) as GraphUser & { createdDateTime?: string };
  } else if (input.sendPasswordTo) {
    // An earlier attempt created the account, and may not have sent its password: give it a new one to send.
    await ctx.graph.api(`/users/${account.id}`).patch({ passwordProfile: { password, forceChangePasswordNextSignIn: true } });
  }
  const id = account.id;
  let mu = await findMailUser(ctx, id);
  if (!mu) {
    try {
      mu = (await ctx.exchange.invoke<ExoMailUser>('Enable-MailUser', { Identity: input.userPrincipalName, ExternalEmailAddress: input.externalEmailAddress }, ctx.signal))[0]!;
    } catch (err) {
      // Exchange sees a new Entra account a little later than Graph does.
      if (isExchangeError(err, ...NOT_FOUND)) throw new ActionError(`the new account ${input.userPrincipalName} is not visible to Exchange yet; retrying`, { code: 'ReplicationLag', retryable: true, status: 404 });
      throw err;
    }
  }
  const extra = input.emailAddresses.filter((a) => !(mu!.EmailAddresses ?? []).some((x) => same(x, a)));
  if (extra.length) await ctx.exchange.invoke('Set-MailUser', { Identity: id, EmailAddresses: hashTable(extra, []) }, ctx.signal);
  const passwordSentTo = input.sendPasswordTo
    ? await deliverSecret(ctx, {
        to: input.sendPasswordTo,
        from: input.mailFrom,
        subject: `Temporary password for ${input.userPrincipalName}`,
        intro: `The mail user ${input.userPrincipalName} (${input.displayName}) was created. Their temporary password, to be changed at first sign-in:`,
        secret: password,
      })
    : null;
  return { id, userPrincipalName: input.userPrincipalName, externalEmailAddress: bare(mu.ExternalEmailAddress), created, passwordSentTo };
}, async (input, ctx) => {
  if (await accountOf(ctx, input.userPrincipalName)) throw accountTaken(input.userPrincipalName);
  return {
    changes: creation(`mail user ${input.userPrincipalName.toLowerCase()}`, {
      displayName: input.displayName,
      externalEmailAddress: input.externalEmailAddress,
      givenName: input.givenName,
      surname: input.surname,
      emailAddresses: input.emailAddresses.map((a) => a.toLowerCase()),
    }),
    notes: [`the account gets a generated temporary password${input.sendPasswordTo ? `, emailed to ${input.sendPasswordTo}` : ' that nobody is told (reset it to sign in)'}`],
  };
});

const PROFILE_FIELDS = ['givenName', 'surname', 'jobTitle', 'department', 'companyName', 'businessPhone', 'mobilePhone'] as const;
const mailUserObject = (mu: ExoMailUser) => `mail user ${mu.UserPrincipalName.toLowerCase()}`;

export const mailUserUpdate = implement(c.mailUserUpdate, async (input, ctx) => {
  const mu = await getMailUser(ctx, input.mailUser);
  const id = mu.ExternalDirectoryObjectId;
  const { desired, changed } = recipientEdits(mu, input);
  if (changed.length) await ctx.exchange.invoke('Set-MailUser', { Identity: id, ...desired }, ctx.signal);
  const profile = profileToGraph(Object.fromEntries(PROFILE_FIELDS.map((k) => [k, input[k]])));
  if (Object.keys(profile).length) changed.push(...(await patchUser(ctx.graph, id, profile)).changed.map((k) => (k === 'businessPhones' ? 'businessPhone' : k)));
  return { id, changed };
}, async (input, ctx) => {
  const mu = await getMailUser(readCtx(ctx), input.mailUser);
  const id = mu.ExternalDirectoryObjectId;
  const rows = recipientEdits(mu, input).rows(mailUserObject(mu), id);
  const asked = PROFILE_FIELDS.filter((k) => input[k] !== undefined);
  if (asked.length) {
    const account = (await ctx.graph.api(`/users/${id}`).select(asked.map((k) => (k === 'businessPhone' ? 'businessPhones' : k)).join(',')).get()) as Record<string, unknown>;
    for (const k of asked) {
      const before = k === 'businessPhone' ? ((account['businessPhones'] as string[] | undefined)?.[0] ?? null) : (account[k] ?? null);
      if ((before ?? '') !== input[k]) rows.push(change(mailUserObject(mu), k, before, input[k] || null, { objectId: id }));
    }
  }
  return rows;
});

export const mailUserDelete = implement(
  c.mailUserDelete,
  async (input, ctx) =>
    removeOnce(ctx, await findMailUser(ctx, input.mailUser), () => mailUserNotFound(input.mailUser), (mu) => ctx.exchange.invoke('Remove-MailUser', { Identity: mu.ExternalDirectoryObjectId, Confirm: false }, ctx.signal)),
  async (input, ctx) => {
    const mu = await getMailUser(readCtx(ctx), input.mailUser);
    return [change(mailUserObject(mu), 'exists', true, false, { objectId: mu.ExternalDirectoryObjectId, note: `${RESTORABLE_NOTE} (with its account)` })];
  },
);
