// The palette: flow steps and every catalog action grouped by category, searchable. Items are
// dragged onto the canvas, or added with Enter / click (keyboard users never need to drag).
import { ChevronDown, ChevronRight } from 'lucide-react';
import { useEffect, useMemo, useState, type DragEvent } from 'react';
import type { NodeKind } from '../../../runbook/definition.ts';
import { useCatalog } from '../context.tsx';
import { CATEGORY_TITLES } from '../../../catalog/contract.ts';
import { KINDS } from './nodes/config.ts';

export const DRAG_TYPE = 'application/x-tenantflow-step';
const CLOSED_KEY = 'tenantflow.palette.closed';

export interface PaletteItem {
  kind: NodeKind;
  action?: string;
}

export function Palette({ onAdd }: { onAdd: (item: PaletteItem) => void }) {
  const { actions } = useCatalog();
  const [search, setSearch] = useState('');
  const groups = useMemo(() => {
    const s = search.trim().toLowerCase();
    const hit = (...texts: (string | undefined)[]) => !s || texts.some((t) => t?.toLowerCase().includes(s));
    const flow = (['approval', 'condition', 'delay', 'forEach', 'end'] as const).filter((k) => hit(KINDS[k].title, KINDS[k].description, k)).map((k) => ({ key: k, item: { kind: k } as PaletteItem, title: KINDS[k].title, detail: KINDS[k].description, icon: KINDS[k].icon }));
    const byCat = new Map<string, typeof flow>();
    for (const a of actions) {
      if (!hit(a.title, a.id, a.description, a.category)) continue;
      const list = byCat.get(a.category) ?? [];
      list.push({ key: a.id, item: { kind: 'action', action: a.id }, title: a.title, detail: a.id, icon: KINDS.action.icon } as never);
      byCat.set(a.category, list);
    }
    return [...(flow.length ? [{ title: 'Flow', items: flow }] : []), ...[...byCat].map(([cat, items]) => ({ title: (CATEGORY_TITLES as Record<string, string>)[cat] ?? cat, items }))];
  }, [actions, search]);

  // Collapsed categories are remembered per browser; a search shows every match anyway.
  const [closed, setClosed] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(CLOSED_KEY) ?? '[]') as string[];
    } catch {
      return [];
    }
  });
  useEffect(() => {
    try {
      localStorage.setItem(CLOSED_KEY, JSON.stringify(closed));
    } catch {
      // private mode: not remembered
    }
  }, [closed]);
  const isClosed = (title: string) => !search.trim() && closed.includes(title);

  const onDragStart = (e: DragEvent, item: PaletteItem) => {
    e.dataTransfer.setData(DRAG_TYPE, JSON.stringify(item));
    e.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <aside className="palette" aria-label="Steps">
      <input type="search" placeholder="Search actions" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="Search actions" className="search" />
      <div className="palette-groups">
        {groups.length === 0 && <p className="empty-inline">Nothing matches "{search}".</p>}
        {groups.map((g) => (
          <section key={g.title} className="palette-group" data-group={g.title}>
            <h3>
              <button
                className="palette-group-toggle"
                aria-expanded={!isClosed(g.title)}
                onClick={() => setClosed((c) => (c.includes(g.title) ? c.filter((t) => t !== g.title) : [...c, g.title]))}
              >
                {isClosed(g.title) ? <ChevronRight size={14} aria-hidden /> : <ChevronDown size={14} aria-hidden />} {g.title} <span className="muted">{g.items.length}</span>
              </button>
            </h3>
            {!isClosed(g.title) && (
            <ul>
              {g.items.map((it) => (
                <li key={it.key}>
                  <button
                    className="palette-item"
                    draggable
                    onDragStart={(e) => onDragStart(e, it.item)}
                    onClick={() => onAdd(it.item)}
                    data-palette={it.key}
                    title={`${it.detail} — drag onto the canvas, or press Enter to add`}
                  >
                    <span className="palette-icon" aria-hidden>
                      <it.icon size={14} />
                    </span>
                    <span className="palette-text">
                      <span className="palette-title">{it.title}</span>
                      <span className="palette-detail">{it.detail}</span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
            )}
          </section>
        ))}
      </div>
    </aside>
  );
}
