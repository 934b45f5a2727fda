// `switchboard user …` against a real SQLite store in a temporary data directory.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PassThrough, Readable } from 'node:stream';
import { verifyPlainPassword } from '../auth/scram-credentials.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../config.ts';
import { openStorage } from '../storage/open.ts';
import { userCommand } from './user.ts';

const root = mkdtempSync(join(tmpdir(), 'switchboard-user-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshConfig = (): ServerConfig => ({ ...DEFAULT_CONFIG, domain: 'localhost', dataDir: join(root, `data${++dirs}`) });

/**
 * Runs the command with no server running (the store path) and collects what it printed; `err`
 * leaves out the line naming the path taken and the warning for a password in argv, `notes` has them.
 */
async function user(config: ServerConfig, ...args: string[]): Promise<{ code: number; out: string[]; err: string[]; notes?: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const notes: string[] = [];
  const stdin = Object.assign(Readable.from([]), { isTTY: false });
  const code = await userCommand(args, config, {
    io: { out: (l) => out.push(l), err: (l) => (l.startsWith('switchboard: ') ? notes : err).push(l) },
    passwordIo: { stdin, prompt: new PassThrough() },
  });
  return Object.defineProperty({ code, out, err }, 'notes', { value: notes, enumerable: false });
}

async function credentialsOf(config: ServerConfig, local: string) {
  const storage = await openStorage(config);
  try {
    return (await storage.accounts.getAccount(local, config.domain))?.credentials;
  } finally {
    await storage.close();
  }
}

describe('switchboard user', () => {
  it('add, list, passwd, remove', async () => {
    const config = freshConfig();
    assert.deepEqual(await user(config, 'add', 'alice@localhost', 'first-pw'), { code: 0, out: ['added alice@localhost'], err: [] });
    assert.deepEqual(await user(config, 'add', 'alice@localhost', 'other'), { code: 1, out: [], err: ['alice@localhost already exists'] });
    assert.equal((await user(config, 'add', 'Bob@LocalHost', 'pw')).code, 0, 'the JID is prepared (RFC 7622)');
    assert.deepEqual(await user(config, 'list'), { code: 0, out: ['alice@localhost', 'bob@localhost'], err: [] });
    assert.deepEqual(await user(config, 'list', 'LOCALHOST'), { code: 0, out: ['alice@localhost', 'bob@localhost'], err: [] });
    assert.deepEqual(await user(config, 'list', 'elsewhere.example'), { code: 0, out: [], err: [] });

    assert.equal(await verifyPlainPassword(await credentialsOf(config, 'alice'), 'first-pw'), true);
    assert.deepEqual(await user(config, 'passwd', 'alice@localhost', 'second-pw'), { code: 0, out: ['password changed for alice@localhost'], err: [] });
    const changed = await credentialsOf(config, 'alice');
    assert.equal(await verifyPlainPassword(changed, 'second-pw'), true);
    assert.equal(await verifyPlainPassword(changed, 'first-pw'), false);
    assert.deepEqual(await user(config, 'passwd', 'nobody@localhost', 'x'), { code: 1, out: [], err: ['no such account: nobody@localhost'] });

    assert.deepEqual(await user(config, 'remove', 'alice@localhost'), { code: 0, out: ['removed alice@localhost'], err: [] });
    assert.deepEqual(await user(config, 'remove', 'alice@localhost'), { code: 1, out: [], err: ['no such account: alice@localhost'] });
    assert.deepEqual((await user(config, 'list')).out, ['bob@localhost']);
  });

  it('says which path it took, and warns about a password in argv', async () => {
    const config = freshConfig();
    const r = await user(config, 'add', 'frank@localhost', 'pw-in-argv');
    assert.equal(r.code, 0);
    assert.match(r.notes!.join('\n'), /a password on the command line can be read by other local users/);
    assert.match(r.notes!.join('\n'), /in the store directly \(no server answers on .*admin\.sock\)/);
  });

  it('never stores or prints the password', async () => {
    const config = freshConfig();
    const password = 'correct-horse-battery-staple-42';
    const runs = [await user(config, 'add', 'carol@localhost', password), await user(config, 'passwd', 'carol@localhost', password), await user(config, 'list')];
    for (const r of runs) assert.ok(![...r.out, ...r.err].some((l) => l.includes(password)));
    for (const file of readdirSync(config.dataDir)) {
      assert.ok(!readFileSync(join(config.dataDir, file)).includes(password), `${file} holds the password`);
    }
  });

  it('refuses bad usage with exit code 2 and opens no store', async () => {
    const config = freshConfig();
    const cases: [string[], RegExp][] = [
      [[], /usage/],
      [['frobnicate'], /usage/],
      [['add'], /usage/],
      [['add', 'dave@localhost'], /no password given: pipe it in with --password-stdin/],
      [['add', 'dave@localhost', 'pw', 'extra'], /usage/],
      [['remove', 'dave@localhost', 'pw'], /usage/],
      [['add', 'dave@localhost/phone', 'pw'], /not a bare JID/],
      [['add', 'localhost', 'pw'], /not a bare JID/],
      [['add', 'dave@elsewhere.example', 'pw'], /not on the served domain localhost/],
      [['add', 'da ve@localhost', 'pw'], /invalid JID/],
      [['add', 'dave@localhost', ''], /usage|password/],
      [['add', 'dave@localhost', '\u0007'], /SASLprep/],
      [['list', 'bad domain!'], /invalid domain/],
    ];
    for (const [args, message] of cases) {
      const r = await user(config, ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match([...r.err, ...r.notes!].join('\n'), message, args.join(' '));
      assert.deepEqual(r.out, []);
    }
    assert.throws(() => readdirSync(config.dataDir), /ENOENT/, 'nothing was opened');
  });

  it('runs from the command line with flags around its words', async () => {
    const dataDir = join(root, 'cli');
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const run = promisify(execFile);
    const env = { ...process.env, SWITCHBOARD_DOMAIN: 'example.test' };
    const adding = run(process.execPath, ['--import', 'tsx', main, 'user', '--data-dir', dataDir, 'add', 'erin@example.test', '--password-stdin'], { env });
    adding.child.stdin!.end('pw from stdin\n');
    const added = await adding;
    assert.equal(added.stdout, 'added erin@example.test\n');
    assert.doesNotMatch(added.stderr, /warning/, 'no warning for a password from stdin');
    const listed = await run(process.execPath, ['--import', 'tsx', main, 'user', 'list', '--data-dir', dataDir], { env });
    assert.equal(listed.stdout, 'erin@example.test\n');
  });
});
