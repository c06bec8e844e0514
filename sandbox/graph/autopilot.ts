// Windows Autopilot: /deviceManagement/windowsAutopilotDeviceIdentities (one per seeded Windows
// laptop, derived from its user; list, get, DELETE, assign / unassign a user, updateDeviceProperties)
// and the asynchronous import of hardware hashes, /deviceManagement/importedWindowsAutopilotDeviceIdentities
// (POST one, POST .../import many, GET, DELETE). An import is processed by the Autopilot deployment
// service some time after it was posted (IMPORT_MS of sandbox clock): until then its
// deviceImportStatus is unknown, then pending, then complete (the Autopilot identity exists) or
// error with the service's code (802 InvalidZtdHardwareHash, 806 ZtdDeviceAlreadyAssigned).
import { randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import { maskGuid } from '../derive.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import { publicView, type TenantStore, type User } from '../store.ts';
import { bodyObject, collection, entity, odataContext } from './common.ts';
import { derivedDevices, findDevice, intune, intuneNotFound, intuneRoute, type AutopilotDevice } from './devices.ts';

const AUTOPILOT_MASK = 'b4b4b4b40b4b0b4b0b4bb4b4b4b4b4b4';
const AUTOPILOT_READ = ['DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'];
const AUTOPILOT_WRITE = ['DeviceManagementServiceConfig.ReadWrite.All'];

/** How long the Autopilot deployment service takes to process an imported hash (sandbox clock, divided by timeScale). */
export const IMPORT_MS = 6_000;
/** The Autopilot portal takes at most 500 rows per CSV; the sandbox holds the API to the same. */
const MAX_IMPORT = 500;

function derivedAutopilot(store: TenantStore, user: User, nowMs: number): AutopilotDevice | undefined {
  const laptop = derivedDevices(user, nowMs)[0];
  if (!laptop || laptop.operatingSystem !== 'Windows') return undefined;
  const device = findDevice(store, laptop.id, nowMs);
  return {
    id: maskGuid(user.id, AUTOPILOT_MASK),
    serialNumber: laptop.serialNumber,
    manufacturer: laptop.manufacturer,
    model: laptop.model,
    groupTag: 'Corp',
    purchaseOrderIdentifier: 'PO-2024-0042',
    productKey: '',
    skuNumber: '',
    systemFamily: 'Latitude',
    displayName: laptop.deviceName,
    enrollmentState: device ? 'enrolled' : 'notContacted',
    lastContactedDateTime: device ? device.lastSyncDateTime : '0001-01-01T00:00:00Z',
    userPrincipalName: user.userPrincipalName,
    addressableUserName: user.displayName,
    azureActiveDirectoryDeviceId: laptop.azureADDeviceId,
    managedDeviceId: device ? laptop.id : '00000000-0000-0000-0000-000000000000',
  };
}

function* allAutopilot(store: TenantStore, nowMs: number): Generator<AutopilotDevice> {
  const state = intune(store);
  for (const u of store.users.values()) {
    const d = derivedAutopilot(store, u, nowMs);
    if (d && !state.autopilotDeleted.includes(d.id)) yield state.autopilot[d.id] ?? d;
  }
  for (const d of Object.values(state.autopilot)) if (!store.userById(maskGuid(d.id, AUTOPILOT_MASK))) yield d;
}

function requireAutopilot(ctx: Ctx): AutopilotDevice {
  const id = ctx.params['id']!.toLowerCase();
  settleImports(ctx.store, ctx.nowMs, ctx.rt.opts.timeScale);
  const state = intune(ctx.store);
  if (state.autopilotDeleted.includes(id)) throw intuneNotFound(id);
  if (state.autopilot[id]) return state.autopilot[id];
  const user = ctx.store.userById(maskGuid(id, AUTOPILOT_MASK));
  const d = user ? derivedAutopilot(ctx.store, user, ctx.nowMs) : undefined;
  if (!d || d.id !== id) throw intuneNotFound(id);
  return d;
}

const AUTOPILOT_TYPE: TypeInfo = {
  name: 'microsoft.graph.windowsAutopilotDeviceIdentity',
  properties: new Set(['id', 'serialNumber', 'manufacturer', 'model', 'groupTag', 'purchaseOrderIdentifier', 'productKey', 'skuNumber', 'systemFamily', 'displayName', 'enrollmentState', 'lastContactedDateTime', 'userPrincipalName', 'addressableUserName', 'azureActiveDirectoryDeviceId', 'managedDeviceId']),
  maxTop: 1000,
};

function autopilotWrite(action: string, apply: (ctx: Ctx, d: AutopilotDevice, body: Record<string, unknown>) => void): RouteDef {
  return intuneRoute({
    method: 'POST',
    path: `/deviceManagement/windowsAutopilotDeviceIdentities/:id/${action}`,
    permissions: AUTOPILOT_WRITE,
    handler: (ctx) => {
      const current = requireAutopilot(ctx);
      const state = intune(ctx.store);
      const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
      const next = structuredClone(current);
      apply(ctx, next, body);
      state.autopilot[current.id] = next;
      ctx.mutated(`autopilot.${action}`, next.id);
      return { status: 204 };
    },
  });
}

function autopilotUser(ctx: Ctx, d: AutopilotDevice, body: Record<string, unknown>): void {
  const upn = body['userPrincipalName'];
  if (typeof upn !== 'string' || !upn) throw new GraphError(400, 'BadRequest', "The parameter 'userPrincipalName' is required.");
  const user = ctx.store.findUser(upn);
  if (!user) throw new GraphError(400, 'BadRequest', `ZtdDeviceAssignmentFailed: the user '${upn}' was not found in the tenant.`);
  d.userPrincipalName = user.userPrincipalName;
  d.addressableUserName = typeof body['addressableUserName'] === 'string' ? body['addressableUserName'] : user.displayName;
}

function stringParam(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new GraphError(400, 'BadRequest', `Invalid value for parameter '${key}': a String is expected.`);
  return v;
}

// ---- imports ----

interface ImportState {
  deviceImportStatus: 'unknown' | 'pending' | 'partial' | 'complete' | 'error';
  deviceRegistrationId: string;
  deviceErrorCode: number;
  deviceErrorName: string;
}

export interface ImportedIdentity {
  id: string;
  groupTag: string;
  serialNumber: string;
  productKey: string;
  importId: string;
  hardwareIdentifier: string;
  assignedUserPrincipalName: string;
  state: ImportState;
  _createdMs: number;
}

const imports = (store: TenantStore): Record<string, ImportedIdentity> => store.tenantState('autopilotImports', () => ({}));

const IMPORT_TYPE: TypeInfo = {
  name: 'microsoft.graph.importedWindowsAutopilotDeviceIdentity',
  properties: new Set(['id', 'groupTag', 'serialNumber', 'productKey', 'importId', 'hardwareIdentifier', 'assignedUserPrincipalName', 'state']),
  maxTop: 1000,
};

const IMPORT_KEYS = new Set(['@odata.type', 'id', 'groupTag', 'serialNumber', 'productKey', 'importId', 'hardwareIdentifier', 'assignedUserPrincipalName', 'state']);

const importView = (i: ImportedIdentity): Record<string, unknown> => ({ '@odata.type': '#microsoft.graph.importedWindowsAutopilotDeviceIdentity', ...publicView(i) });

/** Validates one identity to import (Graph refuses the request as a whole, 400, before anything is queued). */
function newImport(ctx: Ctx, raw: unknown): ImportedIdentity {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new GraphError(400, 'BadRequest', 'Each importedWindowsAutopilotDeviceIdentity must be a JSON object.');
  const body = raw as Record<string, unknown>;
  for (const k of Object.keys(body)) if (!IMPORT_KEYS.has(k)) throw new GraphError(400, 'BadRequest', `The property '${k}' does not exist on type 'microsoft.graph.importedWindowsAutopilotDeviceIdentity'.`);
  if (body['@odata.type'] !== undefined && body['@odata.type'] !== '#microsoft.graph.importedWindowsAutopilotDeviceIdentity') throw new GraphError(400, 'BadRequest', `Invalid '@odata.type' ${String(body['@odata.type'])}.`);
  const hash = stringParam(body, 'hardwareIdentifier');
  // hardwareIdentifier is Edm.Binary: base64, as the hash Get-WindowsAutopilotInfo prints.
  if (hash !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(hash)) throw new GraphError(400, 'BadRequest', "Invalid value for property 'hardwareIdentifier': a base64 (Edm.Binary) value is expected.");
  const serial = stringParam(body, 'serialNumber') ?? '';
  const upn = stringParam(body, 'assignedUserPrincipalName') ?? '';
  if (upn && !ctx.store.findUser(upn)) throw new GraphError(400, 'BadRequest', `The user '${upn}' named in assignedUserPrincipalName does not exist in the tenant.`);
  return {
    id: randomUUID(),
    groupTag: stringParam(body, 'groupTag') ?? '',
    serialNumber: serial,
    productKey: stringParam(body, 'productKey') ?? '',
    importId: stringParam(body, 'importId') ?? '',
    hardwareIdentifier: hash ?? '',
    assignedUserPrincipalName: upn,
    state: { deviceImportStatus: 'unknown', deviceRegistrationId: '', deviceErrorCode: 0, deviceErrorName: '' },
    _createdMs: ctx.nowMs,
  };
}

/** The Autopilot deployment service's verdict on imports whose time has come (lazily, on any Autopilot read). */
function settleImports(store: TenantStore, nowMs: number, timeScale: number): void {
  const all = Object.values(imports(store)).filter((i) => i.state.deviceImportStatus === 'unknown' || i.state.deviceImportStatus === 'pending');
  if (all.length === 0) return;
  const delay = IMPORT_MS / timeScale;
  for (const i of all.sort((a, b) => a._createdMs - b._createdMs)) {
    const age = nowMs - i._createdMs;
    if (age < delay) {
      if (age >= delay / 3) i.state.deviceImportStatus = 'pending';
      continue;
    }
    const fail = (code: number, name: string) => Object.assign(i.state, { deviceImportStatus: 'error', deviceErrorCode: code, deviceErrorName: name });
    if (!i.serialNumber && !i.productKey) fail(803, 'MissingZtdSerialNumberAndProductKey');
    // A real hash is about 4 KB; anything this short cannot be one.
    else if (Buffer.from(i.hardwareIdentifier, 'base64').length < 64) fail(802, 'InvalidZtdHardwareHash');
    else if (serialTaken(store, nowMs, i.serialNumber)) fail(806, 'ZtdDeviceAlreadyAssigned');
    else {
      const user = i.assignedUserPrincipalName ? store.findUser(i.assignedUserPrincipalName) : undefined;
      const device: AutopilotDevice = {
        id: randomUUID(),
        serialNumber: i.serialNumber,
        manufacturer: '',
        model: '',
        groupTag: i.groupTag,
        purchaseOrderIdentifier: '',
        productKey: i.productKey,
        skuNumber: '',
        systemFamily: '',
        displayName: '',
        enrollmentState: 'notContacted',
        lastContactedDateTime: '0001-01-01T00:00:00Z',
        userPrincipalName: user?.userPrincipalName ?? '',
        addressableUserName: user?.displayName ?? '',
        azureActiveDirectoryDeviceId: randomUUID(),
        managedDeviceId: '00000000-0000-0000-0000-000000000000',
      };
      intune(store).autopilot[device.id] = device;
      Object.assign(i.state, { deviceImportStatus: 'complete', deviceRegistrationId: randomUUID(), deviceErrorCode: 0, deviceErrorName: '' });
    }
  }
}

function serialTaken(store: TenantStore, nowMs: number, serial: string): boolean {
  if (!serial) return false;
  const key = serial.toLowerCase();
  const state = intune(store);
  for (const d of Object.values(state.autopilot)) if (d.serialNumber.toLowerCase() === key) return true;
  for (const u of store.users.values()) {
    const d = derivedAutopilot(store, u, nowMs);
    if (d && !state.autopilotDeleted.includes(d.id) && !state.autopilot[d.id] && d.serialNumber.toLowerCase() === key) return true;
  }
  return false;
}

function requireImport(ctx: Ctx): ImportedIdentity {
  settleImports(ctx.store, ctx.nowMs, ctx.rt.opts.timeScale);
  const i = imports(ctx.store)[ctx.params['id']!.toLowerCase()];
  if (!i) throw new GraphError(404, 'ResourceNotFound', `{ "Message": "Resource not found: the imported Windows Autopilot device identity '${ctx.params['id']}' does not exist." }`);
  return i;
}

export function registerAutopilotRoutes(router: Router): void {
  const base = '/deviceManagement/windowsAutopilotDeviceIdentities';
  const importBase = '/deviceManagement/importedWindowsAutopilotDeviceIdentities';
  const settle = (ctx: Ctx) => settleImports(ctx.store, ctx.nowMs, ctx.rt.opts.timeScale);
  router.add(
    intuneRoute({
      method: 'GET',
      path: base,
      permissions: AUTOPILOT_READ,
      handler: (ctx) => {
        settle(ctx);
        return collection(ctx, allAutopilot(ctx.store, ctx.nowMs), AUTOPILOT_TYPE, (d) => ({ ...d }), 'deviceManagement/windowsAutopilotDeviceIdentities');
      },
    }),
    intuneRoute({ method: 'GET', path: `${base}/:id`, permissions: AUTOPILOT_READ, handler: (ctx) => entity(ctx, { ...requireAutopilot(ctx) }, AUTOPILOT_TYPE, 'deviceManagement/windowsAutopilotDeviceIdentities/$entity') }),
    intuneRoute({
      method: 'DELETE',
      path: `${base}/:id`,
      permissions: AUTOPILOT_WRITE,
      handler: (ctx) => {
        const d = requireAutopilot(ctx);
        const state = intune(ctx.store);
        delete state.autopilot[d.id];
        state.autopilotDeleted.push(d.id);
        ctx.mutated('autopilot.delete', d.id);
        return { status: 204 };
      },
    }),
    autopilotWrite('assignUserToDevice', (ctx, d, body) => {
      for (const k of Object.keys(body)) if (k !== 'userPrincipalName' && k !== 'addressableUserName') throw new GraphError(400, 'BadRequest', `The parameter '${k}' is not a valid parameter for assignUserToDevice.`);
      autopilotUser(ctx, d, body);
    }),
    autopilotWrite('unassignUserFromDevice', (_ctx, d, body) => {
      for (const k of Object.keys(body)) throw new GraphError(400, 'BadRequest', `The parameter '${k}' is not a valid parameter for unassignUserFromDevice.`);
      d.userPrincipalName = '';
      d.addressableUserName = '';
    }),
    autopilotWrite('updateDeviceProperties', (ctx, d, body) => {
      for (const k of Object.keys(body)) if (!['userPrincipalName', 'addressableUserName', 'groupTag', 'displayName'].includes(k)) throw new GraphError(400, 'BadRequest', `The parameter '${k}' is not a valid parameter for updateDeviceProperties.`);
      if ('userPrincipalName' in body) autopilotUser(ctx, d, body);
      else if (stringParam(body, 'addressableUserName') !== undefined) d.addressableUserName = body['addressableUserName'] as string;
      const tag = stringParam(body, 'groupTag');
      if (tag !== undefined) d.groupTag = tag;
      const name = stringParam(body, 'displayName');
      if (name !== undefined) d.displayName = name;
    }),
    intuneRoute({
      method: 'GET',
      path: importBase,
      permissions: AUTOPILOT_READ,
      handler: (ctx) => {
        settle(ctx);
        return collection(ctx, Object.values(imports(ctx.store)), IMPORT_TYPE, importView, 'deviceManagement/importedWindowsAutopilotDeviceIdentities');
      },
    }),
    intuneRoute({ method: 'GET', path: `${importBase}/:id`, permissions: AUTOPILOT_READ, handler: (ctx) => entity(ctx, importView(requireImport(ctx)), IMPORT_TYPE, 'deviceManagement/importedWindowsAutopilotDeviceIdentities/$entity') }),
    intuneRoute({
      method: 'POST',
      path: importBase,
      permissions: AUTOPILOT_WRITE,
      handler: (ctx) => {
        settle(ctx);
        const i = newImport(ctx, bodyObject(ctx));
        imports(ctx.store)[i.id] = i;
        ctx.mutated('autopilot.import', i.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'deviceManagement/importedWindowsAutopilotDeviceIdentities/$entity'), ...importView(i) } };
      },
    }),
    intuneRoute({
      method: 'POST',
      path: `${importBase}/import`,
      permissions: AUTOPILOT_WRITE,
      handler: (ctx) => {
        settle(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'importedWindowsAutopilotDeviceIdentities') throw new GraphError(400, 'BadRequest', `The parameter '${k}' in the request payload is not a valid parameter for the action 'import'.`);
        const list = body['importedWindowsAutopilotDeviceIdentities'];
        if (!Array.isArray(list) || list.length === 0) throw new GraphError(400, 'BadRequest', "The parameter 'importedWindowsAutopilotDeviceIdentities' is required and must be a non-empty collection.");
        if (list.length > MAX_IMPORT) throw new GraphError(400, 'BadRequest', `At most ${MAX_IMPORT} devices can be imported in one request.`);
        const made = list.map((raw) => newImport(ctx, raw));
        for (const i of made) {
          imports(ctx.store)[i.id] = i;
          ctx.mutated('autopilot.import', i.id);
        }
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'Collection(microsoft.graph.importedWindowsAutopilotDeviceIdentity)'), value: made.map(importView) } };
      },
    }),
    intuneRoute({
      method: 'DELETE',
      path: `${importBase}/:id`,
      permissions: AUTOPILOT_WRITE,
      handler: (ctx) => {
        const i = requireImport(ctx);
        delete imports(ctx.store)[i.id];
        ctx.mutated('autopilot.deleteImport', i.id);
        return { status: 204 };
      },
    }),
  );
}
