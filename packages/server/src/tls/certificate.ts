// TLS material for the listeners: the operator's certificate, or for a fresh
// install a self-signed one made once and kept in the data directory, so that
// TLS is offered from the first start (RFC 6120 §5.1: STARTTLS is mandatory to
// implement, and we require it before authentication by default).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  context: SecureContext;
  selfSigned: boolean;
  /** What a start should warn about (names not covered, near expiry). */
  warnings: string[];
}

export async function loadTlsMaterial(options: { domain: string; dataDir: string; certFile?: string; keyFile?: string }): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    const cert = readPem(options.certFile, 'certificate');
    const key = readPem(options.keyFile, 'key');
    const warnings = checkCertificate(cert, key, options.certFile, options.keyFile, options.domain);
    return { cert, key, context: createSecureContext({ cert, key, minVersion: 'TLSv1.2' }), selfSigned: false, warnings };
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
  return { cert, key, context: createSecureContext({ cert, key, minVersion: 'TLSv1.2' }), selfSigned: true, warnings: [] };
}

/** A certificate or key the server cannot use: the message names the file and what is wrong. */
export class TlsConfigError extends Error {
  readonly code = 'SB_ERR_TLS_CONFIG';
}

function readPem(file: string, what: 'certificate' | 'key'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`TLS ${what} ${file} cannot be read: ${(err as Error).message}`);
  }
  const marker = what === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
  if (text.trim() === '') throw new TlsConfigError(`TLS ${what} ${file} is empty`);
  if (!marker.test(text)) throw new TlsConfigError(`TLS ${what} ${file} holds no PEM ${what}`);
  return text;
}

/**
 * Refuses what cannot work (unparseable, a key that is not the certificate's,
 * expired or not yet valid) and returns warnings for what may not: names
 * the certificate does not cover. An ACME client's files (fullchain.pem,
 * privkey.pem) work as they are; SIGHUP reloads them after renewal.
 */
export function checkCertificate(certPem: string, keyPem: string, certFile: string, keyFile: string, domain: string, now = new Date()): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new TlsConfigError(`TLS certificate ${certFile} does not parse: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new TlsConfigError(`TLS key ${keyFile} does not parse: ${(err as Error).message}`);
  }
  if (!cert.checkPrivateKey(key)) throw new TlsConfigError(`TLS key ${keyFile} does not belong to the certificate ${certFile}`);
  if (new Date(cert.validTo) < now) throw new TlsConfigError(`TLS certificate ${certFile} expired on ${new Date(cert.validTo).toISOString()}`);
  if (new Date(cert.validFrom) > now) throw new TlsConfigError(`TLS certificate ${certFile} is not valid before ${new Date(cert.validFrom).toISOString()}`);
  const warnings: string[] = [];
  // RFC 6125 / RFC 7590: clients check the domain (and, for services, their subdomains).
  if (cert.checkHost(domain) === undefined) warnings.push(`TLS certificate ${certFile} does not cover ${domain} (it names ${cert.subjectAltName ?? cert.subject})`);
  const days = (new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000;
  if (days < 14) warnings.push(`TLS certificate ${certFile} expires in ${Math.floor(days)} days`);
  return warnings;
}
