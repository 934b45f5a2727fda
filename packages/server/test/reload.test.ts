// SIGHUP and `switchboard reload` (issue #22): the server reads its
// configuration again and applies what it can while clients stay connected.
// A certificate renewed in place (as an ACME client does) serves new
// connections, on direct TLS and STARTTLS, while an established stream keeps
// working; SIGHUP no longer ends the process (it exited 129).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate } from '@switchboard/testkit';
import { RawClient } from './helpers.ts';
import { runCli, startServe } from './serve-process.ts';

const q = (re: RegExp): RegExp => new RegExp(re.source.replace(/'/g, `['"]`));
const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

/** RFC 6120 §5: STARTTLS on the plain port; the certificate the upgrade presents. */
async function starttlsFingerprint(port: number): Promise<string> {
  const plain = connect({ host: '127.0.0.1', port });
  let got = '';
  plain.setEncoding('utf8');
  const onData = (d: string): void => void (got += d);
  plain.on('data', onData);
  const until = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (re.test(got)) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`${re} not seen: ${got}`));
      }, 5000);
    });
  await new Promise((resolve) => plain.once('connect', resolve));
  plain.write(HEADER);
  await until(/<\/stream:features>/);
  plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await until(/<proceed/);
  plain.off('data', onData);
  const secure = tlsConnect({ socket: plain, servername: 'localhost', rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const fingerprint = secure.getPeerCertificate().fingerprint256;
  secure.destroy();
  return fingerprint;
}

const fingerprintOf = (pemFile: string): string => new X509Certificate(readFileSync(pemFile)).fingerprint256;

describe('reload', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-reload-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGHUP re-reads the certificate for new connections while a client stays connected, and applies what it can', async () => {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const a = selfSignedCertificate(join(dir, 'a'));
    const b = selfSignedCertificate(join(dir, 'b'));
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(a.cert, live.cert);
    copyFileSync(a.key, live.key);
    const configFile = join(dir, 'config.json');
    const config = { tlsCert: live.cert, tlsKey: live.key, log: { level: 'info' }, limits: { maxStanzaSize: 262144 }, registration: false };
    writeFileSync(configFile, JSON.stringify(config));
    const d = ['--config', configFile, '--data-dir', join(dir, 'data')];
    assert.equal((await runCli(['user', 'add', 'alice@localhost', '--password-stdin', ...d], 'alice-pw\n')).code, 0);

    const serve = await startServe([...d, '--c2s-port', '0', '--c2s-tls-port', '0', '--ws-port', '-1']);
    try {
      const old = await RawClient.connectTls(serve.directTlsPort!);
      assert.equal(old.fingerprint, fingerprintOf(a.cert));
      assert.equal(await old.login('alice', 'alice-pw', 'stays'), 'alice@localhost/stays');
      assert.equal(await starttlsFingerprint(serve.c2sPort), fingerprintOf(a.cert));

      // Renewed in place, as certbot or acme.sh do; the file also changes a live limit, the level, and a key that needs a restart.
      copyFileSync(b.cert, live.cert);
      copyFileSync(b.key, live.key);
      writeFileSync(configFile, JSON.stringify({ ...config, log: { level: 'debug' }, limits: { maxStanzaSize: 100000 }, registration: true }));
      serve.child.kill('SIGHUP');
      await serve.waitForLog(/"event":"config\.reloaded"/);
      const line = JSON.parse(serve.output().split('\n').find((l) => l.includes('"event":"config.reloaded"'))!) as { applied: string[]; needsRestart: string[]; errors: string[]; msg: string };
      assert.deepEqual(line.errors, []);
      assert.ok(line.applied.some((x) => x.startsWith('TLS certificate')), line.msg);
      assert.ok(line.applied.includes('log.level debug'), line.msg);
      assert.ok(line.applied.includes('limits.maxStanzaSize 100000 (new connections)'), line.msg);
      assert.deepEqual(line.needsRestart, ['registration'], line.msg);
      assert.equal(serve.child.exitCode, null, 'SIGHUP does not end the process');

      const fresh = await RawClient.connectTls(serve.directTlsPort!);
      assert.equal(fresh.fingerprint, fingerprintOf(b.cert), 'a new direct TLS connection sees the new certificate');
      assert.equal(await starttlsFingerprint(serve.c2sPort), fingerprintOf(b.cert), 'so does STARTTLS');
      fresh.close();

      // The established stream was not dropped: it still answers.
      old.send("<iq type='get' id='after-hup' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
      await old.expect(q(/<iq [^>]*id='after-hup'[^>]*type='result'|<iq [^>]*type='result'[^>]*id='after-hup'/));
      assert.equal(old.closed, false);
      await serve.waitForLog(/"level":"debug"/);

      // `switchboard reload` does the same and prints the outcome; a broken certificate is refused and the current one stays.
      writeFileSync(live.cert, '');
      const refused = await runCli(['reload', ...d]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /not applied: TLS certificate: TLS certificate .*live\.crt is empty; the previous certificate stays in use/);
      assert.match(refused.stdout, /needs a restart: registration/);
      const still = await RawClient.connectTls(serve.directTlsPort!);
      assert.equal(still.fingerprint, fingerprintOf(b.cert));
      still.close();
      copyFileSync(b.cert, live.cert);
      const ok = await runCli(['reload', ...d]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^applied: TLS certificate/m);

      old.close();
      assert.equal(await serve.stop('SIGTERM'), 0);
    } finally {
      await serve.stop('SIGKILL');
    }
  });
});
