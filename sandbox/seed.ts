// The deterministic demo tenant: same seed, same tenant (ids, names, managers, licences, groups,
// and the demo app's credentials). Fast enough for 100,000 users in a couple of seconds.
import { createRng, type Rng } from './prng.ts';
import { DEPARTMENTS, FIRST_NAMES, LAST_NAMES, OFFICES } from './names.ts';
import { SKU_BY_PART } from './skus.ts';
import { ALL_PERMISSIONS } from './permissions.ts';
import { TenantStore, type Group, type User } from './store.ts';

export interface SeedOptions {
  seed: number;
  users: number;
  displayName?: string;
  /** Lowercase letters; the tenant's domains become <name>.com and <name>.onmicrosoft.com. */
  domainName?: string;
  nowMs: number;
}

export interface SeededTenant {
  store: TenantStore;
  demoApp: { clientId: string; clientSecret: string };
}

const DAY = 24 * 3600 * 1000;

const ascii = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]/g, '').toLowerCase();

function secretFrom(rng: Rng): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~.-_';
  let s = '';
  for (let i = 0; i < 40; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

export function newUser(fields: Partial<User> & Pick<User, 'id' | 'userPrincipalName' | 'displayName' | 'mailNickname'>, nowMs: number): User {
  const iso = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    givenName: null,
    surname: null,
    mail: null,
    otherMails: [],
    proxyAddresses: [],
    jobTitle: null,
    department: null,
    companyName: null,
    officeLocation: null,
    employeeId: null,
    employeeType: null,
    employeeHireDate: null,
    employeeLeaveDateTime: null,
    city: null,
    state: null,
    country: null,
    streetAddress: null,
    postalCode: null,
    usageLocation: null,
    preferredLanguage: null,
    mobilePhone: null,
    businessPhones: [],
    accountEnabled: true,
    userType: 'Member',
    externalUserState: null,
    externalUserStateChangeDateTime: null,
    creationType: null,
    createdDateTime: iso,
    deletedDateTime: null,
    lastPasswordChangeDateTime: iso,
    passwordPolicies: null,
    signInSessionsValidFromDateTime: iso,
    onPremisesSyncEnabled: null,
    onPremisesImmutableId: null,
    ageGroup: null,
    assignedLicenses: [],
    _password: null,
    _forceChangePasswordNextSignIn: false,
    _managerId: null,
    _createdMs: nowMs,
    ...fields,
  };
}

export function newGroup(fields: Partial<Group> & Pick<Group, 'id' | 'displayName' | 'mailNickname'>, nowMs: number, rng?: Rng): Group {
  const iso = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const sidTail = rng ? [rng.int(2 ** 31), rng.int(2 ** 31), rng.int(2 ** 31), rng.int(2 ** 31)] : [1, 2, 3, 4].map(() => Math.floor(Math.random() * 2 ** 31));
  return {
    description: null,
    mail: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    visibility: null,
    membershipRule: null,
    membershipRuleProcessingState: null,
    isAssignableToRole: null,
    classification: null,
    proxyAddresses: [],
    resourceProvisioningOptions: [],
    resourceBehaviorOptions: [],
    createdDateTime: iso,
    renewedDateTime: iso,
    deletedDateTime: null,
    expirationDateTime: null,
    onPremisesSyncEnabled: null,
    preferredLanguage: null,
    securityIdentifier: `S-1-12-1-${sidTail.join('-')}`,
    theme: null,
    _createdMs: nowMs,
    ...fields,
  };
}

export function seedTenant(opts: SeedOptions): SeededTenant {
  const rng = createRng(opts.seed);
  const name = opts.domainName ?? 'contoso';
  const tenantId = rng.guid();
  const start = opts.nowMs - 6 * 365 * DAY;
  const store = new TenantStore({
    id: tenantId,
    displayName: opts.displayName ?? name[0]!.toUpperCase() + name.slice(1),
    initialDomain: `${name}.onmicrosoft.com`,
    defaultDomain: `${name}.com`,
    verifiedDomains: [`${name}.com`, `${name}.onmicrosoft.com`],
    createdDateTime: new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    countryLetterCode: 'US',
  });
  const demoApp = { clientId: rng.guid(), clientSecret: secretFrom(rng) };
  store.createApp({ displayName: 'Tenantflow', permissions: ALL_PERMISSIONS, appId: demoApp.clientId, secretText: demoApp.clientSecret, nowMs: opts.nowMs });

  const domain = store.info.defaultDomain;
  const usedUpns = new Set<string>();
  const total = Math.max(0, Math.floor(opts.users));
  const sku = (part: string): string => SKU_BY_PART.get(part)!.skuId;

  const makeUser = (i: number, department: string | null, jobTitle: string, managerId: string | null): User => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    let nick = `${ascii(first)}.${ascii(last)}`;
    for (let n = 2; usedUpns.has(nick); n++) nick = `${ascii(first)}.${ascii(last)}${n}`;
    usedUpns.add(nick);
    const office = rng.pick(OFFICES);
    const hired = start + rng.int(6 * 365) * DAY;
    const upn = `${nick}@${domain}`;
    const user = newUser(
      {
        id: rng.guid(),
        userPrincipalName: upn,
        displayName: `${first} ${last}`,
        givenName: first,
        surname: last,
        mail: upn,
        mailNickname: nick,
        proxyAddresses: [`SMTP:${upn}`, `smtp:${nick}@${store.info.initialDomain}`],
        jobTitle,
        department,
        companyName: store.info.displayName,
        officeLocation: office.officeLocation,
        city: office.city,
        state: office.state,
        country: office.country,
        usageLocation: office.usageLocation,
        preferredLanguage: office.preferredLanguage,
        businessPhones: [`${office.phonePrefix}${String(1000 + rng.int(9000))}`],
        mobilePhone: rng.chance(0.6) ? `${office.phonePrefix}${String(1000 + rng.int(9000))}` : null,
        employeeId: `E${String(10000 + i)}`,
        employeeType: 'Employee',
        employeeHireDate: new Date(hired).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        createdDateTime: new Date(hired - 7 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lastPasswordChangeDateTime: new Date(hired).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        signInSessionsValidFromDateTime: new Date(hired).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        _managerId: managerId,
        _createdMs: hired - 7 * DAY,
      },
      hired - 7 * DAY,
    );
    return user;
  };

  const licence = (user: User, executive: boolean): void => {
    const title = user.jobTitle ?? '';
    if (executive || user.department === 'IT' || user.department === 'Legal') user.assignedLicenses = [{ skuId: sku('SPE_E5'), disabledPlans: [] }];
    else if (/Warehouse|Facilities|Support Agent/.test(title)) user.assignedLicenses = [{ skuId: sku('SPE_F1'), disabledPlans: [] }];
    else if (rng.chance(0.04)) user.assignedLicenses = [];
    else user.assignedLicenses = [{ skuId: sku('SPE_E3'), disabledPlans: [] }];
    if (user.department === 'Finance' && user.assignedLicenses.length && rng.chance(0.5)) user.assignedLicenses.push({ skuId: sku('POWER_BI_PRO'), disabledPlans: [] });
  };

  const deptUsers = new Map<string, User[]>();
  const managers: User[] = [];
  const leadership: User[] = [];
  let i = 0;
  if (total > 0) {
    const ceo = makeUser(i++, 'Executive', 'Chief Executive Officer', null);
    licence(ceo, true);
    store.addUser(ceo);
    leadership.push(ceo);
    const heads: User[] = [];
    for (const dept of DEPARTMENTS) {
      if (i >= total) break;
      const head = makeUser(i++, dept.name, dept.head, ceo.id);
      licence(head, true);
      store.addUser(head);
      heads.push(head);
      leadership.push(head);
      deptUsers.set(dept.name, [head]);
    }
    // The rest by department weight: one manager per ~8 people, reporting to the head.
    const remaining = total - i;
    const weightSum = DEPARTMENTS.reduce((s, d) => s + d.weight, 0);
    DEPARTMENTS.forEach((dept, di) => {
      const head = heads[di];
      if (!head) return;
      const size = di === DEPARTMENTS.length - 1 ? total - i : Math.floor((remaining * dept.weight) / weightSum);
      const managerCount = size > 3 ? Math.max(1, Math.round(size / 9)) : 0;
      const deptManagers: User[] = [];
      for (let k = 0; k < size && i < total; k++) {
        const isManager = k < managerCount;
        const managerId = isManager ? head.id : (deptManagers.length ? deptManagers[k % deptManagers.length]!.id : head.id);
        const user = makeUser(i++, dept.name, isManager ? dept.manager : rng.pick(dept.titles), managerId);
        licence(user, false);
        // A few leavers whose account was disabled but never cleaned up: realistic offboarding work.
        if (!isManager && rng.chance(0.02)) user.accountEnabled = false;
        store.addUser(user);
        deptUsers.get(dept.name)!.push(user);
        if (isManager) {
          deptManagers.push(user);
          managers.push(user);
        }
      }
    });
  }

  // Guests from partner organisations.
  const guestCount = total >= 20 ? Math.max(2, Math.floor(total / 100)) : 0;
  for (let g = 0; g < guestCount; g++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const partner = rng.pick(['fabrikam.com', 'northwindtraders.com', 'adatum.com', 'tailspintoys.com']);
    const ext = `${ascii(first)}.${ascii(last)}${g}_${partner.replace('.', '_')}`;
    const mail = `${ascii(first)}.${ascii(last)}${g}@${partner}`;
    const created = opts.nowMs - (30 + rng.int(700)) * DAY;
    store.addUser(
      newUser(
        {
          id: rng.guid(),
          userPrincipalName: `${ext}#EXT#@${store.info.initialDomain}`,
          displayName: `${first} ${last} (${partner.split('.')[0]})`,
          givenName: first,
          surname: last,
          mail,
          mailNickname: ext,
          otherMails: [mail],
          proxyAddresses: [`SMTP:${mail}`],
          userType: 'Guest',
          externalUserState: 'Accepted',
          creationType: 'Invitation',
          companyName: partner,
          createdDateTime: new Date(created).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          _createdMs: created,
        },
        created,
      ),
    );
  }

  // Subscriptions: what is consumed plus some headroom, and a few spare SKUs.
  const prepaid: Record<string, number> = { SPE_E3: 5, SPE_E5: 5, SPE_F1: 5, POWER_BI_PRO: 5, EXCHANGESTANDARD: 25, ENTERPRISEPACK: 10, MCOEV: 10, FLOW_FREE: 10000 };
  for (const [part, extra] of Object.entries(prepaid)) {
    const id = sku(part);
    const used = store.consumedUnits(id);
    store.skus.set(id, { skuId: id, prepaidEnabled: part === 'FLOW_FREE' ? extra : used + Math.ceil(used * 0.1) + extra, prepaidSuspended: 0, prepaidWarning: 0, capabilityStatus: 'Enabled' });
  }

  // Groups: one Microsoft 365 group per department, company-wide groups, and security groups.
  const groupAt = (fields: Partial<Group> & Pick<Group, 'displayName' | 'mailNickname'>): Group => {
    const created = start + rng.int(365) * DAY;
    const g = newGroup({ id: rng.guid(), ...fields }, created, rng);
    store.addGroup(g);
    return g;
  };
  const unified = (displayName: string, nick: string, description: string, visibility = 'Private'): Group =>
    groupAt({
      displayName,
      mailNickname: nick,
      description,
      groupTypes: ['Unified'],
      mailEnabled: true,
      securityEnabled: false,
      visibility,
      mail: `${nick}@${domain}`,
      proxyAddresses: [`SMTP:${nick}@${domain}`, `smtp:${nick}@${store.info.initialDomain}`],
      resourceProvisioningOptions: [],
    });
  const security = (displayName: string, nick: string, description: string): Group => groupAt({ displayName, mailNickname: nick, description });

  const allUsers = [...store.users.values()].filter((u) => u.userType === 'Member');
  if (allUsers.length) {
    const everyone = unified('All Company', 'allcompany', 'Everyone at the company.', 'Public');
    for (const u of allUsers) store.addMember(everyone.id, u.id);
    if (leadership[0]) store.addOwner(everyone.id, leadership[0].id);
  }
  for (const dept of DEPARTMENTS) {
    const members = deptUsers.get(dept.name);
    if (!members) continue;
    const nick = dept.name.replace(/\s+/g, '');
    const g = unified(dept.name, nick, `${dept.name} team.`);
    g.resourceProvisioningOptions = ['Team'];
    for (const u of members) store.addMember(g.id, u.id);
    store.addOwner(g.id, members[0]!.id);
  }
  if (allUsers.length) {
    const lead = security('Leadership', 'leadership', 'Executive leadership team.');
    for (const u of leadership) store.addMember(lead.id, u.id);
    const allManagers = security('All Managers', 'allmanagers', 'People managers; includes the Leadership group.');
    for (const u of managers) store.addMember(allManagers.id, u.id);
    store.addMember(allManagers.id, lead.id);
    const vpn = security('VPN Users', 'vpnusers', 'Allowed to connect to the corporate VPN.');
    for (const u of allUsers) if (rng.chance(0.3)) store.addMember(vpn.id, u.id);
    const itAdmins = security('IT Admins', 'itadmins', 'Administrators of the IT department.');
    for (const u of deptUsers.get('IT') ?? []) store.addMember(itAdmins.id, u.id);
    const approvers = security('Finance Approvers', 'financeapprovers', 'Approve purchases above the threshold.');
    for (const u of (deptUsers.get('Finance') ?? []).slice(0, 3)) store.addMember(approvers.id, u.id);
    security('MFA Exclusions', 'mfaexclusions', 'Break-glass accounts excluded from MFA policies. Keep empty.');
    const alerts = groupAt({
      displayName: 'Security Alerts',
      mailNickname: 'securityalerts',
      description: 'Mail-enabled security group that receives security notifications.',
      mailEnabled: true,
      securityEnabled: true,
      mail: `securityalerts@${domain}`,
      proxyAddresses: [`SMTP:securityalerts@${domain}`],
    });
    for (const u of deptUsers.get('IT') ?? []) store.addMember(alerts.id, u.id);
  }
  return { store, demoApp };
}
