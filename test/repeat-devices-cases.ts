// Finding 1 of issue 16 for the device, Autopilot, app-registration, directory-role, named-location,
// domain and Conditional Access actions: the cases test/repeat-safety-devices.test.ts drives (fresh
// fixtures and the step's parameters for each action), and the actions of this area whose repeat is
// harmless, with the reason. test/repeat-safety.test.ts counts both in its report and NOT_YET.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { ActionsEnv } from './actions-kit.ts';
import { derBase64, makeCert } from './certs.ts';

export interface DeviceCase {
  params: Record<string, unknown>;
  /** The write whose answer is lost (a pattern of "METHOD /v1.0/path"); the step's first write when absent. */
  lostWrite?: string;
  /** What a person would check after the run that lost its first answer: the tenant as Microsoft's API shows it. */
  check?: (output: any) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Os = 'Windows' | 'macOS' | 'iOS' | 'Android';
const short = () => randomUUID().slice(0, 8);
const DAY = 86_400_000;
const LOCATIONS = '/identity/conditionalAccess/namedLocations';
const POLICIES = '/identity/conditionalAccess/policies';

/** A device newly enrolled in Intune (no action results yet), for one run only. */
export function enrolled(env: ActionsEnv, os: Os): string {
  const user = [...env.sandbox.admin.store.users.values()].find((u) => u.userType === 'Member' && u.accountEnabled !== false)!;
  return env.sandbox.admin.enrollDevice({ user: user.userPrincipalName, operatingSystem: os }).id;
}

/** After a lost answer the device still carries exactly one result of this action (Intune keeps the latest per action). */
function oneResult(env: ActionsEnv, id: string, action: string) {
  return async () => {
    const d = await env.graph.api(`/deviceManagement/managedDevices/${id}`).select('id,deviceActionResults').get();
    assert.equal(d.deviceActionResults.filter((r: { actionName: string }) => r.actionName === action).length, 1, `one ${action} on the device`);
  };
}

/** A remote action on a fresh device of that platform. */
function remote(os: Os, graphAction: string, extra: Record<string, unknown> = {}) {
  return async (env: ActionsEnv): Promise<DeviceCase> => {
    const id = enrolled(env, os);
    return { params: { device: id, ...extra }, check: oneResult(env, id, graphAction) };
  };
}

/** Seeded Autopilot devices not used yet (one per run of autopilot.delete). */
let autopilotSpares: string[] | undefined;
async function spareAutopilot(env: ActionsEnv): Promise<string> {
  autopilotSpares ??= ((await env.graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').top(100).get()).value as { id: string }[]).map((d) => d.id).reverse();
  const id = autopilotSpares.pop();
  assert.ok(id, 'a spare seeded Autopilot device');
  return id;
}

async function newApp(env: ActionsEnv): Promise<{ id: string; appId: string; displayName: string }> {
  return env.graph.api('/applications').post({ displayName: `Repeat app ${short()}` });
}

const thumbprint = (certPem: string) => createHash('sha1').update(Buffer.from(derBase64(certPem), 'base64')).digest('hex').toUpperCase();
const certificate = (pem: string) => ({ type: 'AsymmetricX509Cert', usage: 'Verify', key: derBase64(pem) });

async function newUser(env: ActionsEnv): Promise<{ id: string; userPrincipalName: string }> {
  const upn = `repdev.${short()}@${env.sandbox.tenant.domain}`;
  return env.graph.api('/users').post({ accountEnabled: true, displayName: `Repeat ${upn.slice(7, 15)}`, mailNickname: upn.split('@')[0], userPrincipalName: upn, passwordProfile: { password: `Pw-${short()}!x` } });
}

async function newLocation(env: ActionsEnv): Promise<{ id: string; displayName: string }> {
  return env.graph.api(LOCATIONS).post({
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    displayName: `Repeat office ${short()}`,
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
  });
}

/** A report-only (or disabled) policy that asks guests for MFA, made through Graph directly. */
async function newPolicy(env: ActionsEnv, state = 'enabledForReportingButNotEnforced'): Promise<{ id: string; displayName: string }> {
  return env.graph.api(POLICIES).post({
    displayName: `Repeat policy ${short()}`,
    state,
    conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  });
}

const domainName = () => `repeat-${short()}.example`;
async function txtOf(env: ActionsEnv, name: string): Promise<string> {
  return (await env.graph.api(`/domains/${name}/verificationDnsRecords`).get()).value.find((r: { recordType: string }) => r.recordType === 'Txt').text;
}
async function verifiedDomain(env: ActionsEnv): Promise<string> {
  const name = domainName();
  await env.graph.api('/domains').post({ id: name });
  env.sandbox.admin.publishDnsRecord(name, { type: 'TXT', value: await txtOf(env, name) });
  await env.graph.api(`/domains/${name}/verify`).post({});
  return name;
}

const countNamed = async (env: ActionsEnv, path: string, displayName: string) => (await env.graph.api(path).filter(`displayName eq '${displayName}'`).get()).value.length;

export const DEVICE_CASES: Record<string, (env: ActionsEnv) => Promise<DeviceCase>> = {
  // ---- Intune remote actions: the device's deviceActionResults show the action this step sent ----
  'device.wipe': remote('Windows', 'wipe', { keepUserData: true }),
  'device.retire': remote('iOS', 'retire'),
  'device.sync': remote('Android', 'syncDevice'),
  'device.restart': remote('Windows', 'rebootNow'),
  'device.shutDown': remote('macOS', 'shutDown'),
  'device.lock': remote('iOS', 'remoteLock'),
  'device.resetPasscode': remote('Android', 'resetPasscode'),
  'device.disableLostMode': remote('iOS', 'disableLostMode'),
  'device.locate': remote('iOS', 'locateDevice'),
  'device.bypassActivationLock': remote('iOS', 'bypassActivationLock'),
  'device.scan': remote('Windows', 'windowsDefenderScan', { quick: false }),
  'device.updateDefenderSignatures': remote('Windows', 'windowsDefenderUpdateSignatures'),
  'device.freshStart': remote('Windows', 'cleanWindowsDevice', { keepUserData: true }),
  'device.rename': async (env) => {
    const id = enrolled(env, 'Windows');
    return { params: { device: id, deviceName: `REP-${short().slice(0, 6).toUpperCase()}` }, check: oneResult(env, id, 'setDeviceName') };
  },
  'device.delete': async (env) => {
    const id = enrolled(env, 'Android');
    return {
      params: { device: id },
      check: async () => assert.rejects(env.graph.api(`/deviceManagement/managedDevices/${id}`).get(), (e: { statusCode?: number }) => e.statusCode === 404, 'the device is gone'),
    };
  },
  'device.setOwnership': async (env) => ({ params: { device: enrolled(env, 'Windows'), ownerType: 'personal' } }),
  'device.setCategory': async (env) => ({ params: { device: enrolled(env, 'Windows'), category: 'Kiosk' } }),

  // ---- Windows Autopilot ----
  'autopilot.import': async (env) => {
    const serial = `REP-${short().toUpperCase()}`;
    return {
      params: { devices: [{ serialNumber: serial, hardwareHash: Buffer.from(randomUUID().repeat(8)).toString('base64'), groupTag: 'Repeat' }] },
      check: async (out) => {
        const rows = (await env.graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities').get()).value.filter((i: { serialNumber: string }) => i.serialNumber === serial);
        assert.equal(rows.length, 1, 'one import row, not two');
        assert.equal(out.devices[0].status, 'imported');
      },
    };
  },
  'autopilot.delete': async (env) => ({ params: { device: await spareAutopilot(env) } }),

  // ---- app registrations ----
  'app.create': async (env) => {
    const displayName = `Repeat new app ${short()}`;
    const owner = await newUser(env);
    return {
      params: { displayName, owners: [owner.id] },
      check: async (out) => {
        assert.equal(await countNamed(env, '/applications', displayName), 1, 'one app registration of that name');
        assert.equal((await env.graph.api('/servicePrincipals').filter(`appId eq '${out.appId}'`).get()).value.length, 1, 'one enterprise app');
        assert.deepEqual((await env.graph.api(`/applications/${out.id}/owners`).get()).value.map((o: { id: string }) => o.id), [owner.id]);
      },
    };
  },
  'app.addCertificate': async (env) => {
    const app = await newApp(env);
    return {
      params: { app: app.id, certificate: makeCert('repeat-add').certPem },
      check: async () => assert.equal((await env.graph.api(`/applications/${app.id}`).select('id,keyCredentials').get()).keyCredentials.length, 1, 'one certificate'),
    };
  },
  'app.removeCertificate': async (env) => {
    const app = await newApp(env);
    const [gone, kept] = [makeCert('repeat-gone'), makeCert('repeat-kept')];
    await env.graph.api(`/applications/${app.id}`).patch({ keyCredentials: [certificate(gone.certPem), certificate(kept.certPem)] });
    return { params: { app: app.id, certificate: thumbprint(gone.certPem) } };
  },
  'app.removeSecret': async (env) => {
    const app = await newApp(env);
    const secret = await env.graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'old job' } });
    await env.graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'kept' } });
    return { params: { app: app.id, keyId: secret.keyId } };
  },
  'app.removeExpiredCredentials': async (env) => {
    const app = await newApp(env);
    await env.graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'expired', startDateTime: new Date(Date.now() - 30 * DAY).toISOString(), endDateTime: new Date(Date.now() - DAY).toISOString() } });
    const old = makeCert('repeat-expired', { notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - 2 * DAY) });
    await env.graph.api(`/applications/${app.id}`).patch({ keyCredentials: [certificate(old.certPem)] });
    return { params: { app: app.id } };
  },

  // ---- directory roles and named locations ----
  'directory.assignRole': async (env) => ({ params: { user: (await newUser(env)).id, role: 'Helpdesk Administrator' } }),
  'directory.removeRole': async (env) => {
    const u = await newUser(env);
    await env.graph.api('/roleManagement/directory/roleAssignments').post({ principalId: u.id, roleDefinitionId: '729827e3-9c14-49f7-bb1b-9608f156bbb8', directoryScopeId: '/' });
    return { params: { user: u.id, role: 'Helpdesk Administrator' } };
  },
  'directory.createNamedLocation': async (env) => {
    const displayName = `Repeat new office ${short()}`;
    return { params: { displayName, ipRanges: ['198.51.100.0/24'] }, check: async () => assert.equal(await countNamed(env, LOCATIONS, displayName), 1, 'one named location of that name') };
  },
  'directory.updateNamedLocation': async (env) => ({ params: { location: (await newLocation(env)).id, ipRanges: ['198.51.100.0/24'], rangesMode: 'add', isTrusted: false } }),
  'directory.deleteNamedLocation': async (env) => ({ params: { location: (await newLocation(env)).displayName } }),

  // ---- domains ----
  'domain.add': async (env) => {
    const name = domainName();
    return { params: { domain: name }, check: async () => assert.equal((await env.graph.api(`/domains/${name}`).get()).isVerified, false) };
  },
  'domain.verify': async (env) => {
    const name = domainName();
    await env.graph.api('/domains').post({ id: name });
    env.sandbox.admin.publishDnsRecord(name, { type: 'TXT', value: await txtOf(env, name) });
    return { params: { domain: name }, check: async () => assert.equal((await env.graph.api(`/domains/${name}`).get()).isVerified, true) };
  },
  'domain.update': async (env) => ({ params: { domain: await verifiedDomain(env), supportedServices: ['Email', 'Intune'] } }),
  'domain.remove': async (env) => {
    const name = domainName();
    await env.graph.api('/domains').post({ id: name });
    return { params: { domain: name } };
  },

  // ---- Conditional Access ----
  'policy.createConditionalAccess': async (env) => {
    const displayName = `Repeat new policy ${short()}`;
    return {
      params: { displayName, includeUsers: ['GuestsOrExternalUsers'], state: 'disabled' },
      check: async () => assert.equal(await countNamed(env, POLICIES, displayName), 1, 'one policy of that name'),
    };
  },
  'policy.updateConditionalAccess': async (env) => ({ params: { policy: (await newPolicy(env)).id, grant: ['mfa', 'compliantDevice'], grantOperator: 'AND' } }),
  'policy.setConditionalAccessState': async (env) => ({ params: { policy: (await newPolicy(env, 'disabled')).displayName, state: 'enabledForReportingButNotEnforced' } }),
  'policy.deleteConditionalAccess': async (env) => ({ params: { policy: (await newPolicy(env)).id } }),
};

/** More paths of actions above, proven the same way: label -> action and case. */
export const DEVICE_VARIANTS: Record<string, { action: string; make: (env: ActionsEnv) => Promise<DeviceCase> }> = {
  // The first write is Microsoft's asynchronous forceDelete: a retry must see it running (state ForceDelete) and wait, not post it again.
  // A step of several writes: the answer of a later one is lost (the app exists by then).
  'app.create, the enterprise app\'s answer lost': {
    action: 'app.create',
    make: async (env) => ({ ...(await DEVICE_CASES['app.create']!(env)), lostWrite: '^POST /v1\\.0/servicePrincipals$' }),
  },
  'app.create, the owner\'s answer lost': {
    action: 'app.create',
    make: async (env) => ({ ...(await DEVICE_CASES['app.create']!(env)), lostWrite: '^POST /v1\\.0/applications/[^/]+/owners/\\$ref$' }),
  },
  'app.removeExpiredCredentials, the certificates\' answer lost': {
    action: 'app.removeExpiredCredentials',
    make: async (env) => ({ ...(await DEVICE_CASES['app.removeExpiredCredentials']!(env)), lostWrite: '^PATCH /v1\\.0/applications/' }),
  },
  'domain.remove with force (a user still in the domain)': {
    action: 'domain.remove',
    make: async (env) => {
      const name = await verifiedDomain(env);
      const upn = `inuse.${short()}@${name}`;
      const u = await env.graph.api('/users').post({ accountEnabled: true, displayName: 'Repeat in use', mailNickname: upn.split('@')[0], userPrincipalName: upn, passwordProfile: { password: `Pw-${short()}!x` } });
      return {
        params: { domain: name, force: true, waitMinutes: 2 },
        check: async (out) => {
          assert.deepEqual([out.removed, out.pending], [true, false]);
          await assert.rejects(env.graph.api(`/domains/${name}`).get(), (e: { statusCode?: number }) => e.statusCode === 404, 'the domain is gone');
          assert.ok(!(await env.graph.api(`/users/${u.id}`).get()).userPrincipalName.endsWith(`@${name}`), 'its user was renamed');
        },
      };
    },
  },
};

/** Actions of this area whose repeat changes nothing a person would see, and why. */
export const DEVICE_HARMLESS: Record<string, string> = {
  'app.addSecret':
    'a retry cannot learn the text of a secret whose answer was lost (Microsoft returns it only once), so it removes that secret (found by the tag it carries in its ' +
    'description) and adds another: the app ends with one secret from the step, the one it seals or mails, and the removed one (whose answer was lost) was never shown to anyone ' +
    '(test/actions-apps.test.ts: "app.addSecret retried after a lost answer leaves exactly one secret"). The one visible trace: when the secret is mailed ' +
    'and the mail\'s own answer is lost, the recipient gets a second mail, and only the secret in the later one works',
};
