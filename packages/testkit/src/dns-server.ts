// A DNS server on 127.0.0.1 (UDP, port 0) that answers SRV queries from a
// table and NXDOMAIN for everything else, so SRV lookups (RFC 2782,
// XEP-0368) run for real without touching the network. Wire format: RFC
// 1035 §4.1; SRV RDATA: RFC 2782.

import { createSocket } from 'node:dgram';

export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsServer {
  /** For Resolver#setServers: '127.0.0.1:PORT'. */
  address: string;
  /** Names asked for, in order (lower case). */
  readonly queries: readonly string[];
  close(): Promise<void>;
}

const TYPE_SRV = 33;
const CLASS_IN = 1;

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
}

/** Reads the question's name; returns it and the offset after QTYPE and QCLASS. */
function readQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  let at = 12;
  const labels: string[] = [];
  for (;;) {
    const len = msg[at];
    if (len === undefined || len > 63) return undefined;
    at++;
    if (len === 0) break;
    labels.push(msg.subarray(at, at + len).toString('latin1'));
    at += len;
  }
  if (at + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at), end: at + 4 };
}

export async function startDnsServer(srv: Record<string, SrvAnswer[]>): Promise<DnsServer> {
  const table = new Map(Object.entries(srv).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return;
    const q = readQuestion(msg);
    if (!q) return;
    queries.push(q.name);
    const records = q.type === TYPE_SRV ? table.get(q.name) : undefined;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    // QR, AA, RD copied, RA; RCODE 3 (NXDOMAIN) when the name is unknown.
    const rd = msg.readUInt16BE(2) & 0x0100;
    header.writeUInt16BE(0x8400 | rd | 0x0080 | (table.has(q.name) ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records?.length ?? 0, 6);
    const answers = (records ?? []).map((r) => {
      const target = encodeName(r.target);
      const rr = Buffer.alloc(12 + 6);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(TYPE_SRV, 2);
      rr.writeUInt16BE(CLASS_IN, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(6 + target.length, 10);
      rr.writeUInt16BE(r.priority, 12);
      rr.writeUInt16BE(r.weight, 14);
      rr.writeUInt16BE(r.port, 16);
      return Buffer.concat([rr, target]);
    });
    socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
