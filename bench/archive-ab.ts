// Archiving's CPU on the message path, read as a ratio on a noisy machine:
// the paced chat (1,000 users, 1 msg/s each, 20 s) against a server with the
// archive off and on, alternating PAIRS times (env, default 3), in both orders;
// prints each pair's server CPU per message and the medians (issue #21).
// Extra server flags for the "on" side: ARCHIVE_ON_ARGS='--archive-full-text 0'.
//   nice -n 10 node --import tsx bench/archive-ab.ts

import { pacedChat } from './e2e.ts';

const pairs = Number(process.env.PAIRS ?? 3);
const onArgs = ['--archive', '1', ...(process.env.ARCHIVE_ON_ARGS ?? '').split(' ').filter(Boolean)];
const modes: Record<'off' | 'on', string[]> = { off: ['--archive', '0'], on: onArgs };
const cpu: Record<'off' | 'on', number[]> = { off: [], on: [] };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (let i = 0; i < pairs; i++) {
  const order: ('off' | 'on')[] = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  const pair: Partial<Record<'off' | 'on', number>> = {};
  for (const mode of order) {
    const rows = await pacedChat({ users: 1000, intervalMs: 1000, count: 20, workers: 1, serverArgs: modes[mode], label: `archive ${mode}, pair ${i + 1}` });
    const perMessage = rows.find((r) => r.name === 'server CPU per message')!.value;
    const delivered = rows.find((r) => r.name === "delivered msgs/s")?.note ?? '';
    pair[mode] = perMessage;
    cpu[mode].push(perMessage);
    console.log(`pair ${i + 1} ${mode}: ${perMessage.toFixed(1)} µs per message ${delivered}`);
  }
  console.log(`pair ${i + 1}: on / off ${(pair.on! / pair.off!).toFixed(2)}×`);
}
const ratios = cpu.on.map((on, i) => on / cpu.off[i]!);
console.log(`median off ${median(cpu.off).toFixed(1)} µs, on ${median(cpu.on).toFixed(1)} µs; median of pair ratios ${median(ratios).toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})`);
