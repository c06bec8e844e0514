// Second half of scripts/setup.sh, under Node 24: the Temporal CLI (unless an external cluster
// is configured) and the designer's build when its sources changed.
import { ensureTemporalCli } from './temporal.ts';

if (process.env.TEMPORAL_ADDRESS) {
  console.log(`tenantflow: using the Temporal cluster at ${process.env.TEMPORAL_ADDRESS}`);
} else {
  ensureTemporalCli();
}
// A worker-only or API-only machine can skip the browser build.
if (process.env.TENANTFLOW_SKIP_DESIGNER !== '1') {
  const { buildDesignerIfStale } = await import('./designer-build.ts');
  await buildDesignerIfStale();
}
