// The plan document (docs/plan.md): what each step of a run would do. A leaf of the runbook model
// (run states carry the plan an approval shows); requests and helpers are in plan.ts.
import type { ActionPlan } from '../catalog/contract.ts';

export const PLAN_VERSION = 1;

/** Loop items (and CSV rows) planned per page unless the request says otherwise. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 200;

/** Will the step run? yes; if (the conditions in `when`); no (see `why`); done (it already ran). */
export type StepRuns = 'yes' | 'if' | 'no' | 'done';

export interface StepPlan {
  nodeId: string;
  kind: 'action' | 'approval' | 'condition' | 'delay' | 'end' | 'forEach' | 'subRunbook';
  label?: string;
  /** Action steps: the action id and title. */
  action?: string;
  title?: string;
  runs: StepRuns;
  /** For runs = if: the alternatives under which it runs, each in words ("approve_request is approved"). */
  when?: string[];
  /** For runs = no: why not. */
  why?: string;
  /** The parameters as they resolve now: secrets masked, values known only after the run as { $knownAfterRun }. */
  params?: Record<string, unknown>;
  /** What the action would do. */
  plan?: ActionPlan;
  /** The action cannot be undone (permanent delete, a sent mail, ...). */
  irreversible?: string;
  /** Conditions: the branch taken when it can be decided now. */
  decided?: string;
  /** Approvals, delays and ends, in words. */
  detail?: string;
  loop?: LoopPlan;
}

export interface LoopPlan {
  /** How many items; null when the list is known only after the run. */
  total: number | null;
  offset: number;
  items: { index: number; item: unknown; steps: StepPlan[] }[];
  /** Items after this page, not planned here (ask for the next page). */
  more: number;
  reason?: string;
}

export interface PlanSummary {
  /** Steps that change something (certainly or under a condition). */
  changes: number;
  /** Changes (rows) in those steps. */
  changeRows: number;
  noChange: number;
  wouldFail: number;
  notPredicted: number;
  unknown: number;
  planFailed: number;
  /** Steps that change something that cannot be undone. */
  irreversible: number;
}

export interface RunPlan {
  planVersion: typeof PLAN_VERSION;
  plannedAt: string;
  tenant: string;
  runbook: { id: string; version: number; name: string };
  /** Set when this is the plan of what one approval step gates (the run is under way). */
  gate?: string;
  steps: StepPlan[];
  summary: PlanSummary;
}
