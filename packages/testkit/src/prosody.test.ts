// The Prosody launcher: its own config, data and self-signed certificate
// under a temp directory, loopback ports, STARTTLS and direct TLS that
// verify against the certificate it reports, and a stop() that leaves
// nothing behind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { startProsody } from './prosody.ts';

const HEADER = `<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

function readUntil(socket: NodeJS.ReadWriteStream, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${text}`)), 5000);
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

describe('startProsody', () => {
  it('serves STARTTLS and direct TLS with an openssl self-signed certificate, and stop() cleans up', async () => {
    const prosody = await startProsody({ users: [{ username: 'alice', password: 'pw' }], certificates: 'openssl' });
    try {
      assert.match(prosody.certificate, /^-----BEGIN CERTIFICATE-----/);
      const plain = netConnect({ host: '127.0.0.1', port: prosody.c2sPort });
      const features = readUntil(plain, /<\/stream:features>/);
      plain.write(HEADER);
      assert.match(await features, /<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]><required\/><\/starttls>/);
      plain.destroy();

      const secure = tlsConnect({ host: '127.0.0.1', port: prosody.directTlsPort, servername: 'localhost', ca: prosody.certificate });
      await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
      assert.equal(secure.authorized, true);
      const tlsFeatures = readUntil(secure, /<\/stream:features>/);
      secure.write(HEADER);
      assert.match(await tlsFeatures, /<mechanism>SCRAM-SHA-1<\/mechanism>/);
      secure.destroy();

      const ws = new WebSocket(prosody.websocketUrl, 'xmpp');
      const wsText: string[] = [];
      const wsFeatures = new Promise<void>((resolve, reject) => {
        ws.on('message', (d: Buffer) => {
          wsText.push(d.toString());
          if (/<\/stream:features>/.test(d.toString())) resolve();
        });
        ws.once('error', reject);
      });
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
      assert.equal(ws.protocol, 'xmpp');
      ws.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`);
      await wsFeatures;
      assert.match(wsText[0]!, /^<open [^>]*xmlns=['"]urn:ietf:params:xml:ns:xmpp-framing['"]/);
      ws.close();
    } finally {
      await prosody.stop();
    }
    const refused = await new Promise<boolean>((resolve) => netConnect({ host: '127.0.0.1', port: prosody.c2sPort }).once('connect', () => resolve(false)).once('error', () => resolve(true)));
    assert.equal(refused, true, 'nothing listens after stop()');
    assert.equal(existsSync(prosody.dir), false, 'the temp directory is removed');
    assert.equal(existsSync(`/proc/${prosody.pid}`), false, 'the process is gone');
  });
});
