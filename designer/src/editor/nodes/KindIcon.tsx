// A node kind's icon (lucide-react SVG, so it shows whatever fonts the machine has).
import type { NodeKind } from '../../../../runbook/definition.ts';
import { KINDS } from './config.ts';

export function KindIcon({ kind, size = 14 }: { kind: NodeKind; size?: number }) {
  const Icon = KINDS[kind].icon;
  return <Icon size={size} aria-hidden className="kind-icon" />;
}
