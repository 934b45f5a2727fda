// The certificate a third-party server started by a test presents when the test gives none.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed certificate for localhost and 127.0.0.1, valid for two days. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'self-signed.crt');
  const key = join(dir, 'self-signed.key');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { cert, key };
}
