// Windows Autopilot and Exchange ActiveSync device actions against the sandbox tenant, as runbook
// steps on real Temporal, read back through Graph (windowsAutopilotDeviceIdentities,
// importedWindowsAutopilotDeviceIdentities) and Exchange (Get-MobileDevice, Get-CASMailbox). The
// Autopilot import is asynchronous: the step waits for the service, or reports pending.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;

interface Autopilot {
  id: string;
  serialNumber: string;
  groupTag: string;
  userPrincipalName: string;
}

const spare: Autopilot[] = [];
const take = (): Autopilot => {
  const d = spare.shift();
  assert.ok(d, 'a spare seeded Autopilot device');
  return d;
};

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
  spare.push(...((await env.graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').top(100).get()).value as Autopilot[]));
});
after(async () => env?.close());

const readAutopilot = (id: string): Promise<Autopilot> => env.graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${id}`).get();
const bySerial = async (serial: string): Promise<Autopilot[]> =>
  (await env.graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').filter(`contains(serialNumber,'${serial}')`).get()).value;
const hash = () => Buffer.from(randomUUID().repeat(8)).toString('base64');
const serial = (tag: string) => `${tag}-${randomUUID().slice(0, 8).toUpperCase()}`;

describe('Windows Autopilot', { concurrency: true }, () => {
  it('autopilot.import waits for the Autopilot service and reports each device imported', async () => {
    const [a, b] = [serial('IMP'), serial('IMP')];
    const user = [...env.sandbox.admin.store.users.values()].find((u) => u.userType === 'Member')!;
    const r = await env.run('autopilot.import', {
      devices: [
        { serialNumber: a, hardwareHash: hash(), groupTag: 'Sales', assignedUser: user.userPrincipalName },
        { serialNumber: b, hardwareHash: hash() },
      ],
    });
    ok(r);
    assert.deepEqual([r.output.complete, r.output.imported, r.output.pending], [true, 2, 0]);
    const [made] = await bySerial(a);
    assert.ok(made, 'the Autopilot device exists');
    assert.equal(made.groupTag, 'Sales');
    assert.equal(made.userPrincipalName, user.userPrincipalName);
    assert.equal(r.output.devices[0].autopilotDeviceId, made.id);
    assert.equal((await bySerial(b)).length, 1);
  });

  it('autopilot.import with no wait reports the devices pending, honestly', async () => {
    const s = serial('NOWAIT');
    const r = await env.run('autopilot.import', { devices: [{ serialNumber: s, hardwareHash: hash() }], waitMinutes: 0 });
    ok(r);
    assert.deepEqual([r.output.complete, r.output.pending, r.output.devices[0].status], [false, 1, 'pending']);
    const rows = (await env.graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities').get()).value.filter((i: { importId: string }) => i.importId === r.output.importId);
    assert.equal(rows.length, 1, 'the import is queued at the service');
  });

  it('autopilot.import fails naming the devices the service refused (already registered, bad hash)', async () => {
    const registered = take();
    const fresh = serial('OK');
    const r = await env.run('autopilot.import', {
      devices: [
        { serialNumber: registered.serialNumber, hardwareHash: hash() },
        { serialNumber: fresh, hardwareHash: hash() },
        { serialNumber: serial('BAD'), hardwareHash: 'AAAA' },
      ],
    });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'AutopilotImportFailed');
    assert.match(r.error!.message, /2 of 3 devices/);
    assert.match(r.error!.message, /806 ZtdDeviceAlreadyAssigned/);
    assert.match(r.error!.message, /802 InvalidZtdHardwareHash/);
    assert.equal((await bySerial(fresh)).length, 1, 'the good device was imported');
  });

  it('autopilot.import refuses a serial number listed twice, before importing anything', async () => {
    const s = serial('TWICE');
    const r = await env.run('autopilot.import', { devices: [{ serialNumber: s, hardwareHash: hash() }, { serialNumber: s, hardwareHash: hash() }] });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'InvalidInput');
    const rows = (await env.graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities').get()).value.filter((i: { serialNumber: string }) => i.serialNumber === s);
    assert.equal(rows.length, 0);
  });

  it('autopilot.find by serial number and group tag', async () => {
    const d = take();
    const r = await env.run('autopilot.find', { serialNumber: d.serialNumber });
    ok(r);
    assert.deepEqual(r.output.devices.map((x: Autopilot) => x.id), [d.id]);
  });

  it('autopilot.setGroupTag sets the tag, read back; a second run changes nothing', async () => {
    const d = take();
    const r = await env.run('autopilot.setGroupTag', { device: d.serialNumber, groupTag: 'Kiosk-Lobby' });
    ok(r);
    assert.deepEqual([r.output.previousGroupTag, r.output.changed], [d.groupTag, true]);
    assert.equal((await readAutopilot(d.id)).groupTag, 'Kiosk-Lobby');
    assert.equal((await env.run('autopilot.setGroupTag', { device: d.id, groupTag: 'Kiosk-Lobby' })).output.changed, false);
  });

  it('autopilot.assignUser and autopilot.unassignUser', async () => {
    const d = take();
    const user = [...env.sandbox.admin.store.users.values()].find((u) => u.userType === 'Member' && u.userPrincipalName !== d.userPrincipalName)!;
    const r = await env.run('autopilot.assignUser', { device: d.id, user: user.id });
    ok(r);
    assert.equal(r.output.previousUser, d.userPrincipalName);
    assert.equal((await readAutopilot(d.id)).userPrincipalName, user.userPrincipalName);
    const un = await env.run('autopilot.unassignUser', { device: d.serialNumber });
    ok(un);
    assert.equal((await readAutopilot(d.id)).userPrincipalName, '');
    assert.equal((await env.run('autopilot.unassignUser', { device: d.id })).output.changed, false);
  });

  it('autopilot.delete deregisters the device; an unknown serial fails', async () => {
    const d = take();
    const r = await env.run('autopilot.delete', { device: d.serialNumber });
    ok(r);
    assert.equal(r.output.deleted, true);
    await assert.rejects(readAutopilot(d.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const missing = await env.run('autopilot.delete', { device: 'NO-SUCH-SERIAL' });
    assert.equal(missing.status, 'failed');
    assert.equal(missing.error?.code, 'ResourceNotFound');
  });
});

// A scripted fault on POST .../import would hit the other imports running alongside: this one runs alone.
describe('autopilot.import after a lost answer', () => {
  it('autopilot.import retried after a lost answer does not import twice', async () => {
    const s = serial('RETRY');
    env.sandbox.admin.failNext({ status: 504, match: '^POST /v1\\.0/deviceManagement/importedWindowsAutopilotDeviceIdentities/import$', afterEffect: true });
    const r = await env.run('autopilot.import', { devices: [{ serialNumber: s, hardwareHash: hash() }] });
    ok(r);
    assert.equal(r.attempts, 2);
    const rows = (await env.graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities').get()).value.filter((i: { serialNumber: string }) => i.serialNumber === s);
    assert.equal(rows.length, 1, 'one import row, not two');
    assert.equal(r.output.devices[0].status, 'imported');
  });
});

describe('Exchange ActiveSync mobile devices', { concurrency: true }, () => {
  /** Mailboxes with a phone, each handed to one test. */
  const phones: { mailbox: string; device: Record<string, unknown> }[] = [];
  const quarantined: { mailbox: string; device: Record<string, unknown> }[] = [];
  before(async () => {
    for (const u of env.sandbox.admin.store.users.values()) {
      if (!u.assignedLicenses.length || u.userType !== 'Member') continue;
      const list = (await exo('Get-MobileDevice', { Mailbox: u.userPrincipalName }).catch(() => ({ value: [] }))).value;
      for (const d of list) (d['DeviceAccessState'] === 'Quarantined' ? quarantined : phones).push({ mailbox: u.userPrincipalName, device: d });
    }
  });
  const devicesOf = async (mailbox: string) => (await exo('Get-MobileDevice', { Mailbox: mailbox })).value;

  it('mobileDevice.find lists a mailbox\'s devices with their access state', async () => {
    const p = phones.shift()!;
    const r = await env.run('mobileDevice.find', { mailbox: p.mailbox });
    ok(r);
    assert.ok(r.output.devices.some((d: { deviceId: string; deviceAccessState: string }) => d.deviceId === p.device['DeviceId'] && d.deviceAccessState === 'Allowed'));
  });

  it('mobileDevice.wipe sends one remote wipe, read back as pending', async () => {
    const p = phones.shift()!;
    const r = await env.run('mobileDevice.wipe', { mailbox: p.mailbox, device: p.device['DeviceId'], accountOnly: true });
    ok(r);
    assert.deepEqual([r.output.sent, r.output.deviceWipeStatus], [true, 'AccountOnlyWipePending']);
    assert.equal((await devicesOf(p.mailbox)).find((d) => d['DeviceId'] === p.device['DeviceId'])!['DeviceWipeStatus'], 'AccountOnlyWipePending');
    assert.equal((await env.run('mobileDevice.wipe', { mailbox: p.mailbox, device: p.device['DeviceId'] })).output.sent, false);
  });

  it('mobileDevice.remove removes the partnership; an unknown device fails naming the mailbox\'s devices', async () => {
    const p = phones.shift()!;
    const r = await env.run('mobileDevice.remove', { mailbox: p.mailbox, device: p.device['Identity'] });
    ok(r);
    assert.ok(!(await devicesOf(p.mailbox)).some((d) => d['DeviceId'] === p.device['DeviceId']));
    const bad = await env.run('mobileDevice.remove', { mailbox: p.mailbox, device: 'ApplNOSUCHDEV' });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error?.code, 'MobileDeviceNotFound');
  });

  it('mobileDevice.allow lets a quarantined phone sync; mobileDevice.block blocks it again', async () => {
    const q = quarantined.shift();
    assert.ok(q, 'a seeded quarantined phone');
    const id = q.device['DeviceId'] as string;
    const r = await env.run('mobileDevice.allow', { mailbox: q.mailbox, device: id });
    ok(r);
    assert.deepEqual([r.output.deviceAccessState, r.output.changed], ['Allowed', true]);
    assert.equal((await devicesOf(q.mailbox)).find((d) => d['DeviceId'] === id)!['DeviceAccessState'], 'Allowed');
    assert.deepEqual((await exo('Get-CASMailbox', { Identity: q.mailbox })).value[0]!['ActiveSyncAllowedDeviceIDs'], [id]);
    assert.equal((await env.run('mobileDevice.allow', { mailbox: q.mailbox, device: id })).output.changed, false);
    const b = await env.run('mobileDevice.block', { mailbox: q.mailbox, device: id });
    ok(b);
    assert.equal((await devicesOf(q.mailbox)).find((d) => d['DeviceId'] === id)!['DeviceAccessState'], 'Blocked');
    const cas = (await exo('Get-CASMailbox', { Identity: q.mailbox })).value[0]!;
    assert.deepEqual([cas['ActiveSyncAllowedDeviceIDs'], cas['ActiveSyncBlockedDeviceIDs']], [[], [id]]);
  });
});
