// Benchmark profile: user1..userN with one password, created fast. Every
// account gets the same SCRAM keys (one derivation, one shared salt), as the
// shared tsung lab does for Prosody; only for load tests.

import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';

export async function benchUsersCommand(args: string[], config: ServerConfig): Promise<number> {
  const count = Number(args[0]);
  const password = args[1] ?? 'pass';
  if (!Number.isInteger(count) || count < 1) {
    console.error('usage: switchboard bench-users N [PASSWORD]   (creates user1..userN)');
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
    console.log(`bench-users: ${created} created, ${count - created} already there (user1..user${count}@${config.domain})`);
    return 0;
  } finally {
    await storage.close();
  }
}
