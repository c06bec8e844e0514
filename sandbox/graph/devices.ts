// Intune: /deviceManagement/managedDevices (list, get, filter, PATCH, DELETE, remote actions, device
// category) and /users/{id}/managedDevices, /deviceManagement/deviceCategories. Windows Autopilot is
// in autopilot.ts. Seeded devices are derived from their user (a laptop, and a phone for most people
// licensed for Intune), so 100,000 users cost nothing until a device is touched; touched devices are
// stored. A remote action stays pending until the device checks in (CHECK_IN_MS of sandbox clock
// after it was sent): then it is done, a retired device leaves Intune and a renamed one takes its name.
import { randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import { idByte, isoSeconds, maskGuid, pinnedUserRef } from '../derive.ts';
import { enabledPlanIds } from '../licensing.ts';
import type { TypeInfo } from '../odata.ts';
import { PLANS } from '../skus.ts';
import type { Caller } from '../types.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import { publicView, type TenantStore, type User } from '../store.ts';
import { bodyObject, collection, entity, requireUser } from './common.ts';

export type DeviceOs = 'Windows' | 'macOS' | 'iOS' | 'Android';

export interface ManagedDevice {
  id: string;
  userId: string;
  deviceName: string;
  operatingSystem: DeviceOs;
  osVersion: string;
  model: string;
  manufacturer: string;
  serialNumber: string;
  imei: string;
  phoneNumber: string;
  wiFiMacAddress: string;
  complianceState: 'compliant' | 'noncompliant' | 'inGracePeriod' | 'unknown';
  managedDeviceOwnerType: 'company' | 'personal';
  managementState: string;
  managementAgent: string;
  deviceEnrollmentType: string;
  deviceRegistrationState: string;
  enrolledDateTime: string;
  lastSyncDateTime: string;
  azureADDeviceId: string;
  azureADRegistered: boolean;
  emailAddress: string;
  userPrincipalName: string;
  userDisplayName: string;
  isEncrypted: boolean;
  isSupervised: boolean;
  jailBroken: string;
  totalStorageSpaceInBytes: number;
  freeStorageSpaceInBytes: number;
  deviceActionResults: { actionName: string; actionState: string; startDateTime: string; lastUpdatedDateTime: string }[];
  notes: string | null;
  /** Absent on devices stored before categories existed: 'Unknown', as Intune shows an uncategorised device. */
  deviceCategoryDisplayName?: string;
  /** The name a pending setDeviceName gives the device at its next check-in. */
  _pendingName?: string;
}

export interface AutopilotDevice {
  id: string;
  serialNumber: string;
  manufacturer: string;
  model: string;
  groupTag: string;
  purchaseOrderIdentifier: string;
  productKey: string;
  skuNumber: string;
  systemFamily: string;
  displayName: string;
  enrollmentState: 'enrolled' | 'notContacted' | 'failed' | 'pendingReset' | 'blocked';
  lastContactedDateTime: string;
  userPrincipalName: string;
  addressableUserName: string;
  azureActiveDirectoryDeviceId: string;
  managedDeviceId: string;
}

export interface IntuneState {
  /** Devices that were changed or enrolled through the admin API, by id. */
  devices: Record<string, ManagedDevice>;
  deleted: string[];
  autopilot: Record<string, AutopilotDevice>;
  autopilotDeleted: string[];
}

export const intune = (store: TenantStore): IntuneState => store.tenantState('intune', () => ({ devices: {}, deleted: [], autopilot: {}, autopilotDeleted: [] }));

const DEVICE_MASKS = ['d1d1d1d10d1d0d1d0d1dd1d1d1d1d1d1', 'e2e2e2e20e2e0e2e0e2ee2e2e2e2e2e2'];
const AAD_MASK = 'a3a3a3a30a3a0a3a0a3aa3a3a3a3a3a3';
const DAY = 86_400_000;
/** A device checks in (and runs what was sent to it) this long after a remote action, on the sandbox clock. */
export const CHECK_IN_MS = 120_000;
const INTUNE_PLAN = PLANS.INTUNE_A.servicePlanId;

const MODELS: Record<DeviceOs, { manufacturer: string; model: string; osVersion: string; storage: number }> = {
  Windows: { manufacturer: 'Dell Inc.', model: 'Latitude 7440', osVersion: '10.0.22631.3737', storage: 512 },
  macOS: { manufacturer: 'Apple', model: 'MacBook Pro (14-inch, 2023)', osVersion: '14.5 (23F79)', storage: 512 },
  iOS: { manufacturer: 'Apple', model: 'iPhone 15', osVersion: '17.5.1', storage: 128 },
  Android: { manufacturer: 'Google', model: 'Pixel 8', osVersion: '14', storage: 128 },
};

function serialOf(id: string, os: DeviceOs): string {
  const hex = id.replace(/-/g, '').toUpperCase();
  return os === 'Windows' ? `${hex.slice(0, 7)}` : os === 'macOS' || os === 'iOS' ? `F${hex.slice(3, 13)}` : `${hex.slice(5, 15)}`;
}

export function newDevice(user: User, os: DeviceOs, id: string, enrolledMs: number, syncMs: number): ManagedDevice {
  const m = MODELS[os];
  const short = (user.surname ?? user.mailNickname).replace(/[^A-Za-z]/g, '').slice(0, 8).toUpperCase();
  const name = os === 'Windows' ? `CONTOSO-${short}-${id.slice(0, 4).toUpperCase()}` : os === 'macOS' ? `${user.givenName ?? short}'s MacBook Pro` : `${user.givenName ?? short}'s ${m.model}`;
  const phone = os === 'iOS' || os === 'Android';
  const b = idByte(id, 3);
  return {
    id,
    userId: user.id,
    deviceName: name,
    operatingSystem: os,
    osVersion: m.osVersion,
    model: m.model,
    manufacturer: m.manufacturer,
    serialNumber: serialOf(id, os),
    imei: phone ? `35${String(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).padStart(13, '0').slice(0, 13)}` : '',
    phoneNumber: phone ? (user.mobilePhone ?? '') : '',
    wiFiMacAddress: id.replace(/-/g, '').slice(20, 32).toUpperCase(),
    complianceState: b < 20 ? 'noncompliant' : b < 28 ? 'inGracePeriod' : 'compliant',
    managedDeviceOwnerType: phone && b % 3 === 0 ? 'personal' : 'company',
    managementState: 'managed',
    managementAgent: 'mdm',
    deviceEnrollmentType: os === 'Windows' ? 'windowsAzureADJoin' : os === 'iOS' || os === 'macOS' ? 'appleBulkWithUser' : 'androidEnterpriseFullyManaged',
    deviceRegistrationState: 'registered',
    enrolledDateTime: isoSeconds(enrolledMs),
    lastSyncDateTime: isoSeconds(syncMs),
    azureADDeviceId: maskGuid(id, AAD_MASK),
    azureADRegistered: true,
    emailAddress: user.mail ?? '',
    userPrincipalName: user.userPrincipalName,
    userDisplayName: user.displayName,
    isEncrypted: b >= 20,
    isSupervised: os === 'iOS' && b % 2 === 0,
    jailBroken: phone ? 'False' : 'Unknown',
    totalStorageSpaceInBytes: m.storage * 1024 ** 3,
    freeStorageSpaceInBytes: Math.round(m.storage * 1024 ** 3 * (0.2 + b / 400)),
    deviceActionResults: [],
    notes: null,
  };
}

/** The devices a seeded user has by default (index = mask index). */
export function derivedDevices(user: User, nowMs: number): (ManagedDevice | undefined)[] {
  if (user._password !== null || user.userType !== 'Member' || !enabledPlanIds(user).has(INTUNE_PLAN)) return [];
  const enrolled = Date.parse(user.createdDateTime) + 7 * DAY;
  const sync = Math.floor(nowMs / DAY) * DAY - idByte(user.id, 8) * 300_000;
  const laptop: DeviceOs = idByte(user.id, 9) < 40 ? 'macOS' : 'Windows';
  const phone: DeviceOs = idByte(user.id, 10) < 150 ? 'iOS' : 'Android';
  return [
    newDevice(user, laptop, maskGuid(user.id, DEVICE_MASKS[0]!), enrolled, sync),
    idByte(user.id, 11) < 180 ? newDevice(user, phone, maskGuid(user.id, DEVICE_MASKS[1]!), enrolled + DAY, sync - 3_600_000) : undefined,
  ];
}

/**
 * What the device did at its check-in: pending actions sent at least CHECK_IN_MS ago are done; a
 * retired device leaves Intune, a wiped one reports wipeIssued, a renamed one carries its new name.
 * undefined when the device is gone.
 */
function settled(state: IntuneState, d: ManagedDevice, nowMs: number): ManagedDevice | undefined {
  const due = d.deviceActionResults.filter((r) => r.actionState === 'pending' && nowMs - Date.parse(r.startDateTime) >= CHECK_IN_MS);
  if (due.length === 0) return d;
  const at = isoSeconds(Math.max(...due.map((r) => Date.parse(r.startDateTime))) + CHECK_IN_MS);
  for (const r of due) {
    r.actionState = 'done';
    r.lastUpdatedDateTime = at;
    if (r.actionName === 'retire') {
      delete state.devices[d.id];
      state.deleted.push(d.id);
      return undefined;
    }
    if (r.actionName === 'wipe') d.managementState = 'wipeIssued';
    if (r.actionName === 'setDeviceName' && d._pendingName) {
      d.deviceName = d._pendingName;
      delete d._pendingName;
    }
  }
  d.lastSyncDateTime = at;
  return d;
}

function* devicesOf(store: TenantStore, user: User, nowMs: number): Generator<ManagedDevice> {
  const state = intune(store);
  const out: ManagedDevice[] = [];
  for (const d of derivedDevices(user, nowMs)) if (d && !state.deleted.includes(d.id)) out.push(state.devices[d.id] ?? d);
  for (const d of Object.values(state.devices)) if (d.userId === user.id && !DEVICE_MASKS.some((m) => maskGuid(d.userId, m) === d.id)) out.push(d);
  for (const d of out) {
    const now = state.devices[d.id] ? settled(state, d, nowMs) : d;
    if (now) yield now;
  }
}

function* allDevices(ctx: Ctx): Generator<ManagedDevice> {
  const pinned = pinnedUserRef(ctx.query.get('$filter') ?? ctx.query.get('filter'), ['userId', 'userPrincipalName', 'emailAddress']);
  if (pinned) {
    const u = ctx.store.findUser(pinned);
    if (u) yield* devicesOf(ctx.store, u, ctx.nowMs);
    return;
  }
  for (const u of ctx.store.users.values()) yield* devicesOf(ctx.store, u, ctx.nowMs);
}

export const intuneNotFound = (id: string): GraphError => new GraphError(404, 'ResourceNotFound', `{ "Message": "Resource not found: the managed device '${id}' does not exist." }`);

export function findDevice(store: TenantStore, id: string, nowMs: number): ManagedDevice | undefined {
  const key = id.toLowerCase();
  const state = intune(store);
  if (state.deleted.includes(key)) return undefined;
  if (state.devices[key]) return settled(state, state.devices[key], nowMs);
  for (let k = 0; k < DEVICE_MASKS.length; k++) {
    const user = store.userById(maskGuid(key, DEVICE_MASKS[k]!));
    const d = user ? derivedDevices(user, nowMs)[k] : undefined;
    if (d?.id === key) return d;
  }
  return undefined;
}

function requireDevice(ctx: Ctx): ManagedDevice {
  const d = findDevice(ctx.store, ctx.params['id']!, ctx.nowMs);
  if (!d) throw intuneNotFound(ctx.params['id']!);
  return d;
}

/** A device about to change is stored from then on. */
function stored(store: TenantStore, d: ManagedDevice): ManagedDevice {
  const state = intune(store);
  return (state.devices[d.id] ??= structuredClone(d));
}

/** Intune answers a missing role with 403 Forbidden naming the scopes it wanted. */
const intuneDenied = (route: RouteDef, caller: Caller): GraphError =>
  new GraphError(403, 'Forbidden', `Application is not authorized to perform this operation. Application must have one of the following scopes: ${route.permissions.join(', ')} - Operation ID (for customer support): ${randomUUID()} - Activity ID: ${randomUUID()} - Url: https://fef.msua01.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/deviceManagement/ - AppId: ${caller.appId}`);

export const intuneRoute = (def: Omit<RouteDef, 'workload' | 'denied'>): RouteDef => ({ ...def, workload: 'intune', denied: intuneDenied });

const DEVICE_READ = ['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All'];
const DEVICE_WRITE = ['DeviceManagementManagedDevices.ReadWrite.All'];
const DEVICE_ACTION = ['DeviceManagementManagedDevices.PrivilegedOperations.All', 'DeviceManagementManagedDevices.ReadWrite.All'];

const DEVICE_TYPE: TypeInfo = {
  name: 'microsoft.graph.managedDevice',
  properties: new Set([
    'id', 'userId', 'deviceName', 'operatingSystem', 'osVersion', 'model', 'manufacturer', 'serialNumber', 'imei', 'phoneNumber', 'wiFiMacAddress', 'complianceState',
    'managedDeviceOwnerType', 'managementState', 'managementAgent', 'deviceEnrollmentType', 'deviceRegistrationState', 'enrolledDateTime', 'lastSyncDateTime', 'azureADDeviceId',
    'azureADRegistered', 'emailAddress', 'userPrincipalName', 'userDisplayName', 'isEncrypted', 'isSupervised', 'jailBroken', 'totalStorageSpaceInBytes', 'freeStorageSpaceInBytes',
    'deviceActionResults', 'notes', 'deviceCategoryDisplayName',
  ]),
  maxTop: 1000,
};

/** What a managed device looks like to Graph: internal fields dropped, an uncategorised device says Unknown. */
const deviceView = (d: ManagedDevice): Record<string, unknown> => ({ ...publicView(d), deviceCategoryDisplayName: d.deviceCategoryDisplayName ?? 'Unknown' });

/**
 * Remote actions: the platforms each supports (others are recorded as notSupported), its effect when
 * sent, and whether it exists only on beta.
 */
const ACTIONS: Record<string, { platforms?: DeviceOs[]; state?: string; body?: (b: Record<string, unknown>, d: ManagedDevice) => void; betaOnly?: boolean }> = {
  retire: { state: 'retirePending' },
  wipe: { state: 'wipePending', body: (b) => checkBool(b, ['keepEnrollmentData', 'keepUserData', 'persistEsimDataPlan'], ['macOsUnlockCode', 'obliterationBehavior']) },
  syncDevice: {},
  rebootNow: {},
  remoteLock: {},
  shutDown: { platforms: ['Windows', 'macOS', 'iOS'] },
  resetPasscode: { platforms: ['iOS', 'Android'] },
  locateDevice: { platforms: ['iOS', 'Android', 'Windows'] },
  cleanWindowsDevice: { platforms: ['Windows'], body: (b) => checkBool(b, ['keepUserData'], []) },
  windowsDefenderScan: { platforms: ['Windows'], body: (b) => checkBool(b, ['quickScan'], []) },
  windowsDefenderUpdateSignatures: { platforms: ['Windows'] },
  deleteUserFromSharedAppleDevice: { platforms: ['iOS'], body: (b) => checkBool(b, [], ['userPrincipalName'], ['userPrincipalName']) },
  logoutSharedAppleDeviceActiveUser: { platforms: ['iOS'] },
  disableLostMode: { platforms: ['iOS'] },
  bypassActivationLock: { platforms: ['iOS', 'macOS'] },
  recoverPasscode: { platforms: ['iOS'] },
  requestRemoteAssistance: {},
  setDeviceName: { platforms: ['Windows', 'macOS', 'iOS', 'Android'], betaOnly: true, body: (b, d) => checkDeviceName(b, d) },
};

/** Intune's rename rules: Windows names are NetBIOS names (15 characters, letters, digits and hyphens, not only digits). */
function checkDeviceName(b: Record<string, unknown>, d: ManagedDevice): void {
  checkBool(b, [], ['deviceName'], ['deviceName']);
  const name = b['deviceName'] as string;
  if (!name.trim() || name.length > 255) throw new GraphError(400, 'BadRequest', "Invalid value for parameter 'deviceName': 1 to 255 characters are expected.");
  if (d.operatingSystem === 'Windows' && (name.length > 15 || !/^[A-Za-z0-9-]+$/.test(name) || /^\d+$/.test(name)))
    throw new GraphError(400, 'BadRequest', "Invalid value for parameter 'deviceName': a Windows device name has at most 15 letters, digits and hyphens, and is not only digits.");
}

function checkBool(b: Record<string, unknown>, bools: string[], strings: string[], required: string[] = []): void {
  for (const [k, v] of Object.entries(b)) {
    if (bools.includes(k) && typeof v !== 'boolean') throw new GraphError(400, 'BadRequest', `Invalid value for parameter '${k}': a Boolean is expected.`);
    if (strings.includes(k) && typeof v !== 'string') throw new GraphError(400, 'BadRequest', `Invalid value for parameter '${k}': a String is expected.`);
    if (!bools.includes(k) && !strings.includes(k)) throw new GraphError(400, 'BadRequest', `The parameter '${k}' in the request payload is not a valid parameter for the action.`);
  }
  for (const k of required) if (!(k in b)) throw new GraphError(400, 'BadRequest', `The parameter '${k}' is required.`);
}

function runAction(ctx: Ctx, device: ManagedDevice, name: string): void {
  const action = ACTIONS[name]!;
  const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
  action.body?.(body, device);
  const d = stored(ctx.store, device);
  const supported = !action.platforms || action.platforms.includes(d.operatingSystem);
  const actionState = !supported ? 'notSupported' : name === 'syncDevice' ? 'done' : 'pending';
  d.deviceActionResults = d.deviceActionResults.filter((r) => r.actionName !== name);
  d.deviceActionResults.push({ actionName: name, actionState, startDateTime: ctx.nowIso, lastUpdatedDateTime: ctx.nowIso });
  if (supported && action.state) d.managementState = action.state;
  if (supported && name === 'syncDevice') d.lastSyncDateTime = ctx.nowIso;
  if (supported && name === 'setDeviceName') d._pendingName = body['deviceName'] as string;
  ctx.mutated(`device.${name}`, d.id, d.userId);
}

export function registerDeviceRoutes(router: Router): void {
  const base = '/deviceManagement/managedDevices';
  router.add(
    intuneRoute({ method: 'GET', path: base, permissions: DEVICE_READ, handler: (ctx) => collection(ctx, allDevices(ctx), DEVICE_TYPE, deviceView, 'deviceManagement/managedDevices') }),
    intuneRoute({ method: 'GET', path: `${base}/:id`, permissions: DEVICE_READ, handler: (ctx) => entity(ctx, deviceView(requireDevice(ctx)), DEVICE_TYPE, 'deviceManagement/managedDevices/$entity') }),
    intuneRoute({
      method: 'GET',
      path: '/users/:id/managedDevices',
      permissions: DEVICE_READ,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return collection(ctx, devicesOf(ctx.store, user, ctx.nowMs), DEVICE_TYPE, deviceView, `users('${user.id}')/managedDevices`);
      },
    }),
    intuneRoute({
      method: 'PATCH',
      path: `${base}/:id`,
      permissions: DEVICE_WRITE,
      handler: (ctx) => {
        const d = requireDevice(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'managedDeviceOwnerType' && k !== 'notes' && k !== '@odata.type') throw new GraphError(400, 'BadRequest', `Property '${k}' cannot be updated on a managed device.`);
        const owner = body['managedDeviceOwnerType'];
        if (owner !== undefined && owner !== 'company' && owner !== 'personal') throw new GraphError(400, 'BadRequest', "Invalid value for 'managedDeviceOwnerType'.");
        const s = stored(ctx.store, d);
        if (owner) s.managedDeviceOwnerType = owner;
        if ('notes' in body) s.notes = body['notes'] === null ? null : String(body['notes']);
        ctx.mutated('device.update', d.id, d.userId);
        return { status: 204 };
      },
    }),
    intuneRoute({
      method: 'DELETE',
      path: `${base}/:id`,
      permissions: DEVICE_WRITE,
      handler: (ctx) => {
        const d = requireDevice(ctx);
        const state = intune(ctx.store);
        delete state.devices[d.id];
        state.deleted.push(d.id);
        ctx.mutated('device.delete', d.id, d.userId);
        return { status: 204 };
      },
    }),
    ...Object.keys(ACTIONS).flatMap((name) =>
      [`${base}/:id/${name}`, `/users/:userId/managedDevices/:id/${name}`].map((path) =>
        intuneRoute({
          method: 'POST',
          path,
          permissions: DEVICE_ACTION,
          betaOnly: ACTIONS[name]!.betaOnly,
          handler: (ctx) => {
            const d = requireDevice(ctx);
            if (ctx.params['userId'] && requireUser(ctx, ctx.params['userId']).id !== d.userId) throw intuneNotFound(d.id);
            runAction(ctx, d, name);
            return { status: 204 };
          },
        }),
      ),
    ),
    intuneRoute({
      method: 'GET',
      path: '/deviceManagement/deviceCategories',
      permissions: DEVICE_READ,
      handler: (ctx) => collection(ctx, categories(ctx.store), CATEGORY_TYPE, (c) => ({ ...c }), 'deviceManagement/deviceCategories'),
    }),
    intuneRoute({
      method: 'GET',
      path: '/deviceManagement/deviceCategories/:id',
      permissions: DEVICE_READ,
      handler: (ctx) => entity(ctx, { ...requireCategory(ctx, ctx.params['id']!) }, CATEGORY_TYPE, 'deviceManagement/deviceCategories/$entity'),
    }),
    intuneRoute({
      method: 'GET',
      path: `${base}/:id/deviceCategory`,
      permissions: DEVICE_READ,
      handler: (ctx) => {
        const d = requireDevice(ctx);
        const c = categories(ctx.store).find((x) => x.displayName === d.deviceCategoryDisplayName);
        if (!c) throw new GraphError(404, 'ResourceNotFound', `{ "Message": "The managed device '${d.id}' has no device category." }`);
        return entity(ctx, { ...c }, CATEGORY_TYPE, 'deviceManagement/managedDevices(\'' + d.id + '\')/deviceCategory/$entity');
      },
    }),
    intuneRoute({
      method: 'PUT',
      path: `${base}/:id/deviceCategory/$ref`,
      permissions: DEVICE_WRITE,
      handler: (ctx) => {
        const d = requireDevice(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== '@odata.id') throw new GraphError(400, 'BadRequest', `The property '${k}' is not valid in a reference update; only '@odata.id' is.`);
        const ref = body['@odata.id'];
        const m = typeof ref === 'string' ? /\/deviceManagement\/deviceCategories(?:\/|\(')([0-9a-f-]{36})'?\)?$/i.exec(ref) : null;
        if (!m) throw new GraphError(400, 'BadRequest', "'@odata.id' must reference a device category: https://graph.microsoft.com/v1.0/deviceManagement/deviceCategories/{id}.");
        const c = requireCategory(ctx, m[1]!);
        stored(ctx.store, d).deviceCategoryDisplayName = c.displayName;
        ctx.mutated('device.setCategory', d.id, d.userId);
        return { status: 204 };
      },
    }),
  );
}

// ---- device categories ----

interface DeviceCategory {
  id: string;
  displayName: string;
  description: string;
}

const CATEGORY_TYPE: TypeInfo = { name: 'microsoft.graph.deviceCategory', properties: new Set(['id', 'displayName', 'description']) };

/** The categories an Intune admin made for this tenant (users pick one at enrolment). */
const categories = (store: TenantStore): DeviceCategory[] =>
  store.tenantState('deviceCategories', () => [
    { id: 'c0a7e1d2-5b3f-4e6a-9c8d-1f2e3a4b5c01', displayName: 'Corporate laptop', description: 'Company-owned Windows and Mac laptops' },
    { id: 'c0a7e1d2-5b3f-4e6a-9c8d-1f2e3a4b5c02', displayName: 'Corporate phone', description: 'Company-owned phones' },
    { id: 'c0a7e1d2-5b3f-4e6a-9c8d-1f2e3a4b5c03', displayName: 'Kiosk', description: 'Shared single-app devices' },
    { id: 'c0a7e1d2-5b3f-4e6a-9c8d-1f2e3a4b5c04', displayName: 'BYOD', description: 'Personal devices with work apps' },
  ]);

function requireCategory(ctx: Ctx, id: string): DeviceCategory {
  const c = categories(ctx.store).find((x) => x.id === id.toLowerCase());
  if (!c) throw new GraphError(404, 'ResourceNotFound', `{ "Message": "Resource not found: the device category '${id}' does not exist." }`);
  return c;
}

/** Admin API: enrols a device for a user (a new hire's laptop), returning it. */
export function enrollDevice(store: TenantStore, user: User, os: DeviceOs, nowMs: number, deviceName?: string): ManagedDevice {
  const d = newDevice(user, os, randomUUID(), nowMs, nowMs);
  if (deviceName) d.deviceName = deviceName;
  intune(store).devices[d.id] = d;
  return d;
}
