// Load for forwarder.ts, shaped as the paced chat: `users` connections, each
// sending one message every `intervalMs` to the next, `count` each.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export async function drive(port: number, users: number, intervalMs: number, count: number): Promise<{ sent: number; delivered: number; latenciesMs: number[] }> {
  const sockets: Socket[] = [];
  let delivered = 0;
  const latenciesMs: number[] = [];
  const filler = 'x'.repeat(200);
  for (let i = 0; i < users; i++) {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    s.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      let carry = '';
      let ready = false;
      s.on('data', (chunk: string) => {
        carry += chunk;
        let nl: number;
        while ((nl = carry.indexOf('\n')) >= 0) {
          const line = carry.slice(0, nl);
          carry = carry.slice(nl + 1);
          if (!ready) {
            ready = true;
            resolve();
            continue;
          }
          latenciesMs.push(performance.now() - Number(line.slice(line.lastIndexOf('|') + 1)));
          delivered++;
        }
      });
      s.write(`${i}\n`);
    });
    sockets.push(s);
  }
  let sent = 0;
  await Promise.all(sockets.map((s, k) => new Promise<void>((resolve) => {
    let mine = 0;
    const to = (k + 1) % users;
    const sendOne = (): void => {
      s.write(`${to}|${filler}|${performance.now()}\n`);
      sent++;
      if (++mine === count) {
        clearInterval(timer);
        resolve();
      }
    };
    let timer: NodeJS.Timeout | undefined;
    setTimeout(() => {
      sendOne();
      timer = setInterval(sendOne, intervalMs);
    }, Math.random() * intervalMs);
  })));
  const deadline = performance.now() + 10_000;
  while (delivered < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const s of sockets) s.destroy();
  return { sent, delivered, latenciesMs };
}
