// The Intune device actions against the sandbox tenant: each runs as a runbook step on real
// Temporal through the real activity wrapper, and the test reads the device back through Graph
// (deviceActionResults, managementState, names, ownership, category). Then retries: an attempt
// whose wipe or restart reached Intune but whose answer was lost must not send it again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;

interface Device {
  id: string;
  userId: string;
  deviceName: string;
  serialNumber: string;
  operatingSystem: string;
  managementState: string;
  managedDeviceOwnerType: string;
  deviceCategoryDisplayName: string;
  lastSyncDateTime: string;
  deviceActionResults: { actionName: string; actionState: string; startDateTime: string }[];
}

/** Seeded devices by platform, each handed to one test only (tests run concurrently). */
const pool: Record<string, Device[]> = {};
function take(os: string): Device {
  const d = pool[os]?.shift();
  assert.ok(d, `a spare seeded ${os} device`);
  return d;
}

before(async () => {
  env = await startActionsEnv();
  // 40 seeded users have Windows laptops and phones; Macs are rarer, so enrol a few.
  const members = [...env.sandbox.admin.store.users.values()].filter((u) => u.userType === 'Member').slice(0, 3);
  for (const u of members) env.sandbox.admin.enrollDevice({ user: u.userPrincipalName, operatingSystem: 'macOS' });
  const all = (await env.graph.api('/deviceManagement/managedDevices').top(999).get()).value as Device[];
  for (const d of all) (pool[d.operatingSystem] ??= []).push(d);
});
after(async () => env?.close());

const read = (id: string): Promise<Device> => env.graph.api(`/deviceManagement/managedDevices/${id}`).get();
const resultOf = async (id: string, action: string) => (await read(id)).deviceActionResults.find((r) => r.actionName === action);

describe('Intune remote actions', { concurrency: true }, () => {
  it('device.find lists a user\'s devices, and filters by platform', async () => {
    const d = take('Windows');
    const r = await env.run('device.find', { user: d.userId });
    ok(r);
    const mine = (await env.graph.api(`/users/${d.userId}/managedDevices`).get()).value as Device[];
    assert.deepEqual(r.output.devices.map((x: Device) => x.id).sort(), mine.map((x) => x.id).sort());
    const ios = await env.run('device.find', { operatingSystem: 'iOS', max: 3 });
    assert.ok(ios.output.devices.length > 0 && ios.output.devices.every((x: Device) => x.operatingSystem === 'iOS'));
  });

  it('device.wipe sends one wipe, read back as pending; a second run does not send another', async () => {
    const d = take('Windows');
    const r = await env.run('device.wipe', { device: d.deviceName, keepUserData: true, keepEnrollmentData: true });
    ok(r);
    assert.deepEqual([r.output.deviceId, r.output.sent, r.output.actionState], [d.id, true, 'pending']);
    const back = await read(d.id);
    assert.equal(back.managementState, 'wipePending');
    assert.equal(back.deviceActionResults.find((x) => x.actionName === 'wipe')?.actionState, 'pending');
    const again = await env.run('device.wipe', { device: d.id });
    ok(again);
    assert.equal(again.output.sent, false);
    assert.equal(env.sandbox.admin.mutationCount({ objectId: d.id, op: 'device.wipe' }), 1);
  });

  it('device.wipe retried after a lost answer does not wipe twice', async () => {
    const d = take('Android');
    env.sandbox.admin.failNext({ status: 504, match: `^POST /v1\\.0/deviceManagement/managedDevices/${d.id}/wipe$`, afterEffect: true });
    const r = await env.run('device.wipe', { device: d.id });
    ok(r);
    assert.equal(r.attempts, 2);
    assert.equal(r.output.actionState, 'pending');
    assert.equal(env.sandbox.admin.mutationCount({ objectId: d.id, op: 'device.wipe' }), 1);
  });

  it('device.wipe refuses a Mac unlock code for a phone, before anything is sent', async () => {
    const d = take('iOS');
    const r = await env.run('device.wipe', { device: d.id, macOsUnlockCode: '123456' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'InvalidInput');
    assert.equal(await resultOf(d.id, 'wipe'), undefined);
  });

  it('device.retire puts the device in retirePending', async () => {
    const d = take('iOS');
    const r = await env.run('device.retire', { device: d.serialNumber });
    ok(r);
    assert.equal((await read(d.id)).managementState, 'retirePending');
    assert.equal((await env.run('device.retire', { device: d.id })).output.sent, false);
  });

  it('device.delete removes the device from Intune; an unknown device fails', async () => {
    const d = take('Android');
    const r = await env.run('device.delete', { device: d.id });
    ok(r);
    assert.equal(r.output.deleted, true);
    await assert.rejects(read(d.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const missing = await env.run('device.delete', { device: 'NO-SUCH-DEVICE' });
    assert.equal(missing.status, 'failed');
    assert.equal(missing.error?.code, 'ResourceNotFound');
  });

  it('device.sync: the device checks in now', async () => {
    const d = take('Windows');
    ok(await env.run('device.sync', { device: d.id }));
    const back = await read(d.id);
    assert.equal(back.deviceActionResults.find((x) => x.actionName === 'syncDevice')?.actionState, 'done');
    assert.ok(back.lastSyncDateTime > d.lastSyncDateTime);
  });

  for (const [action, graphAction, os, params] of [
    ['device.restart', 'rebootNow', 'Windows', {}],
    ['device.shutDown', 'shutDown', 'macOS', {}],
    ['device.lock', 'remoteLock', 'Android', {}],
    ['device.resetPasscode', 'resetPasscode', 'iOS', {}],
    ['device.disableLostMode', 'disableLostMode', 'iOS', {}],
    ['device.locate', 'locateDevice', 'Android', {}],
    ['device.bypassActivationLock', 'bypassActivationLock', 'macOS', {}],
    ['device.scan', 'windowsDefenderScan', 'Windows', { quick: false }],
    ['device.updateDefenderSignatures', 'windowsDefenderUpdateSignatures', 'Windows', {}],
    ['device.freshStart', 'cleanWindowsDevice', 'Windows', { keepUserData: true }],
  ] as const) {
    it(`${action} sends ${graphAction}, read back as pending on the device`, async () => {
      const d = take(os);
      const r = await env.run(action, { device: d.id, ...params });
      ok(r);
      assert.deepEqual([r.output.sent, r.output.actionState], [true, 'pending']);
      assert.equal((await resultOf(d.id, graphAction))?.actionState, 'pending');
    });
  }

  it('an action on a platform it does not support fails before anything is sent', async () => {
    const d = take('Windows');
    const r = await env.run('device.resetPasscode', { device: d.id });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'NotSupportedOnPlatform');
    assert.match(r.error!.hint!, /iOS, Android/);
    assert.equal(r.attempts, 1);
    assert.equal(await resultOf(d.id, 'resetPasscode'), undefined);
  });

  it('device.restart retried after a lost answer restarts once', async () => {
    const d = take('Windows');
    env.sandbox.admin.failNext({ status: 503, match: `^POST /v1\\.0/deviceManagement/managedDevices/${d.id}/rebootNow$`, afterEffect: true });
    const r = await env.run('device.restart', { device: d.id });
    ok(r);
    assert.equal(r.attempts, 2);
    assert.equal(r.output.sent, false, 'the second attempt found its own restart');
    assert.equal(env.sandbox.admin.mutationCount({ objectId: d.id, op: 'device.rebootNow' }), 1);
  });

  it('device.setOwnership marks the device personal, and back', async () => {
    const d = take('iOS');
    const to = d.managedDeviceOwnerType === 'company' ? 'personal' : 'company';
    const r = await env.run('device.setOwnership', { device: d.id, ownerType: to });
    ok(r);
    assert.deepEqual([r.output.changed, r.output.previousOwnerType], [true, d.managedDeviceOwnerType]);
    assert.equal((await read(d.id)).managedDeviceOwnerType, to);
    assert.equal((await env.run('device.setOwnership', { device: d.id, ownerType: to })).output.changed, false);
  });

  it('device.setCategory puts the device in a category by name; an unknown one fails naming the categories', async () => {
    const d = take('Windows');
    const r = await env.run('device.setCategory', { device: d.id, category: 'kiosk' });
    ok(r);
    assert.deepEqual([r.output.category, r.output.previousCategory, r.output.changed], ['Kiosk', 'Unknown', true]);
    assert.equal((await read(d.id)).deviceCategoryDisplayName, 'Kiosk');
    const bad = await env.run('device.setCategory', { device: d.id, category: 'Toasters' });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!.hint!, /Corporate laptop/);
  });

  it('device.rename refuses an invalid Windows name, before anything is sent', async () => {
    const d = take('Windows');
    const r = await env.run('device.rename', { device: d.id, deviceName: 'A name with spaces' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'InvalidInput');
    assert.equal(await resultOf(d.id, 'setDeviceName'), undefined);
  });

  it('a device named ambiguously or not at all fails with what to use instead', async () => {
    const r = await env.run('device.lock', { device: 'NOT-A-DEVICE' });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.hint!, /device id/);
  });

  it('a tenant connection without Intune permissions gets a hint naming them', async () => {
    const d = take('Windows');
    const r = await env.run('device.lock', { device: d.id }, { tenant: 'limited' });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.hint!, /DeviceManagementManagedDevices/);
  });
});

describe('what happens when the device checks in', () => {
  it('device.rename: the device takes the new name at its next check-in', async () => {
    const d = take('Windows');
    const r = await env.run('device.rename', { device: d.id, deviceName: 'CONTOSO-RENAMED' });
    ok(r);
    assert.deepEqual([r.output.sent, r.output.actionState, r.output.previousName], [true, 'pending', d.deviceName]);
    assert.equal((await read(d.id)).deviceName, d.deviceName, 'not renamed before the check-in');
    env.sandbox.admin.advanceClock(180);
    assert.equal((await read(d.id)).deviceName, 'CONTOSO-RENAMED');
    const again = await env.run('device.rename', { device: 'CONTOSO-RENAMED', deviceName: 'CONTOSO-RENAMED' });
    assert.equal(again.output.sent, false);
  });

  it('device.retire: the retired device leaves Intune at check-in; a retry of a done wipe sends nothing', async () => {
    const [phone, pc] = [take('iOS'), take('Windows')];
    ok(await env.run('device.retire', { device: phone.id }));
    ok(await env.run('device.wipe', { device: pc.id }));
    env.sandbox.admin.advanceClock(180);
    await assert.rejects(read(phone.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const again = await env.run('device.wipe', { device: pc.id });
    assert.deepEqual([again.output.sent, again.output.actionState], [false, 'done']);
  });
});
