// Which tests prove which write actions safe to repeat (finding 1 of issue 16), as a static list.
// test/repeat-safety.test.ts drives its own CASES; the plan tests below run each action they list
// through test/plan-kit.ts's round trip, whose repeat check (assertRepeatSafe) runs the same step
// again after its first write's answer was lost and fails if it writes more than its first run.
// test/repeat-safety.test.ts counts the union and checks this list against the files' calls
// (a roundTrip / planRunAgain / oneWay / trip call of the action without `again:`), so it cannot drift.
export const REPEATED_BY_PLAN_TESTS: Record<string, readonly string[]> = {
  'test/plan-mailbox.test.ts': [
    'mailbox.addFullAccess', 'mailbox.addSendOnBehalf', 'mailbox.clearAutoReply', 'mailbox.convertToShared', 'mailbox.disableForwarding', 'mailbox.removeContactsDelegate',
    'mailbox.removeCalendarAccess', 'mailbox.removeSendAs', 'mailbox.setAutoReply', 'mailbox.setCalendarPermission', 'mailbox.setForwarding', 'mailbox.setMailboxType',
  ],
  'test/plan-mail-more.test.ts': [
    'contact.update', 'mailUser.update', 'mailbox.addDelegate', 'mailbox.addEmailAddress', 'mailbox.copyPermissions', 'mailbox.disableArchive', 'mailbox.enableArchive',
    'mailbox.enableAuditing', 'mailbox.grantManagerFullAccess', 'mailbox.removeDelegate', 'mailbox.removeEmailAddress', 'mailbox.removeInboxRules', 'mailbox.removeUserAccess',
    'mailbox.setAddressBookPolicy', 'mailbox.setCalendarProcessing', 'mailbox.setCasServices', 'mailbox.setRegionalSettings', 'mailbox.setRetentionPolicy', 'mailbox.update',
    'quarantine.release',
  ],
  'test/plan-sites-apps.test.ts': [
    'app.addOwner', 'app.assignGroup', 'app.assignUser', 'app.delete', 'app.removeOwner', 'app.restore', 'app.unassignGroup', 'app.unassignUser', 'app.update',
    'site.addAdmin', 'site.addOwner', 'site.delete', 'site.lock', 'site.removeAdmin', 'site.removeOwner', 'site.restore', 'site.setOwner', 'site.setQuota',
    'site.setSharing', 'site.unlock',
  ],
  'test/plan-teams.test.ts': ['teams.addMember', 'teams.addOwner', 'teams.archive', 'teams.removeMember', 'teams.removeOwner'],
  'test/plan-teams-more.test.ts': [
    'autopilot.assignUser', 'autopilot.setGroupTag', 'autopilot.unassignUser', 'onedrive.addOwner', 'onedrive.addShortcut', 'onedrive.provision', 'onedrive.removeOwner',
    'onedrive.setQuota', 'onedrive.shareWith', 'teams.addChannelMember', 'teams.assignPhoneNumber', 'teams.assignPolicy', 'teams.createFromGroup', 'teams.delete',
    'teams.removeChannel', 'teams.removeChannelMember', 'teams.setSettings', 'teams.transferOwnership', 'teams.unassignPhoneNumber', 'teams.unassignPolicy', 'teams.update',
    'teams.updateChannel', 'teams.updatePhoneNumber',
  ],
  // Not a plan test: its own trip() cases lose the answer of each action's first Exchange write.
  'test/repeat-safety-exchange.test.ts': [
    'contact.create', 'contact.delete', 'distributionGroup.addMembers', 'distributionGroup.create', 'distributionGroup.delete', 'distributionGroup.grantSendPermission',
    'distributionGroup.removeMembers', 'distributionGroup.removeSendPermission', 'distributionGroup.update', 'mailUser.create', 'mailUser.delete', 'mailbox.addContactsDelegate',
    'mailbox.addSendAs', 'mailbox.cancelMeetings', 'mailbox.convertToRegular', 'mailbox.createResource', 'mailbox.createShared', 'mailbox.delete', 'mailbox.hideFromAddressList',
    'mailbox.removeCalendarPermission', 'mailbox.removeFullAccess', 'mailbox.removeSendOnBehalf', 'mailbox.setArchiveName', 'mailbox.setClutter', 'mailbox.setLitigationHold',
    'mailbox.setQuota', 'mobileDevice.allow', 'mobileDevice.block', 'mobileDevice.remove', 'mobileDevice.wipe', 'quarantine.delete',
  ],
};

/** The actions a plan test file runs through the round trip with its repeat check on (calls without `again:`), read from its source. */
export function repeatedIn(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/\b(?:roundTrip|planRunAgain|oneWay|trip)\(\s*(?:env,\s*)?'([\w.]+)'/g)) {
    let depth = 0;
    let end = m.index;
    for (; end < source.length; end++) {
      if (source[end] === '(') depth++;
      else if (source[end] === ')' && --depth === 0) break;
    }
    if (!/\bagain:\s*'(?!no-change')/.test(source.slice(m.index, end)) && !/\brepeat:\s*false/.test(source.slice(m.index, end))) out.add(m[1]!);
  }
  return [...out].sort();
}
