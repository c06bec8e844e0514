// Every action implementation the worker registers.
import type { ActionImplementation } from '../activity.ts';
import groupAddMember from './group.addMember.ts';
import licenceAssign from './licence.assign.ts';
import userCreate from './user.create.ts';

export const implementations: ActionImplementation[] = [userCreate, licenceAssign, groupAddMember];
