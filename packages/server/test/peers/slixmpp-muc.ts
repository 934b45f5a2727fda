// Drives slixmpp_muc.py (a real slixmpp client with its xep_0045 plugin, /usr/bin/python3) from a test.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers.ts';

export type MucPeerEvent = Record<string, unknown> & { ev: string };

const SCRIPT = fileURLToPath(new URL('./slixmpp_muc.py', import.meta.url));

export class SlixmppMucPeer {
  readonly events: MucPeerEvent[] = [];
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
        // Only the script's own events: the plugin prints other lines to stdout.
        if (line.startsWith('EV ')) this.events.push(JSON.parse(line.slice(3)) as MucPeerEvent);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  command(command: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(command) + '\n');
  }

  /** Waits for an event matching `predicate` that arrived after `since` events, and returns it. */
  async expect(predicate: (e: MucPeerEvent) => boolean, what: string, since = 0, ms = 10_000): Promise<MucPeerEvent> {
    await waitFor(() => this.events.slice(since).some(predicate), ms, `slixmpp: ${what}; events ${JSON.stringify(this.events.slice(since))}; stderr ${this.stderr.slice(-800)}`);
    return this.events.slice(since).find(predicate)!;
  }

  /** Sends a command and waits for the event it leads to. */
  async run(command: Record<string, unknown>, predicate: (e: MucPeerEvent) => boolean, what: string): Promise<MucPeerEvent> {
    const since = this.events.length;
    this.command(command);
    return this.expect(predicate, what, since);
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
