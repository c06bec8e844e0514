// A lost LDAP answer, made with real parts: a TLS proxy between the on-premises worker's LDAPS
// client and the Samba DC. LDAPS is TLS end to end, so the proxy terminates it (a TLS server with its
// own test certificate, which the proxied AD connection trusts; a TLS client to the DC, checking the
// DC's certificate) and reads the LDAP messages in between with ldapts's own BER reader. Unarmed it
// forwards every message both ways. Armed, it forwards the next matching write request (add, modify,
// delete, modify DN) to the DC, waits for the DC's answer and, instead of delivering it, destroys
// the client's connection: the write took effect in the directory, and the worker never heard so —
// what a worker killed mid-step, or a network cut, looks like to the step. The proxy also logs every
// write the DC answered (its DN and result code), Samba's own account of what it accepted.
import { once } from 'node:events';
import { createServer, connect, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { BerReader } from 'ldapts';
import { makeCert } from './certs.ts';

/** LDAP write requests (RFC 4511 protocolOp tags) and the response tag of each. */
export const WRITE_OPS = {
  modify: { request: 0x66, response: 0x67 },
  add: { request: 0x68, response: 0x69 },
  delete: { request: 0x4a, response: 0x6b },
  modifyDN: { request: 0x6c, response: 0x6d },
} as const;
export type WriteOp = keyof typeof WRITE_OPS;
const OP_BY_REQUEST = new Map<number, WriteOp>(Object.entries(WRITE_OPS).map(([op, t]) => [t.request, op as WriteOp]));

export interface LdapMessage {
  raw: Buffer;
  messageId: number;
  /** The protocolOp's tag. */
  tag: number;
  /** A write request's object (the entry's DN). */
  dn?: string;
  /** A response's resultCode. */
  resultCode?: number;
}

/** One write the DC answered. */
export interface AnsweredWrite {
  op: WriteOp;
  dn: string;
  resultCode: number;
  /** The answer never reached the client. */
  lost: boolean;
}

export interface LoseAnswer {
  /** Only this kind of write (default: any). */
  op?: WriteOp;
  /** Only a write on a DN matching this (case-insensitive). */
  dn?: RegExp;
  /** Let this many matching writes through first (1: lose the second one's answer). */
  skip?: number;
}

export interface LdapFaultProxy {
  /** 127.0.0.1:<port>: an AD connection's host entry. */
  hostEntry: string;
  /** The proxy's certificate: the proxied AD connection's caPem. */
  caPem: string;
  /** Loses the answer to the next matching write (after `skip` of them), once. */
  loseNextAnswer(match?: LoseAnswer): void;
  disarm(): void;
  /** True while armed and not yet fired. */
  readonly armed: boolean;
  /** Every write the DC answered through the proxy, in order. */
  readonly answered: readonly AnsweredWrite[];
  close(): Promise<void>;
}

/** Splits a byte stream into whole LDAP messages (BER with definite lengths, as RFC 4511 requires). */
export class LdapFramer {
  private buffer: Buffer = Buffer.alloc(0);

  push(data: Buffer): LdapMessage[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    const out: LdapMessage[] = [];
    for (;;) {
      const reader = new BerReader(this.buffer);
      if (reader.readSequence(0x30) === null || reader.remain < reader.length) return out;
      const end = reader.offset + reader.length;
      const raw = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(end);
      out.push(parseMessage(raw));
    }
  }
}

function parseMessage(raw: Buffer): LdapMessage {
  const r = new BerReader(raw);
  r.readSequence(0x30);
  const messageId = r.readInt() ?? -1;
  const tag = r.peek() ?? -1;
  const msg: LdapMessage = { raw, messageId, tag };
  if (tag === WRITE_OPS.delete.request) {
    // DelRequest ::= [APPLICATION 10] LDAPDN: the DN is the primitive's content.
    msg.dn = r.readString(tag) ?? undefined;
  } else if (OP_BY_REQUEST.has(tag)) {
    r.readSequence(tag);
    msg.dn = r.readString() ?? undefined;
  } else if ([...Object.values(WRITE_OPS)].some((t) => t.response === tag)) {
    r.readSequence(tag);
    msg.resultCode = r.readEnumeration() ?? undefined;
  }
  return msg;
}

export async function startLdapFaultProxy(dc: { host: string; port?: number; caPem: string }): Promise<LdapFaultProxy> {
  const cert = makeCert('tenantflow-ldap-fault-proxy', { ips: ['127.0.0.1'] });
  let armed: LoseAnswer | undefined;
  const answered: AnsweredWrite[] = [];
  const sockets = new Set<TLSSocket>();

  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2' }, (client) => {
    sockets.add(client);
    const upstream = connect({ host: dc.host, port: dc.port ?? 636, ca: [dc.caPem], minVersion: 'TLSv1.2' });
    sockets.add(upstream);
    const fromClient = new LdapFramer();
    const fromDc = new LdapFramer();
    /** Writes in flight on this connection: messageId → what was asked, and whether to lose the answer. */
    const pending = new Map<number, { op: WriteOp; dn: string; lose: boolean }>();
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (data: Buffer) => {
      for (const m of fromClient.push(data)) {
        const op = OP_BY_REQUEST.get(m.tag);
        if (op) {
          const dn = m.dn ?? '';
          const matches = !!armed && (!armed.op || armed.op === op) && (!armed.dn || armed.dn.test(dn));
          const lose = matches && !armed!.skip;
          if (matches && armed!.skip) armed = { ...armed, skip: armed!.skip - 1 };
          if (lose) armed = undefined;
          pending.set(m.messageId, { op, dn, lose });
        }
        upstream.write(m.raw);
      }
    });
    upstream.on('data', (data: Buffer) => {
      for (const m of fromDc.push(data)) {
        const asked = pending.get(m.messageId);
        if (asked && m.tag === WRITE_OPS[asked.op].response) {
          pending.delete(m.messageId);
          answered.push({ op: asked.op, dn: asked.dn, resultCode: m.resultCode ?? -1, lost: asked.lose });
          if (asked.lose) {
            // The DC has applied the write and answered: the client never gets the answer.
            end();
            return;
          }
        }
        if (!client.destroyed) client.write(m.raw);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    hostEntry: `127.0.0.1:${port}`,
    caPem: cert.certPem,
    loseNextAnswer(match = {}) {
      armed = { ...match };
    },
    disarm() {
      armed = undefined;
    },
    get armed() {
      return !!armed;
    },
    answered,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
