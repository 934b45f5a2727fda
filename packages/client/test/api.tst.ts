// Type tests for the public API (checked by `npm run typecheck`, never run):
// events are a closed, typed map, errors carry typed codes and conditions.

import { Client, ClientError, IqError, Muc, message, presence, type ClientErrorCode, type ConnectionState, type Hat } from '../src/index.ts';

declare const client: Client;

client.on('state', ({ from, to }) => {
  const states: ConnectionState[] = [from, to];
  void states;
});
client.on('online', ({ jid }) => jid.toUpperCase());
client.on('online', ({ archive }) => archive?.end?.timestamp.getTime() ?? archive?.start?.id.length);
client.on('retrying', ({ attempt, delayMs, error }) => attempt + delayMs + error.code.length);
client.on('stanza', (el) => el.getChildText('body'));
client.on('offline', ({ error }) => error?.detail.streamError?.condition);
// @ts-expect-error: not an event of the client
client.on('connected', () => {});
// @ts-expect-error: the online payload has no `state`
client.on('online', ({ state }) => state);

// @ts-expect-error: the state is the machine's to write
client.state = 'Binded';
const s: 'Disconnected' | 'Retrying' | 'Connected' | 'StreamInit' | 'Authenticate' | 'Bind' | 'Binding' | 'Binded' = client.state;
void s;

const code: ClientErrorCode = new ClientError('SB_ERR_AUTH', 'x').code;
// @ts-expect-error: codes are a closed union
const wrong: ClientErrorCode = 'SB_ERR_SOMETHING';
void code;
void wrong;

async function requests(): Promise<void> {
  try {
    await client.iq(message({ body: 'not an iq, but an Element' }));
  } catch (err) {
    if (err instanceof IqError) {
      const condition: 'service-unavailable' | string = err.condition;
      void condition;
    }
  }
  // @ts-expect-error: presence types are the RFC 6121 ones
  presence({ type: 'away' });
  // @ts-expect-error: show is a closed set
  presence({ show: 'busy' });
}
void requests;

// Group chat: hats are typed on occupants; registration events carry typed payloads.
declare const muc: Muc;
muc.on('occupant:changed', ({ occupant }) => {
  const hats: Hat[] | undefined = occupant.hats;
  const hue: number | undefined = hats?.[0]?.hue;
  void hue;
});
muc.on('registration:requested', ({ jid, nick, details }) => jid + nick + (details.email ?? ''));
muc.on('registration:decided', ({ allowed }) => !allowed);
async function groupchat(): Promise<void> {
  const outcome: 'registered' | 'pending' = await muc.register('room@conference.example.org', 'nick');
  // @ts-expect-error: a hat needs a title
  await muc.createHat('room@conference.example.org', { uri: 'urn:x' });
  void outcome;
}
void groupchat;
