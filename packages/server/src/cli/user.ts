// switchboard user add|remove|passwd|list: accounts in the configured store.
// Passwords are turned into SCRAM keys at once and never stored or printed.
// Exit codes: 0 done, 1 refused by the store (exists, no such account), 2 bad usage.

import { parseJid, prepareDomainpart } from '@switchboard/jid';
import { deriveScramCredentials, preparePassword } from '../auth/scram-credentials.ts';
import type { ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';
import type { Storage } from '../storage/ports.ts';

const USAGE = 'usage: switchboard user add JID PASSWORD | remove JID | passwd JID PASSWORD | list [DOMAIN]';

/** Where the command writes its lines; the console unless a test passes its own. */
export interface UserCommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: UserCommandOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

type Parsed =
  | { verb: 'list'; domain: string }
  | { verb: 'remove'; local: string; domain: string }
  | { verb: 'add' | 'passwd'; local: string; domain: string; password: string };

/** RFC 7622: a bare JID with a localpart, on the served domain; or an error line. */
function accountJid(input: string, served: string): { local: string; domain: string } | string {
  const parsed = parseJid(input);
  if (!parsed.ok) return `invalid JID ${input}: ${parsed.reason}`;
  const { local, domain, resource } = parsed.jid;
  if (local === undefined || resource !== undefined) return `${input} is not a bare JID (user@domain)`;
  if (domain !== served) return `${input} is not on the served domain ${served}`;
  return { local, domain };
}

/** The words after `user`, checked before the store is opened; an error line otherwise. */
function parseArgs(args: string[], served: string): Parsed | string {
  const [verb, target, password, ...extra] = args;
  if (extra.length > 0) return USAGE;
  if (verb === 'list') {
    if (password !== undefined) return USAGE;
    if (target === undefined) return { verb, domain: served };
    const domain = prepareDomainpart(target);
    return domain === undefined ? `invalid domain ${target}` : { verb, domain };
  }
  if ((verb !== 'add' && verb !== 'passwd' && verb !== 'remove') || target === undefined) return USAGE;
  const jid = accountJid(target, served);
  if (typeof jid === 'string') return jid;
  if (verb === 'remove') return password === undefined ? { verb, ...jid } : USAGE;
  if (password === undefined) return USAGE;
  // RFC 4013: the password must survive SASLprep, or no client could ever log in with it.
  if (!preparePassword(password)) return 'the password is empty or has characters SASLprep prohibits';
  return { verb, ...jid, password };
}

async function run(command: Parsed, storage: Storage, config: ServerConfig, io: UserCommandOutput): Promise<number> {
  if (command.verb === 'list') {
    for (const username of await storage.accounts.listAccounts(command.domain)) io.out(`${username}@${command.domain}`);
    return 0;
  }
  const name = `${command.local}@${command.domain}`;
  switch (command.verb) {
    case 'add': {
      const result = await storage.accounts.createAccount(command.local, command.domain, await deriveScramCredentials(command.password, config.scramIterations));
      if (!result.ok) {
        io.err(`${name} already exists`);
        return 1;
      }
      io.out(`added ${name}`);
      return 0;
    }
    case 'passwd': {
      if (!(await storage.accounts.setCredentials(command.local, command.domain, await deriveScramCredentials(command.password, config.scramIterations)))) {
        io.err(`no such account: ${name}`);
        return 1;
      }
      io.out(`password changed for ${name}`);
      return 0;
    }
    case 'remove': {
      if (!(await storage.accounts.removeAccount(command.local, command.domain))) {
        io.err(`no such account: ${name}`);
        return 1;
      }
      io.out(`removed ${name}`);
      return 0;
    }
  }
}

export async function userCommand(args: string[], config: ServerConfig, io: UserCommandOutput = consoleOutput): Promise<number> {
  const command = parseArgs(args, prepareDomainpart(config.domain) ?? config.domain);
  if (typeof command === 'string') {
    io.err(command);
    return 2;
  }
  const storage = await openStorage(config);
  try {
    return await run(command, storage, config, io);
  } finally {
    await storage.close();
  }
}
