// switchboard user add|remove|passwd|list: accounts in the configured store.
// Passwords are turned into SCRAM keys at once and never stored or printed.

import { parseJid } from '@switchboard/jid';
import { deriveScramCredentials } from '../auth/scram-credentials.ts';
import type { ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';

const USAGE = 'usage: switchboard user add JID PASSWORD | remove JID | passwd JID PASSWORD | list [DOMAIN]';

/** A bare JID on the served domain, or an error line to print. */
function accountJid(input: string | undefined, config: ServerConfig): { local: string; domain: string } | string {
  if (input === undefined) return USAGE;
  const parsed = parseJid(input);
  if (!parsed.ok) return `invalid JID ${input}: ${parsed.reason}`;
  const { local, domain, resource } = parsed.jid;
  if (local === undefined || resource !== undefined) return `${input} is not a bare JID (user@domain)`;
  if (domain !== config.domain) return `${input} is not on the served domain ${config.domain}`;
  return { local, domain };
}

export async function userCommand(args: string[], config: ServerConfig): Promise<number> {
  const [verb, target, password] = args;
  if (verb === 'list') {
    const storage = await openStorage(config);
    try {
      for (const username of await storage.accounts.listAccounts(target ?? config.domain)) console.log(`${username}@${target ?? config.domain}`);
      return 0;
    } finally {
      await storage.close();
    }
  }
  if (verb !== 'add' && verb !== 'remove' && verb !== 'passwd') {
    console.error(USAGE);
    return 2;
  }
  const jid = accountJid(target, config);
  if (typeof jid === 'string') {
    console.error(jid);
    return 2;
  }
  if (verb !== 'remove' && !password) {
    console.error(USAGE);
    return 2;
  }
  const storage = await openStorage(config);
  try {
    const name = `${jid.local}@${jid.domain}`;
    switch (verb) {
      case 'add': {
        const result = await storage.accounts.createAccount(jid.local, jid.domain, await deriveScramCredentials(password!, config.scramIterations));
        if (!result.ok) {
          console.error(`${name} already exists`);
          return 1;
        }
        console.log(`added ${name}`);
        return 0;
      }
      case 'passwd': {
        if (!(await storage.accounts.setCredentials(jid.local, jid.domain, await deriveScramCredentials(password!, config.scramIterations)))) {
          console.error(`no such account: ${name}`);
          return 1;
        }
        console.log(`password changed for ${name}`);
        return 0;
      }
      case 'remove': {
        if (!(await storage.accounts.removeAccount(jid.local, jid.domain))) {
          console.error(`no such account: ${name}`);
          return 1;
        }
        console.log(`removed ${name}`);
        return 0;
      }
    }
  } finally {
    await storage.close();
  }
}
