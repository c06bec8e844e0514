// Automatic layout: a pure function of nodes and edges, so it is tested without a browser and
// benchmarked on big runbooks. Each step's rank (top to bottom) is its longest path from a root,
// computed directly over the DAG in linear time (a full layered layout such as dagre's spent 80% of
// a big runbook's open on crossing minimisation and coordinates this layout throws away). Across
// the ranks each step gets a lane: the happy path (out, approved, true, the first case) stays in its
// parent's lane and every other branch (error, rejected, timeout, false, default, further cases)
// opens a lane to the right of it, so those branches always sit on the same side.

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
  /** Its outgoing handles in their order (`handlesOf`): orders a condition's cases. */
  handles?: string[];
}

export interface LayoutEdge {
  source: string;
  target: string;
  /** Outgoing handle: the happy one keeps its parent's lane, the others go to the right. */
  sourceHandle?: string;
}

export interface LayoutOptions {
  direction?: 'TB' | 'LR';
  nodeSep?: number;
  rankSep?: number;
}

/**
 * Longest-path ranks: a root is rank 0, every other node one below its lowest parent. An edge that
 * closes a cycle (not valid in a runbook, but the editor may hold one while the user draws) is
 * ignored, found by a depth-first walk in the nodes' order.
 */
export function longestPathRanks(ids: string[], edges: LayoutEdge[]): Map<string, number> {
  const out = new Map<string, string[]>();
  for (const e of edges) (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e.target);
  // Reverse post-order of an iterative DFS is a topological order of the graph without back edges.
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const forward = new Map<string, string[]>();
  for (const root of ids) {
    if (state.has(root)) continue;
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const next = out.get(top[0]);
      if (next && top[1] < next.length) {
        const t = next[top[1]++]!;
        const s = state.get(t);
        if (s === 1) continue; // back edge: closes a cycle
        (forward.get(top[0]) ?? forward.set(top[0], []).get(top[0])!).push(t);
        if (s === undefined) {
          state.set(t, 1);
          stack.push([t, 0]);
        }
      } else {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  const rank = new Map(ids.map((id) => [id, 0]));
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    const r = rank.get(id)! + 1;
    for (const t of forward.get(id) ?? []) if (rank.get(t)! < r) rank.set(t, r);
  }
  return rank;
}

/** Top-left positions of every node, snapped to whole pixels. Unknown edge ends are ignored. */
export function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[], opts: LayoutOptions = {}): Record<string, { x: number; y: number }> {
  const tb = (opts.direction ?? 'TB') === 'TB';
  const nodeSep = opts.nodeSep ?? 48;
  const rankSep = opts.rankSep ?? 64;
  const ids = new Set(nodes.map((n) => n.id));
  const kept = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const ranks = longestPathRanks([...ids], kept);
  const rank = (id: string) => ranks.get(id)!;
  const lanes = assignLanes(nodes, kept, rank);

  // Each rank is as deep as its deepest node; ranks are centred on one line, rankSep apart.
  const along = (n: LayoutNode) => (tb ? n.height : n.width);
  const depth: number[] = [];
  for (const n of nodes) depth[rank(n.id)] = Math.max(depth[rank(n.id)] ?? 0, along(n));
  const centre: number[] = [];
  let at = 0;
  for (let r = 0; r < depth.length; r++) {
    const d = depth[r] ?? 0;
    centre[r] = at + d / 2;
    at += d + rankSep;
  }

  const cross = (n: LayoutNode) => (tb ? n.width : n.height);
  const laneSize = Math.max(0, ...nodes.map(cross)) + nodeSep;
  const out: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) {
    const across = Math.round(lanes.get(n.id)! * laneSize + (laneSize - nodeSep - cross(n)) / 2);
    const main = Math.round(centre[rank(n.id)]! - along(n) / 2);
    out[n.id] = tb ? { x: across, y: main } : { x: main, y: across };
  }
  return out;
}

// Happy paths first (the first keeps the lane), then further cases, then the off paths.
const ORDER = ['out', 'approved', 'true', 'rejected', 'false', 'default', 'timeout', 'error'];
const OFF_PATH = new Set(['rejected', 'false', 'default', 'timeout', 'error']);
function handleRank(h: string, handles: string[] | undefined): number {
  const off = OFF_PATH.has(h) ? 1000 : 0;
  const own = handles?.indexOf(h) ?? -1;
  if (own >= 0) return off + own;
  const i = ORDER.indexOf(h);
  return off + (i < 0 ? 500 : i);
}

/**
 * Lanes (0, 1, 2 ... left to right) by a depth-first walk from the roots: a node's happy edge
 * continues its lane; every other edge starts the lowest lane to the right of the parent's that is
 * free over the ranks its happy chain will take, so no two steps share a spot.
 */
export function assignLanes(nodes: Pick<LayoutNode, 'id' | 'handles'>[], edges: LayoutEdge[], rank: (id: string) => number): Map<string, number> {
  const ids = nodes.map((n) => n.id);
  const handlesOf = new Map(nodes.map((n) => [n.id, n.handles]));
  const out = new Map<string, LayoutEdge[]>();
  const hasParent = new Set<string>();
  for (const e of edges) {
    (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e);
    hasParent.add(e.target);
  }
  for (const [id, list] of out) {
    const handles = handlesOf.get(id);
    list.sort((a, b) => handleRank(a.sourceHandle ?? 'out', handles) - handleRank(b.sourceHandle ?? 'out', handles) || a.target.localeCompare(b.target));
  }
  const mainOf = (id: string) => out.get(id)?.find((e) => !OFF_PATH.has(e.sourceHandle ?? 'out'));
  const lane = new Map<string, number>();
  /** Ranks taken in each lane. */
  const taken: Set<number>[] = [];
  /** The ranks a chain starting at id takes: id and its happy successors not placed yet. */
  const chainRanks = (id: string) => {
    const ranks: number[] = [];
    const seen = new Set<string>();
    for (let at: string | undefined = id; at !== undefined && !lane.has(at) && !seen.has(at); at = mainOf(at)?.target) {
      seen.add(at);
      ranks.push(rank(at));
    }
    return ranks;
  };
  const freeLane = (after: number, id: string) => {
    const ranks = chainRanks(id);
    let l = after + 1;
    while (ranks.some((r) => taken[l]?.has(r))) l++;
    return l;
  };
  const place = (id: string, l: number) => {
    lane.set(id, l);
    (taken[l] ??= new Set()).add(rank(id));
  };
  const visit = (id: string) => {
    const main = mainOf(id);
    // The happy path first (it sorts first), each branch to its end before the next finds a lane.
    for (const e of out.get(id) ?? []) {
      if (lane.has(e.target)) continue;
      place(e.target, e === main ? lane.get(id)! : freeLane(lane.get(id)!, e.target));
      visit(e.target);
    }
  };
  for (const r of [...ids.filter((id) => !hasParent.has(id)), ...ids]) {
    if (lane.has(r)) continue;
    place(r, freeLane(-1, r));
    visit(r);
  }
  return lane;
}
