// XEP-0045 §10.2 / §15.5.3: the muc#roomconfig form (XEP-0004), written from
// a RoomConfig and read back into a partial one. Unknown fields are ignored,
// as XEP-0004 §3.3 allows; a value of the wrong shape is bad-request.

import { xml, type Element } from '@switchboard/xml';
import { parseJid } from '@switchboard/jid';
import { stanzaError, type StanzaError } from '@switchboard/protocol';
import { NS_DATA, NS_MUC_ROOMCONFIG, ROLES, type AllowPm, type Role, type RoomConfig, type Whois } from './types.ts';

type Field = { var: string; type: string; label: string; value: string | string[]; options?: string[] };

function fields(config: RoomConfig, owners: string[], admins: string[], maxHistory: number): Field[] {
  const bool = (b: boolean): string => (b ? '1' : '0');
  return [
    { var: 'muc#roomconfig_roomname', type: 'text-single', label: 'Natural-Language Room Name', value: config.name },
    { var: 'muc#roomconfig_roomdesc', type: 'text-single', label: 'Short Description of Room', value: config.description },
    { var: 'muc#roomconfig_lang', type: 'text-single', label: 'Natural Language for Room Discussions', value: config.language },
    { var: 'muc#roomconfig_persistentroom', type: 'boolean', label: 'Make Room Persistent?', value: bool(config.persistent) },
    { var: 'muc#roomconfig_publicroom', type: 'boolean', label: 'Make Room Publicly Searchable?', value: bool(config.public) },
    { var: 'muc#roomconfig_membersonly', type: 'boolean', label: 'Make Room Members-Only?', value: bool(config.membersOnly) },
    { var: 'muc#roomconfig_moderatedroom', type: 'boolean', label: 'Make Room Moderated?', value: bool(config.moderated) },
    { var: 'muc#roomconfig_passwordprotectedroom', type: 'boolean', label: 'Password Required to Enter?', value: bool(config.password !== '') },
    { var: 'muc#roomconfig_roomsecret', type: 'text-private', label: 'Password', value: config.password },
    { var: 'muc#roomconfig_maxusers', type: 'list-single', label: 'Maximum Number of Occupants', value: config.maxUsers === 0 ? 'none' : String(config.maxUsers), options: ['10', '20', '30', '50', '100', '500', 'none'] },
    { var: 'muc#roomconfig_whois', type: 'list-single', label: 'Who May Discover Real JIDs?', value: config.whois, options: ['moderators', 'anyone'] },
    { var: 'muc#roomconfig_changesubject', type: 'boolean', label: 'Allow Occupants to Change Subject?', value: bool(config.changeSubject) },
    { var: 'muc#roomconfig_allowinvites', type: 'boolean', label: 'Allow Occupants to Invite Others?', value: bool(config.allowInvites) },
    { var: 'muc#roomconfig_allowpm', type: 'list-single', label: 'Who May Send Private Messages?', value: config.allowPm, options: ['anyone', 'participants', 'moderators', 'none'] },
    { var: 'muc#roomconfig_enablelogging', type: 'boolean', label: 'Enable Public Logging?', value: bool(config.enableLogging) },
    { var: 'muc#roomconfig_getmemberlist', type: 'list-multi', label: 'Roles and Affiliations that May Retrieve Member List', value: config.getMemberList, options: ['moderator', 'participant', 'visitor'] },
    { var: 'muc#maxhistoryfetch', type: 'text-single', label: `Maximum Number of History Messages Returned by Room (at most ${maxHistory})`, value: String(config.historyLength) },
    { var: 'muc#roomconfig_roomowners', type: 'jid-multi', label: 'Full List of Room Owners', value: owners },
    { var: 'muc#roomconfig_roomadmins', type: 'jid-multi', label: 'Full List of Room Admins', value: admins },
  ];
}

export function configForm(config: RoomConfig, owners: string[], admins: string[], maxHistory: number): Element {
  const form = xml('x', { xmlns: NS_DATA, type: 'form' }, xml('title', {}, 'Room configuration'), xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MUC_ROOMCONFIG)));
  for (const f of fields(config, owners, admins, maxHistory)) {
    const values = Array.isArray(f.value) ? f.value : [f.value];
    form.children.push(
      xml(
        'field',
        { var: f.var, type: f.type, label: f.label },
        values.map((v) => xml('value', {}, v)),
        (f.options ?? []).map((o) => xml('option', { label: o }, xml('value', {}, o))),
      ),
    );
  }
  return form;
}

export interface ConfigSubmission {
  config: Partial<RoomConfig>;
  owners?: string[];
  admins?: string[];
}

/** Reads a submitted form; only the fields present change. */
export function readConfigSubmission(form: Element, maxHistory: number): ConfigSubmission | StanzaError {
  const config: Partial<RoomConfig> = {};
  const out: ConfigSubmission = { config };
  let passwordProtected: boolean | undefined;
  const bad = (name: string): StanzaError => stanzaError('bad-request', { text: `invalid value for ${name}` });
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    const values = field.getChildren('value').map((v) => v.text());
    const value = values[0] ?? '';
    const bool = (): boolean | undefined => (value === '1' || value === 'true' ? true : value === '0' || value === 'false' ? false : undefined);
    switch (name) {
      case 'muc#roomconfig_roomname':
        config.name = value;
        break;
      case 'muc#roomconfig_roomdesc':
        config.description = value;
        break;
      case 'muc#roomconfig_lang':
        config.language = value;
        break;
      case 'muc#roomconfig_roomsecret':
        config.password = value;
        break;
      case 'muc#roomconfig_maxusers': {
        if (value === 'none' || value === '' || value === '0') config.maxUsers = 0;
        else if (/^\d+$/.test(value)) config.maxUsers = Number(value);
        else return bad(name);
        break;
      }
      case 'muc#roomconfig_whois':
        if (value !== 'moderators' && value !== 'anyone') return bad(name);
        config.whois = value as Whois;
        break;
      case 'muc#roomconfig_allowpm':
        if (!['anyone', 'participants', 'moderators', 'none'].includes(value)) return bad(name);
        config.allowPm = value as AllowPm;
        break;
      case 'muc#maxhistoryfetch':
      case 'muc#roomconfig_historylength':
        if (!/^\d+$/.test(value)) return bad(name);
        config.historyLength = Math.min(Number(value), maxHistory);
        break;
      case 'muc#roomconfig_getmemberlist':
        if (values.some((v) => !ROLES.includes(v as Role))) return bad(name);
        config.getMemberList = values as Role[];
        break;
      case 'muc#roomconfig_roomowners':
      case 'muc#roomconfig_roomadmins': {
        const jids: string[] = [];
        for (const v of values) {
          const parsed = parseJid(v);
          if (!parsed.ok) return stanzaError('jid-malformed');
          jids.push(parsed.jid.bare().toString());
        }
        if (name === 'muc#roomconfig_roomowners') out.owners = jids;
        else out.admins = jids;
        break;
      }
      default: {
        const key = BOOLEANS[name ?? ''];
        if (key === undefined) break;
        const b = bool();
        if (b === undefined) return bad(name!);
        if (key === 'passwordProtected') passwordProtected = b;
        else config[key] = b;
      }
    }
  }
  // A room stops being password-protected when the owner says so, whatever secret was sent.
  if (passwordProtected === false) config.password = '';
  return out;
}

const BOOLEANS: Record<string, 'persistent' | 'public' | 'membersOnly' | 'moderated' | 'changeSubject' | 'allowInvites' | 'enableLogging' | 'passwordProtected'> = {
  'muc#roomconfig_persistentroom': 'persistent',
  'muc#roomconfig_publicroom': 'public',
  'muc#roomconfig_membersonly': 'membersOnly',
  'muc#roomconfig_moderatedroom': 'moderated',
  'muc#roomconfig_changesubject': 'changeSubject',
  'muc#roomconfig_allowinvites': 'allowInvites',
  'muc#roomconfig_enablelogging': 'enableLogging',
  'muc#roomconfig_passwordprotectedroom': 'passwordProtected',
};
