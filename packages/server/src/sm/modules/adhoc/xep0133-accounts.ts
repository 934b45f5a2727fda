// XEP-0133 Service Administration 1.3: the commands that look at accounts
// (and reenable-user), beside xep0133.ts's that change them. Each reads
// through admin/operations.ts or the user's roster; none changes a session.
//
//   §4.4  reenable-user            the credentials disable-user put aside come back
//   §4.8  get-user-roster          one jabber:iq:roster <query/> per account, in the result form
//   §4.9  get-user-lastlogin       XEP-0082 DateTime of the last session start, per account
//   §4.10 user-stats               rostersize, onlineresources
//   §4.13 get-registered-users-num
//   §4.14 get-disabled-users-num   §4.19 get-disabled-users-list

import { xml, type Element } from '@switchboard/xml';
import type { AdminOperations } from '../../../admin/operations.ts';
import type { LoadedRoster } from '../../roster.ts';
import { NS_ROSTER } from '@switchboard/protocol';
import { dataForm } from './data-form.ts';
import { eachJid, error, first, formType, NS_ADMIN, type AdhocCommand, type CommandOutcome } from './xep0133.ts';

export interface AccountCommandDeps {
  /** The user's roster (visible items are the contacts, RFC 6121 §2.1). */
  roster(username: string): Promise<LoadedRoster>;
}

const accountJids = (label: string) => dataForm('form', { fields: [formType, { var: 'accountjids', type: 'jid-multi', label, required: true }] });
const jidsOf = (values: ReadonlyMap<string, string[]>): string[] => (values.get('accountjids') ?? []).map((j) => j.trim()).filter((j) => j !== '');
const limited = (values: ReadonlyMap<string, string[]>, list: string[]): string[] => {
  const max = Number(first(values, 'max_items') ?? 'none');
  return Number.isInteger(max) && max > 0 ? list.slice(0, max) : list;
};

function rosterQuery(roster: LoadedRoster): Element {
  const items = [...roster.items.values()].filter((i) => i.visible);
  return xml(
    'query',
    { xmlns: NS_ROSTER },
    items.map((i) => xml('item', { jid: i.jid, name: i.name, subscription: i.subscription, ask: i.ask ? 'subscribe' : undefined }, i.groups.map((g) => xml('group', {}, g)))),
  );
}

export function accountCommands(operations: () => AdminOperations, deps: AccountCommandDeps): AdhocCommand[] {
  const admin = operations;
  const node = (name: string): string => `${NS_ADMIN}#${name}`;
  /** Each JID checked as an account of the served domain; the first that is not one ends the command with its message. */
  const accounts = async (values: ReadonlyMap<string, string[]>): Promise<{ jid: string; at: string | undefined }[] | CommandOutcome> => {
    const jids = jidsOf(values);
    if (jids.length === 0) return error('no account given (accountjids)');
    const out: { jid: string; at: string | undefined }[] = [];
    for (const jid of jids) {
      const r = await admin().lastLogin(jid);
      if (!r.ok) return error(r.message);
      out.push(r.value);
    }
    return out;
  };
  return [
    {
      node: node('reenable-user'),
      name: 'Re-Enable a User',
      form: dataForm('form', {
        title: 'Re-Enabling a User',
        instructions: 'The password the account had when it was disabled works again.',
        fields: [formType, { var: 'accountjids', type: 'jid-multi', label: 'The Jabber ID(s) to re-enable', required: true }],
      }),
      run: (values, actor) =>
        eachJid(
          values,
          async (jid) => {
            const r = await admin().reenableUser(jid, actor);
            return r.ok ? { ok: true, value: { jid: r.value.jid, sessionsEnded: 0 } } : r;
          },
          're-enabled',
        ),
    },
    {
      node: node('get-user-roster'),
      name: 'Get User Roster',
      form: accountJids('The Jabber ID(s) for which to retrieve the roster'),
      async run(values) {
        const found = await accounts(values);
        if (!Array.isArray(found)) return found;
        const rosters = await Promise.all(found.map((a) => deps.roster(a.jid.slice(0, a.jid.indexOf('@')))));
        const form = dataForm('result', { fields: [formType, { var: 'accountjids', type: 'jid-multi', values: found.map((a) => a.jid) }] });
        // XEP-0133 §4.8: the roster in jabber:iq:roster form, inside the result form; one per account asked.
        for (const roster of rosters) form.children.push(rosterQuery(roster));
        return { result: form };
      },
    },
    {
      node: node('get-user-lastlogin'),
      name: 'Get User Last Login Time',
      form: accountJids('The Jabber ID(s) for which to retrieve the last login time'),
      async run(values) {
        const found = await accounts(values);
        if (!Array.isArray(found)) return found;
        // One value per account, in the order asked: its last session start, or "never" when none was recorded.
        return {
          result: dataForm('result', {
            fields: [
              formType,
              { var: 'accountjids', type: 'jid-multi', values: found.map((a) => a.jid) },
              { var: 'lastlogin', type: 'text-multi', label: 'Last login time (XEP-0082)', values: found.map((a) => a.at ?? 'never') },
            ],
          }),
        };
      },
    },
    {
      node: node('user-stats'),
      name: 'Get User Statistics',
      form: dataForm('form', { title: 'Get User Statistics', fields: [formType, { var: 'accountjid', type: 'jid-single', label: 'The Jabber ID for statistics', required: true }] }),
      async run(values) {
        const jid = first(values, 'accountjid');
        if (!jid) return error('accountjid is required');
        const r = await admin().lastLogin(jid);
        if (!r.ok) return error(r.message);
        const roster = await deps.roster(r.value.jid.slice(0, r.value.jid.indexOf('@')));
        const resources = admin().sessionsOf(r.value.jid).map((s) => s.resource).sort();
        return {
          result: dataForm('result', {
            fields: [
              formType,
              { var: 'rostersize', type: 'text-single', label: 'Roster size', values: [String([...roster.items.values()].filter((i) => i.visible).length)] },
              { var: 'onlineresources', type: 'text-multi', label: 'Online resources', values: resources },
            ],
          }),
        };
      },
    },
    {
      node: node('get-registered-users-num'),
      name: 'Get Number of Registered Users',
      async run() {
        const r = await admin().listUsers();
        if (!r.ok) return error(r.message);
        return { result: dataForm('result', { fields: [formType, { var: 'registeredusersnum', type: 'text-single', label: 'The number of registered users', values: [String(r.value.length)] }] }) };
      },
    },
    {
      node: node('get-disabled-users-num'),
      name: 'Get Number of Disabled Users',
      run: async () => ({
        result: dataForm('result', { fields: [formType, { var: 'disabledusersnum', type: 'text-single', label: 'The number of disabled users', values: [String((await admin().listDisabled()).length)] }] }),
      }),
    },
    {
      node: node('get-disabled-users-list'),
      name: 'Get List of Disabled Users',
      form: dataForm('form', {
        title: 'Requesting List of Disabled Users',
        fields: [formType, { var: 'max_items', type: 'list-single', label: 'Maximum number of items to report', values: ['100'] }],
      }),
      run: async (values) => ({
        result: dataForm('result', { fields: [formType, { var: 'disableduserjids', type: 'jid-multi', label: 'The list of all disabled users', values: limited(values, await admin().listDisabled()) }] }),
      }),
    },
  ];
}
