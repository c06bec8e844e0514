// The canvas: React Flow on the editor store, with drop from the palette, minimap, zoom controls
// and the keyboard shortcuts (undo / redo, copy / paste, select all, delete, auto layout).
import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type Connection } from '@xyflow/react';
import { useCallback, type DragEvent, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { handlesOf } from '../../../runbook/definition.ts';
import { useEditor, useEditorStore } from './context.ts';
import { nodeTypes } from './nodes/index.tsx';
import { DRAG_TYPE, type PaletteItem } from './Palette.tsx';
import { newNode } from './nodes/defaults.ts';
import type { Clipboard, FlowEdge, FlowNode } from './store.ts';

let clipboard: Clipboard | undefined;

export function Canvas({ onAddAt, readOnly = false, fitKey }: { onAddAt?: (item: PaletteItem, at: { x: number; y: number }) => void; readOnly?: boolean; fitKey?: string }) {
  const store = useEditorStore();
  const { nodes, edges, onNodesChange, onEdgesChange } = useEditor(useShallow((s) => ({ nodes: s.nodes, edges: s.edges, onNodesChange: s.onNodesChange, onEdgesChange: s.onEdgesChange })));
  const flow = useReactFlow();

  const onConnect = useCallback((c: Connection) => void store.getState().connect(c), [store]);
  const isValidConnection = useCallback(
    (c: Connection | { source: string; target: string; sourceHandle?: string | null }) => {
      if (c.source === c.target) return false;
      const n = store.getState().nodes.find((x) => x.id === c.source);
      return !!n && handlesOf({ ...n.data.def, id: n.id }).includes(c.sourceHandle ?? 'out');
    },
    [store],
  );

  const onDragOver = (e: DragEvent) => {
    if (readOnly || !e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent) => {
    const raw = e.dataTransfer.getData(DRAG_TYPE);
    if (readOnly || !raw) return;
    e.preventDefault();
    const item = JSON.parse(raw) as PaletteItem;
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    const at = { x: Math.round(p.x - 124), y: Math.round(p.y - 30) };
    if (onAddAt) onAddAt(item, at);
    else store.getState().addNode(newNode(item.kind, item.action), at);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    if (target.closest('input, textarea, select, [contenteditable]')) return;
    const mod = e.ctrlKey || e.metaKey;
    const s = store.getState();
    const key = e.key.toLowerCase();
    if (mod && key === 'z' && !e.shiftKey) s.undo();
    else if (mod && (key === 'y' || (key === 'z' && e.shiftKey))) s.redo();
    else if (mod && key === 'a') s.selectAll();
    else if (mod && key === 'c') clipboard = s.copy() ?? clipboard;
    else if (mod && key === 'x') {
      clipboard = s.copy() ?? clipboard;
      s.removeSelected();
    } else if (mod && key === 'v' && clipboard && !readOnly) s.paste(clipboard);
    else if (mod && key === 'd' && !readOnly) {
      const c = s.copy();
      if (c) s.paste(c);
    } else if (e.shiftKey && key === 'l' && !readOnly) {
      s.autoLayout();
      requestAnimationFrame(() => flow.fitView({ duration: 200 }));
    } else if (key === 'f' && !mod) flow.fitView({ duration: 200 });
    else return;
    e.preventDefault();
  };

  return (
    <div className="canvas" onKeyDown={onKeyDown} onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<FlowNode, FlowEdge>
        key={fitKey}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
        multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
        selectionOnDrag={false}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}
        minZoom={0.1}
        maxZoom={2}
        defaultEdgeOptions={{ type: 'smoothstep' }}
        proOptions={{ hideAttribution: true }}
        onlyRenderVisibleElements={nodes.length > 150}
      >
        <Background gap={16} size={1} />
        <MiniMap pannable zoomable ariaLabel="Mini map" nodeClassName={(n) => `mini-${(n as FlowNode).data.def.kind}`} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
