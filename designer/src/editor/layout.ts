// Automatic layout: a pure function of nodes and edges (dagre, top to bottom), so it is tested
// without a browser and benchmarked on big runbooks.
import { Graph, layout } from '@dagrejs/dagre';

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
  /** Outgoing handle; edges of one node are ordered by it so branches keep their side. */
  sourceHandle?: string;
}

export interface LayoutOptions {
  direction?: 'TB' | 'LR';
  nodeSep?: number;
  rankSep?: number;
}

/** Top-left positions of every node, snapped to whole pixels. Unknown edge ends are ignored. */
export function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[], opts: LayoutOptions = {}): Record<string, { x: number; y: number }> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: opts.direction ?? 'TB', nodesep: opts.nodeSep ?? 48, ranksep: opts.rankSep ?? 64, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: n.width, height: n.height });
  }
  const ordered = [...edges].sort((a, b) => handleRank(a.sourceHandle) - handleRank(b.sourceHandle));
  ordered.forEach((e, i) => {
    if (ids.has(e.source) && ids.has(e.target) && e.source !== e.target) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id) as { x: number; y: number };
    out[n.id] = { x: Math.round(p.x - n.width / 2), y: Math.round(p.y - n.height / 2) };
  }
  return out;
}

// Happy paths to the left, error / rejection / timeout paths to the right.
const ORDER = ['out', 'approved', 'true', 'rejected', 'false', 'default', 'timeout', 'error'];
function handleRank(h: string | undefined): number {
  const i = ORDER.indexOf(h ?? 'out');
  return i < 0 ? 2.5 : i;
}
