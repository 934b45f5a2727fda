// XEP-0050 Ad-Hoc Commands 1.3 for the server, carrying the XEP-0133
// administration commands (xep0133.ts) and two of our own (the session
// table and live figures, switchboard-commands.ts) for the admins named in
// the configuration (`admins`).
//
// - §2.2 the command list (disco#items of node `http://jabber.org/protocol/commands`)
//   lists the commands to admins only; to anyone else it is empty.
// - §2.3 each command node answers disco#info to admins (item-not-found otherwise).
// - §3 execution: `execute` answers the command's form (status executing, with
//   `<actions execute='complete'><complete/></actions>`) and opens a session;
//   `complete` (or `execute`/`next`) with the submitted form runs it (status
//   completed, with a note and/or a result form); `cancel` ends the session
//   (status canceled). A form submitted with the first request runs at once.
// - §4.6 errors: a non-admin gets forbidden, an unknown node item-not-found,
//   an unknown session bad-request with <bad-sessionid/>, `prev` <bad-action/>,
//   a missing form <bad-payload/>.
//
// A session belongs to the full JID that opened it, lasts ten minutes, and
// at most 100 are open at once (the oldest go first).

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@switchboard/xml';
import { parseJid, type Jid } from '@switchboard/jid';
import { stanzaError } from '@switchboard/protocol';
import { defineModule } from '../../module.ts';
import type { IqContext } from '../../iq-handlers.ts';
import { submittedValues } from './data-form.ts';
import { noteElement, xep0133Commands, type AdhocCommand, type CommandOutcome } from './xep0133.ts';
import { switchboardCommands } from './switchboard-commands.ts';
import { accountCommands } from './xep0133-accounts.ts';
import { LAST_LOGIN_KIND } from '../../../admin/operations.ts';
import { moduleLogger } from '../../../log.ts';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';

const SESSION_MS = 10 * 60_000;
const MAX_SESSIONS = 100;

interface CommandSession {
  node: string;
  owner: string;
  expires: number;
}

const commandError = (condition: 'bad-action' | 'bad-payload' | 'bad-sessionid', text: string) =>
  stanzaError('bad-request', { text, application: xml(condition, { xmlns: NS_COMMANDS }) });

export const adhoc = defineModule<{ admins: readonly string[] }>({
  name: 'adhoc',
  setup(ctx, options) {
    // Config names bare JIDs; compared in their prepared form (RFC 7622), so `Admin@LocalHost` counts.
    const admins = new Set(
      options.admins.flatMap((a) => {
        const parsed = parseJid(a);
        return parsed.ok ? [parsed.jid.bare().toString()] : [];
      }),
    );
    const isAdmin = (from: Jid): boolean => admins.has(from.bare().toString());
    const commands = new Map<string, AdhocCommand>();
    const accounts = accountCommands(ctx.admin, { roster: (username) => ctx.rosters.load(username) });
    for (const command of [...xep0133Commands(ctx.admin), ...accounts, ...switchboardCommands(ctx.admin)]) {
      commands.set(command.node, command);
    }
    const sessions = new Map<string, CommandSession>();

    // XEP-0133 §4.9 get-user-lastlogin: each session start is written down, after the bind and off its path
    // (a failed write costs the admin a stale time, never the user a login).
    ctx.hook('sessStart', ({ session }) => {
      ctx.storage.userData.set(session.username, session.host, LAST_LOGIN_KIND, '', new Date().toISOString()).catch((err: unknown) => {
        moduleLogger('adhoc').warn({ event: 'admin.lastlogin.failed', err }, `last login of ${session.bareJid} not recorded`);
      });
    });

    ctx.discoNode(NS_COMMANDS, {
      info: () => [xml('identity', { category: 'automation', type: 'command-list', name: 'Commands' })],
      items: (iq) => (isAdmin(iq.from) ? [...commands.values()].map((c) => xml('item', { jid: ctx.domain, node: c.node, name: c.name })) : []),
    });
    for (const command of commands.values()) {
      ctx.discoNode(command.node, {
        info: (iq) =>
          isAdmin(iq.from)
            ? [xml('identity', { category: 'automation', type: 'command-node', name: command.name }), xml('feature', { var: NS_COMMANDS }), xml('feature', { var: 'jabber:x:data' })]
            : undefined,
      });
    }

    const reply = (command: AdhocCommand, sessionid: string, status: 'executing' | 'completed' | 'canceled', children: (Element | false | undefined)[]): Element =>
      xml('command', { xmlns: NS_COMMANDS, node: command.node, sessionid, status }, ...children);

    const completed = (command: AdhocCommand, sessionid: string, outcome: CommandOutcome): Element =>
      reply(command, sessionid, 'completed', [outcome.note && noteElement(outcome.note), outcome.result]);

    const openSession = (node: string, owner: string): string => {
      const now = Date.now();
      for (const [id, s] of sessions) if (s.expires < now) sessions.delete(id);
      while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      const id = randomBytes(9).toString('base64url');
      sessions.set(id, { node, owner, expires: now + SESSION_MS });
      return id;
    };

    ctx.iq({
      xmlns: NS_COMMANDS,
      name: 'command',
      targets: ['host'],
      handler: async (iq: IqContext) => {
        if (iq.type !== 'set') return stanzaError('bad-request');
        const node = iq.payload.attrs.node ?? '';
        const command = commands.get(node);
        // XEP-0050 §4.6: forbidden for who may not run it; only then does the node's existence show.
        if (!isAdmin(iq.from)) return stanzaError('forbidden');
        if (!command) return stanzaError('item-not-found');
        const owner = iq.from.toString();
        const action = iq.payload.attrs.action ?? 'execute';
        const values = submittedValues(iq.payload);
        const actor = { via: 'xep0133' as const, jid: iq.from.bare().toString() };
        const sessionid = iq.payload.attrs.sessionid;
        if (sessionid === undefined) {
          if (action !== 'execute') return commandError('bad-action', `${action} needs a session`);
          if (!command.form) return completed(command, openSession(node, owner), await command.run(new Map(), actor));
          const id = openSession(node, owner);
          if (values) {
            sessions.delete(id);
            return completed(command, id, await command.run(values, actor));
          }
          return reply(command, id, 'executing', [xml('actions', { execute: 'complete' }, xml('complete')), command.form]);
        }
        const session = sessions.get(sessionid);
        if (!session || session.node !== node || session.owner !== owner || session.expires < Date.now()) {
          return commandError('bad-sessionid', 'no such command session');
        }
        if (action === 'cancel') {
          sessions.delete(sessionid);
          return reply(command, sessionid, 'canceled', []);
        }
        if (action === 'prev') return commandError('bad-action', 'this command has one stage');
        if (!values) return commandError('bad-payload', 'submit the form (jabber:x:data type submit)');
        sessions.delete(sessionid);
        return completed(command, sessionid, await command.run(values, actor));
      },
    });
  },
});
