// XEP-0045 §7.10 registering with a room and §9.9 approving registration
// requests, on the client: the muc#register form to submit, and the two
// messages a room sends about a request — to its owners and admins, the form
// asking for approval (type 'form', with `muc#jid` naming the user, as
// Switchboard sends it); to the user, the outcome (type 'result' with
// `muc#register_allow`).

import { xml, type Element } from '@switchboard/xml';

export const NS_REGISTER = 'jabber:iq:register';
const NS_MUC_REGISTER = 'http://jabber.org/protocol/muc#register';
const NS_DATA = 'jabber:x:data';

/** The other muc#register fields a user may fill in (§15.5.1). */
export interface RegistrationDetails {
  first?: string;
  last?: string;
  url?: string;
  email?: string;
  faqentry?: string;
}

/** §9.9: a request an owner or admin is asked to approve. */
export interface RegistrationRequest {
  room: string;
  /** The user's bare JID. */
  jid: string;
  nick: string;
  details: RegistrationDetails;
}

/** The answer to our own request. */
export interface RegistrationOutcome {
  room: string;
  nick: string;
  allowed: boolean;
}

function values(form: Element): Map<string, string> {
  return new Map(form.getChildren('field').map((f) => [f.attrs.var ?? '', f.getChildText('value') ?? '']));
}

/** The §7.10 iq set with the filled-in form. */
export function registrationSubmit(room: string, id: string, nick: string, details: RegistrationDetails = {}): Element {
  const fields: [string, string][] = [['FORM_TYPE', NS_MUC_REGISTER], ['muc#register_roomnick', nick]];
  for (const [key, value] of Object.entries(details) as [keyof RegistrationDetails, string | undefined][]) if (value !== undefined) fields.push([`muc#register_${key}`, value]);
  return xml('iq', { type: 'set', to: room, id }, xml('query', { xmlns: NS_REGISTER }, xml('x', { xmlns: NS_DATA, type: 'submit' }, fields.map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))))));
}

/** §9.9: an owner's or admin's answer, sent to the room as a message. */
export function registrationDecision(room: string, id: string, jid: string, allow: boolean): Element {
  return xml(
    'message',
    { to: room, id },
    xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE' }, xml('value', {}, NS_MUC_REGISTER)),
      xml('field', { var: 'muc#jid' }, xml('value', {}, jid)),
      xml('field', { var: 'muc#register_allow' }, xml('value', {}, allow ? '1' : '0')),
    ),
  );
}

/** A message from a room about a registration: a request to approve, or the outcome of ours. */
export function readRegistrationMessage(room: string, message: Element): { request: RegistrationRequest } | { outcome: RegistrationOutcome } | undefined {
  const form = message.getChildren('x', NS_DATA).find((x) => values(x).get('FORM_TYPE') === NS_MUC_REGISTER);
  if (!form) return undefined;
  const v = values(form);
  const nick = v.get('muc#register_roomnick') ?? '';
  if (form.attrs.type === 'result') {
    const allow = v.get('muc#register_allow');
    return { outcome: { room, nick, allowed: allow === '1' || allow === 'true' } };
  }
  const jid = v.get('muc#jid');
  if (form.attrs.type !== 'form' || !jid) return undefined;
  const details: RegistrationDetails = {};
  for (const key of ['first', 'last', 'url', 'email', 'faqentry'] as const) {
    const value = v.get(`muc#register_${key}`);
    if (value) details[key] = value;
  }
  return { request: { room, jid, nick, details } };
}
