// Where each dashboard chart links: the run list with the filters the chart counted (RunsPage reads them).

/** The run list behind a chart: /runs with the filters the chart counted. */
export function runsLink(f: { status?: string[]; tenant?: string; runbook?: string; from?: string; to?: string; batch?: string }): string {
  const q = new URLSearchParams();
  if (f.status?.length) q.set('status', f.status.join(','));
  for (const k of ['tenant', 'runbook', 'from', 'to', 'batch'] as const) if (f[k]) q.set(k, f[k]!);
  const s = q.toString();
  return s ? `/runs?${s}` : '/runs';
}

