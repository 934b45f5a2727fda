// Which mechanism the client picks (RFC 6120 §6.3.3: the client's
// preference among what the server offers), and PLAIN only over TLS.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectMechanism, type SelectOptions } from './select.ts';

const base: SelectOptions = {
  offered: [],
  credentials: { username: 'u', password: 'p' },
  secure: true,
  allowPlainWithoutTls: false,
  channelBinding: undefined,
  channelBindingTypes: undefined,
};
const pick = (o: Partial<SelectOptions>): string | undefined => selectMechanism({ ...base, ...o })?.name;
const ALL = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'];

describe('SASL mechanism selection', () => {
  it('takes the strongest offered, -PLUS only with channel-binding data', () => {
    assert.equal(pick({ offered: ALL }), 'SCRAM-SHA-256');
    assert.equal(pick({ offered: ALL, channelBinding: new Uint8Array(32), channelBindingTypes: ['tls-exporter'] }), 'SCRAM-SHA-256-PLUS');
    assert.equal(pick({ offered: ['PLAIN', 'SCRAM-SHA-1'] }), 'SCRAM-SHA-1');
    assert.equal(pick({ offered: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'], channelBinding: new Uint8Array(32), channelBindingTypes: ['tls-exporter'] }), 'SCRAM-SHA-1-PLUS');
  });

  it('uses -PLUS only with a channel-binding type the server lists (XEP-0440), else the plain mechanism with gs2 flag n', async () => {
    const data = new Uint8Array(32);
    // No <sasl-channel-binding/> (Debian's ejabberd 23.01): the server did not say it can do tls-exporter.
    assert.equal(pick({ offered: ALL, channelBinding: data }), 'SCRAM-SHA-256');
    assert.equal(pick({ offered: ALL, channelBinding: data, channelBindingTypes: ['tls-unique'] }), 'SCRAM-SHA-256');
    assert.equal(pick({ offered: ALL, channelBinding: data, channelBindingTypes: ['tls-unique', 'tls-exporter'] }), 'SCRAM-SHA-256-PLUS');
    const first = async (o: Partial<SelectOptions>): Promise<string> => new TextDecoder().decode(await selectMechanism({ ...base, ...o })!.initial());
    // -PLUS offered but not usable: 'n' (a 'y' would make the server see a downgrade that is not one).
    assert.match(await first({ offered: ALL, channelBinding: data, channelBindingTypes: ['tls-unique'] }), /^n,,/);
    // No -PLUS offered although we could bind: 'y' (RFC 5802 §6 downgrade detection).
    assert.match(await first({ offered: ['SCRAM-SHA-256'], channelBinding: data }), /^y,,/);
  });

  it('PLAIN only over TLS unless explicitly allowed', () => {
    assert.equal(pick({ offered: ['PLAIN'], secure: true }), 'PLAIN');
    assert.equal(pick({ offered: ['PLAIN'], secure: false }), undefined);
    assert.equal(pick({ offered: ['PLAIN'], secure: false, allowPlainWithoutTls: true }), 'PLAIN');
    assert.equal(pick({ offered: ['PLAIN', 'SCRAM-SHA-1'], secure: false }), 'SCRAM-SHA-1');
  });

  it("keeps to the application's list and order", () => {
    assert.equal(pick({ offered: ALL, allowed: ['PLAIN'] }), 'PLAIN');
    assert.equal(pick({ offered: ALL, allowed: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] }), 'SCRAM-SHA-1');
    assert.equal(pick({ offered: ['PLAIN'], allowed: ['SCRAM-SHA-256'] }), undefined);
    assert.equal(pick({ offered: ['DIGEST-MD5', 'X-OAUTH2'] }), undefined);
  });
});
