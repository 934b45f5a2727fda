// TLS material for the listeners: the operator's certificate, or for a fresh
// install a self-signed one made once and kept in the data directory, so that
// TLS is offered from the first start (RFC 6120 §5.1: STARTTLS is mandatory to
// implement, and we require it before authentication by default).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  context: SecureContext;
  selfSigned: boolean;
}

export async function loadTlsMaterial(options: { domain: string; dataDir: string; certFile?: string; keyFile?: string }): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    const cert = readFileSync(options.certFile, 'utf8');
    const key = readFileSync(options.keyFile, 'utf8');
    return { cert, key, context: createSecureContext({ cert, key }), selfSigned: false };
  }
  const certPath = join(options.dataDir, `${options.domain}.crt`);
  const keyPath = join(options.dataDir, `${options.domain}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(options.dataDir, { recursive: true });
    const pems = await generate([{ name: 'commonName', value: options.domain }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: options.domain }, { type: 2, value: `*.${options.domain}` }] },
      ],
    });
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    writeFileSync(certPath, pems.cert);
  }
  const cert = readFileSync(certPath, 'utf8');
  const key = readFileSync(keyPath, 'utf8');
  return { cert, key, context: createSecureContext({ cert, key, minVersion: 'TLSv1.2' }), selfSigned: true };
}
