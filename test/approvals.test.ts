// The approval rules (runbook/approvals.ts): who a step names, who may decide, and which decisions
// count. The server checks them before it signals; the workflow is the authority.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approverKeys, isPendingApprover, refusalOf, REFUSAL_REASON } from '../runbook/approvals.ts';

describe('approval rules', () => {
  it('name approvers as lower-case users, roles and groups', () => {
    assert.deepEqual(approverKeys({ users: ['Anna@Contoso.com'], roles: ['approver'], groups: ['HR Leads'] }), ['anna@contoso.com', 'role:approver', 'group:HR Leads']);
  });

  it('find a person among the pending approvers by email, group or role; an admin covers any role', () => {
    const bo = { email: 'bo@contoso.com', groups: ['HR Leads'], roles: ['viewer'] };
    assert.equal(isPendingApprover(bo, ['anna@contoso.com']), false);
    assert.equal(isPendingApprover({ ...bo, email: 'Anna@Contoso.com' }, ['anna@contoso.com']), true);
    assert.equal(isPendingApprover(bo, ['group:HR Leads']), true);
    assert.equal(isPendingApprover(bo, ['group:hr leads']), false, 'group names are matched as written');
    assert.equal(isPendingApprover(bo, ['role:approver']), false);
    assert.equal(isPendingApprover({ ...bo, roles: ['approver'] }, ['role:approver']), true);
    assert.equal(isPendingApprover({ ...bo, roles: ['admin', 'approver'] }, ['role:manager']), true, 'a role Tenantflow does not know');
    assert.equal(isPendingApprover({ ...bo, roles: ['admin'] }, ['group:Finance', 'carl@contoso.com']), false, 'admin covers roles, not people or groups');
  });

  it('refuse self-approval unless allowed, and a second decision by the same person', () => {
    const step = { allowSelfApproval: false, decisions: [] };
    assert.equal(refusalOf(step, 'Anna@contoso.com', 'anna@contoso.com'), 'self-approval');
    assert.equal(refusalOf({ ...step, allowSelfApproval: true }, 'anna@contoso.com', 'anna@contoso.com'), undefined);
    assert.equal(refusalOf(step, 'anna@contoso.com', 'bo@contoso.com'), undefined);
    assert.equal(refusalOf(step, undefined, 'bo@contoso.com'), undefined);
    const decided = { allowSelfApproval: false, decisions: [{ by: 'bo@contoso.com' }] };
    assert.equal(refusalOf(decided, 'anna@contoso.com', 'Bo@contoso.com'), 'already-decided');
    const refusedBefore = { allowSelfApproval: false, decisions: [{ by: 'bo@contoso.com', refused: REFUSAL_REASON['already-decided'] }] };
    assert.equal(refusalOf(refusedBefore, 'anna@contoso.com', 'bo@contoso.com'), undefined, 'a refused decision does not count');
    assert.equal(REFUSAL_REASON['self-approval'], 'the person who started the run cannot approve it');
  });
});
