import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capsVerification } from './caps.ts';

describe('XEP-0115 verification string', () => {
  it('matches the simple example of §5.2', () => {
    const ver = capsVerification([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], [
      'http://jabber.org/protocol/caps',
      'http://jabber.org/protocol/disco#info',
      'http://jabber.org/protocol/disco#items',
      'http://jabber.org/protocol/muc',
    ]);
    assert.equal(ver, 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});

describe('XEP-0115 §5.4 verification of an answer', async () => {
  const { parseElement } = await import('@switchboard/xml');
  const { verifiedCapsFeatures } = await import('./caps.ts');
  // §5.3, the complex generation example.
  const answer = `<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
    <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
      <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
      <field var='os'><value>Mac</value></field>
      <field var='os_version'><value>10.5.1</value></field>
      <field var='software'><value>Psi</value></field>
      <field var='software_version'><value>0.11</value></field>
    </x>
  </query>`;
  const query = parseElement(answer) as import('@switchboard/xml').Element;

  it('accepts the §5.3 complex example with its forms', () => {
    const features = verifiedCapsFeatures(query, 'sha-1', 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
    assert.deepEqual([...features!].sort(), ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc']);
  });

  it('refuses an answer that does not hash to the ver, an unknown hash, and repeated features', () => {
    assert.equal(verifiedCapsFeatures(query, 'sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0='), undefined);
    assert.equal(verifiedCapsFeatures(query, 'md5', 'q07IKJEyjvHSyhy//CH0CxmKi8w='), undefined);
    const doubled = parseElement(answer.replace("<feature var='http://jabber.org/protocol/muc'/>", "<feature var='http://jabber.org/protocol/muc'/><feature var='http://jabber.org/protocol/muc'/>")) as import('@switchboard/xml').Element;
    assert.equal(verifiedCapsFeatures(doubled, 'sha-1', 'q07IKJEyjvHSyhy//CH0CxmKi8w='), undefined);
  });
});
