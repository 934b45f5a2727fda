// Debian's ejabberd (23.01) as a third-party server for interop tests, run
// as the test's own instance: config, Mnesia spool, logs and certificate in
// a temp directory; loopback ports; its own Erlang node name and cookie;
// and no epmd (ERL_DIST_PORT: the node listens for distribution on a port
// of its own, which ejabberdctl reaches directly), so nothing is shared
// with the package's instance or with another test. Users are registered
// with `ejabberdctl register` against this node. ejabberdctl runs Erlang as
// the `ejabberd` system user when started by root, so the directory is
// handed to that user.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.ts';
import { selfSignedCertificate } from './certificate.ts';

export interface EjabberdServer {
  /** The Erlang VM's process id (for CPU sampling). */
  readonly pid: number;
  /** STARTTLS port (TLS required). */
  c2sPort: number;
  /** XEP-0368 direct TLS port. */
  directTlsPort: number;
  /** ws://127.0.0.1:PORT/ws */
  websocketUrl: string;
  /** wss://localhost:PORT/ws */
  secureWebsocketUrl: string;
  /** The server's certificate (PEM). */
  certificate: string;
  readonly dir: string;
  /** Registers a user with ejabberdctl against this node. */
  register(username: string, password: string): void;
  stop(): Promise<void>;
}

export interface EjabberdOptions {
  users: { username: string; password: string }[];
  /** PEM files for TLS; default: the test certificate `npm test` makes, else a self-signed one made with openssl. */
  certificates?: { cert: string; key: string } | 'openssl';
  /** Largest stanza the c2s accepts (ejabberd's max_stanza_size; default 65536). */
  maxStanzaSize?: number;
  /** XEP-0198: how long a broken session waits to be resumed, seconds (default 300). */
  resumeTimeoutS?: number;
  /** Extra lines for the `modules:` section, YAML indented by two spaces. */
  modules?: string;
  /** Benchmarks: `user1`…`user<count>` with one password, registered once and copied in Mnesia (as the shared yardstick does). */
  benchUsers?: { count: number; password: string };
  /** Benchmarks: the STARTTLS listener does not require TLS, so SASL PLAIN works over plain TCP on loopback. */
  plaintext?: boolean;
  /** A XEP-0045 service at conference.localhost (mod_muc), for group chat comparisons. */
  muc?: { maxHistory: number };
}

/** Whether the Debian package is installed. */
export function ejabberdInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v ejabberdctl'], { encoding: 'utf8' }).status === 0;
}

export async function startEjabberd(options: EjabberdOptions): Promise<EjabberdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-ejabberd-'));
  const spool = join(dir, 'spool');
  const logs = join(dir, 'logs');
  mkdirSync(spool);
  mkdirSync(logs);
  const given = options.certificates === 'openssl' ? undefined : (options.certificates ?? { cert: process.env.SWITCHBOARD_TEST_TLS_CERT, key: process.env.SWITCHBOARD_TEST_TLS_KEY });
  const { cert, key } = given?.cert && given.key ? { cert: given.cert, key: given.key } : selfSignedCertificate(dir);
  const certificate = readFileSync(cert, 'utf8');
  writeFileSync(join(dir, 'server.pem'), `${certificate.trim()}\n${readFileSync(key, 'utf8').trim()}\n`);
  const [c2sPort, directTlsPort, httpPort, httpsPort, distPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const node = `sb${randomBytes(4).toString('hex')}@localhost`;
  const cookie = randomBytes(16).toString('hex').toUpperCase();
  writeFileSync(
    join(dir, 'ejabberdctl.cfg'),
    `# written by @switchboard/testkit
ERLANG_NODE=${node}
ERL_DIST_PORT=${distPort}
ERL_OPTIONS="-setcookie ${cookie} -env ERL_CRASH_DUMP_BYTES 0"
SPOOL_DIR=${spool}
LOGS_DIR=${logs}
EJABBERD_CONFIG_PATH=${dir}/ejabberd.yml
EJABBERD_PID_PATH=${dir}/ejabberd.pid
CONTRIB_MODULES_PATH=${dir}/contrib
CONTRIB_MODULES_CONF_DIR=${dir}/contrib-conf
INET_DIST_INTERFACE=127.0.0.1
`,
  );
  writeFileSync(join(dir, 'inetrc'), `{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n`);
  const maxStanza = options.maxStanzaSize ?? 65536;
  writeFileSync(
    join(dir, 'ejabberd.yml'),
    `# written by @switchboard/testkit
loglevel: warning
log_rotate_count: 0
hosts:
  - localhost
certfiles:
  - "${dir}/server.pem"
listen:
  -
    port: ${c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: ${maxStanza}
    starttls_required: ${options.plaintext ? 'false' : 'true'}
  -
    port: ${directTlsPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: ${maxStanza}
    tls: true
  -
    port: ${httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /ws: ejabberd_http_ws
  -
    port: ${httpsPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    tls: true
    request_handlers:
      /ws: ejabberd_http_ws
disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"
auth_password_format: scram
auth_scram_hash: sha256
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
shaper_rules:
  max_user_sessions: 10
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_stream_mgmt:
    resend_on_timeout: if_offline
    resume_timeout: ${options.resumeTimeoutS ?? 300}
  mod_carboncopy: {}
  mod_client_state: {}
${options.muc ? mucModule(options.muc.maxHistory) : ''}
${options.modules ?? ''}
`,
  );
  // ejabberdctl started by root runs Erlang as the ejabberd user.
  if (userInfo().uid === 0) {
    const owner = spawnSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' });
    if (owner.status === 0) {
      const uid = Number(owner.stdout.trim());
      const gid = Number(group.stdout.trim());
      for (const p of [dir, spool, logs, join(dir, 'server.pem'), join(dir, 'ejabberd.yml'), join(dir, 'ejabberdctl.cfg'), join(dir, 'inetrc')]) chownSync(p, uid, gid);
    }
  }
  chmodSync(join(dir, 'server.pem'), 0o600);
  const ctlArgs = ['--config-dir', dir, '--ctl-config', join(dir, 'ejabberdctl.cfg'), '--config', join(dir, 'ejabberd.yml'), '--spool', spool, '--logs', logs];
  const ctl = (args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync('ejabberdctl', [...ctlArgs, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, EJABBERD_BYPASS_WARNINGS: 'true' } });

  const child: ChildProcess = spawn('ejabberdctl', [...ctlArgs, 'foreground'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EJABBERD_BYPASS_WARNINGS: 'true' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const logText = (): string => {
    try {
      return readFileSync(join(logs, 'ejabberd.log'), 'utf8') + readFileSync(join(logs, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitForPort(c2sPort, 30_000);
    await waitForPort(directTlsPort, 10_000);
    await waitForPort(httpPort, 10_000);
    // The listeners open before every module has started; ejabberdctl answers once the node is up.
    for (let i = 0; ; i++) {
      const r = ctl(['status']);
      if (r.status === 0) break;
      if (i > 100) throw new Error(`ejabberdctl status: ${String(r.stdout)}${String(r.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    killGroup('SIGKILL');
    await exited;
    const log = logText();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ejabberd did not start: ${(err as Error).message}\n${output}\n${log}`);
  }
  // The VM by its node name: started by root, ejabberdctl runs it through su, in a session (and process group) of its own.
  const pidText = spawnSync('pgrep', ['-f', `beam\\.smp .*-sname ${node}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  const register = (username: string, password: string): void => {
    const r = ctl(['register', username, 'localhost', password]);
    if (r.status !== 0) throw new Error(`ejabberdctl register failed: ${String(r.stderr)}${String(r.stdout)}`);
  };
  for (const u of options.users) register(u.username, u.password);
  if (options.benchUsers) {
    register('user1', options.benchUsers.password);
    copyUser(node, cookie, distPort, options.benchUsers.count);
  }
  return {
    pid: Number(pidText) || child.pid!,
    c2sPort,
    directTlsPort,
    websocketUrl: `ws://127.0.0.1:${httpPort}/ws`,
    secureWebsocketUrl: `wss://localhost:${httpsPort}/ws`,
    certificate,
    dir,
    register,
    async stop() {
      ctl(['stop']);
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      killGroup('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** mod_muc at conference.localhost with room limits out of the way of a benchmark (500 occupants, 50 history). */
function mucModule(maxHistory: number): string {
  return `  mod_muc:
    host: conference.localhost
    access: all
    access_create: local
    access_persistent: local
    history_size: ${maxHistory}
    max_users: 100000
    max_users_presence: 100000
    max_user_conferences: 100
    default_room_options:
      mam: false
`;
}

/**
 * user2…user<count> as copies of user1's Mnesia record (salt, keys,
 * iterations): the same work per login as registering each, without hashing
 * the password thousands of times. Done from a hidden Erlang node that
 * reaches ours on its distribution port, as ejabberdctl does.
 */
function copyUser(node: string, cookie: string, distPort: number, count: number): void {
  const script = `
    Node = list_to_atom("${node}"),
    Host = <<"localhost">>,
    [Rec] = rpc:call(Node, mnesia, dirty_read, [passwd, {<<"user1">>, Host}]),
    Copy = fun(I) ->
        U = list_to_binary("user" ++ integer_to_list(I)),
        Key = setelement(1, element(2, Rec), U),
        ok = rpc:call(Node, mnesia, dirty_write, [setelement(2, Rec, Key)])
    end,
    lists:foreach(Copy, lists:seq(2, ${count})),
    halt(0).`;
  const r = spawnSync(
    'erl',
    ['-sname', `sbreg${randomBytes(3).toString('hex')}@localhost`, '-setcookie', cookie, '-start_epmd', 'false', '-erl_epmd_port', String(distPort), '-dist_listen', 'false', '-hidden', '-noshell', '-eval', script],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`copying ejabberd bench users failed: ${r.stderr}${r.stdout}`);
}
