// The on-premises Active Directory actions proven safe to repeat by test/repeat-safety-ad.test.ts
// (a lost LDAP answer made by test/ldap-fault-proxy.ts on the real Samba DC), and those whose
// repeat is harmless, with why. test/repeat-safety.test.ts counts them in its total; the AD test
// checks that its cases are exactly this list.
export const REPEATED_BY_AD_TESTS: readonly string[] = [
  'ad.addGroupMember', 'ad.cloneUser', 'ad.createGroup', 'ad.createUser', 'ad.deleteGroup', 'ad.deleteUser', 'ad.disableUser',
  'ad.enableRemoteMailbox', 'ad.enableUser', 'ad.hideFromAddressList', 'ad.moveUser', 'ad.removeGroupMember', 'ad.removeUserFromAllGroups',
  'ad.resetPassword', 'ad.setExpiry', 'ad.setManager', 'ad.unlockUser', 'ad.updateGroup', 'ad.updateUser',
];

/** AD actions whose repeat changes nothing a person would see twice, and why (none: every AD write is proven). */
export const HARMLESS_AD: Record<string, string> = {};
