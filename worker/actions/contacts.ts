// Handlers of the mail contact and mail user actions (catalog/actions/contacts.ts), through the Exchange
// Online admin API; a mail user's account is created and edited through Microsoft Graph.
import * as c from '../../catalog/actions/contacts.ts';
import { implement, type ActionContext } from '../activity.ts';
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

/** Sets contact details that differ (Set-Contact); returns the fields changed. */
async function applyDetails(ctx: ActionContext, contact: ExoContact, input: Partial<Record<keyof typeof DETAILS, string>>): Promise<string[]> {
  const wanted = Object.entries(DETAILS).filter(([field]) => input[field as keyof typeof DETAILS] !== undefined) as [keyof typeof DETAILS, string][];
  if (!wanted.length) return [];
  const current = (await ctx.exchange.invoke<Record<string, string | null>>('Get-Contact', { Identity: contact.ExternalDirectoryObjectId }, ctx.signal))[0] ?? {};
  const desired: Record<string, string | null> = {};
  const changed: string[] = [];
  for (const [field, param] of wanted) {
    const v = input[field]!;
    if ((current[param] ?? '') === v) continue;
    desired[param] = v || null;
    changed.push(field);
  }
  if (changed.length) await ctx.exchange.invoke('Set-Contact', { Identity: contact.ExternalDirectoryObjectId, ...desired }, ctx.signal);
  return changed;
}

const pickDetails = (input: Record<string, unknown>) => Object.fromEntries(Object.keys(DETAILS).map((k) => [k, input[k]])) as Partial<Record<keyof typeof DETAILS, string>>;

export const contactList = implement(c.contactList, async (input, ctx) => {
  const rows = await ctx.exchange.invoke<ExoContact>('Get-MailContact', { ResultSize: input.max }, ctx.signal);
  return {
    contacts: rows.map((r) => ({ id: r.ExternalDirectoryObjectId, name: r.Name, displayName: r.DisplayName, externalEmailAddress: bare(r.ExternalEmailAddress), hiddenFromAddressLists: r.HiddenFromAddressListsEnabled ?? false })),
  };
});

export const contactCreate = implement(c.contactCreate, async (input, ctx) => {
  let contact = await findContact(ctx, input.externalEmailAddress);
  const created = !contact;
  if (contact && !createdByThisStep(ctx, exoDate(contact.WhenCreated)))
    throw new ActionError(`a mail contact with the address ${input.externalEmailAddress} already exists (${contact.Name})`, { code: 'ObjectConflict', hint: 'use "Edit mail contact" to change it' });
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
});

export const contactUpdate = implement(c.contactUpdate, async (input, ctx) => {
  const contact = await getContact(ctx, input.contact);
  const desired: Record<string, unknown> = {};
  const changed: string[] = [];
  if (input.displayName !== undefined && input.displayName !== contact.DisplayName) (desired['DisplayName'] = input.displayName), changed.push('displayName');
  if (input.externalEmailAddress !== undefined && !same(input.externalEmailAddress, contact.ExternalEmailAddress)) (desired['ExternalEmailAddress'] = input.externalEmailAddress), changed.push('externalEmailAddress');
  if (input.hiddenFromAddressLists !== undefined && input.hiddenFromAddressLists !== (contact.HiddenFromAddressListsEnabled ?? false)) (desired['HiddenFromAddressListsEnabled'] = input.hiddenFromAddressLists), changed.push('hiddenFromAddressLists');
  const has = (a: string) => (contact.EmailAddresses ?? []).some((x) => same(x, a));
  const add = input.addEmailAddresses.filter((a) => !has(a));
  const remove = input.removeEmailAddresses.filter(has);
  if (add.length || remove.length) (desired['EmailAddresses'] = hashTable(add, remove)), changed.push('emailAddresses');
  if (changed.length) await ctx.exchange.invoke('Set-MailContact', { Identity: contact.ExternalDirectoryObjectId, ...desired }, ctx.signal);
  changed.push(...(await applyDetails(ctx, contact, pickDetails(input))));
  return { id: contact.ExternalDirectoryObjectId, changed };
});

export const contactDelete = implement(c.contactDelete, async (input, ctx) =>
  removeOnce(ctx, await findContact(ctx, input.contact), () => contactNotFound(input.contact), (contact) => ctx.exchange.invoke('Remove-MailContact', { Identity: contact.ExternalDirectoryObjectId, Confirm: false }, ctx.signal)),
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

export const mailUserCreate = implement(c.mailUserCreate, async (input, ctx) => {
  const select = 'id,userPrincipalName,createdDateTime';
  let account = await orNotFound(ctx.graph.api(`/users/${encodeURIComponent(input.userPrincipalName)}`).select(select).get() as Promise<GraphUser & { createdDateTime?: string }>);
  const created = !account;
  if (account && !createdByThisStep(ctx, account.createdDateTime))
    throw new ActionError(`a user ${input.userPrincipalName} already exists`, { code: 'ObjectConflict', hint: 'pick another sign-in name; to mail-enable an existing account ask an Exchange administrator' });
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
});

export const mailUserUpdate = implement(c.mailUserUpdate, async (input, ctx) => {
  const mu = await getMailUser(ctx, input.mailUser);
  const id = mu.ExternalDirectoryObjectId;
  const desired: Record<string, unknown> = {};
  const changed: string[] = [];
  if (input.displayName !== undefined && input.displayName !== mu.DisplayName) (desired['DisplayName'] = input.displayName), changed.push('displayName');
  if (input.externalEmailAddress !== undefined && !same(input.externalEmailAddress, mu.ExternalEmailAddress)) (desired['ExternalEmailAddress'] = input.externalEmailAddress), changed.push('externalEmailAddress');
  if (input.hiddenFromAddressLists !== undefined && input.hiddenFromAddressLists !== (mu.HiddenFromAddressListsEnabled ?? false)) (desired['HiddenFromAddressListsEnabled'] = input.hiddenFromAddressLists), changed.push('hiddenFromAddressLists');
  const has = (a: string) => (mu.EmailAddresses ?? []).some((x) => same(x, a));
  const add = input.addEmailAddresses.filter((a) => !has(a));
  const remove = input.removeEmailAddresses.filter(has);
  if (add.length || remove.length) (desired['EmailAddresses'] = hashTable(add, remove)), changed.push('emailAddresses');
  if (changed.length) await ctx.exchange.invoke('Set-MailUser', { Identity: id, ...desired }, ctx.signal);
  const profile = profileToGraph({ givenName: input.givenName, surname: input.surname, jobTitle: input.jobTitle, department: input.department, companyName: input.companyName, businessPhone: input.businessPhone, mobilePhone: input.mobilePhone });
  if (Object.keys(profile).length) changed.push(...(await patchUser(ctx.graph, id, profile)).changed.map((k) => (k === 'businessPhones' ? 'businessPhone' : k)));
  return { id, changed };
});

export const mailUserDelete = implement(c.mailUserDelete, async (input, ctx) =>
  removeOnce(ctx, await findMailUser(ctx, input.mailUser), () => mailUserNotFound(input.mailUser), (mu) => ctx.exchange.invoke('Remove-MailUser', { Identity: mu.ExternalDirectoryObjectId, Confirm: false }, ctx.signal)),
);
