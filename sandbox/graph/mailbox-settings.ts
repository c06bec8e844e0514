// /users/{id}/mailboxSettings: automatic replies, language, time zone, working hours, formats.
// The same state as Exchange's Set-MailboxAutoReplyConfiguration.
import { badRequest, GraphError } from '../errors.ts';
import { mailboxOf, type Mailbox } from '../mailboxes.ts';
import type { Ctx, Router } from '../runtime.ts';
import { bodyObject, odataContext, requireUser } from './common.ts';

const denied = (): GraphError => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

export function requireMailbox(ctx: Ctx, id: string): Mailbox {
  const user = requireUser(ctx, id);
  const mbx = mailboxOf(ctx.store, user);
  if (!mbx) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  return mbx;
}

const STATUS_TO_GRAPH = { Disabled: 'disabled', Enabled: 'alwaysEnabled', Scheduled: 'scheduled' } as const;
const AUDIENCE_TO_GRAPH = { None: 'none', Known: 'contactsOnly', All: 'all' } as const;

function dateTimeTimeZone(iso: string | null, fallbackMs: number): { dateTime: string; timeZone: string } {
  return { dateTime: new Date(iso ?? fallbackMs).toISOString().replace('Z', '0000'), timeZone: 'UTC' };
}

function settingsView(ctx: Ctx, mbx: Mailbox): Record<string, unknown> {
  const ar = mbx.autoReply;
  return {
    archiveFolder: 'AAMkADk2ODI1YzcyLTJiYWUtNDIzZC1hMDJkLTRjN2ZkNGY1YjMwMQAuAAAAAAA=',
    timeZone: mbx.settings.timeZone,
    automaticRepliesSetting: {
      status: STATUS_TO_GRAPH[ar.state],
      externalAudience: AUDIENCE_TO_GRAPH[ar.externalAudience],
      internalReplyMessage: ar.internalMessage,
      externalReplyMessage: ar.externalMessage,
      scheduledStartDateTime: dateTimeTimeZone(ar.startTime, ctx.nowMs),
      scheduledEndDateTime: dateTimeTimeZone(ar.endTime, ctx.nowMs + 24 * 3600 * 1000),
    },
    language: { locale: mbx.settings.language, displayName: mbx.settings.language },
    dateFormat: mbx.settings.dateFormat,
    timeFormat: mbx.settings.timeFormat,
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOrInformationOnly',
    userPurpose: mbx.type === 'SharedMailbox' ? 'shared' : mbx.type === 'RoomMailbox' ? 'room' : mbx.type === 'EquipmentMailbox' ? 'equipment' : 'user',
    workingHours: { ...mbx.settings.workingHours, timeZone: { name: mbx.settings.timeZone } },
  };
}

function applyAutoReplies(mbx: Mailbox, raw: unknown): void {
  if (!raw || typeof raw !== 'object') throw badRequest("Invalid value specified for property 'automaticRepliesSetting'.");
  const ar = raw as Record<string, unknown>;
  const next = { ...mbx.autoReply };
  if ('status' in ar) {
    const found = Object.entries(STATUS_TO_GRAPH).find(([, v]) => v === ar['status']);
    if (!found) throw badRequest(`Invalid value '${String(ar['status'])}' for automaticRepliesSetting.status.`);
    next.state = found[0] as Mailbox['autoReply']['state'];
  }
  if ('externalAudience' in ar) {
    const found = Object.entries(AUDIENCE_TO_GRAPH).find(([, v]) => v === ar['externalAudience']);
    if (!found) throw badRequest(`Invalid value '${String(ar['externalAudience'])}' for automaticRepliesSetting.externalAudience.`);
    next.externalAudience = found[0] as Mailbox['autoReply']['externalAudience'];
  }
  if (typeof ar['internalReplyMessage'] === 'string') next.internalMessage = ar['internalReplyMessage'];
  if (typeof ar['externalReplyMessage'] === 'string') next.externalMessage = ar['externalReplyMessage'];
  for (const [key, field] of [['scheduledStartDateTime', 'startTime'], ['scheduledEndDateTime', 'endTime']] as const) {
    const v = ar[key] as { dateTime?: string; timeZone?: string } | undefined;
    if (!v) continue;
    const ms = Date.parse(`${String(v.dateTime).replace(/0+$/, '').replace(/\.$/, '')}${/Z|[+-]\d\d:?\d\d$/.test(String(v.dateTime)) ? '' : 'Z'}`);
    if (Number.isNaN(ms)) throw badRequest(`Invalid value specified for property '${key}'.`);
    next[field] = new Date(ms).toISOString();
  }
  if (next.state === 'Scheduled' && (!next.startTime || !next.endTime || next.endTime <= next.startTime)) {
    throw new GraphError(400, 'ErrorInvalidScheduledOofDuration', 'The end time of a scheduled automatic reply must be after its start time.');
  }
  mbx.autoReply = next;
}

export function registerMailboxSettingsRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/users/:id/mailboxSettings',
      permissions: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
      workload: 'outlook',
      denied,
      handler: (ctx) => {
        const mbx = requireMailbox(ctx, ctx.params['id']!);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${ctx.params['id']}')/mailboxSettings`), ...settingsView(ctx, mbx) } };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/mailboxSettings/automaticRepliesSetting',
      permissions: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
      workload: 'outlook',
      denied,
      handler: (ctx) => {
        const mbx = requireMailbox(ctx, ctx.params['id']!);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${ctx.params['id']}')/mailboxSettings/automaticRepliesSetting`), ...(settingsView(ctx, mbx)['automaticRepliesSetting'] as object) } };
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id/mailboxSettings',
      permissions: ['MailboxSettings.ReadWrite'],
      workload: 'outlook',
      denied,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const mbx = requireMailbox(ctx, user.id);
        const body = bodyObject(ctx);
        const known = new Set(['@odata.context', 'automaticRepliesSetting', 'timeZone', 'language', 'workingHours', 'dateFormat', 'timeFormat', 'delegateMeetingMessageDeliveryOptions']);
        for (const k of Object.keys(body)) if (!known.has(k)) throw new GraphError(400, 'RequestBodyRead', `The property '${k}' does not exist on type 'microsoft.graph.mailboxSettings'.`);
        if ('automaticRepliesSetting' in body) applyAutoReplies(mbx, body['automaticRepliesSetting']);
        if (typeof body['timeZone'] === 'string') mbx.settings.timeZone = body['timeZone'];
        if (body['language'] && typeof body['language'] === 'object') {
          const locale = (body['language'] as Record<string, unknown>)['locale'];
          if (typeof locale !== 'string' || !/^[a-z]{2,3}(-[A-Z]{2})?$/.test(locale)) throw new GraphError(400, 'ErrorInvalidArgument', `The locale '${String(locale)}' is not valid.`);
          mbx.settings.language = locale;
        }
        if (typeof body['dateFormat'] === 'string') mbx.settings.dateFormat = body['dateFormat'];
        if (typeof body['timeFormat'] === 'string') mbx.settings.timeFormat = body['timeFormat'];
        if (body['workingHours'] && typeof body['workingHours'] === 'object') {
          const wh = body['workingHours'] as Record<string, unknown>;
          if (Array.isArray(wh['daysOfWeek'])) mbx.settings.workingHours.daysOfWeek = wh['daysOfWeek'] as string[];
          if (typeof wh['startTime'] === 'string') mbx.settings.workingHours.startTime = wh['startTime'];
          if (typeof wh['endTime'] === 'string') mbx.settings.workingHours.endTime = wh['endTime'];
        }
        ctx.mutated('mailbox.updateSettings', user.id);
        const view = settingsView(ctx, mbx);
        const changed: Record<string, unknown> = { '@odata.context': odataContext(ctx, `users('${user.id}')/mailboxSettings`) };
        for (const k of Object.keys(body)) if (k in view) changed[k] = view[k];
        return { status: 200, body: changed };
      },
    },
  );
}
