// Issue #18: XEP-0077 registration behind a XEP-0158 CAPTCHA (`qa`, a sum in
// words), on real sockets: the form, a right answer makes an account that
// logs in, a wrong one or a replayed challenge makes none, the table of
// pending challenges is bounded (resource-constraint), and an invitation
// (XEP-0445) stands in for the CAPTCHA.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RawClient, startTestServer } from './helpers.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

async function open(port: number, from?: string): Promise<RawClient> {
  const c = await RawClient.connect(port, from);
  c.send(HEADER);
  await c.expect(/<\/stream:features>/);
  return c;
}

interface Form {
  challenge: string;
  sid: string;
  answer: string;
}

/** Asks for the registration form and reads it as a human would. */
async function getForm(c: RawClient, id: string): Promise<Form> {
  c.send(`<iq type='get' id='${id}'><query xmlns='jabber:iq:register'/></iq>`);
  const reply = (await c.expect(new RegExp(`<iq type="result" id="${id}".*?</iq>`)))[0];
  assert.match(reply, /<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:captcha<\/value><\/field>/);
  assert.match(reply, /<field var="from" type="hidden"><value>localhost<\/value><\/field>/);
  assert.match(reply, /<field var="username" type="text-single" label="Username"><required\/><\/field>/);
  const challenge = /<field var="challenge" type="hidden"><value>([^<]+)<\/value>/.exec(reply)![1]!;
  const sid = /<field var="sid" type="hidden"><value>([^<]*)<\/value>/.exec(reply)![1]!;
  const [, a, op, b] = /<field var="qa" type="text-single" label="What is ([a-z]+) (plus|minus) ([a-z]+)\?[^"]*"><required\/>/.exec(reply)!;
  const x = WORDS.indexOf(a!);
  const y = WORDS.indexOf(b!);
  return { challenge, sid, answer: String(op === 'plus' ? x + y : x - y) };
}

function submit(id: string, user: string, form: { challenge: string; sid: string }, answer: string): string {
  return (
    `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>` +
    `<field var='FORM_TYPE'><value>urn:xmpp:captcha</value></field><field var='from'><value>localhost</value></field>` +
    `<field var='challenge'><value>${form.challenge}</value></field><field var='sid'><value>${form.sid}</value></field>` +
    `<field var='username'><value>${user}</value></field><field var='password'><value>pw-${user}</value></field>` +
    `<field var='qa'><value>${answer}</value></field></x></query></iq>`
  );
}

describe('XEP-0077 registration with a XEP-0158 CAPTCHA', { timeout: 60_000 }, () => {
  it('a right answer makes an account that logs in; a wrong one, a replay, none or another stream\'s challenge make none', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationCaptcha: { enabled: true }, registrationLimit: { attempts: 100 } });
    try {
      const c = await open(server.c2sPort);
      const form = await getForm(c, 'g1');
      assert.equal(form.sid, 'g1', 'sid: the stanza that asked');
      assert.match(form.challenge, /^[A-Za-z0-9_-]{22}$/);
      c.send(submit('s1', 'human', form, form.answer));
      await c.expect(/<iq type="result" id="s1"/);
      assert.equal(await server.storage.accounts.accountExists('human', 'localhost'), true);

      // Replayed: the challenge was spent by its answer.
      c.send(submit('s2', 'replayer', form, form.answer));
      await c.expect(/id="s2"[^>]*type="error".*?<error type="modify"><not-acceptable/);

      // Wrong: refused, and the challenge is spent (a right answer after it fails too).
      const f2 = await getForm(c, 'g2');
      c.send(submit('s3', 'robot', f2, String(Number(f2.answer) + 1)));
      await c.expect(/id="s3"[^>]*type="error".*?<not-acceptable.*?wrong answer/);
      c.send(submit('s4', 'robot', f2, f2.answer));
      await c.expect(/id="s4"[^>]*type="error".*?<not-acceptable/);

      // The legacy fields alone, or a form without its answer: not-acceptable.
      c.send("<iq type='set' id='s5'><query xmlns='jabber:iq:register'><username>legacy</username><password>pw</password></query></iq>");
      await c.expect(/id="s5"[^>]*type="error".*?<not-acceptable.*?answer the CAPTCHA/);
      const f3 = await getForm(c, 'g3');
      c.send(submit('s6', 'noanswer', f3, '').replace("<field var='qa'><value></value></field>", ''));
      await c.expect(/id="s6"[^>]*type="error".*?<not-acceptable/);

      // A challenge issued to one stream cannot be answered on another.
      const d = await open(server.c2sPort);
      d.send(submit('s7', 'thief', f3, f3.answer));
      await d.expect(/id="s7"[^>]*type="error".*?<not-acceptable/);
      d.close();
      c.close();

      for (const user of ['replayer', 'robot', 'legacy', 'noanswer', 'thief']) assert.equal(await server.storage.accounts.accountExists(user, 'localhost'), false, user);
      assert.deepEqual(await server.storage.accounts.listAccounts('localhost'), ['human']);

      const a = await RawClient.connect(server.c2sPort);
      assert.equal(await a.login('human', 'pw-human', 'r'), 'human@localhost/r');
      a.close();
    } finally {
      await server.stop();
    }
  });

  it('bounds the pending challenges: per address, then in all, with resource-constraint', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationCaptcha: { enabled: true, maxPending: 4, maxPerAddress: 3 } });
    try {
      const c = await open(server.c2sPort, '127.0.0.2');
      for (let i = 0; i < 3; i++) await getForm(c, `a${i}`);
      c.send("<iq type='get' id='a3'><query xmlns='jabber:iq:register'/></iq>");
      await c.expect(/id="a3"[^>]*type="error".*?<error type="wait"><resource-constraint/);
      const d = await open(server.c2sPort, '127.0.0.3');
      const form = await getForm(d, 'b0');
      d.send("<iq type='get' id='b1'><query xmlns='jabber:iq:register'/></iq>");
      await d.expect(/id="b1"[^>]*type="error".*?<error type="wait"><resource-constraint/);
      // Answering frees a slot.
      d.send(submit('b2', 'patient', form, form.answer));
      await d.expect(/<iq type="result" id="b2"/);
      await getForm(d, 'b3');
      c.close();
      d.close();
    } finally {
      await server.stop();
    }
  });

  it('counts answers, wrong ones too, against the per-address registration limit', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationCaptcha: { enabled: true }, registrationLimit: { attempts: 2 } });
    try {
      const c = await open(server.c2sPort, '127.0.0.4');
      const f1 = await getForm(c, 'g1');
      c.send(submit('w', 'guess1', f1, String(Number(f1.answer) + 1)));
      await c.expect(/id="w"[^>]*type="error".*?<not-acceptable/);
      const f2 = await getForm(c, 'g2');
      c.send(submit('ok', 'first', f2, f2.answer));
      await c.expect(/<iq type="result" id="ok"/);
      const f3 = await getForm(c, 'g3');
      c.send(submit('over', 'second', f3, f3.answer));
      await c.expect(/id="over"[^>]*type="error".*?<error type="wait"><policy-violation/);
      c.close();
      assert.deepEqual(await server.storage.accounts.listAccounts('localhost'), ['first']);
    } finally {
      await server.stop();
    }
  });

  it('a stream that presented a valid invitation is not asked the CAPTCHA', async () => {
    const server = await startTestServer({ allowPlaintextOnLoopback: true, registration: true, registrationInvites: true, registrationCaptcha: { enabled: true } });
    try {
      const c = await open(server.c2sPort);
      const token = await server.createInvite();
      c.send(`<iq type='set' id='pre'><preauth xmlns='urn:xmpp:pars:0' token='${token}'/></iq>`);
      await c.expect(/<iq type="result" id="pre"/);
      c.send("<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>");
      const form = (await c.expect(/<iq type="result" id="g".*?<\/iq>/))[0];
      assert.doesNotMatch(form, /urn:xmpp:captcha/);
      c.send("<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>invited</username><password>pw</password></query></iq>");
      await c.expect(/<iq type="result" id="r"/);
      c.close();
      // Without one, the CAPTCHA form is offered (the invitation is still required to register).
      const d = await open(server.c2sPort);
      await getForm(d, 'g2');
      d.close();
      assert.deepEqual(await server.storage.accounts.listAccounts('localhost'), ['invited']);
    } finally {
      await server.stop();
    }
  });
});

describe('slixmpp registers through the CAPTCHA form', { timeout: 60_000 }, () => {
  const script = fileURLToPath(new URL('./peers/slixmpp_register.py', import.meta.url));
  const run = (jid: string, wrong: boolean, port: number): Promise<{ ev: string; [k: string]: unknown }[]> =>
    new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/python3', [script, jid, 'sekrit', '127.0.0.1', String(port), process.env.SWITCHBOARD_TEST_TLS_CERT ?? '', wrong ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const timer = setTimeout(() => child.kill(), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        try {
          resolve(out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { ev: string }));
        } catch (e) {
          reject(new Error(`slixmpp said: ${out}\n${err}\n${String(e)}`));
        }
      });
    });

  it('answers the question over TLS, gets the account and logs in; a wrong answer gets none', async () => {
    const server = await startTestServer({ registration: true, registrationCaptcha: { enabled: true } });
    try {
      const ok = await run('slix@localhost', false, server.c2sPort);
      assert.deepEqual(ok.slice(0, 2), [{ ev: 'form', fields: ['FORM_TYPE', 'challenge', 'from', 'password', 'qa', 'sid', 'username'] }, { ev: 'registered' }]);
      assert.equal(ok[2]?.ev, 'online', JSON.stringify(ok));
      assert.match(String(ok[2]?.jid), /^slix@localhost\/./, 'logged in with the new account');
      const bad = await run('bot@localhost', true, server.c2sPort);
      assert.deepEqual(bad.slice(0, 2), [{ ev: 'form', fields: ['FORM_TYPE', 'challenge', 'from', 'password', 'qa', 'sid', 'username'] }, { ev: 'refused', condition: 'not-acceptable' }]);
      assert.deepEqual(await server.storage.accounts.listAccounts('localhost'), ['slix']);
    } finally {
      await server.stop();
    }
  });
});
