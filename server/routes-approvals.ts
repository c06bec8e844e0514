// Approvals: my inbox (steps waiting for me as a user, by role or by group, with the run's context)
// and decisions, by an authenticated POST only. The route establishes who the caller is (email,
// Tenantflow roles on the run's tenant, groups) and sends the decision as the workflow's approval
// Update; the workflow decides whether it counts (runbook/approvals.ts) and its refusal is passed
// on as 403 / 409 with the reason.
import { catalog } from '../catalog/index.ts';
import { isPendingApprover, refusalOf, REFUSAL_STATUS } from '../runbook/approvals.ts';
import { redactInputs } from '../runbook/secrets.ts';
import { SA } from '../workflows/search-attributes.ts';
import { RunAccess } from './access.ts';
import { approvalWait } from './metrics.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { ALL_TENANTS, ROLES } from './people.ts';
import type { Services } from './services.ts';
import { and, eq, oneOf, or } from './visibility.ts';


export function approvalRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  api.route('GET /api/approvals', async ({ me: p }) => {
    // Steps name their approvers as users, "group:<name>" and "role:<role>" (role on the run's tenant).
    const byRole = new Map<string, Set<string>>();
    for (const g of p.grants) {
      const roles = g.role === 'admin' ? [...ROLES] : [g.role];
      for (const r of roles) byRole.set(r, new Set([...(byRole.get(r) ?? []), g.tenant]));
    }
    const mine = or(
      eq(SA.pendingApprovers.name, p.user.email),
      p.user.groups.length > 0 && oneOf(SA.pendingApprovers.name, p.user.groups.map((g) => `group:${g}`)),
      ...[...byRole].map(([role, ts]) => and(eq(SA.pendingApprovers.name, `role:${role}`), !ts.has(ALL_TENANTS) && oneOf(SA.tenant.name, [...ts]))),
    );
    const { runs } = await s.runs.list({ extra: mine, status: ['waiting-approval', 'paused', 'running'] }, { size: 100 });
    const items = [];
    for (const r of runs) {
      const got = await s.runs.get(r.id).catch(() => undefined);
      if (!got?.state) continue;
      const input = await s.runs.input(r.id).catch(() => undefined);
      for (const n of Object.values(got.state.nodes)) {
        if (n.status !== 'waiting-approval' || !n.approval || !isPendingApprover(access.approverOf(p, r.tenant!), n.approval.pendingApprovers)) continue;
        const next = input?.definition.edges.filter((e) => e.source === n.id && e.sourceHandle === 'approved').map((e) => input.definition.nodes.find((x) => x.id === e.target)) ?? [];
        items.push({
          runId: r.id,
          nodeId: n.id,
          runbook: r.runbook,
          runbookName: r.runbookName,
          version: r.version,
          tenant: r.tenant,
          startedBy: r.startedBy,
          startedAt: r.startedAt,
          message: n.approval.message,
          deadline: n.approval.deadline,
          quorum: n.approval.quorum,
          decisions: n.approval.decisions,
          selfApprovalAllowed: n.approval.allowSelfApproval,
          canDecide: refusalOf(n.approval, r.startedBy, p.user.email) !== 'self-approval',
          inputs: redactInputs(input?.definition, input?.inputs),
          onApproval: next.filter(Boolean).map((x) => ({ id: x!.id, kind: x!.kind, label: x!.label, action: x!.kind === 'action' ? x!.action : undefined, title: x!.kind === 'action' ? catalog.get(x!.action)?.title : undefined })),
          // What approving lets run (docs/plan.md), planned when the step started waiting.
          ...(n.approval.plan ? { plan: n.approval.plan } : {}),
          ...(n.approval.planError ? { planError: n.approval.planError } : {}),
          decideUrl: `/api/runs/${r.id}/approvals/${n.id}`,
        });
      }
    }
    return items;
  });

  // A link opened by a mail scanner or a chat preview must never decide: GET only explains.
  api.route('GET /api/runs/:id/approvals/:nodeId', ({ res }) => {
    res.status(405).set('allow', 'POST');
    return { error: 'approvals are decided only with an authenticated POST (from the inbox or the CLI), never by opening a link' };
  });

  // The decision goes straight to the run as its approval Update, with who the caller is (email,
  // groups, grants): the workflow sees its own tenant, refuses a caller who cannot see it as a run
  // that does not exist, and decides whether the decision counts. Nothing is read first; only a
  // run that is gone is read, to tell "does not exist" (404) from "has ended" (409).
  api.route('POST /api/runs/:id/approvals/:nodeId',
    async ({ req, res, me: p, params, body }) => {
      const grants = p.grants.map((g) => ({ tenant: g.tenant, role: g.role }));
      const answer = await s.runs.decideApproval(params.id!, { nodeId: params.nodeId!, decision: body.decision, by: p.user.email, roles: [], groups: [...p.user.groups], grants, comment: body.comment });
      if ('gone' in answer) {
        await access.visibleRun(p, params.id!, { state: false });
        throw new HttpError(409, `run ${params.id} has ended: it no longer takes decisions`, { reason: 'not-waiting' });
      }
      if ('refusal' in answer) {
        if (answer.refusal === 'self-approval') await s.audit.record(originOf(req, p), 'approval.refused', params.id, { node: params.nodeId, reason: answer.refusal }, answer.tenant);
        throw new HttpError(REFUSAL_STATUS[answer.refusal], answer.reason, { reason: answer.refusal });
      }
      // Refused by the step itself (another decision ended it in the same moment).
      const { tenant, runbook, waitedMs, ...recorded } = answer.recorded;
      if (recorded.refused) throw new HttpError(409, `your decision was not counted: ${recorded.refused}`, { reason: 'not-waiting' });
      await s.audit.record(originOf(req, p), `approval.${body.decision}`, params.id, { node: params.nodeId, comment: body.comment }, tenant);
      if (waitedMs !== undefined) approvalWait.observe({ runbook: runbook ?? '', decision: body.decision }, waitedMs / 1000);
      res.status(202);
      return { accepted: true, decision: body.decision, by: p.user.email, recorded };
    },
  );
}
