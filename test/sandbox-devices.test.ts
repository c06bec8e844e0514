// Intune managed devices and their remote actions, and Windows Autopilot identities, through the
// real Graph client: seeded devices per user, effects read back, Intune's 403 and throttling.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 3, users: 80 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

interface Device {
  id: string;
  userId: string;
  operatingSystem: string;
  managementState: string;
  lastSyncDateTime: string;
  deviceActionResults: { actionName: string; actionState: string }[];
}

async function someDevice(os?: string): Promise<Device> {
  const page = await graph.api('/deviceManagement/managedDevices').top(200).get();
  const d = (page.value as Device[]).find((x) => !os || x.operatingSystem === os);
  assert.ok(d, `a seeded ${os ?? ''} device`);
  return d;
}

test('seeded devices per user: list, filter by userId, get, users/{id}/managedDevices', async () => {
  const d = await someDevice();
  const mine = await graph.api(`/users/${d.userId}/managedDevices`).get();
  assert.ok(mine.value.some((x: Device) => x.id === d.id));
  const filtered = await graph.api('/deviceManagement/managedDevices').filter(`userId eq '${d.userId}'`).get();
  assert.deepEqual(filtered.value.map((x: Device) => x.id).sort(), mine.value.map((x: Device) => x.id).sort());
  const one = await graph.api(`/deviceManagement/managedDevices/${d.id}`).select('id,deviceName,complianceState').get();
  assert.deepEqual(Object.keys(one).filter((k) => !k.startsWith('@')).sort(), ['complianceState', 'deviceName', 'id']);
  const windows = await graph.api('/deviceManagement/managedDevices').filter("operatingSystem eq 'Windows' and complianceState eq 'noncompliant'").top(50).get();
  assert.ok(windows.value.every((x: Device & { complianceState: string }) => x.operatingSystem === 'Windows' && x.complianceState === 'noncompliant'));
});

test('retire and wipe answer 204 and change managementState; syncDevice updates lastSyncDateTime', async () => {
  const d = await someDevice();
  await graph.api(`/deviceManagement/managedDevices/${d.id}/retire`).post({});
  let read: Device = await graph.api(`/deviceManagement/managedDevices/${d.id}`).get();
  assert.equal(read.managementState, 'retirePending');
  await graph.api(`/deviceManagement/managedDevices/${d.id}/wipe`).post({ keepEnrollmentData: false, keepUserData: false });
  await graph.api(`/deviceManagement/managedDevices/${d.id}/syncDevice`).post({});
  read = await graph.api(`/deviceManagement/managedDevices/${d.id}`).get();
  assert.equal(read.managementState, 'wipePending');
  assert.deepEqual(read.deviceActionResults.map((r) => r.actionName).sort(), ['retire', 'syncDevice', 'wipe']);
  assert.equal(sb.admin.mutationCount({ objectId: d.id, op: 'device.wipe' }), 1);
  const bad = await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/wipe`).post({ keepUserData: 'yes' }));
  assert.equal(bad.statusCode, 400);
});

test('Windows-only actions on a phone are recorded notSupported; defender scan on Windows is pending', async () => {
  const phone = await someDevice('iOS');
  await graph.api(`/deviceManagement/managedDevices/${phone.id}/windowsDefenderScan`).post({ quickScan: true });
  const read: Device = await graph.api(`/deviceManagement/managedDevices/${phone.id}`).get();
  assert.equal(read.deviceActionResults[0]!.actionState, 'notSupported');
  const pc = await someDevice('Windows');
  await graph.api(`/users/${pc.userId}/managedDevices/${pc.id}/windowsDefenderScan`).post({ quickScan: false });
  const readPc: Device = await graph.api(`/deviceManagement/managedDevices/${pc.id}`).get();
  assert.equal(readPc.deviceActionResults[0]!.actionState, 'pending');
});

test('DELETE removes the device; an unknown device is 404; the admin API enrols a new one', async () => {
  const d = await someDevice();
  await graph.api(`/deviceManagement/managedDevices/${d.id}`).delete();
  const gone = await failure(graph.api(`/deviceManagement/managedDevices/${d.id}`).get());
  assert.equal(gone.statusCode, 404);
  const user = [...sb.admin.store.users.values()].at(-1)!;
  const enrolled = sb.admin.enrollDevice({ user: user.userPrincipalName, operatingSystem: 'Android' });
  const mine = await graph.api(`/users/${user.id}/managedDevices`).get();
  assert.ok(mine.value.some((x: Device) => x.id === enrolled.id));
});

test('Intune permissions: read-only apps get 403 Forbidden on actions', async () => {
  const d = await someDevice();
  const reader = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['DeviceManagementManagedDevices.Read.All'] }) });
  assert.ok((await reader.api('/deviceManagement/managedDevices').top(5).get()).value.length > 0);
  const denied = await failure(reader.api(`/deviceManagement/managedDevices/${d.id}/retire`).post({}));
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.code, 'Forbidden');
  assert.match(denied.message, /DeviceManagementManagedDevices.PrivilegedOperations.All/);
});

test('Autopilot: list, assign a user, update group tag, delete', async () => {
  const list = await graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').top(50).get();
  const ap = list.value[0];
  assert.ok(ap.serialNumber);
  const target = [...sb.admin.store.users.values()].find((u) => u.userPrincipalName !== ap.userPrincipalName && u.userType === 'Member')!;
  await graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${ap.id}/assignUserToDevice`).post({ userPrincipalName: target.userPrincipalName, addressableUserName: 'New Owner' });
  await graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${ap.id}/updateDeviceProperties`).post({ groupTag: 'Kiosk' });
  const read = await graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${ap.id}`).get();
  assert.equal(read.userPrincipalName, target.userPrincipalName);
  assert.equal(read.addressableUserName, 'New Owner');
  assert.equal(read.groupTag, 'Kiosk');
  await graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${ap.id}`).delete();
  assert.equal((await failure(graph.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${ap.id}`).get())).statusCode, 404);
  const noSvc = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['DeviceManagementManagedDevices.ReadWrite.All'] }) });
  assert.equal((await failure(noSvc.api('/deviceManagement/windowsAutopilotDeviceIdentities').get())).statusCode, 403);
});

test('Intune throttling: a burst past the per-app limit gets 429 with Retry-After on Intune routes', async () => {
  sb.admin.setLimits({ timeScale: 40 });
  const raw = sandboxGraphClient(sb, { retry: false });
  const d = await someDevice();
  let throttled: { statusCode: number; headers?: Headers } | undefined;
  for (let i = 0; i < 40 && !throttled; i++) {
    try {
      await raw.api(`/deviceManagement/managedDevices/${d.id}`).select('id').get();
    } catch (err) {
      throttled = err as { statusCode: number };
    }
  }
  assert.equal(throttled?.statusCode, 429);
  const log = sb.admin.requestLog({ path: '/deviceManagement' }).filter((e) => e.status === 429);
  assert.equal(log[0]!.injected, 'throttled');
});

test('a remote action is pending until the device checks in: then wipe is done (wipeIssued) and a retired device leaves Intune', async () => {
  const d = await someDevice('Windows');
  const other = (await graph.api('/deviceManagement/managedDevices').filter("operatingSystem eq 'iOS'").top(5).get()).value[0] as Device;
  await graph.api(`/deviceManagement/managedDevices/${d.id}/wipe`).post({ keepEnrollmentData: true });
  await graph.api(`/deviceManagement/managedDevices/${other.id}/retire`).post({});
  let read: Device = await graph.api(`/deviceManagement/managedDevices/${d.id}`).get();
  assert.equal(read.deviceActionResults.find((r) => r.actionName === 'wipe')!.actionState, 'pending');
  sb.admin.advanceClock(180);
  read = await graph.api(`/deviceManagement/managedDevices/${d.id}`).get();
  assert.equal(read.deviceActionResults.find((r) => r.actionName === 'wipe')!.actionState, 'done');
  assert.equal(read.managementState, 'wipeIssued');
  assert.equal((await failure(graph.api(`/deviceManagement/managedDevices/${other.id}`).get())).statusCode, 404);
  const mine = await graph.api(`/users/${other.userId}/managedDevices`).get();
  assert.ok(!mine.value.some((x: Device) => x.id === other.id), 'the retired device is gone from the user\'s devices too');
});

test('setDeviceName is beta only, checks Windows name rules, and renames at check-in', async () => {
  const d = await someDevice('Windows');
  const v1 = await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/setDeviceName`).post({ deviceName: 'PC-NEW-01' }));
  assert.equal(v1.statusCode, 400);
  const bad = await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/setDeviceName`).version('beta').post({ deviceName: 'A NAME WITH SPACES' }));
  assert.equal(bad.statusCode, 400);
  assert.match(bad.message, /15 letters, digits and hyphens/);
  const unknown = await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/setDeviceName`).version('beta').post({ deviceName: 'PC-NEW-01', force: true }));
  assert.equal(unknown.statusCode, 400);
  await graph.api(`/deviceManagement/managedDevices/${d.id}/setDeviceName`).version('beta').post({ deviceName: 'PC-NEW-01' });
  let read = await graph.api(`/deviceManagement/managedDevices/${d.id}`).select('deviceName,deviceActionResults').get();
  assert.notEqual(read.deviceName, 'PC-NEW-01', 'the name changes when the device checks in');
  sb.admin.advanceClock(180);
  read = await graph.api(`/deviceManagement/managedDevices/${d.id}`).select('deviceName,deviceActionResults').get();
  assert.equal(read.deviceName, 'PC-NEW-01');
});

test('device categories: list, set one on a device by reference, read it back; a bad reference is 400', async () => {
  const d = await someDevice();
  const cats = (await graph.api('/deviceManagement/deviceCategories').get()).value as { id: string; displayName: string }[];
  assert.ok(cats.length >= 3);
  assert.equal((await graph.api(`/deviceManagement/managedDevices/${d.id}`).select('deviceCategoryDisplayName').get()).deviceCategoryDisplayName, 'Unknown');
  await graph.api(`/deviceManagement/managedDevices/${d.id}/deviceCategory/$ref`).put({ '@odata.id': `${sb.graphBaseUrl}/deviceManagement/deviceCategories/${cats[2]!.id}` });
  assert.equal((await graph.api(`/deviceManagement/managedDevices/${d.id}`).get()).deviceCategoryDisplayName, cats[2]!.displayName);
  assert.equal((await graph.api(`/deviceManagement/managedDevices/${d.id}/deviceCategory`).get()).id, cats[2]!.id);
  assert.equal((await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/deviceCategory/$ref`).put({ '@odata.id': 'not a reference' }))).statusCode, 400);
  assert.equal((await failure(graph.api(`/deviceManagement/managedDevices/${d.id}/deviceCategory/$ref`).put({ '@odata.id': `${sb.graphBaseUrl}/deviceManagement/deviceCategories/00000000-0000-0000-0000-000000000000` }))).statusCode, 404);
});

test('Autopilot import is asynchronous: unknown, then complete (the identity exists) or error with the service\'s code', async () => {
  const hash = Buffer.alloc(256, 7).toString('base64');
  const existing = (await graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').top(1).get()).value[0];
  const res = await graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities/import').post({
    importedWindowsAutopilotDeviceIdentities: [
      { '@odata.type': '#microsoft.graph.importedWindowsAutopilotDeviceIdentity', serialNumber: 'SB-NEW-0001', hardwareIdentifier: hash, groupTag: 'Sales', importId: 'batch-1' },
      { serialNumber: existing.serialNumber, hardwareIdentifier: hash, importId: 'batch-1' },
      { serialNumber: 'SB-NEW-0002', hardwareIdentifier: 'AAAA', importId: 'batch-1' },
    ],
  });
  assert.equal(res.value.length, 3);
  assert.ok(res.value.every((i: { state: { deviceImportStatus: string } }) => i.state.deviceImportStatus === 'unknown'));
  const listed = await graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities').filter("importId eq 'batch-1'").get();
  assert.equal(listed.value.length, 3);
  assert.equal((await graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').filter("contains(serialNumber,'SB-NEW-0001')").get()).value.length, 0, 'not there before the service processed it');
  sb.admin.advanceClock(10);
  const states = await Promise.all(res.value.map((i: { id: string }) => graph.api(`/deviceManagement/importedWindowsAutopilotDeviceIdentities/${i.id}`).get()));
  assert.deepEqual(states.map((s) => [s.state.deviceImportStatus, s.state.deviceErrorName]), [['complete', ''], ['error', 'ZtdDeviceAlreadyAssigned'], ['error', 'InvalidZtdHardwareHash']]);
  const made = (await graph.api('/deviceManagement/windowsAutopilotDeviceIdentities').filter("contains(serialNumber,'SB-NEW-0001')").get()).value;
  assert.equal(made.length, 1);
  assert.equal(made[0].groupTag, 'Sales');
  await graph.api(`/deviceManagement/importedWindowsAutopilotDeviceIdentities/${res.value[0].id}`).delete();
  assert.equal((await failure(graph.api(`/deviceManagement/importedWindowsAutopilotDeviceIdentities/${res.value[0].id}`).get())).statusCode, 404);
});

test('Autopilot import refuses what Graph refuses: unknown properties, a hash that is not base64, an unknown user', async () => {
  const post = (item: Record<string, unknown>) => failure(graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities/import').post({ importedWindowsAutopilotDeviceIdentities: [item] }));
  assert.equal((await post({ serialNumber: 'X1', hardwareIdentifier: 'AAAA', colour: 'red' })).statusCode, 400);
  assert.equal((await post({ serialNumber: 'X1', hardwareIdentifier: 'not base64!' })).statusCode, 400);
  assert.equal((await post({ serialNumber: 'X1', hardwareIdentifier: 'AAAA', assignedUserPrincipalName: 'nobody@nowhere.example' })).statusCode, 400);
  assert.equal((await failure(graph.api('/deviceManagement/importedWindowsAutopilotDeviceIdentities/import').post({ importedWindowsAutopilotDeviceIdentities: [] }))).statusCode, 400);
  assert.equal(sb.admin.mutationCount({ op: 'autopilot.import' }), 0, 'nothing was queued');
});
