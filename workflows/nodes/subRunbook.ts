// A sub-runbook step: another published runbook, pinned at publish (node.pinned), run as a child
// workflow of the same interpreter on the same tenant, for the same person. Its inputs are the
// node's expressions evaluated here; its outcome comes back up (warnings, partial failure,
// rejection, failure) and a cancellation of this run goes down to it.
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
} from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import type { NodeState, RunbookDefinition, RunbookWorkflowInput, RunState, SubRunbookNode } from '../../runbook/definition.ts';
import { resolveTemplate } from '../../runbook/expressions.ts';
import { SA } from '../search-attributes.ts';
import { errorMessage, RunEnded, type Execution } from './execution.ts';

/** The output of a sub-runbook step: read downstream as steps.<id>.output.steps.<child step>.output. */
export interface SubRunbookOutput {
  runId: string;
  runbook: string;
  version: number;
  status: RunState['status'];
  message?: string;
  steps: Record<string, { status: string; output?: unknown }>;
}

export async function runSubRunbook(x: Execution, node: SubRunbookNode, ns: NodeState): Promise<string> {
  // Workflow code before this change had no such step: no run in flight can reach here unpatched.
  if (!hasPatch('sub-runbook') || !node.pinned)
    return fail(x, node, ns, `sub-runbook ${node.runbook} was not pinned to a version: publish the runbook (the server pins its sub-runbooks then)`);
  const definition = node.pinned.definition as unknown as RunbookDefinition;
  const version = node.pinned.version;
  const mapped = await resolveTemplate(node.inputs, x.expressions());
  // Loaded here, not with the module: every run evaluates the bundle's modules again, and the input
  // checks bring RE2 (re2js), a few milliseconds of each run that has no sub-runbook.
  const { validateInputs } = await import(/* webpackMode: "eager" */ '../../runbook/inputs.ts');
  const checked = validateInputs(definition, mapped);
  ns.input = mapped;
  if (!checked.ok)
    return fail(x, node, ns, `the inputs given to sub-runbook ${node.runbook} do not fit it: ${checked.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);

  const runId = `${x.workflowId}.${node.id}`;
  const run = { ...x.input.run, runbookId: node.runbook, version };
  ns.child = { runId, runbook: node.runbook, version };
  x.publish();
  const child: RunbookWorkflowInput = { definition, inputs: checked.values, run };
  let state: RunState;
  try {
    state = await executeChild<(i: RunbookWorkflowInput) => Promise<RunState>>('runbookWorkflow', {
      workflowId: runId,
      args: [child],
      // A cancelled parent asks the child to cancel and waits until it has.
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: SA.status, value: 'running' },
        { key: SA.runbook, value: node.runbook },
        { key: SA.version, value: version },
        { key: SA.tenant, value: run.tenant },
        { key: SA.requester, value: run.startedBy },
      ],
      memo: { runbookName: definition.name, origin: { parentRun: x.workflowId, parentStep: node.id } },
    });
  } catch (err) {
    if (isCancellation(err)) {
      ns.child = { ...ns.child, status: 'cancelled' };
      throw err;
    }
    const cause = err instanceof ChildWorkflowFailure ? (err.cause ?? err) : err;
    const failed = cause instanceof ApplicationFailure ? (cause.details?.[0] as RunState | undefined) : undefined;
    if (failed?.nodes) ns.output = outputOf(runId, node, version, failed);
    ns.child = { ...ns.child, status: failed?.status ?? 'failed', message: failed?.message ?? errorMessage(cause) };
    return fail(x, node, ns, `sub-runbook ${node.runbook} ${failed?.status === 'timed-out' ? 'timed out' : 'failed'}: ${failed?.message ?? errorMessage(cause)}`);
  }
  ns.output = outputOf(runId, node, version, state);
  ns.child = { ...ns.child, status: state.status, ...(state.message ? { message: state.message } : {}) };
  if (state.warnings?.length) ns.warnings = state.warnings.map((w) => `${node.runbook}: ${w}`);
  ns.status = 'succeeded';
  // The child was refused (an approval said no, or nobody decided in time): so is this run.
  if (state.status === 'rejected' || state.status === 'timed-out')
    throw new RunEnded('succeeded', `sub-runbook ${node.runbook} at ${node.id}: ${state.message ?? state.status}`, node.id);
  return 'out';
}

function outputOf(runId: string, node: SubRunbookNode, version: number, state: RunState): SubRunbookOutput {
  return {
    runId,
    runbook: node.runbook,
    version,
    status: state.status,
    ...(state.message ? { message: state.message } : {}),
    steps: Object.fromEntries(Object.values(state.nodes).map((n) => [n.id, { status: n.status, ...(n.output !== undefined ? { output: n.output } : {}) }])),
  };
}

function fail(x: Execution, node: SubRunbookNode, ns: NodeState, message: string): string {
  ns.status = 'failed';
  ns.error = { message };
  ns.endedAt = x.now();
  switch (node.onError) {
    case 'continue':
      return 'out';
    case 'route':
      return 'error';
    case 'fail':
      throw new RunEnded('failed', `Step ${node.id} failed: ${message}`, node.id);
  }
}
