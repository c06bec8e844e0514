// Which write actions test/repeat-safety-graph.test.ts proves safe to repeat (finding 1 of issue 16),
// and which of its actions' repeats are declared and explained instead. A plain list, so
// test/repeat-safety.test.ts counts them without running that file; the file checks its CASES
// against GRAPH_REPEAT_CASES, so the two cannot drift.
export const GRAPH_REPEAT_CASES: readonly string[] = [
  'user.changeUpnDomain', 'user.clearImmutableId', 'user.clone', 'user.inviteGuest', 'user.removeGuest', 'user.updateBulk',
  'group.createM365', 'group.manageM365Members', 'group.restore', 'licence.setServicePlans', 'auth.setPreferredMethod',
  'site.create', 'site.purge', 'teams.addChannel', 'teams.create',
  'tags.add', 'tags.flush', 'tags.manage', 'tags.remove', 'notify.email', 'notify.webhook',
];

/** Repeats that cannot be recognised, and why they are accepted. */
export const GRAPH_REPEAT_HARMLESS: Record<string, string> = {
  'teams.unarchive':
    'unarchiving is a Teams background operation (202 and an operation URL, lost with the answer) that the team does not show until it ' +
    'completes, so a retry while it runs asks again for the same end state; Teams ends with the team active once, and nothing a person ' +
    'sees differs (test/repeat-safety-graph.test.ts saw the second request: 2 writes against 1)',
  'notify.teams':
    'accepted, not invisible: a Teams incoming webhook or Workflows URL takes no idempotency key and offers no way to read back what was posted, ' +
    'so after a lost answer the retry may post the card a second time (the channel shows it twice); the alternative, not retrying, could lose the ' +
    'message. The step\'s description says so.',
};
