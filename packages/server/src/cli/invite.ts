// switchboard invite [TTL_SECONDS]: prints a single-use XEP-0445 invitation
// token and the XEP-0401 URI carrying it, for a server run with
// `registration` and `registrationInvites`.

import type { ServerConfig } from '../config.ts';
import { Invites } from '../auth/invites.ts';
import { openStorage } from '../storage/open.ts';

export async function inviteCommand(args: string[], config: ServerConfig, out: (line: string) => void = console.log): Promise<number> {
  const [ttl, ...extra] = args;
  const seconds = ttl === undefined ? undefined : Number(ttl);
  if (extra.length > 0 || (seconds !== undefined && (!Number.isInteger(seconds) || seconds <= 0))) {
    console.error('usage: switchboard invite [TTL_SECONDS]');
    return 2;
  }
  const storage = await openStorage(config);
  try {
    const token = await new Invites(storage.userData, config.domain).create(seconds);
    out(token);
    out(`xmpp:${config.domain}?register;preauth=${token}`);
    return 0;
  } finally {
    await storage.close();
  }
}
