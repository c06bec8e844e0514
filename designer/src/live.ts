// Live updates over the server's Server-Sent Events (GET /api/runs/events, /api/runs/:id/events).
// Pages poll while the stream is not open (a proxy that buffers, a network hiccup) and stop
// polling once it is, so a page is never stale and never doubly loaded.
import { useEffect, useRef, useState } from 'react';
import type { RunDetail, RunSummary } from './api.ts';

/** live: the stream is open; polling: it is not (yet, or any more). */
export type LiveMode = 'live' | 'polling';

/** A run view's state after one event of /api/runs/:id/events. */
export function applyRunEvent(run: RunDetail, event: string, data: unknown): RunDetail {
  if (event === 'node') {
    const n = data as RunDetail['nodes'][string];
    if (!n?.id) return run;
    return { ...run, nodes: { ...run.nodes, [n.id]: n } };
  }
  if (event === 'run' || event === 'end') {
    const d = data as { status?: RunDetail['status']; message?: string };
    return { ...run, ...(d.status ? { status: d.status } : {}), ...(d.message !== undefined ? { message: d.message } : {}) };
  }
  return run;
}

/** The task board's list after one "run" event: replaced in place, or added, newest first. */
export function upsertRun(runs: RunSummary[], item: RunSummary): RunSummary[] {
  const i = runs.findIndex((r) => r.id === item.id);
  if (i >= 0) {
    const next = runs.slice();
    next[i] = { ...runs[i], ...item };
    return next;
  }
  return [item, ...runs].sort((a, b) => Date.parse(b.startedAt ?? '') - Date.parse(a.startedAt ?? '') || 0);
}

/**
 * Subscribes to an event stream while `url` is set. `onEvent` gets each named event's parsed
 * data; `until` names the event after which the stream is closed for good (the server ends it).
 */
export function useEventStream(url: string | undefined, events: string[], onEvent: (event: string, data: unknown) => void, until?: string): LiveMode {
  const [mode, setMode] = useState<LiveMode>('polling');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const names = events.join(',');
  useEffect(() => {
    if (!url || typeof EventSource === 'undefined') return setMode('polling');
    const es = new EventSource(url, { withCredentials: true });
    es.onopen = () => setMode('live');
    // EventSource reconnects by itself after a dropped connection; until it is open again, poll.
    es.onerror = () => setMode('polling');
    for (const name of names.split(',')) {
      es.addEventListener(name, (e) => {
        let data: unknown;
        try {
          data = JSON.parse((e as MessageEvent<string>).data);
        } catch {
          return;
        }
        handler.current(name, data);
        if (name === until) {
          es.close();
          setMode('polling');
        }
      });
    }
    return () => {
      es.close();
      setMode('polling');
    };
  }, [url, names, until]);
  return mode;
}
