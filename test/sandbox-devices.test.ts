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
