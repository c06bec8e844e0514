// Exchange Online Protection's quarantine: inbound messages held as spam, bulk, phish, high-confidence
// phish, malware or by a transport rule, for 30 days. Seeded users have a few; tests add their own
// (admin.quarantineMessage). Releasing delivers the message into the recipients' inboxes, where Graph
// reads it. The cmdlets are in quarantine-cmdlets.ts.
import { randomUUID } from 'node:crypto';
import { idByte, maskGuid } from '../derive.ts';
import { mailboxOf } from '../mailboxes.ts';
import type { TenantStore } from '../store.ts';

export const QUARANTINE_TYPES = ['Spam', 'Bulk', 'Phish', 'HighConfPhish', 'Malware', 'TransportRule'] as const;
export type QuarantineType = (typeof QUARANTINE_TYPES)[number];

export interface QuarantinedMessage {
  /** GUID1\GUID2, as Exchange shows it. */
  identity: string;
  messageId: string;
  receivedTime: string;
  expires: string;
  senderAddress: string;
  recipientAddress: string[];
  subject: string;
  body: string;
  size: number;
  type: QuarantineType;
  /** Recipients it has been released to. */
  releasedTo: string[];
}

const DAY = 24 * 3600 * 1000;

function seed(store: TenantStore): QuarantinedMessage[] {
  const out: QuarantinedMessage[] = [];
  const created = Date.parse(store.info.createdDateTime);
  for (const u of store.users.values()) {
    if (u._password !== null || !u.mail || !mailboxOf(store, u, false)) continue;
    const roll = idByte(u.id, 7);
    if (roll >= 12) continue;
    const type = QUARANTINE_TYPES[roll % QUARANTINE_TYPES.length]!;
    const received = created + (roll + 1) * 3600 * 1000;
    out.push(message({ to: [u.mail], from: roll % 2 ? 'offers@deals.example' : 'it-support@contoso-helpdesk.example', subject: roll % 2 ? 'Your exclusive offer inside' : 'Action required: verify your mailbox', type, receivedMs: received, idSeed: u.id }));
    if (out.length >= 200) break;
  }
  return out;
}

/** Seeded messages get ids derived from their recipient's id, so the same seed gives the same quarantine. */
function message(o: { to: string[]; from: string; subject: string; type: QuarantineType; receivedMs: number; body?: string; idSeed?: string }): QuarantinedMessage {
  const [g1, g2, g3] = o.idSeed ? ['9a1c3e5f7b2d4f6e8a0c1e3f5a7b9c0d', 'c14401cfaa9a465bcfd508d0f0ca37c5', '4c2ca98e94eadb3a7eb83b63657d4db7'].map((mask) => maskGuid(o.idSeed!, mask)) : [randomUUID(), randomUUID(), randomUUID()];
  return {
    identity: `${g1}\\${g2}`,
    messageId: `<${g3}@${o.from.split('@')[1]}>`,
    receivedTime: new Date(o.receivedMs).toISOString(),
    expires: new Date(o.receivedMs + 30 * DAY).toISOString(),
    senderAddress: o.from,
    recipientAddress: o.to,
    subject: o.subject,
    body: o.body ?? `${o.subject}\n\nThis message was held in quarantine.`,
    size: 2048 + o.subject.length * 16,
    type: o.type,
    releasedTo: [],
  };
}

export function quarantineOf(store: TenantStore): QuarantinedMessage[] {
  return store.tenantState('exchange.quarantine', () => seed(store));
}

/** Puts a message in quarantine (what EOP does when it filters one). */
export function quarantineMessage(store: TenantStore, nowMs: number, o: { to: string[]; from: string; subject: string; type?: QuarantineType; body?: string }): QuarantinedMessage {
  const m = message({ ...o, type: o.type ?? 'Spam', receivedMs: nowMs });
  quarantineOf(store).push(m);
  return m;
}
