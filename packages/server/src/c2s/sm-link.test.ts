import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@switchboard/xml';
import { fanOutPayload, readControl, type Envelope } from '../router/envelope.ts';
import { InProcessRouter } from '../router/in-process.ts';
import { SmLink } from './sm-link.ts';

describe('SmLink fan-out', () => {
  it('delivers each copy with `to` stamped on element and text; a connection it lacks hands its copy back to the sm', async () => {
    const router = new InProcessRouter();
    const toSm: Envelope[] = [];
    await router.attach('sm', (e) => toSm.push(e));
    const delivered: { c2s: string; stanza: Element; text: string | undefined }[] = [];
    const link = new SmLink(router, 'c2s/n', {
      started: () => {},
      startFailed: () => {},
      ended: () => {},
      bounce: () => {},
      smGone: () => {},
      resumeAnswered: () => {},
      deliver: (c2s, stanza, text) => {
        if (c2s === 'gone') return false;
        delivered.push({ c2s, stanza, text });
        return true;
      },
    });
    await link.attach();
    const stanza = xml('message', { from: 'room@conference.localhost/Al', type: 'groupchat', id: 'm1' }, xml('body', {}, 'hi <all>'));
    const targets = [
      { jid: 'a@localhost/1', c2s: 'k1', sm: 's1' },
      { jid: 'b@localhost/"2"', c2s: 'gone', sm: 's2' },
      { jid: 'c@localhost/3', c2s: 'k3', sm: 's3' },
    ];
    router.route({ to: 'c2s/n', from: 'sm', payload: fanOutPayload(stanza, targets) });

    assert.deepEqual(delivered.map((d) => [d.c2s, d.stanza.attrs.to]), [['k1', 'a@localhost/1'], ['k3', 'c@localhost/3']]);
    for (const d of delivered) {
      // The text is the element's own serialisation, `to` first.
      assert.equal(d.text, `<message to="${d.stanza.attrs.to}" from="room@conference.localhost/Al" type="groupchat" id="m1"><body>hi &lt;all&gt;</body></message>`);
    }
    // The 510 race, per recipient: the copy goes back whole inside `end reason='disconnected'`.
    assert.equal(toSm.length, 1);
    const control = readControl(toSm[0]!.payload);
    assert.ok(control && control.ns === 'session');
    assert.equal(control.action, 'end');
    assert.equal(control.reason, 'disconnected');
    assert.equal(toSm[0]!.c2s, 'gone');
    assert.equal(toSm[0]!.sm, 's2');
    assert.equal(control.returned?.[0]?.attrs.to, 'b@localhost/"2"');
    await router.close();
  });
});
