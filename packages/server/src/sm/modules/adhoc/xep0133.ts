// XEP-0133 Service Administration 1.3: the commands this server offers, as
// XEP-0050 commands (index.ts runs them). Each is a form and what a
// submitted form does; user management goes through admin/operations.ts,
// the same operations the admin socket runs.
//
//   §4.1  add-user               §4.2  delete-user        §4.3 disable-user
//   §4.5  end-user-session       §4.7  change-user-password
//   §4.15 get-online-users-num   §4.16 get-online-users-list
//   get-registered-users-list    §4.23 announce
//
// and in xep0133-accounts.ts: §4.4 reenable-user, §4.8 get-user-roster,
// §4.9 get-user-lastlogin, §4.10 user-stats, §4.13 get-registered-users-num,
// §4.14 get-disabled-users-num, §4.19 get-disabled-users-list.
//
// Not offered: get-user-password (passwords are kept only as SCRAM keys),
// the black- and whitelists, active and idle users (no notion of idle beyond
// XEP-0352), the message of the day and welcome message, edit-admin (admins
// come from the configuration), restart and shutdown.

import { xml, type Element } from '@switchboard/xml';
import type { AdminActor, AdminOperations } from '../../../admin/operations.ts';
import { dataForm, type Field } from './data-form.ts';

export const NS_ADMIN = 'http://jabber.org/protocol/admin';

export type Note = { type: 'info' | 'warn' | 'error'; text: string };

/** What a submitted command gives back: a note, a result form, or both. */
export interface CommandOutcome {
  note?: Note;
  result?: Element;
}

export interface AdhocCommand {
  node: string;
  name: string;
  /** The form the command asks to be filled in; none: it completes at once. */
  form?: Element;
  run(values: ReadonlyMap<string, string[]>, actor: AdminActor): Promise<CommandOutcome>;
}


export const formType: Field = { var: 'FORM_TYPE', type: 'hidden', values: [NS_ADMIN] };
export const first = (values: ReadonlyMap<string, string[]>, name: string): string | undefined => values.get(name)?.[0]?.trim() || undefined;
export const error = (text: string): CommandOutcome => ({ note: { type: 'error', text } });
export const info = (text: string): CommandOutcome => ({ note: { type: 'info', text } });
const ended = (n: number): string => (n === 0 ? '' : `; ${n} session${n === 1 ? '' : 's'} ended`);

/** Runs an operation on each JID of a jid-multi field and says what happened to each. */
export async function eachJid(values: ReadonlyMap<string, string[]>, op: (jid: string) => Promise<{ ok: true; value: { jid: string; sessionsEnded: number } } | { ok: false; message: string }>, verb: string): Promise<CommandOutcome> {
  const jids = (values.get('accountjids') ?? []).map((j) => j.trim()).filter((j) => j !== '');
  if (jids.length === 0) return error('no account given (accountjids)');
  const lines: string[] = [];
  let failed = false;
  for (const jid of jids) {
    const r = await op(jid);
    if (r.ok) lines.push(`${verb} ${r.value.jid}${ended(r.value.sessionsEnded)}`);
    else {
      failed = true;
      lines.push(r.message);
    }
  }
  return { note: { type: failed ? 'error' : 'info', text: lines.join('\n') } };
}

/** The commands, over the operations the socket uses too (asked for at each run: the process's, once every shard is up). */
export function xep0133Commands(operations: () => AdminOperations): AdhocCommand[] {
  const admin = operations;
  const node = (name: string): string => `${NS_ADMIN}#${name}`;
  return [
    {
      node: node('add-user'),
      name: 'Add a User',
      form: dataForm('form', {
        title: 'Adding a User',
        instructions: 'Fill out this form to add a user.',
        fields: [
          formType,
          { var: 'accountjid', type: 'jid-single', label: 'The Jabber ID for the account to be added', required: true },
          { var: 'password', type: 'text-private', label: 'The password for this account', required: true },
          { var: 'password-verify', type: 'text-private', label: 'Retype password', required: true },
        ],
      }),
      async run(values, actor) {
        const jid = first(values, 'accountjid');
        const password = values.get('password')?.[0];
        if (!jid || password === undefined) return error('accountjid and password are required');
        const verify = values.get('password-verify')?.[0];
        if (verify !== undefined && verify !== password) return error('the passwords do not match');
        const r = await admin().addUser(jid, password, actor);
        return r.ok ? info(`added ${r.value.jid}`) : error(r.message);
      },
    },
    {
      node: node('delete-user'),
      name: 'Delete a User',
      form: dataForm('form', {
        title: 'Deleting a User',
        instructions: 'Fill out this form to delete a user: their sessions end and everything stored for them is removed.',
        fields: [formType, { var: 'accountjids', type: 'jid-multi', label: 'The Jabber ID(s) to delete', required: true }],
      }),
      run: (values, actor) => eachJid(values, (jid) => admin().removeUser(jid, actor), 'deleted'),
    },
    {
      node: node('disable-user'),
      name: 'Disable a User',
      form: dataForm('form', {
        title: 'Disabling a User',
        instructions: 'The account keeps its data; its password is replaced by one nobody knows and its sessions end. Re-enable it (its old password works again) or change its password to enable it.',
        fields: [formType, { var: 'accountjids', type: 'jid-multi', label: 'The Jabber ID(s) to disable', required: true }],
      }),
      run: (values, actor) => eachJid(values, (jid) => admin().disableUser(jid, actor), 'disabled'),
    },
    {
      node: node('end-user-session'),
      name: 'End User Session',
      form: dataForm('form', {
        title: 'Ending a User Session',
        instructions: "A full JID ends that session; a bare JID ends all of the user's sessions (policy-violation).",
        fields: [formType, { var: 'accountjids', type: 'jid-multi', label: 'The Jabber ID(s) whose sessions to end', required: true }],
      }),
      run: (values, actor) =>
        eachJid(
          values,
          async (jid) => {
            const r = admin().kick(jid, actor);
            return r.ok ? { ok: true, value: { jid, sessionsEnded: r.value.ended.length } } : r;
          },
          'kicked',
        ),
    },
    {
      node: node('change-user-password'),
      name: 'Change User Password',
      form: dataForm('form', {
        title: 'Changing a User Password',
        instructions: "The user's sessions end and must log in again with the new password.",
        fields: [
          formType,
          { var: 'accountjid', type: 'jid-single', label: 'The Jabber ID for this account', required: true },
          { var: 'password', type: 'text-private', label: 'The password for this account', required: true },
        ],
      }),
      async run(values, actor) {
        const jid = first(values, 'accountjid');
        const password = values.get('password')?.[0];
        if (!jid || password === undefined) return error('accountjid and password are required');
        const r = await admin().changePassword(jid, password, actor);
        return r.ok ? info(`password changed for ${r.value.jid}${ended(r.value.sessionsEnded)}`) : error(r.message);
      },
    },
    {
      node: node('get-online-users-num'),
      name: 'Get Number of Online Users',
      run: async () => ({
        result: dataForm('result', { fields: [formType, { var: 'onlineusersnum', type: 'text-single', label: 'The number of online users', values: [String(admin().onlineUsers().length)] }] }),
      }),
    },
    {
      node: node('get-online-users-list'),
      name: 'Get List of Online Users',
      form: dataForm('form', {
        title: 'Requesting List of Online Users',
        fields: [formType, { var: 'max_items', type: 'list-single', label: 'Maximum number of items to report', values: ['100'] }],
      }),
      async run(values) {
        const max = Number(first(values, 'max_items') ?? 'none');
        const users = admin().onlineUsers();
        const shown = Number.isInteger(max) && max > 0 ? users.slice(0, max) : users;
        return { result: dataForm('result', { fields: [formType, { var: 'onlineuserjids', type: 'jid-multi', label: 'The list of all online users', values: shown }] }) };
      },
    },
    {
      node: node('get-registered-users-list'),
      name: 'Get List of Registered Users',
      form: dataForm('form', {
        title: 'Requesting List of Registered Users',
        fields: [formType, { var: 'max_items', type: 'list-single', label: 'Maximum number of items to report', values: ['100'] }],
      }),
      async run(values) {
        const r = await admin().listUsers();
        if (!r.ok) return error(r.message);
        const max = Number(first(values, 'max_items') ?? 'none');
        const shown = Number.isInteger(max) && max > 0 ? r.value.slice(0, max) : r.value;
        return { result: dataForm('result', { fields: [formType, { var: 'registereduserjids', type: 'jid-multi', label: 'The list of all users', values: shown }] }) };
      },
    },
    {
      node: node('announce'),
      name: 'Send Announcement to Online Users',
      form: dataForm('form', {
        title: 'Making an Announcement',
        instructions: 'Fill out this form to make an announcement to all active users of this service.',
        fields: [
          formType,
          { var: 'subject', type: 'text-single', label: 'Subject' },
          { var: 'announcement', type: 'text-multi', label: 'Announcement', required: true },
        ],
      }),
      async run(values, actor) {
        const body = (values.get('announcement') ?? []).join('\n').trim();
        if (body === '') return error('the announcement is empty');
        const sent = admin().announce(first(values, 'subject'), body, actor);
        return info(`announced to ${sent} session${sent === 1 ? '' : 's'}`);
      },
    },
  ];
}

/** XEP-0050 §3.4: the note element. */
export function noteElement(note: Note): Element {
  return xml('note', { type: note.type }, note.text);
}
