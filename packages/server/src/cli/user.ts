// switchboard user add|remove|passwd|list: accounts, through the running
// server when one answers on the admin socket (then removal and a password
// change end the user's live sessions, as the sm's `sm:sessions delete`
// path does), else in the configured store directly. Each run says on
// stderr which path it took. The operations are admin/operations.ts in both
// cases. Passwords are turned into SCRAM keys at once, never stored or printed.
// Exit codes: 0 done, 1 refused (exists, no such account), 2 bad usage.

import { prepareDomainpart } from '@switchboard/jid';
import type { ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';
import { AdminOperations, checkPassword, parseAccountJid, type AdminErrorCode } from '../admin/operations.ts';
import { AdminClient, adminSocketPath } from '../admin/socket-client.ts';
import type { AdminReply } from '../admin/protocol.ts';
import { SessionTable } from '../sm/sessions.ts';
import { ARGV_PASSWORD_WARNING, promptPassword, readPasswordLine, type PasswordIo } from './password.ts';

const USAGE = 'usage: switchboard user add JID [--password-stdin] | remove JID | passwd JID [--password-stdin] | list [DOMAIN]';

/** Where the command writes its lines; the console unless a test passes its own. */
export interface UserCommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: UserCommandOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

export interface UserCommandOptions {
  /** `--password-stdin`: the password is the first line of stdin. */
  passwordStdin?: boolean;
  io?: UserCommandOutput;
  /** Where passwords are read from (tests pass their own). */
  passwordIo?: PasswordIo;
}

type Parsed =
  | { verb: 'list'; domain: string }
  | { verb: 'remove'; jid: string }
  | { verb: 'add' | 'passwd'; jid: string; password: string | undefined };

/** The words after `user`, checked before anything is opened; an error line otherwise. */
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
  const jid = parseAccountJid(target, served);
  if (typeof jid === 'string') return jid;
  if (verb === 'remove') return password === undefined ? { verb, jid: jid.bare } : USAGE;
  return { verb, jid: jid.bare, password };
}

/** The password of add/passwd: argv (warned), stdin, or the prompt. */
async function obtainPassword(command: Extract<Parsed, { password: string | undefined }>, options: UserCommandOptions, io: UserCommandOutput): Promise<string | { error: string }> {
  if (command.password !== undefined) {
    if (options.passwordStdin) return { error: 'give the password either as an argument or with --password-stdin, not both' };
    io.err(`switchboard: ${ARGV_PASSWORD_WARNING}`);
    return command.password;
  }
  if (options.passwordStdin) return (await readPasswordLine(options.passwordIo)) ?? { error: '--password-stdin: stdin was empty' };
  const prompted = await promptPassword(options.passwordIo);
  return 'error' in prompted ? prompted : prompted.password;
}

const exitFor = (code: AdminErrorCode | string): number => (code === 'bad-jid' || code === 'bad-password' || code === 'bad-request' ? 2 : 1);

type Request = { verb: 'list'; domain: string } | { verb: 'remove'; jid: string } | { verb: 'add' | 'passwd'; jid: string; password: string };

function report(command: Request, reply: AdminReply, io: UserCommandOutput): number {
  if (!reply.ok) {
    io.err(reply.error.message);
    return exitFor(reply.error.code);
  }
  const result = reply.result as { jid: string; sessionsEnded?: number } | string[];
  if (Array.isArray(result)) {
    for (const jid of result) io.out(jid);
    return 0;
  }
  const ended = result.sessionsEnded ? ` (${result.sessionsEnded} live session${result.sessionsEnded === 1 ? '' : 's'} ended)` : '';
  const what = { add: 'added', remove: 'removed', passwd: 'password changed for', list: '' }[command.verb];
  io.out(`${what} ${result.jid}${ended}`);
  return 0;
}

/** Through the running server. */
async function viaSocket(client: AdminClient, command: Request): Promise<AdminReply> {
  switch (command.verb) {
    case 'list':
      return client.request('user.list', { domain: command.domain });
    case 'add':
      return client.request('user.add', { jid: command.jid, password: command.password });
    case 'passwd':
      return client.request('user.passwd', { jid: command.jid, password: command.password });
    case 'remove':
      return client.request('user.remove', { jid: command.jid });
  }
}

/** In the store, with no server running: the same operations, with no sessions to end. */
async function inStore(config: ServerConfig, command: Request): Promise<AdminReply> {
  const storage = await openStorage(config);
  try {
    const served = prepareDomainpart(config.domain) ?? config.domain;
    const ops = new AdminOperations({
      domain: served,
      accounts: storage.accounts,
      userData: storage.userData,
      sessions: new SessionTable(),
      scramIterations: config.scramIterations,
      userCreated: async (bare) => bare,
      removeUser: async (bare) => ((await storage.accounts.removeAccount(bare.slice(0, bare.indexOf('@')), served)) ? bare : undefined),
      endSessions: () => [],
      serves: () => true,
      sendTo: () => {},
      audit: () => {},
    });
    const actor = { via: 'socket' } as const;
    const r =
      command.verb === 'list'
        ? await ops.listUsers(command.domain)
        : command.verb === 'add'
          ? await ops.addUser(command.jid, command.password, actor)
          : command.verb === 'passwd'
            ? await ops.changePassword(command.jid, command.password, actor)
            : await ops.removeUser(command.jid, actor);
    return r.ok ? ({ id: 0, ok: true, result: r.value } as AdminReply) : { id: 0, ok: false, error: { code: r.code, message: r.message } };
  } finally {
    await storage.close();
  }
}

export async function userCommand(args: string[], config: ServerConfig, options: UserCommandOptions = {}): Promise<number> {
  const io = options.io ?? consoleOutput;
  const parsed = parseArgs(args, prepareDomainpart(config.domain) ?? config.domain);
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  if (options.passwordStdin && parsed.verb !== 'add' && parsed.verb !== 'passwd') {
    io.err(`--password-stdin is for user add and user passwd\n${USAGE}`);
    return 2;
  }
  let command: Request;
  if (parsed.verb === 'add' || parsed.verb === 'passwd') {
    const password = await obtainPassword(parsed, options, io);
    if (typeof password !== 'string') {
      io.err(`switchboard: ${password.error}`);
      return 2;
    }
    const bad = checkPassword(password);
    if (bad) {
      io.err(bad);
      return 2;
    }
    command = { ...parsed, password };
  } else {
    command = parsed as Request;
  }

  const path = adminSocketPath(config);
  const client = path === undefined ? undefined : await AdminClient.connect(path);
  if (client) {
    try {
      io.err(`switchboard: through the running server (admin socket ${path})`);
      return report(command, await viaSocket(client, command), io);
    } finally {
      client.close();
    }
  }
  io.err(
    path === undefined
      ? 'switchboard: in the store directly (adminSocket is off, so a running server would not see this change)'
      : `switchboard: in the store directly (no server answers on ${path})`,
  );
  return report(command, await inStore(config, command), io);
}
