// App-wide data: who is signed in and the action catalog (loaded once, used by the palette,
// the nodes, the inspector and the validator's messages).
import { createContext, useContext } from 'react';
import type { Grant } from './access.ts';
import type { ActionInfo } from './api.ts';

export interface Session {
  user: string;
  /** Role grants from GET /api/auth/me. */
  grants: Grant[];
  signOut: () => void;
}

export const SessionContext = createContext<Session>({ user: '', grants: [], signOut: () => {} });
export const useSession = () => useContext(SessionContext);

export interface Catalog {
  actions: ActionInfo[];
  byId: Map<string, ActionInfo>;
  error?: unknown;
}

export const CatalogContext = createContext<Catalog>({ actions: [], byId: new Map() });
export const useCatalog = () => useContext(CatalogContext);
