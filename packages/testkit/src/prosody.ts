// Debian's Prosody as a third-party server for interop tests: its own
// config, data and ports under a temp directory, loopback only, stopped by
// the test. TLS uses the test certificate that `npm test` makes and trusts
// (NODE_EXTRA_CA_CERTS), or outside `npm test` a self-signed certificate
// made with `openssl req` in the temp directory (ProsodyServer.certificate).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.ts';
import { selfSignedCertificate } from './certificate.ts';

export interface ProsodyServer {
  /** The prosody process (for CPU and memory sampling). */
  readonly pid: number;
  /** Kills the server (every socket dies with it) and starts it again on the same ports and data. */
  restart(): Promise<void>;
  c2sPort: number;
  /** The temp directory holding config, data, certificate and log (removed by stop()); with `archive`, prosody.sqlite. */
  readonly dir: string;
  /** The server's certificate (PEM), for a client's trusted CA in tests. */
  certificate: string;
  /** XEP-0368 direct TLS port. */
  directTlsPort: number;
  httpPort: number;
  /** ws://127.0.0.1:PORT/xmpp-websocket */
  websocketUrl: string;
  stop(): Promise<void>;
}

export interface ProsodyOptions {
  users: { username: string; password: string }[];
  /** Benchmark profile: user1..userN with one password, created by copying one account file (as fast as it gets). */
  benchUsers?: { count: number; password: string };
  /** Benchmark profile: SASL PLAIN without TLS (loopback only). */
  plaintext?: boolean;
  /** PEM files for TLS; default: the test certificate `npm test` makes, else a self-signed one made with openssl. */
  certificates?: { cert: string; key: string } | 'openssl';
  /** A XEP-0045 service at conference.localhost (Prosody's mod_muc), for group chat comparisons. */
  muc?: { maxHistory: number };
  /**
   * XEP-0313 with Prosody's mod_mam, its archive in SQL storage (mod_storage_sql, SQLite at
   * `<dir>/prosody.sqlite`; needs Debian's lua-dbi-sqlite3), kept forever, every chat archived.
   */
  archive?: 'sqlite';
}

export async function startProsody(options: ProsodyOptions): Promise<ProsodyServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-prosody-'));
  chmodSync(dir, 0o755);
  const given = options.certificates === 'openssl' ? undefined : (options.certificates ?? { cert: process.env.SWITCHBOARD_TEST_TLS_CERT, key: process.env.SWITCHBOARD_TEST_TLS_KEY });
  const { cert, key } = given?.cert && given.key ? { cert: given.cert, key: given.key } : selfSignedCertificate(dir);
  const c2sPort = await freePort();
  const httpPort = await freePort();
  const directTlsPort = await freePort();
  writeFileSync(join(dir, 'localhost.crt'), readFileSync(cert));
  writeFileSync(join(dir, 'localhost.key'), readFileSync(key));
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    config,
    `-- written by @switchboard/testkit
run_as_root = true
daemonize = false
pidfile = "${dir}/prosody.pid"
data_path = "${dir}"
log = { { levels = { min = "warn" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
c2s_direct_tls_ports = { ${directTlsPort} }
c2s_direct_tls_ssl = { certificate = "${dir}/localhost.crt", key = "${dir}/localhost.key" }
s2s_ports = {}
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = {}
component_ports = {}
admin_shell_socket = "${dir}/prosody.sock"
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "smacks", "websocket", "http"${options.archive ? ', "mam"' : ''} }
modules_disabled = { "s2s", "offline", "c2s_bosh", "admin_shell", "posix" }
authentication = "internal_hashed"
c2s_require_encryption = ${options.plaintext ? 'false' : 'true'}
allow_unencrypted_plain_auth = ${options.plaintext ? 'true' : 'false'}
limits = { c2s = { rate = "100mb/s" } }
consider_websocket_secure = true
cross_domain_websocket = true
smacks_hibernation_time = 60
${options.archive ? `storage = { archive = "sql" }
sql = { driver = "SQLite3", database = "prosody.sqlite" }
archive_expires_after = "never"
default_archive_policy = true
` : ''}certificates = "${dir}"
VirtualHost "localhost"
  ssl = { certificate = "${dir}/localhost.crt", key = "${dir}/localhost.key" }
${options.muc ? `Component "conference.localhost" "muc"\n  max_history_messages = ${options.muc.maxHistory}\n  muc_room_default_history_length = ${options.muc.maxHistory}\n  muc_max_occupants = 100000\n` : ''}`,
  );
  const register = (username: string, password: string): void => {
    const r = spawnSync('prosodyctl', ['--config', config, 'register', username, 'localhost', password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`prosodyctl register failed: ${r.stderr}${r.stdout}`);
  };
  for (const u of options.users) register(u.username, u.password);
  if (options.benchUsers) {
    register('user1', options.benchUsers.password);
    const accounts = join(dir, 'localhost', 'accounts');
    const first = readFileSync(join(accounts, 'user1.dat'));
    for (let i = 2; i <= options.benchUsers.count; i++) writeFileSync(join(accounts, `user${i}.dat`), first);
  }
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn('prosody', ['--config', config, '-F'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitForPort(c2sPort);
      await waitForPort(httpPort);
    } catch (err) {
      child.kill('SIGKILL');
      let log = '';
      try {
        log = readFileSync(join(dir, 'prosody.log'), 'utf8');
      } catch {
        // no log yet
      }
      throw new Error(`prosody did not start: ${(err as Error).message}\n${stderr}\n${log}`);
    }
  };
  const kill = (): Promise<void> =>
    new Promise<void>((resolve) => {
      // A process that died of a signal (killed from outside) has signalCode set and exitCode null.
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    get pid() {
      return child.pid!;
    },
    async restart() {
      await kill();
      await launch();
    },
    c2sPort,
    dir,
    certificate: readFileSync(join(dir, 'localhost.crt'), 'utf8'),
    directTlsPort,
    httpPort,
    websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
