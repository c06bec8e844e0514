// POST /invitations: B2B guests. The guest user appears at once (PendingAcceptance); inviting the
// same address again returns the same guest.
import { randomUUID } from 'node:crypto';
import { badRequest } from '../errors.ts';
import { P } from '../permissions.ts';
import type { Router } from '../runtime.ts';
import { newUser } from '../seed.ts';
import { bodyObject, odataContext } from './common.ts';

export function registerInvitationRoutes(router: Router): void {
  router.add({
    method: 'POST',
    path: '/invitations',
    permissions: P.userInvite,
    handler: (ctx) => {
      const body = bodyObject(ctx);
      const email = body['invitedUserEmailAddress'];
      const redirect = body['inviteRedirectUrl'];
      if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw badRequest("Invalid value specified for property 'invitedUserEmailAddress' of resource 'Invitation'.");
      if (typeof redirect !== 'string' || !/^https?:\/\//.test(redirect)) throw badRequest("A value is required for property 'inviteRedirectUrl' of resource 'Invitation'.");
      const userType = body['invitedUserType'] === 'Member' ? 'Member' : 'Guest';
      const domain = email.split('@')[1]!.toLowerCase();
      if (ctx.store.info.verifiedDomains.includes(domain)) throw badRequest('The invited user is in a verified domain of this organization. Invite users from other organizations only.');
      const ownerId = ctx.store.addressOwner(email);
      let user = ownerId ? ctx.store.userById(ownerId) : undefined;
      if (ownerId && (!user || user.userType !== 'Guest')) throw badRequest(`The invited user already exists in the directory as object ${ownerId}.`);
      if (!user) {
        const ext = email.replace('@', '_').replace(/[^A-Za-z0-9._-]/g, '');
        const displayName = typeof body['invitedUserDisplayName'] === 'string' ? body['invitedUserDisplayName'] : email.split('@')[0]!;
        user = newUser(
          {
            id: randomUUID(),
            userPrincipalName: `${ext}#EXT#@${ctx.store.info.initialDomain}`,
            displayName,
            mailNickname: ext,
            mail: email,
            otherMails: [email],
            proxyAddresses: [`SMTP:${email}`],
            userType,
            externalUserState: 'PendingAcceptance',
            externalUserStateChangeDateTime: ctx.nowIso,
            creationType: 'Invitation',
          },
          ctx.nowMs,
        );
        user.createdDateTime = ctx.nowIso;
        ctx.store.addUser(user);
        ctx.mutated('user.invite', user.id);
      } else ctx.mutated('user.reinvite', user.id);
      const invitationId = randomUUID();
      return {
        status: 201,
        body: {
          '@odata.context': odataContext(ctx, 'invitations/$entity'),
          id: invitationId,
          inviteRedeemUrl: `https://login.microsoftonline.com/redeem?rd=${encodeURIComponent(`https://invitations.microsoft.com/redeem/?tenant=${ctx.store.info.id}&user=${user.id}&ticket=${invitationId}`)}`,
          invitedUserDisplayName: user.displayName,
          invitedUserEmailAddress: email,
          invitedUserType: user.userType,
          inviteRedirectUrl: redirect,
          sendInvitationMessage: body['sendInvitationMessage'] === true,
          resetRedemption: body['resetRedemption'] === true,
          status: user.externalUserState === 'Accepted' ? 'Completed' : 'PendingAcceptance',
          invitedUserMessageInfo: body['invitedUserMessageInfo'] ?? { messageLanguage: null, customizedMessageBody: null, ccRecipients: [] },
          invitedUser: { id: user.id },
        },
      };
    },
  });
}
