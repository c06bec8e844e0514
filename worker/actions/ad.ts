// Handlers of the on-premises Active Directory actions (catalog/actions/ad.ts). They run on the
// on-premises worker (ctx.ad: LDAPS to the customer's DCs). Every write reads first and writes only
// what differs, so a repeated attempt finds its own earlier effect and changes nothing twice.
import { randomBytes } from 'node:crypto';
import * as c from '../../catalog/actions/ad.ts';
import { implement, type ActionContext } from '../activity.ts';
import { ActionError } from '../../m365/errors.ts';
import {
  buf,
  escapeFilter,
  escapeRdn,
  fromFileTime,
  fromGeneralizedTime,
  GROUP_TYPE,
  GUID_RE,
  guidToString,
  NEVER,
  parentDn,
  rdnOf,
  sameDn,
  str,
  strs,
  toFileTime,
  UAC,
  type AdEntry,
  type AdModification,
  type AdSession,
  type AdValue,
} from '../../m365/ad.ts';

const USER_ATTRIBUTES = [
  'sAMAccountName', 'userPrincipalName', 'objectGUID', 'mS-DS-ConsistencyGuid', 'displayName', 'givenName', 'sn', 'description',
  'title', 'department', 'company', 'physicalDeliveryOfficeName', 'employeeID', 'employeeType', 'streetAddress', 'l', 'st',
  'postalCode', 'c', 'co', 'telephoneNumber', 'mobile', 'mail', 'manager', 'userAccountControl', 'lockoutTime', 'accountExpires',
  'whenCreated', 'proxyAddresses', 'targetAddress', 'mailNickname', 'msExchHideFromAddressLists', 'msExchRecipientTypeDetails',
  'msExchRemoteRecipientType', 'msExchRecipientDisplayType', 'objectClass',
];
const GROUP_ATTRIBUTES = ['cn', 'sAMAccountName', 'objectGUID', 'groupType', 'mail', 'mailNickname', 'description', 'displayName', 'managedBy', 'member', 'whenCreated', 'objectClass'];

/** Operator field → AD attribute. */
const PROFILE_ATTRIBUTES = {
  givenName: 'givenName',
  surname: 'sn',
  displayName: 'displayName',
  description: 'description',
  jobTitle: 'title',
  department: 'department',
  companyName: 'company',
  officeLocation: 'physicalDeliveryOfficeName',
  employeeId: 'employeeID',
  employeeType: 'employeeType',
  streetAddress: 'streetAddress',
  city: 'l',
  state: 'st',
  postalCode: 'postalCode',
  countryCode: 'c',
  country: 'co',
  businessPhone: 'telephoneNumber',
  mobilePhone: 'mobile',
  mail: 'mail',
} as const;

/** What clone copies from the source. */
const CLONED = ['title', 'department', 'company', 'physicalDeliveryOfficeName', 'streetAddress', 'l', 'st', 'postalCode', 'c', 'co', 'description'];

const USER_FILTER = '(&(objectCategory=person)(objectClass=user))';

function refFilter(ref: string, kind: 'user' | 'group' | 'any'): string {
  if (GUID_RE.test(ref)) return `(objectGUID=${ref.toLowerCase()})`; // sent as bytes by the transport
  const v = escapeFilter(ref);
  if (kind === 'user') return ref.includes('@') ? `(userPrincipalName=${v})` : `(sAMAccountName=${v})`;
  if (kind === 'group') return ref.includes('@') ? `(mail=${v})` : `(|(cn=${v})(sAMAccountName=${v}))`;
  return ref.includes('@') ? `(|(userPrincipalName=${v})(mail=${v}))` : `(|(sAMAccountName=${v})(cn=${v}))`;
}

const isDn = (ref: string) => /^[A-Za-z-]+=.+,[A-Za-z-]+=/.test(ref);

function classFilter(kind: 'user' | 'group' | 'any'): string {
  return kind === 'user' ? USER_FILTER : kind === 'group' ? '(objectClass=group)' : `(|${USER_FILTER}(objectClass=group))`;
}

async function lookup(s: AdSession, ref: string, kind: 'user' | 'group' | 'any', attributes: string[]): Promise<AdEntry | undefined> {
  if (isDn(ref)) {
    const e = await s.read(ref, [...attributes, 'objectClass']);
    if (!e) return undefined;
    const classes = strs(e, 'objectClass').map((x) => x.toLowerCase());
    const isGroup = classes.includes('group');
    const isUser = classes.includes('user') && !classes.includes('computer');
    if ((kind === 'user' && !isUser) || (kind === 'group' && !isGroup) || (kind === 'any' && !isUser && !isGroup)) return undefined;
    return e;
  }
  const found = await s.search(s.baseDn, { filter: `(&${classFilter(kind)}${refFilter(ref, kind)})`, attributes });
  if (found.length > 1)
    throw new ActionError(`"${ref}" names ${found.length} objects: ${found.map((e) => e.dn).slice(0, 5).join('; ')}`, {
      code: 'AmbiguousName',
      hint: 'name it by its distinguished name or objectGUID',
    });
  return found[0];
}

async function getUser(s: AdSession, ref: string, attributes = USER_ATTRIBUTES): Promise<AdEntry> {
  const e = await lookup(s, ref, 'user', attributes);
  if (!e)
    throw new ActionError(`no AD user account "${ref}" in ${s.conn.domain}`, {
      code: 'UserNotFound',
      hint: 'check the sAMAccountName, user principal name, distinguished name or objectGUID',
      status: 32,
    });
  return e;
}

async function getGroup(s: AdSession, ref: string, attributes = GROUP_ATTRIBUTES): Promise<AdEntry> {
  const e = await lookup(s, ref, 'group', attributes);
  if (!e)
    throw new ActionError(`no AD group "${ref}" in ${s.conn.domain}`, {
      code: 'GroupNotFound',
      hint: 'check the group name, distinguished name, mail address or objectGUID',
      status: 32,
    });
  return e;
}

async function getMember(s: AdSession, ref: string): Promise<AdEntry> {
  const e = await lookup(s, ref, 'any', ['cn', 'sAMAccountName', 'objectClass']);
  if (!e) throw new ActionError(`no AD account or group "${ref}" in ${s.conn.domain}`, { code: 'MemberNotFound', hint: 'check the name', status: 32 });
  return e;
}

function immutableIdOf(s: AdSession, e: AdEntry): string {
  const anchor = s.conn.anchorAttribute === 'mS-DS-ConsistencyGuid' ? (buf(e, 'mS-DS-ConsistencyGuid') ?? buf(e, 'objectGUID')) : buf(e, 'objectGUID');
  return anchor?.toString('base64') ?? '';
}

function userOut(s: AdSession, e: AdEntry) {
  return {
    dn: e.dn,
    objectGuid: guidToString(buf(e, 'objectGUID')!),
    sAMAccountName: str(e, 'sAMAccountName') ?? '',
    userPrincipalName: str(e, 'userPrincipalName') ?? null,
    immutableId: immutableIdOf(s, e),
  };
}

const uacOf = (e: AdEntry) => Number(str(e, 'userAccountControl') ?? UAC.NORMAL_ACCOUNT);

/** Did an earlier attempt of this step create this object? (AD's whenCreated has second precision.) */
function createdByThisStep(ctx: Pick<ActionContext, 'attempt' | 'stepScheduledAt'>, e: AdEntry): boolean {
  if (ctx.attempt <= 1) return false;
  const created = fromGeneralizedTime(str(e, 'whenCreated'));
  return !!created && Date.parse(created) + 1000 >= ctx.stepScheduledAt - 5_000;
}

/**
 * What earlier runs of a step on this worker were about to write (keyed by the step), so that a
 * retry after a lost answer, which finds its own write in place and writes nothing, still reports
 * the step's change: the journal is noted before each write and read into the output. Kept in
 * memory (a retry on another worker, after a crash, reports only what it wrote itself), for the
 * last 1,000 steps.
 */
const journals = new Map<string, Map<string, string[]>>();
function journal(ctx: Pick<ActionContext, 'idempotencyKey' | 'stepScheduledAt'>) {
  const key = `${ctx.idempotencyKey}@${ctx.stepScheduledAt}`;
  let j = ctx.idempotencyKey ? journals.get(key) : undefined;
  if (!j) {
    j = new Map();
    // A handler called outside a step (no idempotency key) keeps its journal to itself.
    if (ctx.idempotencyKey) journals.set(key, j);
    if (journals.size > 1000) journals.delete(journals.keys().next().value!);
  }
  const entries = j;
  return {
    /** Notes items about to be written under kind; answers every item noted under it by this step so far. */
    note(kind: string, items: string[]): string[] {
      const all = [...(entries.get(kind) ?? [])];
      for (const i of items) if (!all.some((x) => sameDn(x, i))) all.push(i);
      entries.set(kind, all);
      return all;
    },
    /** Notes one write when `now`; answers whether this step has made it (now or in an earlier run). */
    flag(kind: string, now: boolean): boolean {
      return this.note(kind, now ? [kind] : []).length > 0;
    },
  };
}

/** A password nobody sees that meets AD's complexity rules. */
const randomPassword = () => `${randomBytes(18).toString('base64url')}aA1!`;

/** Changes that make attribute `attr` hold `value` ('' or null clears). */
function setAttr(e: AdEntry | undefined, attr: string, value: string | null | undefined): AdModification[] {
  if (value === undefined) return [];
  const current = str(e, attr) ?? null;
  const wanted = value === '' ? null : value;
  if (current === wanted) return [];
  return [wanted === null ? { operation: 'delete', attribute: attr, values: [] } : { operation: 'replace', attribute: attr, values: [wanted] }];
}

function profileChanges(e: AdEntry | undefined, input: Partial<Record<keyof typeof PROFILE_ATTRIBUTES, string | undefined>>): AdModification[] {
  return Object.entries(PROFILE_ATTRIBUTES).flatMap(([field, attr]) => setAttr(e, attr, input[field as keyof typeof PROFILE_ATTRIBUTES]));
}

async function addMembers(s: AdSession, group: AdEntry, memberDns: string[]): Promise<{ added: string[]; already: string[] }> {
  const current = strs(group, 'member');
  const added: string[] = [];
  const already: string[] = [];
  for (const dn of memberDns) {
    if (current.some((m) => sameDn(m, dn))) already.push(dn);
    else added.push(dn);
  }
  if (added.length) await s.modify(group.dn, [{ operation: 'add', attribute: 'member', values: added }]);
  return { added, already };
}

async function resolveGroups(s: AdSession, refs: string[]): Promise<AdEntry[]> {
  const out: AdEntry[] = [];
  for (const r of refs) out.push(await getGroup(s, r));
  return out;
}

interface NewAccount {
  dn: string;
  sAMAccountName: string;
  userPrincipalName: string;
  attributes: Record<string, AdValue>;
  password?: string;
  mustChangePassword: boolean;
  enabled: boolean;
  accountExpires?: string;
  groups: AdEntry[];
}

/**
 * Creates the account with its password in one add (AD checks the password policy before anything
 * exists, so a refused password leaves nothing behind), or recognises the account an earlier
 * attempt of this step created. Then the groups.
 */
async function createAccount(s: AdSession, ctx: ActionContext, a: NewAccount): Promise<{ entry: AdEntry; created: boolean; groups: string[] }> {
  const clash = await s.search(s.baseDn, {
    filter: `(|(sAMAccountName=${escapeFilter(a.sAMAccountName)})(userPrincipalName=${escapeFilter(a.userPrincipalName)}))`,
    attributes: USER_ATTRIBUTES,
  });
  const own = clash.length === 1 && sameDn(clash[0]!.dn, a.dn) && createdByThisStep(ctx, clash[0]!);
  if (clash.length && !own)
    throw new ActionError(`an AD account with the logon name ${a.sAMAccountName} or user principal name ${a.userPrincipalName} already exists (${clash[0]!.dn})`, {
      code: 'ObjectConflict',
      hint: 'pick another sAMAccountName / user principal name, or edit the existing account',
      status: 68,
    });
  if (!own) {
    await s.add(a.dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      sAMAccountName: a.sAMAccountName,
      userPrincipalName: a.userPrincipalName,
      ...a.attributes,
      unicodePwd: Buffer.from(`"${a.password ?? randomPassword()}"`, 'utf16le'),
      userAccountControl: String(UAC.NORMAL_ACCOUNT | (a.enabled ? 0 : UAC.ACCOUNTDISABLE)),
      ...(a.accountExpires ? { accountExpires: toFileTime(a.accountExpires) } : {}),
    });
  }
  if (a.mustChangePassword) {
    const now = await s.read(a.dn, ['pwdLastSet']);
    if (str(now, 'pwdLastSet') !== '0') await s.modify(a.dn, [{ operation: 'replace', attribute: 'pwdLastSet', values: ['0'] }]);
  }
  const groups: string[] = [];
  for (const g of a.groups) {
    await addMembers(s, g, [a.dn]);
    groups.push(g.dn);
  }
  const entry = (await s.read(a.dn, USER_ATTRIBUTES))!;
  return { entry, created: !own, groups };
}

export const adCreateUser = implement(c.adCreateUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const ou = input.ou ?? s.conn.usersOu ?? `CN=Users,${s.baseDn}`;
    const manager = input.manager ? await getUser(s, input.manager, ['objectGUID']) : undefined;
    const groups = await resolveGroups(s, input.groups);
    const attributes: Record<string, AdValue> = {};
    for (const [field, attr] of Object.entries(PROFILE_ATTRIBUTES)) {
      const v = input[field as keyof typeof PROFILE_ATTRIBUTES];
      if (v) attributes[attr] = v;
    }
    if (manager) attributes['manager'] = manager.dn;
    const r = await createAccount(s, ctx, {
      dn: `CN=${escapeRdn(input.displayName)},${ou}`,
      sAMAccountName: input.sAMAccountName,
      userPrincipalName: input.userPrincipalName,
      attributes,
      password: input.password,
      mustChangePassword: input.mustChangePassword,
      enabled: input.enabled,
      accountExpires: input.accountExpires,
      groups,
    });
    return { ...userOut(s, r.entry), created: r.created, groups: r.groups };
  }),
);

export const adCloneUser = implement(c.adCloneUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const source = await getUser(s, input.source, [...USER_ATTRIBUTES, 'memberOf']);
    const ou = input.ou ?? parentDn(source.dn);
    const attributes: Record<string, AdValue> = {};
    const copied: string[] = [];
    for (const attr of CLONED) {
      const v = str(source, attr);
      if (v !== undefined) {
        attributes[attr] = v;
        copied.push(attr);
      }
    }
    const manager = str(source, 'manager');
    if (input.copyManager && manager) {
      attributes['manager'] = manager;
      copied.push('manager');
    }
    for (const [field, attr] of [['givenName', 'givenName'], ['surname', 'sn'], ['mail', 'mail'], ['employeeId', 'employeeID']] as const) {
      const v = input[field];
      if (v) attributes[attr] = v;
    }
    attributes['displayName'] = input.displayName;
    const groups = input.copyGroups ? await resolveGroups(s, strs(source, 'memberOf')) : [];
    const r = await createAccount(s, ctx, {
      dn: `CN=${escapeRdn(input.displayName)},${ou}`,
      sAMAccountName: input.sAMAccountName,
      userPrincipalName: input.userPrincipalName,
      attributes,
      password: input.password,
      mustChangePassword: input.mustChangePassword,
      enabled: uacOf(source) & UAC.ACCOUNTDISABLE ? false : true,
      groups,
    });
    return { ...userOut(s, r.entry), created: r.created, copied, groups: r.groups };
  }),
);

export const adUpdateUser = implement(c.adUpdateUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user);
    const { user: _u, userPrincipalName, ...profile } = input;
    const changes = [...profileChanges(user, profile), ...setAttr(user, 'userPrincipalName', userPrincipalName)];
    if (userPrincipalName && !sameDn(str(user, 'userPrincipalName') ?? '', userPrincipalName)) {
      const taken = await s.search(s.baseDn, { filter: `(userPrincipalName=${escapeFilter(userPrincipalName)})`, attributes: ['cn'] });
      if (taken.some((t) => !sameDn(t.dn, user.dn)))
        throw new ActionError(`the user principal name ${userPrincipalName} is taken by ${taken[0]!.dn}`, { code: 'ObjectConflict', hint: 'pick another user principal name', status: 68 });
    }
    const changed = journal(ctx).note('changed', changes.map((x) => x.attribute));
    await s.modify(user.dn, changes);
    const after = (await s.read(user.dn, USER_ATTRIBUTES))!;
    return { ...userOut(s, after), changed };
  }),
);

function setEnabled(enabled: boolean) {
  return (input: { user: string }, ctx: ActionContext) =>
    ctx.ad.session(async (s) => {
      const user = await getUser(s, input.user);
      const uac = uacOf(user);
      const wanted = enabled ? uac & ~UAC.ACCOUNTDISABLE : uac | UAC.ACCOUNTDISABLE;
      const changed = journal(ctx).flag('userAccountControl', wanted !== uac);
      if (wanted !== uac) await s.modify(user.dn, [{ operation: 'replace', attribute: 'userAccountControl', values: [String(wanted)] }]);
      return { ...userOut(s, user), changed, enabled };
    });
}

export const adEnableUser = implement(c.adEnableUser, setEnabled(true));
export const adDisableUser = implement(c.adDisableUser, setEnabled(false));

export const adUnlockUser = implement(c.adUnlockUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user);
    const locked = Number(str(user, 'lockoutTime') ?? '0') > 0;
    const changed = journal(ctx).flag('lockoutTime', locked);
    if (locked) await s.modify(user.dn, [{ operation: 'replace', attribute: 'lockoutTime', values: ['0'] }]);
    return { ...userOut(s, user), changed, wasLocked: changed };
  }),
);

/** A sign-in's answer that proves the password right: accepted, or "must change password" (773). */
const passwordAccepted = (reason: string | null) => reason === null || /must be changed/.test(reason);

export const adResetPassword = implement(c.adResetPassword, async (input, ctx) => {
  const user = await ctx.ad.session(async (s) => {
    const u = await getUser(s, input.user);
    const enabled = !(uacOf(u) & UAC.ACCOUNTDISABLE);
    const signIn = str(u, 'userPrincipalName') ?? u.dn;
    // A repeated attempt first checks whether an earlier one already set this password (its answer
    // lost): signing in with it is accepted, or answered "must change password". Only then is the set
    // skipped; a sign-in that fails costs one bad-password count. (A disabled or locked-out account
    // cannot tell: the password is set again, which the user cannot tell from one set.)
    const alreadySet = ctx.attempt > 1 && enabled && passwordAccepted(await ctx.ad.tryBind(signIn, input.password));
    if (!alreadySet) await s.setPassword(u.dn, input.password);
    // Setting a password stamps pwdLastSet with the time: only "must change at next logon" (0), or
    // undoing it (-1: now), is a write of its own, and only when it differs.
    const now = await s.read(u.dn, ['pwdLastSet', 'lockoutTime']);
    const mustChangeNow = str(now, 'pwdLastSet') === '0';
    const changes: AdModification[] = [];
    if (mustChangeNow !== input.mustChangePassword) changes.push({ operation: 'replace', attribute: 'pwdLastSet', values: [input.mustChangePassword ? '0' : '-1'] });
    if (input.unlock && Number(str(now, 'lockoutTime') ?? '0') > 0) changes.push({ operation: 'replace', attribute: 'lockoutTime', values: ['0'] });
    await s.modify(u.dn, changes);
    return { out: userOut(s, u), enabled };
  });
  // Sign in as the user: AD answers "must change password" (773) for a right password that is to be changed.
  const reason = user.enabled ? await ctx.ad.tryBind(user.out.userPrincipalName ?? user.out.dn, input.password) : 'the account is disabled';
  const verified = passwordAccepted(reason);
  if (!verified && user.enabled)
    throw new ActionError(`the password was set, but signing in as ${user.out.sAMAccountName} with it failed: ${reason}`, {
      code: 'PasswordNotVerified',
      retryable: true,
      hint: 'another DC may not have the change yet (replication); the step is retried',
    });
  return { ...user.out, verified, mustChangePassword: input.mustChangePassword };
});

export const adMoveUser = implement(c.adMoveUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const ou = input.ou ?? s.conn.leaversOu;
    if (!ou) throw new ActionError('no OU given, and the AD connection has no leavers OU', { code: 'InvalidInput', hint: 'give the step an OU, or set the AD connection\'s leaversOu' });
    const found = await lookup(s, input.user, 'user', USER_ATTRIBUTES);
    if (!found && ctx.attempt > 1 && isDn(input.user)) {
      // Named by its old DN, moved by an earlier attempt of this step whose answer was lost: it is in
      // the target OU under the same name.
      const moved = await lookup(s, `${rdnOf(input.user)},${ou}`, 'user', USER_ATTRIBUTES);
      if (moved) return { ...userOut(s, moved), changed: true, from: parentDn(input.user) };
    }
    const user = found ?? (await getUser(s, input.user));
    const from = parentDn(user.dn);
    if (sameDn(from, ou)) return { ...userOut(s, user), changed: false, from };
    if (!(await s.read(ou, ['objectClass'])))
      throw new ActionError(`the OU ${ou} does not exist in ${s.conn.domain}`, { code: 'NoSuchObject', hint: 'check the OU\'s distinguished name', status: 32 });
    const target = `${rdnOf(user.dn)},${ou}`;
    await s.modifyDn(user.dn, target);
    const moved = (await s.read(target, USER_ATTRIBUTES))!;
    return { ...userOut(s, moved), changed: true, from };
  }),
);

export const adSetManager = implement(c.adSetManager, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user);
    const manager = input.manager ? (await getUser(s, input.manager, ['objectGUID'])).dn : null;
    const current = str(user, 'manager') ?? null;
    const same = current === null ? manager === null : manager !== null && sameDn(current, manager);
    const changed = journal(ctx).flag('manager', !same);
    if (!same) await s.modify(user.dn, [manager === null ? { operation: 'delete', attribute: 'manager', values: [] } : { operation: 'replace', attribute: 'manager', values: [manager] }]);
    return { ...userOut(s, user), changed, manager };
  }),
);

export const adSetExpiry = implement(c.adSetExpiry, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user);
    const wanted = input.expires === null ? NEVER : toFileTime(input.expires);
    const current = str(user, 'accountExpires') ?? NEVER;
    const same = fromFileTime(current) === fromFileTime(wanted);
    const changed = journal(ctx).flag('accountExpires', !same);
    if (!same) await s.modify(user.dn, [{ operation: 'replace', attribute: 'accountExpires', values: [wanted] }]);
    return { ...userOut(s, user), changed, expires: fromFileTime(wanted) };
  }),
);

/**
 * Deletes the object if it is there. A retry that finds it gone reports what this step's journal
 * says it deleted; without one (a retry on another worker) deleted: false, with a warning that an
 * earlier attempt of the step may have deleted it (a delete leaves nothing the service account may
 * read to tell: AD's Deleted Objects are for administrators).
 */
async function deleteIfPresent(s: AdSession, ctx: ActionContext, ref: string, kind: 'user' | 'group') {
  const found = await lookup(s, ref, kind, ['cn']);
  const j = journal(ctx);
  if (!found) {
    const earlier = j.note('deleted', [])[0];
    if (earlier) return { deleted: true, dn: earlier };
    if (ctx.attempt > 1) ctx.warn(`${ref} is not in ${s.conn.domain}: an earlier attempt of this step may have deleted it (its answer was lost)`);
    return { deleted: false, dn: null };
  }
  j.note('deleted', [found.dn]);
  await s.del(found.dn);
  return { deleted: true, dn: found.dn };
}

export const adDeleteUser = implement(c.adDeleteUser, (input, ctx) => ctx.ad.session((s) => deleteIfPresent(s, ctx, input.user, 'user')));

export const adGetUser = implement(c.adGetUser, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const u = await getUser(s, input.user);
    return {
      ...userOut(s, u),
      displayName: str(u, 'displayName') ?? null,
      mail: str(u, 'mail') ?? null,
      ou: parentDn(u.dn),
      enabled: !(uacOf(u) & UAC.ACCOUNTDISABLE),
      lockedOut: Number(str(u, 'lockoutTime') ?? '0') > 0,
      expires: fromFileTime(str(u, 'accountExpires')),
      manager: str(u, 'manager') ?? null,
      department: str(u, 'department') ?? null,
      jobTitle: str(u, 'title') ?? null,
      proxyAddresses: strs(u, 'proxyAddresses'),
      targetAddress: str(u, 'targetAddress') ?? null,
      hiddenFromAddressLists: str(u, 'msExchHideFromAddressLists') === 'TRUE',
    };
  }),
);

function scopeOf(groupType: number): 'global' | 'domainLocal' | 'universal' {
  return groupType & GROUP_TYPE.UNIVERSAL ? 'universal' : groupType & GROUP_TYPE.DOMAIN_LOCAL ? 'domainLocal' : 'global';
}
const SCOPE_BITS = { global: GROUP_TYPE.GLOBAL, domainLocal: GROUP_TYPE.DOMAIN_LOCAL, universal: GROUP_TYPE.UNIVERSAL };
const groupTypeValue = (scope: keyof typeof SCOPE_BITS, category: 'security' | 'distribution') =>
  String((SCOPE_BITS[scope] | (category === 'security' ? GROUP_TYPE.SECURITY : 0)) | 0);

function groupOut(g: AdEntry) {
  const gt = Number(str(g, 'groupType') ?? 0);
  return {
    dn: g.dn,
    objectGuid: guidToString(buf(g, 'objectGUID')!),
    name: str(g, 'cn') ?? rdnOf(g.dn).slice(3),
    sAMAccountName: str(g, 'sAMAccountName') ?? '',
    scope: scopeOf(gt),
    category: gt & GROUP_TYPE.SECURITY ? ('security' as const) : ('distribution' as const),
    mail: str(g, 'mail') ?? null,
  };
}

export const adListUserGroups = implement(c.adListUserGroups, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user, ['objectGUID']);
    const dn = escapeFilter(user.dn);
    // LDAP_MATCHING_RULE_IN_CHAIN walks nested groups on the DC.
    const filter = input.transitive ? `(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=${dn}))` : `(&(objectClass=group)(member=${dn}))`;
    const groups = (await s.search(s.baseDn, { filter, attributes: GROUP_ATTRIBUTES.filter((a) => a !== 'member') })).map((g) => {
      const o = groupOut(g);
      return { dn: o.dn, name: o.name, scope: o.scope, category: o.category, mail: o.mail };
    });
    return { groups, count: groups.length };
  }),
);

export const adRemoveUserFromAllGroups = implement(c.adRemoveUserFromAllGroups, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const user = await getUser(s, input.user, ['objectGUID']);
    const keep = await resolveGroups(s, input.keep);
    const groups = await s.search(s.baseDn, { filter: `(&(objectClass=group)(member=${escapeFilter(user.dn)}))`, attributes: ['cn'] });
    const j = journal(ctx);
    let removed = j.note('removed', []);
    const kept: string[] = [];
    for (const g of groups) {
      if (keep.some((k) => sameDn(k.dn, g.dn))) {
        kept.push(g.dn);
        continue;
      }
      removed = j.note('removed', [g.dn]);
      await s.modify(g.dn, [{ operation: 'delete', attribute: 'member', values: [user.dn] }]);
    }
    return { removed, kept };
  }),
);

async function memberDns(s: AdSession, refs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of refs) out.push((await getMember(s, r)).dn);
  return out;
}

export const adCreateGroup = implement(c.adCreateGroup, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const ou = input.ou ?? s.conn.groupsOu ?? `CN=Users,${s.baseDn}`;
    const dn = `CN=${escapeRdn(input.name)},${ou}`;
    const sam = input.sAMAccountName ?? input.name;
    const members = await memberDns(s, input.members);
    const manager = input.managedBy ? (await getUser(s, input.managedBy, ['objectGUID'])).dn : undefined;
    const clash = await s.search(s.baseDn, { filter: `(|(sAMAccountName=${escapeFilter(sam)})(&(objectClass=group)(cn=${escapeFilter(input.name)})))`, attributes: GROUP_ATTRIBUTES });
    const own = clash.length === 1 && sameDn(clash[0]!.dn, dn) && createdByThisStep(ctx, clash[0]!);
    if (clash.length && !own)
      throw new ActionError(`an AD object named ${input.name} (or with the account name ${sam}) already exists (${clash[0]!.dn})`, {
        code: 'ObjectConflict',
        hint: 'pick another name, or use "Edit AD group" to change the existing one',
        status: 68,
      });
    if (!own)
      await s.add(dn, {
        objectClass: ['top', 'group'],
        sAMAccountName: sam,
        groupType: groupTypeValue(input.scope, input.category),
        ...(input.description ? { description: input.description } : {}),
        ...(input.mail ? { mail: input.mail } : {}),
        ...(input.mailNickname ? { mailNickname: input.mailNickname } : {}),
        ...(manager ? { managedBy: manager } : {}),
        ...(members.length ? { member: members } : {}),
      });
    else await addMembers(s, clash[0]!, members);
    const g = (await s.read(dn, GROUP_ATTRIBUTES))!;
    return { ...groupOut(g), created: !own, members: strs(g, 'member') };
  }),
);

export const adUpdateGroup = implement(c.adUpdateGroup, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const g = await getGroup(s, input.group);
    const changes: AdModification[] = [
      ...setAttr(g, 'displayName', input.displayName),
      ...setAttr(g, 'description', input.description),
      ...setAttr(g, 'mail', input.mail),
      ...setAttr(g, 'mailNickname', input.mailNickname),
    ];
    if (input.managedBy !== undefined) {
      const manager = input.managedBy === null ? null : (await getUser(s, input.managedBy, ['objectGUID'])).dn;
      const current = str(g, 'managedBy') ?? null;
      if (!(current === manager || (current && manager && sameDn(current, manager)))) changes.push(...setAttr(g, 'managedBy', manager ?? ''));
    }
    const before = groupOut(g);
    const scope = input.scope ?? before.scope;
    const category = input.category ?? before.category;
    const j = journal(ctx);
    let written = j.note('changed', changes.map((x) => x.attribute));
    await s.modify(g.dn, changes);
    if (scope !== before.scope || category !== before.category) {
      written = j.note('changed', ['groupType']);
      // AD converts global <-> domain local only through universal.
      if (scope !== before.scope && scope !== 'universal' && before.scope !== 'universal')
        await s.modify(g.dn, [{ operation: 'replace', attribute: 'groupType', values: [groupTypeValue('universal', before.category)] }]);
      await s.modify(g.dn, [{ operation: 'replace', attribute: 'groupType', values: [groupTypeValue(scope, category)] }]);
    }
    return { ...groupOut((await s.read(g.dn, GROUP_ATTRIBUTES))!), changed: written };
  }),
);

export const adDeleteGroup = implement(c.adDeleteGroup, (input, ctx) => ctx.ad.session((s) => deleteIfPresent(s, ctx, input.group, 'group')));

export const adAddGroupMember = implement(c.adAddGroupMember, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const g = await getGroup(s, input.group);
    const dns = await memberDns(s, input.members);
    const current = strs(g, 'member');
    const j = journal(ctx);
    const added = j.note('added', dns.filter((dn) => !current.some((m) => sameDn(m, dn))));
    await addMembers(s, g, dns);
    return { group: g.dn, added, alreadyMembers: dns.filter((dn) => !added.some((a) => sameDn(a, dn))) };
  }),
);

export const adRemoveGroupMember = implement(c.adRemoveGroupMember, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const g = await getGroup(s, input.group);
    const current = strs(g, 'member');
    const removed: string[] = [];
    const notMembers: string[] = [];
    for (const dn of await memberDns(s, input.members)) (current.some((m) => sameDn(m, dn)) ? removed : notMembers).push(dn);
    const all = journal(ctx).note('removed', removed);
    if (removed.length) await s.modify(g.dn, [{ operation: 'delete', attribute: 'member', values: removed }]);
    return { group: g.dn, removed: all, notMembers: notMembers.filter((dn) => !all.some((r) => sameDn(r, dn))) };
  }),
);

/**
 * What Exchange's Enable-RemoteMailbox stamps for each mailbox type (msExchRecipientTypeDetails,
 * msExchRemoteRecipientType = ProvisionMailbox | type flag, msExchRecipientDisplayType).
 */
const REMOTE_MAILBOX = {
  user: { details: '2147483648', remote: '1', display: '-2147483642' },
  shared: { details: '34359738368', remote: '97', display: '-2147483642' },
  room: { details: '8589934592', remote: '33', display: '-2147481850' },
  equipment: { details: '17179869184', remote: '65', display: '-2147481594' },
} as const;

export const adEnableRemoteMailbox = implement(c.adEnableRemoteMailbox, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const u = await getUser(s, input.user);
    const alias = input.alias ?? str(u, 'sAMAccountName')!;
    const primary = input.primarySmtpAddress ?? str(u, 'userPrincipalName');
    if (!primary) throw new ActionError('the account has no user principal name: give a primary SMTP address', { code: 'InvalidInput', hint: 'set primarySmtpAddress' });
    const current = strs(u, 'proxyAddresses');
    const lower = (x: string) => x.toLowerCase();
    // One primary (SMTP:), every other address secondary (smtp:), the remote routing address among them.
    const proxies = current
      .filter((p) => lower(p) !== lower(`smtp:${primary}`) && lower(p) !== lower(`smtp:${input.remoteRoutingAddress}`))
      .map((p) => (p.startsWith('SMTP:') ? `smtp:${p.slice(5)}` : p));
    proxies.unshift(`SMTP:${primary}`);
    proxies.push(`smtp:${input.remoteRoutingAddress}`);
    const t = REMOTE_MAILBOX[input.type];
    const changes: AdModification[] = [
      ...setAttr(u, 'mailNickname', alias),
      ...setAttr(u, 'mail', primary),
      ...setAttr(u, 'targetAddress', `SMTP:${input.remoteRoutingAddress}`),
      ...setAttr(u, 'msExchRecipientTypeDetails', t.details),
      ...setAttr(u, 'msExchRemoteRecipientType', t.remote),
      ...setAttr(u, 'msExchRecipientDisplayType', t.display),
    ];
    const sameProxies = proxies.length === current.length && proxies.every((p) => current.includes(p));
    if (!sameProxies) changes.push({ operation: 'replace', attribute: 'proxyAddresses', values: proxies });
    const changed = journal(ctx).note('changed', changes.map((x) => x.attribute));
    await s.modify(u.dn, changes);
    return { ...userOut(s, u), changed, primarySmtpAddress: primary, proxyAddresses: proxies };
  }),
);

export const adHideFromAddressList = implement(c.adHideFromAddressList, (input, ctx) =>
  ctx.ad.session(async (s) => {
    const u = await getUser(s, input.user);
    const changes = setAttr(u, 'msExchHideFromAddressLists', input.hidden ? 'TRUE' : 'FALSE');
    const changed = journal(ctx).flag('msExchHideFromAddressLists', changes.length > 0);
    await s.modify(u.dn, changes);
    return { ...userOut(s, u), changed, hidden: input.hidden };
  }),
);
