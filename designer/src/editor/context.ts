// The open editor's store, provided by context; components select with useShallow.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { NodeState } from '../../../runbook/definition.ts';
import type { EditorState, EditorStore } from './store.ts';

export const EditorContext = createContext<EditorStore | null>(null);

export function useEditorStore(): EditorStore {
  const s = useContext(EditorContext);
  if (!s) throw new Error('useEditor outside an editor');
  return s;
}

export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}

/** In the run view, each node's live state (undefined while designing). */
export const RunStateContext = createContext<Record<string, NodeState> | undefined>(undefined);
export const useNodeRunState = (id: string) => useContext(RunStateContext)?.[id];
