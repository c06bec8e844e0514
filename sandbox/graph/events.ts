// Outlook calendars, as far as offboarding needs them: POST /users/{id}/events creates an event
// (a meeting when it has attendees: each attendee with a mailbox gets the invitation in their own
// calendar, sharing the organizer's iCalUId), GET /users/{id}/events reads a calendar back. Exchange's
// Remove-CalendarEvents -CancelOrganizedMeetings (sandbox/exchange/calendar-cmdlets.ts) cancels a
// mailbox's meetings through cancelOrganizedMeetings below.
import { randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import { mailboxOf } from '../mailboxes.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { TenantStore, User } from '../store.ts';
import { bodyObject, collection, odataContext } from './common.ts';

const denied = (): GraphError => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
const outlook = { workload: 'outlook' as const, denied };

interface Attendee {
  type: 'required' | 'optional' | 'resource';
  emailAddress: { name?: string; address: string };
}
export interface CalendarEvent {
  id: string;
  iCalUId: string;
  subject: string;
  start: { dateTime: string; timeZone: 'UTC' };
  end: { dateTime: string; timeZone: 'UTC' };
  isOrganizer: boolean;
  isCancelled: boolean;
  organizer: { emailAddress: { name: string; address: string } };
  attendees: Attendee[];
  createdDateTime: string;
}

export const eventsOf = (store: TenantStore, user: User): CalendarEvent[] => store.userState<CalendarEvent[]>(user.id, 'calendarEvents', () => []);

const EVENT_TYPE: TypeInfo = {
  name: 'microsoft.graph.event',
  properties: new Set(['id', 'iCalUId', 'subject', 'start', 'end', 'isOrganizer', 'isCancelled', 'organizer', 'attendees', 'createdDateTime']),
  maxTop: 1000,
};

function calendarUser(ctx: Ctx): User {
  const ref = ctx.params['id']!;
  const user = ctx.store.findUser(ref);
  if (!user) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${ref}' is invalid.`);
  if (!mailboxOf(ctx.store, user)) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  return user;
}

/** A dateTimeTimeZone in UTC (the only time zone the sandbox takes), as Graph returns it. */
function utc(v: unknown, field: string): { dateTime: string; timeZone: 'UTC' } {
  const o = v as { dateTime?: unknown; timeZone?: unknown } | undefined;
  const t = typeof o?.dateTime === 'string' ? Date.parse(/Z|[+-]\d\d:\d\d$/.test(o.dateTime) ? o.dateTime : `${o.dateTime}Z`) : NaN;
  if (!o || Number.isNaN(t)) throw new GraphError(400, 'ErrorInvalidRequest', `The property '${field}' must be a dateTimeTimeZone with a dateTime.`);
  if (o.timeZone !== undefined && o.timeZone !== 'UTC') throw new GraphError(400, 'ErrorTimeZoneNotSupported', `The sandbox supports only the UTC time zone (got '${String(o.timeZone)}').`);
  return { dateTime: new Date(t).toISOString().replace('Z', '0000'), timeZone: 'UTC' };
}

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Cancels the meetings `user` organises that start in [from, from + days): each is removed from the
 * organizer's calendar and from every attendee's. Appointments without attendees stay, as in Exchange.
 */
export function cancelOrganizedMeetings(store: TenantStore, user: User, from: number, days: number, preview: boolean): CalendarEvent[] {
  const until = from + days * 86_400_000;
  const mine = eventsOf(store, user).filter((e) => e.isOrganizer && e.attendees.length > 0 && Date.parse(`${e.start.dateTime.slice(0, 23)}Z`) >= from && Date.parse(`${e.start.dateTime.slice(0, 23)}Z`) < until);
  if (preview) return mine;
  const uids = new Set(mine.map((e) => e.iCalUId));
  for (const u of store.users.values()) {
    const list = store.perUser.get(u.id)?.['calendarEvents'] as CalendarEvent[] | undefined;
    if (!list) continue;
    const kept = list.filter((e) => !uids.has(e.iCalUId));
    if (kept.length !== list.length) list.splice(0, list.length, ...kept);
  }
  return mine;
}

function eventRoutes(): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/users/:id/events',
      permissions: ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'],
      ...outlook,
      handler: (ctx) => {
        const user = calendarUser(ctx);
        return collection(ctx, eventsOf(ctx.store, user), EVENT_TYPE, (e) => ({ ...e }), `users('${user.id}')/events`);
      },
    },
    {
      method: 'POST',
      path: '/users/:id/events',
      permissions: ['Calendars.ReadWrite'],
      ...outlook,
      handler: (ctx) => {
        const user = calendarUser(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (!['subject', 'start', 'end', 'attendees', 'body', 'location'].includes(k)) throw new GraphError(400, 'RequestBodyRead', `The property '${k}' does not exist on type 'microsoft.graph.event'.`);
        const start = utc(body['start'], 'start');
        const end = utc(body['end'], 'end');
        const rawAttendees = body['attendees'] ?? [];
        if (!Array.isArray(rawAttendees)) throw new GraphError(400, 'RequestBodyRead', "Invalid value for property 'attendees'.");
        const attendees: Attendee[] = rawAttendees.map((a: Attendee) => {
          const address = a?.emailAddress?.address;
          if (typeof address !== 'string' || !ADDRESS.test(address)) throw new GraphError(400, 'ErrorInvalidRecipients', "An attendee's emailAddress.address is not a valid SMTP address.");
          return { type: a.type ?? 'required', emailAddress: { address, ...(a.emailAddress.name ? { name: a.emailAddress.name } : {}) } };
        });
        const organizer = { emailAddress: { name: user.displayName, address: user.mail ?? user.userPrincipalName } };
        const event = (isOrganizer: boolean, uid: string): CalendarEvent => ({
          id: `AAMkAEv${randomUUID().replace(/-/g, '')}`, iCalUId: uid, subject: typeof body['subject'] === 'string' ? body['subject'] : '',
          start, end, isOrganizer, isCancelled: false, organizer, attendees, createdDateTime: ctx.nowIso,
        });
        const uid = `040000008200E00074C5B7101A82E008${randomUUID().replace(/-/g, '').toUpperCase()}`;
        const created = event(true, uid);
        eventsOf(ctx.store, user).push(created);
        for (const a of attendees) {
          const invited = ctx.store.findUser(a.emailAddress.address);
          if (invited && invited.id !== user.id && mailboxOf(ctx.store, invited)) eventsOf(ctx.store, invited).push(event(false, uid));
        }
        ctx.mutated('calendar.createEvent', user.id, created.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/events/$entity`), ...created } };
      },
    },
  ];
}

export function registerEventRoutes(router: Router): void {
  router.add(...eventRoutes());
}
