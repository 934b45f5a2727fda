// Drives slixmpp_peer.py (a real slixmpp client, /usr/bin/python3) from a test.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers.ts';

export interface PeerEvent {
  ev: string;
  from?: string;
  to?: string;
  body?: string;
  type?: string;
  jid?: string;
  enabled?: boolean;
}

const SCRIPT = fileURLToPath(new URL('./slixmpp_peer.py', import.meta.url));

export class SlixmppPeer {
  readonly events: PeerEvent[] = [];
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(jid: string, password: string, port: number) {
    this.child = spawn('/usr/bin/python3', [SCRIPT, jid, password, '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) this.events.push(JSON.parse(line) as PeerEvent);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  command(command: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(command) + '\n');
  }

  async expect(predicate: (e: PeerEvent) => boolean, what: string, ms = 10_000): Promise<PeerEvent> {
    await waitFor(() => this.events.some(predicate), ms, `slixmpp: ${what}; events ${JSON.stringify(this.events)}; stderr ${this.stderr.slice(-500)}`);
    return this.events.find(predicate)!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.command({ cmd: 'quit' });
    const timer = setTimeout(() => this.child.kill(), 3000);
    await exited;
    clearTimeout(timer);
  }
}
