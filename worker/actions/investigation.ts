// Handler of the compromised-account report (catalog/actions/investigation.ts). Read-only. Each
// part is read on its own: a part the app may not read (licence, permission) is reported as
// unavailable with the reason instead of failing the whole report.
import * as c from '../../catalog/actions/investigation.ts';
import { implement } from '../activity.ts';
import { statusOf } from '../../m365/errors.ts';
import { getUser, listAll, odataString } from './shared.ts';

interface Section<T> {
  available: boolean;
  reason: string | null;
  items: T[];
}

async function section<T>(read: () => Promise<T[]>, permission: string): Promise<Section<T>> {
  try {
    return { available: true, reason: null, items: await read() };
  } catch (err) {
    const status = statusOf(err);
    if (status === 429 || (status !== undefined && status >= 500)) throw err; // transient: retry the step
    const reason =
      status === 403 || status === 401 ? `not permitted: grant ${permission}` : `could not be read: ${(err as Error).message}`;
    return { available: false, reason, items: [] };
  }
}

const RISKY_SCOPES = /\b(Mail\.(Read|ReadWrite|Send)|Files\.ReadWrite\.All|MailboxSettings\.ReadWrite|full_access_as_user|EWS\.AccessAsUser\.All)\b/i;

export const investigateCompromisedAccount = implement(c.investigateCompromisedAccount, async (input, ctx) => {
  const { graph } = ctx;
  const user = await getUser(graph, input.user, 'id,userPrincipalName,accountEnabled');
  const since = new Date(Date.now() - input.days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const trusted = new Set(input.trustedCountries.map((x) => x.toUpperCase()));

  const signIns = await section(async () => {
    const { items } = await listAll<{
      createdDateTime: string;
      appDisplayName?: string;
      ipAddress?: string;
      location?: { countryOrRegion?: string };
      status?: { errorCode?: number };
      riskLevelDuringSignIn?: string;
    }>(graph, '/auditLogs/signIns', { filter: `userId eq ${odataString(user.id)} and createdDateTime ge ${since}`, max: 200, top: 200 });
    return items.map((s) => ({
      createdDateTime: s.createdDateTime,
      appDisplayName: s.appDisplayName ?? null,
      ipAddress: s.ipAddress ?? null,
      country: s.location?.countryOrRegion || null,
      succeeded: (s.status?.errorCode ?? 0) === 0,
      riskLevel: s.riskLevelDuringSignIn && !['none', 'hidden'].includes(s.riskLevelDuringSignIn) ? s.riskLevelDuringSignIn : null,
    }));
  }, 'AuditLog.Read.All (and an Entra ID P1 licence)');

  const inboxRules = await section(async () => {
    const rules = (
      (await graph.api(`/users/${user.id}/mailFolders/inbox/messageRules`).get()) as {
        value: {
          displayName: string;
          isEnabled: boolean;
          actions?: {
            forwardTo?: { emailAddress: { address: string } }[];
            redirectTo?: { emailAddress: { address: string } }[];
            forwardAsAttachmentTo?: { emailAddress: { address: string } }[];
            delete?: boolean;
            permanentDelete?: boolean;
            moveToFolder?: string;
          };
        }[];
      }
    ).value;
    return rules.map((r) => ({
      name: r.displayName,
      enabled: r.isEnabled,
      forwardsTo: [...(r.actions?.forwardTo ?? []), ...(r.actions?.redirectTo ?? []), ...(r.actions?.forwardAsAttachmentTo ?? [])].map((x) => x.emailAddress.address),
      deletes: !!(r.actions?.delete || r.actions?.permanentDelete),
      movesTo: r.actions?.moveToFolder ?? null,
    }));
  }, 'MailboxSettings.Read');

  const forwarding = await section(async () => {
    const mbx = (
      await ctx.exchange.invoke<{ ForwardingSmtpAddress?: string | null; ForwardingAddress?: string | null; DeliverToMailboxAndForward?: boolean }>(
        'Get-Mailbox',
        { Identity: user.userPrincipalName },
        ctx.signal,
      )
    )[0];
    if (!mbx || (!mbx.ForwardingSmtpAddress && !mbx.ForwardingAddress)) return [];
    return [{ forwardingSmtpAddress: mbx.ForwardingSmtpAddress ?? null, forwardingAddress: mbx.ForwardingAddress ?? null, keepsCopy: !!mbx.DeliverToMailboxAndForward }];
  }, 'Exchange.ManageAsApp with an Exchange administrator role');

  const methodChanges = await section(async () => {
    const { items } = await listAll<{ activityDateTime: string; activityDisplayName: string; initiatedBy?: { user?: { userPrincipalName?: string }; app?: { displayName?: string } } }>(
      graph,
      '/auditLogs/directoryAudits',
      { filter: `activityDateTime ge ${since} and targetResources/any(t:t/id eq ${odataString(user.id)})`, max: 200, top: 200 },
    );
    return items
      .filter((a) => /security info|authentication method|strongauthentication|authenticator/i.test(a.activityDisplayName))
      .map((a) => ({ activityDateTime: a.activityDateTime, activity: a.activityDisplayName, initiatedBy: a.initiatedBy?.user?.userPrincipalName ?? a.initiatedBy?.app?.displayName ?? null }));
  }, 'AuditLog.Read.All');

  const appConsents = await section(async () => {
    const { items } = await listAll<{ clientId: string; scope?: string; consentType?: string }>(graph, `/users/${user.id}/oauth2PermissionGrants`);
    return items.map((g) => ({ clientId: g.clientId, scope: (g.scope ?? '').trim(), consentType: g.consentType ?? 'Principal' }));
  }, 'Directory.Read.All');

  const indicators: string[] = [];
  const failed = signIns.items.filter((s) => !s.succeeded).length;
  if (failed >= 5) indicators.push(`${failed} failed sign-ins in ${input.days} days`);
  const foreign = [...new Set(signIns.items.filter((s) => s.succeeded && s.country && trusted.size && !trusted.has(s.country.toUpperCase())).map((s) => s.country!))];
  if (foreign.length) indicators.push(`successful sign-ins from ${foreign.join(', ')}`);
  const risky = signIns.items.filter((s) => s.riskLevel).length;
  if (risky) indicators.push(`${risky} risky sign-ins`);
  for (const r of inboxRules.items.filter((r) => r.enabled && (r.forwardsTo.length || r.deletes)))
    indicators.push(`inbox rule "${r.name}" ${r.forwardsTo.length ? `forwards to ${r.forwardsTo.join(', ')}` : 'deletes mail'}`);
  for (const f of forwarding.items) indicators.push(`mailbox forwards to ${f.forwardingSmtpAddress ?? f.forwardingAddress}`);
  if (methodChanges.items.length) indicators.push(`${methodChanges.items.length} authentication method changes in ${input.days} days`);
  for (const g of appConsents.items.filter((g) => RISKY_SCOPES.test(g.scope))) indicators.push(`app ${g.clientId} was granted ${g.scope}`);

  return {
    userId: user.id,
    userPrincipalName: user.userPrincipalName,
    accountEnabled: (user['accountEnabled'] as boolean | undefined) ?? null,
    suspicious: indicators.length > 0,
    indicators,
    signIns,
    inboxRules,
    forwarding,
    methodChanges,
    appConsents,
  };
});
