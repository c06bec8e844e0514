// The Microsoft 365 rules checker: rules about the order and combination of steps that
// Microsoft's documentation implies (licence removal before the mailbox is shared, revoking
// sessions before blocking sign-in, ...). It reads a valid definition's graph: "before" means
// "upstream of on some path". Results are warnings, not errors: publishing is still allowed.
// Rules about workloads not in the catalog yet (device.*, teams.*, onedrive.*) match by id
// prefix so they work as those actions land. Pure: no I/O; the designer runs it as you draw.
import { catalog } from '../catalog/index.ts';
import type { ActionNode, ConditionNode, RunbookDefinition, RunbookNode } from './definition.ts';

export type RuleSeverity = 'high' | 'medium' | 'low';

/** A change the designer can apply with one click (see applyFix). */
export type RuleFix =
  | { kind: 'insertBefore' | 'insertAfter'; nodeId: string; action: string; params: Record<string, unknown>; label: string; description: string };

export interface RuleWarning {
  rule: string;
  nodeId: string;
  severity: RuleSeverity;
  message: string;
  link: string;
  fix?: RuleFix;
}

export interface RuleInfo {
  id: string;
  severity: RuleSeverity;
  reason: string;
  link: string;
}

export const RULES = {
  'licence-before-shared-mailbox': {
    severity: 'high',
    reason: "Removing a user's licences before their mailbox is converted to shared deletes the mailbox after the 30-day grace period.",
    link: 'https://learn.microsoft.com/en-us/microsoft-365/admin/email/convert-user-mailbox-to-shared-mailbox',
  },
  'shared-mailbox-needs-licence': {
    severity: 'high',
    reason: 'A shared mailbox over 50 GB, with an archive or with litigation hold still needs an Exchange Online Plan 2 licence, so check it before removing the licences.',
    link: 'https://learn.microsoft.com/en-us/exchange/collaboration-exo/shared-mailboxes',
  },
  'delete-before-handover': {
    severity: 'high',
    reason: "Deleting a user before their mailbox and OneDrive are handed over loses the data once the retention period ends.",
    link: 'https://learn.microsoft.com/en-us/microsoft-365/admin/add-users/remove-former-employee',
  },
  'licence-without-usage-location': {
    severity: 'high',
    reason: 'Microsoft refuses to assign a licence to a user who has no usage location.',
    link: 'https://learn.microsoft.com/en-us/entra/identity/users/licensing-groups-resolve-problems#usage-location-isnt-allowed',
  },
  'revoke-before-block': {
    severity: 'medium',
    reason: 'Sessions revoked before sign-in is blocked or the password is reset can be re-established in between; revoke after.',
    link: 'https://learn.microsoft.com/en-us/entra/identity/users/users-revoke-access',
  },
  'step-after-delete': {
    severity: 'high',
    reason: 'A step that targets a user after the step that deletes them fails: the user no longer exists.',
    link: 'https://learn.microsoft.com/en-us/graph/api/user-delete',
  },
  'last-owner-removed': {
    severity: 'medium',
    reason: 'Removing an owner without adding another first can leave the group or team with no owner to manage it.',
    link: 'https://learn.microsoft.com/en-us/microsoft-365/admin/create-groups/ownerless-groups-teams',
  },
  'synced-object-changed-in-cloud': {
    severity: 'low',
    reason: 'Properties of a user synchronised from on-premises Active Directory must be changed on-premises; a cloud change is refused or overwritten by the next sync.',
    link: 'https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-syncservice-shadow-attributes',
  },
  'wipe-after-licence-removal': {
    severity: 'high',
    reason: "Removing the licence that keeps a device managed by Intune before wiping or retiring it leaves the device unmanaged, so the wipe cannot reach it.",
    link: 'https://learn.microsoft.com/en-us/mem/intune/remote-actions/devices-wipe',
  },
} as const satisfies Record<string, Omit<RuleInfo, 'id'>>;
export type RuleId = keyof typeof RULES;

export function ruleList(): RuleInfo[] {
  return Object.entries(RULES).map(([id, r]) => ({ id, ...r }));
}

export interface RuleOptions {
  /** The action ids that exist (default: the catalog). Lets a rule offer a fix only with a real action. */
  actions?: ReadonlySet<string>;
}

const LICENCE_REMOVAL = new Set(['licence.unassign', 'licence.removeAll']);
const USER_DELETE = new Set(['user.delete', 'user.permanentDelete']);
const MAILBOX_HANDOVER = new Set(['mailbox.convertToShared', 'mailbox.grantManagerFullAccess', 'mailbox.addFullAccess']);
/** Cloud writes of properties that on-premises AD owns for a synced user. */
const SYNCED_PROPERTY_WRITES = new Set([
  'user.update', 'user.rename', 'user.setContactInfo', 'user.setManager', 'user.removeManager', 'user.changeUpnDomain', 'user.setAttributes',
]);
const isDeviceWipe = (a: string) => /^(device|intune)\.(wipe|retire|delete|remove)/i.test(a);
const isOwnerRemoval = (n: ActionNode) =>
  /^(group|teams?)\.removeOwners?$/.test(n.action) ||
  (n.action === 'group.manageM365Members' && Array.isArray(n.params.removeOwners) && n.params.removeOwners.length > 0);
const isOwnerAdd = (n: ActionNode) =>
  /^(group|teams?)\.(addOwners?|transferOwnership|handOverOwnership)$/.test(n.action) ||
  (n.action === 'group.manageM365Members' && Array.isArray(n.params.addOwners) && n.params.addOwners.length > 0);

const norm = (v: unknown) => (typeof v === 'string' ? v.replace(/\s+/g, '').toLowerCase() : undefined);

/** The user (or mailbox) a step is about, as written; expressions compare textually. */
function userOf(n: ActionNode): string | undefined {
  if (n.action === 'user.create' || n.action === 'user.clone') return norm(n.params.userPrincipalName);
  if (n.action.startsWith('mailbox.') && n.action !== 'mailbox.removeUserAccess') return norm(n.params.mailbox);
  return norm(n.params.user ?? n.params.userPrincipalName);
}
function groupOf(n: ActionNode): string | undefined {
  return norm(n.params.group ?? n.params.team);
}

/** Graph helpers over the top-level nodes (forEach bodies are checked as graphs of their own). */
class Graph {
  readonly nodes = new Map<string, RunbookNode>();
  readonly incoming = new Map<string, string[]>();
  readonly outgoing = new Map<string, string[]>();
  constructor(nodes: readonly RunbookNode[], edges: readonly { source: string; target: string }[]) {
    for (const n of nodes) this.nodes.set(n.id, n);
    for (const e of edges) {
      if (!this.nodes.has(e.source) || !this.nodes.has(e.target)) continue;
      (this.outgoing.get(e.source) ?? this.outgoing.set(e.source, []).get(e.source)!).push(e.target);
      (this.incoming.get(e.target) ?? this.incoming.set(e.target, []).get(e.target)!).push(e.source);
    }
  }
  private readonly walks = new Map<string, RunbookNode[]>();
  /**
   * Every node reachable from id along `next`, each once. On a DAG in depth-first pre-order (each
   * neighbour, then what it reaches, in edge order), walked afresh per node: only the steps a rule
   * asks about pay, where joining every node's memoised set paid for all of them (quadratic in a
   * long chain).
   */
  private reach(id: string, next: Map<string, string[]>): string[] {
    const seen = new Set<string>();
    const found: string[] = [];
    if (this.topological()) {
      const stack: { ids: string[]; at: number }[] = [{ ids: next.get(id) ?? [], at: 0 }];
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        if (top.at === top.ids.length) {
          stack.pop();
          continue;
        }
        const n = top.ids[top.at++]!;
        if (seen.has(n)) continue;
        seen.add(n);
        found.push(n);
        const further = next.get(n);
        if (further) stack.push({ ids: further, at: 0 });
      }
    } else {
      const stack = [...(next.get(id) ?? [])];
      while (stack.length) {
        const n = stack.pop()!;
        if (seen.has(n)) continue;
        seen.add(n);
        found.push(n);
        stack.push(...(next.get(n) ?? []));
      }
    }
    return found;
  }
  private walk(id: string, next: Map<string, string[]>): RunbookNode[] {
    const key = `${next === this.incoming ? '<' : '>'}${id}`;
    const known = this.walks.get(key);
    if (known) return known;
    const found = this.reach(id, next).map((s) => this.nodes.get(s)!);
    this.walks.set(key, found);
    return found;
  }
  before(id: string): RunbookNode[] {
    return this.walk(id, this.incoming);
  }
  after(id: string): RunbookNode[] {
    return this.walk(id, this.outgoing);
  }
  actions(): ActionNode[] {
    return [...this.nodes.values()].filter((n): n is ActionNode => n.kind === 'action');
  }
  private upstream?: { index: Map<string, number>; words: number; bits: Uint32Array };
  private readonly beforeSets = new Map<string, Set<string>>();
  /**
   * Whether `a` is upstream of `b` (some path leads from a to b): `before(b)` holds a. On a DAG a
   * bit test in each node's ancestor set, built once in topological order, so asking about a few
   * candidates costs nothing like listing every ancestor of every step.
   */
  isBefore(a: string, b: string): boolean {
    const order = this.topological();
    if (!order) {
      let known = this.beforeSets.get(b);
      if (!known) this.beforeSets.set(b, (known = new Set(this.reach(b, this.incoming))));
      return known.has(a);
    }
    this.upstream ??= ancestorBits(order, this.incoming);
    const { index, words, bits } = this.upstream;
    const i = index.get(a);
    const j = index.get(b);
    return i !== undefined && j !== undefined && (bits[j * words + (i >>> 5)]! & (1 << (i & 31))) !== 0;
  }
  /** Whether some node of `pool` upstream of id passes `test` (as `before(id).some(test)` for the pool's nodes). */
  someBefore<T extends RunbookNode>(id: string, pool: readonly T[], test: (m: T) => boolean = always): boolean {
    return pool.some((m) => test(m) && this.isBefore(m.id, id));
  }
  /** Whether some node of `pool` downstream of id passes `test`. */
  someAfter<T extends RunbookNode>(id: string, pool: readonly T[], test: (m: T) => boolean = always): boolean {
    return pool.some((m) => test(m) && this.isBefore(id, m.id));
  }
  /**
   * `before(id).find(m => pool.includes(m))`: the candidates are tested first, and the ancestors
   * only walked (for their order) when more than one is upstream.
   */
  firstBefore<T extends RunbookNode>(id: string, pool: readonly T[]): T | undefined {
    const found = pool.filter((m) => this.isBefore(m.id, id));
    return found.length <= 1 ? found[0] : (this.before(id).find((m) => found.includes(m as T)) as T);
  }
  private order?: string[] | null;
  private topological(): string[] | undefined {
    if (this.order === undefined) {
      const order = topologicalOrder([...this.nodes.keys()], this.outgoing);
      this.order = order.length === this.nodes.size ? order : null;
    }
    return this.order ?? undefined;
  }
}
/**
 * Kahn's algorithm: the ids in an order where each comes after its parents. A node on a cycle, or
 * behind one, is left out (so the order is shorter than `ids` exactly when the graph has a cycle).
 */
export function topologicalOrder(ids: string[], outgoing: Map<string, string[]>): string[] {
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const targets of outgoing.values()) for (const t of targets) indegree.set(t, indegree.get(t)! + 1);
  const order = ids.filter((id) => indegree.get(id) === 0);
  // The order is its own queue: each id is taken from it once, in turn.
  for (let next = 0; next < order.length; next++) {
    for (const t of outgoing.get(order[next]!) ?? []) {
      const d = indegree.get(t)! - 1;
      indegree.set(t, d);
      if (d === 0) order.push(t);
    }
  }
  return order;
}
/** Each node's ancestors as a row of bits (one row per node, by its place in `order`): its parents' rows joined, plus the parents. */
function ancestorBits(order: string[], incoming: Map<string, string[]>): { index: Map<string, number>; words: number; bits: Uint32Array } {
  const index = new Map(order.map((id, i) => [id, i]));
  const words = (order.length + 31) >>> 5;
  const bits = new Uint32Array(order.length * words);
  order.forEach((id, j) => {
    for (const parent of incoming.get(id) ?? []) {
      const i = index.get(parent)!;
      for (let w = 0; w < words; w++) bits[j * words + w]! |= bits[i * words + w]!;
      bits[j * words + (i >>> 5)]! |= 1 << (i & 31);
    }
  });
  return { index, words, bits };
}
const always = () => true;

/** What rules look for among the steps (about one user, mostly). */
type StepTest = (m: ActionNode) => boolean;
const assignsLicence: StepTest = (m) => m.action === 'licence.assign';
const removesLicence: StepTest = (m) => LICENCE_REMOVAL.has(m.action);
const convertsToShared: StepTest = (m) => m.action === 'mailbox.convertToShared' || (m.action === 'mailbox.setMailboxType' && norm(m.params.type) === 'shared');
const archivesOrHolds: StepTest = (m) => m.action === 'mailbox.enableArchive' || (m.action === 'mailbox.setLitigationHold' && m.params.enabled !== false);
const readsMailbox: StepTest = (m) => m.action === 'mailbox.get';
const handsOverMailbox: StepTest = (m) => MAILBOX_HANDOVER.has(m.action);
const handsOverOneDrive: StepTest = (m) => m.action.startsWith('onedrive.');
const createsUser: StepTest = (m) => m.action === 'user.create' || m.action === 'user.inviteGuest';
const setsUsageLocation: StepTest = (m) => (m.action === 'user.update' || m.action === 'user.create' || m.action === 'user.clone') && !!(m.action === 'user.clone' || m.params.usageLocation);
const deletesUser: StepTest = (m) => USER_DELETE.has(m.action);
const restoresUser: StepTest = (m) => m.action === 'user.restore';
const createsCloudUser: StepTest = (m) => m.action === 'user.create' || m.action === 'user.clone' || m.action === 'user.inviteGuest' || m.action === 'user.clearImmutableId';

/** A condition's expressions as one text (rules look for what it reads). */
const conditionText = (m: ConditionNode) => [m.expression ?? '', ...(m.cases ?? []).map((c) => c.expression)].join(' ');
const actionsIn = (ns: RunbookNode[]) => ns.filter((n): n is ActionNode => n.kind === 'action');

function warn(rule: RuleId, nodeId: string, detail?: string, fix?: RuleFix): RuleWarning {
  const r = RULES[rule];
  return { rule, nodeId, severity: r.severity, message: detail ? `${r.reason} ${detail}` : r.reason, link: r.link, ...(fix ? { fix } : {}) };
}

/** Every rule warning of a (schema-valid) definition, forEach bodies included (node ids "loop.inner"). */
export function checkRules(def: Pick<RunbookDefinition, 'nodes' | 'edges'>, options: RuleOptions = {}): RuleWarning[] {
  const actions = options.actions ?? new Set(catalog.keys());
  const out = checkGraph(new Graph(def.nodes, def.edges), actions);
  for (const n of def.nodes)
    if (n.kind === 'forEach')
      for (const w of checkRules(n.body, options)) out.push({ ...w, nodeId: `${n.id}.${w.nodeId}`, ...(w.fix ? { fix: { ...w.fix, nodeId: `${n.id}.${w.fix.nodeId}` } } : {}) });
  return out;
}

function checkGraph(g: Graph, actions: ReadonlySet<string>): RuleWarning[] {
  const out: RuleWarning[] = [];
  const hasOneDrive = [...actions].some((a) => a.startsWith('onedrive.'));
  const all = g.actions();
  const conditions = [...g.nodes.values()].filter((n): n is ConditionNode => n.kind === 'condition');
  const deletesUsers = all.some(deletesUser);
  // The user of each step, once per check (the validator hands in a freshly parsed definition each
  // time), and the steps about each user: the candidates of "a step about the same user upstream".
  const users = new Map(all.map((m) => [m, userOf(m)]));
  const byUser = new Map<string, ActionNode[]>();
  for (const [m, u] of users) if (u !== undefined) (byUser.get(u) ?? byUser.set(u, []).get(u)!).push(m);
  // The steps about a user (every step when user is undefined) that pass a test, found once per
  // check: the rules ask the same of every step about that user.
  const matching = new Map<StepTest, Map<string | undefined, ActionNode[]>>();
  const stepsThat = (test: StepTest, user: string | undefined) => {
    const byTest = matching.get(test) ?? matching.set(test, new Map()).get(test)!;
    let found = byTest.get(user);
    if (!found) byTest.set(user, (found = (user === undefined ? all : (byUser.get(user) ?? [])).filter(test)));
    return found;
  };
  for (const n of all) {
    const user = users.get(n);
    // Ancestors and descendants only when a rule asks for them in order (most steps need neither);
    // "is there such a step upstream" tests the few candidates instead.
    let down: ActionNode[] | undefined;
    const after = () => (down ??= actionsIn(g.after(n.id)));
    const sameUser = (m: ActionNode) => user !== undefined && users.get(m) === user;
    const mine = (test: StepTest) => (user === undefined ? [] : stepsThat(test, user));
    const mineBefore = (test: StepTest) => g.someBefore(n.id, mine(test));
    const mineAfter = (test: StepTest) => g.someAfter(n.id, mine(test));

    // 1 and 2: licence removal vs. the shared mailbox
    // A swap (a licence assigned to the same user upstream, e.g. a mover) leaves the mailbox licensed.
    const swap = n.action === 'licence.unassign' && mineBefore(assignsLicence);
    if (LICENCE_REMOVAL.has(n.action) && !swap) {
      const converted = mineBefore(convertsToShared);
      if (!converted) {
        out.push(warn('licence-before-shared-mailbox', n.id, undefined, {
          kind: 'insertBefore', nodeId: n.id, action: 'mailbox.convertToShared', params: { mailbox: n.params.user }, label: 'Convert to shared',
          description: `insert mailbox.convertToShared before "${n.id}"`,
        }));
      } else {
        const needsLicence = mineBefore(archivesOrHolds) || mineAfter(archivesOrHolds);
        // Size, archive and hold are only known at run time: a condition that reads mailbox.get must guard the removal.
        const gets = mine(readsMailbox).filter((m) => g.isBefore(m.id, n.id)).map((m) => m.id);
        const guarded = g.someBefore(n.id, conditions, (m) => gets.some((id) => conditionText(m).includes(`steps.${id}.`)));
        if (needsLicence) out.push(warn('shared-mailbox-needs-licence', n.id, 'This runbook gives the mailbox an archive or litigation hold.'));
        else if (!guarded)
          out.push(warn('shared-mailbox-needs-licence', n.id, 'Read the mailbox (mailbox.get) and check its size, archive and hold in a condition before this step.', {
            kind: 'insertBefore', nodeId: n.id, action: 'mailbox.get', params: { mailbox: n.params.user }, label: 'Read the mailbox',
            description: `insert mailbox.get before "${n.id}" (then route on its output)`,
          }));
      }
    }

    // 3: delete before the handover
    if (USER_DELETE.has(n.action)) {
      if (!mineBefore(handsOverMailbox))
        out.push(warn('delete-before-handover', n.id, 'Nothing hands over the mailbox before this step.', {
          kind: 'insertBefore', nodeId: n.id, action: 'mailbox.convertToShared', params: { mailbox: n.params.user }, label: 'Convert to shared',
          description: `insert mailbox.convertToShared before "${n.id}"`,
        }));
      if (hasOneDrive && !mineBefore(handsOverOneDrive))
        out.push(warn('delete-before-handover', n.id, 'Nothing hands over the OneDrive before this step.'));
    }

    // 4: licence without usage location
    const assigns = n.action === 'licence.assign' || (n.action === 'user.create' && Array.isArray(n.params.licences) && n.params.licences.length > 0);
    if (assigns && !(n.action === 'user.create' && n.params.usageLocation)) {
      const created = mineBefore(createsUser);
      const located = mineBefore(setsUsageLocation);
      if ((n.action === 'user.create' || created) && !located) out.push(warn('licence-without-usage-location', n.id, 'Set usageLocation on user.create or in a user.update before this step.'));
    }

    // 5: revoke before block
    if (n.action === 'user.revokeSessions') {
      const blocks = after().filter((m) => sameUser(m) && (m.action === 'user.disableSignIn' || m.action === 'user.resetPassword'));
      const revokedAgain = (b: ActionNode) => actionsIn(g.after(b.id)).some((m) => sameUser(m) && m.action === 'user.revokeSessions');
      const last = blocks.find((b) => !revokedAgain(b) && !actionsIn(g.after(b.id)).some((m) => blocks.includes(m)));
      if (last)
        out.push(warn('revoke-before-block', n.id, `"${last.id}" comes after this step.`, {
          kind: 'insertAfter', nodeId: last.id, action: 'user.revokeSessions', params: { user: n.params.user }, label: 'Revoke sessions',
          description: `insert user.revokeSessions after "${last.id}"`,
        }));
    }

    // 6: steps after delete
    if (deletesUsers && user !== undefined && n.action !== 'user.restore' && !USER_DELETE.has(n.action)) {
      const deleted = g.firstBefore(n.id, mine(deletesUser));
      if (deleted && !g.someBefore(n.id, mine(restoresUser), (m) => g.isBefore(deleted.id, m.id)))
        out.push(warn('step-after-delete', n.id, `"${deleted.id}" deletes the user before this step.`));
    }

    // 7: last owner
    if (isOwnerRemoval(n)) {
      const group = groupOf(n);
      if (!g.someBefore(n.id, all, (m) => isOwnerAdd(m) && groupOf(m) === group)) out.push(warn('last-owner-removed', n.id, 'Add another owner before this step.'));
    }

    // 8: on-premises synced user changed in the cloud
    if (SYNCED_PROPERTY_WRITES.has(n.action) && user !== undefined) {
      const cloudOnly = mineBefore(createsCloudUser);
      const checked = g.someBefore(n.id, conditions, (m) => /onPremisesSyncEnabled/.test(conditionText(m)));
      if (!cloudOnly && !checked)
        out.push(warn('synced-object-changed-in-cloud', n.id, 'Route on the user\'s onPremisesSyncEnabled (user.get) before this step, or change it on-premises.'));
    }

    // 9: wipe after licence removal
    if (isDeviceWipe(n.action)) {
      const removal = g.firstBefore(n.id, stepsThat(removesLicence, user));
      if (removal) out.push(warn('wipe-after-licence-removal', n.id, `"${removal.id}" removes the licence before this step.`));
    }
  }
  return out;
}

/** Applies a fix: the new action node goes before (or after) the named node, taking over its edges. */
export function applyFix<D extends Pick<RunbookDefinition, 'nodes' | 'edges'>>(def: D, fix: RuleFix): D {
  const [loop, inner] = fix.nodeId.includes('.') ? fix.nodeId.split('.', 2) as [string, string] : [undefined, fix.nodeId];
  if (loop !== undefined) {
    return {
      ...def,
      nodes: def.nodes.map((n) => (n.id === loop && n.kind === 'forEach' ? { ...n, body: applyFix(n.body, { ...fix, nodeId: inner }) } : n)),
    };
  }
  const target = def.nodes.find((n) => n.id === inner);
  if (!target) throw new Error(`the fix names node "${inner}", which is not in the runbook`);
  const ids = new Set(def.nodes.map((n) => n.id));
  const base = fix.action.replace(/^.*\./, '').replace(/[^A-Za-z0-9]/g, '');
  let id = base;
  for (let i = 2; ids.has(id); i++) id = `${base}${i}`;
  const node = {
    id,
    kind: 'action' as const,
    action: fix.action,
    params: fix.params,
    label: fix.label,
    onError: 'fail' as const,
    ...(target.position ? { position: { x: target.position.x, y: target.position.y + (fix.kind === 'insertBefore' ? -60 : 60) } } : {}),
  };
  const edges =
    fix.kind === 'insertBefore'
      ? [...def.edges.map((e) => (e.target === inner ? { ...e, target: id } : e)), { source: id, sourceHandle: 'out', target: inner }]
      : [...def.edges.map((e) => (e.source === inner && (e.sourceHandle ?? 'out') === 'out' ? { ...e, source: id } : e)), { source: inner, sourceHandle: 'out', target: id }];
  return { ...def, nodes: [...def.nodes, node], edges } as D;
}
