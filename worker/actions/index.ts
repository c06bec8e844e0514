// Every action implementation the worker registers: whatever the modules of this folder export
// through implement(), so adding an action is adding one export.
import type { ActionImplementation } from '../implementation.ts';
import * as ad from './ad.ts';
import * as apps from './apps.ts';
import * as authentication from './authentication.ts';
import * as contacts from './contacts.ts';
import * as devices from './devices.ts';
import * as hybrid from './hybrid.ts';
import * as directory from './directory.ts';
import * as distributionGroups from './distributionGroups.ts';
import * as domains from './domains.ts';
import * as groups from './groups.ts';
import * as investigation from './investigation.ts';
import * as licences from './licences.ts';
import * as mailbox from './mailbox.ts';
import * as onedrive from './onedrive.ts';
import * as sites from './sites.ts';
import * as teams from './teams.ts';
import * as notifications from './notifications.ts';
import * as policies from './policies.ts';
import * as reads from './reads.ts';
import * as tags from './tags.ts';
import * as users from './users.ts';

const isImplementation = (v: unknown): v is ActionImplementation =>
  typeof v === 'object' && v !== null && 'contract' in v && 'handler' in v;

export const implementations: ActionImplementation[] = [users, licences, groups, reads, authentication, directory, distributionGroups, mailbox, contacts, notifications, tags, investigation, devices, apps, domains, policies, teams, sites, onedrive, ad, hybrid].flatMap(
  (m) => Object.values(m).filter(isImplementation),
);
