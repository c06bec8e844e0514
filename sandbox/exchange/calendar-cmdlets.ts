// Remove-CalendarEvents: cancels the future meetings a mailbox organises (-CancelOrganizedMeetings)
// that start within -QueryWindowInDays (required, 1 to 1825) of -QueryStartDate (default today);
// they leave the organizer's and the attendees' calendars. Appointments without attendees are not
// touched. -PreviewOnly changes nothing. Like Exchange, it writes no objects to the pipeline.
import { cancelOrganizedMeetings } from '../graph/events.ts';
import { bool, ExoError, int, invalidParam, registerCmdlets, str, type Cmdlet } from './invoke.ts';
import { resolveMailbox } from './recipients.ts';

registerCmdlets({
  'Remove-CalendarEvents': {
    params: ['Identity', 'CancelOrganizedMeetings', 'QueryStartDate', 'QueryWindowInDays', 'PreviewOnly', 'UseCustomRouting'],
    run: (ctx, p) => {
      const { user } = resolveMailbox(ctx, str(p, 'Identity', true)!);
      const days = int(p, 'QueryWindowInDays');
      if (days === undefined) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot process command because of one or more missing mandatory parameters: QueryWindowInDays.");
      if (days < 1 || days > 1825) throw invalidParam('QueryWindowInDays', `The value ${days} is outside the range 1 to 1825.`);
      const startText = str(p, 'QueryStartDate');
      const start = startText === undefined ? Date.parse(`${ctx.nowIso.slice(0, 10)}T00:00:00Z`) : Date.parse(startText);
      if (Number.isNaN(start)) throw invalidParam('QueryStartDate', `Cannot convert value "${startText}" to type "Microsoft.Exchange.Data.ExDateTime".`);
      if (!bool(p, 'CancelOrganizedMeetings')) return;
      const preview = bool(p, 'PreviewOnly') === true;
      const cancelled = cancelOrganizedMeetings(ctx.store, user, start, days, preview);
      if (!preview && cancelled.length) ctx.mutated('calendar.cancelOrganizedMeetings', user.id, ...cancelled.map((e) => e.id));
    },
  },
} satisfies Record<string, Cmdlet>);
