// Benchmark profile: user1..userN with one password, created fast. Every
// account gets the same SCRAM keys (one derivation, one shared salt), as the
// shared tsung lab does for Prosody; only for load tests.

import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';

export async function benchUsersCommand(args: string[], config: ServerConfig): Promise<number> {
  const count = Number(args[0]);
  const password = args[1] ?? 'pass';
  const contacts = Number(args[2] ?? 0);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(contacts) || contacts < 0 || contacts >= count || contacts % 2 !== 0) {
    console.error('usage: switchboard bench-users N [PASSWORD [CONTACTS]]   (user1..userN; CONTACTS even: mutual subscriptions to that many ring neighbours)');
    return 2;
  }
  const storage = await openStorage(config);
  try {
    const credentials = await deriveScramCredentials(password, config.scramIterations);
    let created = 0;
    for (let i = 1; i <= count; i++) {
      const result = await storage.accounts.createAccount(`user${i}`, config.domain, credentials);
      if (result.ok) created++;
    }
    // Each user is subscribed both ways to the CONTACTS/2 users before and after it on a ring.
    for (let i = 1; i <= count && contacts > 0; i++) {
      for (let d = 1; d <= contacts / 2; d++) {
        for (const j of [((i - 1 + d) % count) + 1, ((i - 1 - d + count) % count) + 1]) {
          await storage.rosters.putItem(`user${i}`, config.domain, {
            jid: `user${j}@${config.domain}`,
            groups: ['Bench'],
            subscription: 'both',
            ask: false,
            pendingIn: false,
            approved: false,
            visible: true,
          });
        }
      }
    }
    console.log(`bench-users: ${created} created, ${count - created} already there (user1..user${count}@${config.domain}), ${contacts} contacts each`);
    return 0;
  } finally {
    await storage.close();
  }
}
