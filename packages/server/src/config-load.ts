// Loading the configuration: defaults (config.ts), then a JSON file, then
// environment variables, then flags; each layer validated against the schema
// (config-schema.ts) as it is read, so a mistake is refused naming the key,
// where it came from, and — for a misspelt key or flag — what was probably
// meant. Errors are ConfigError values with code SB_ERR_CONFIG; the CLI
// prints the message and exits 2.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CONFIG, mergeConfig, type ConfigOverrides, type ServerConfig } from './config.ts';
import { configSchema } from './config-schema.ts';

const CONFIG_ERROR = Symbol.for('switchboard.ConfigError');

export class ConfigError extends Error {
  readonly code = 'SB_ERR_CONFIG';
  readonly [CONFIG_ERROR] = true;
}

export function isConfigError(err: unknown): err is ConfigError {
  return typeof err === 'object' && err !== null && CONFIG_ERROR in err;
}

type LeafKind = { type: 'string' } | { type: 'number' } | { type: 'boolean' } | { type: 'enum'; values: string[] };

/** One setting reachable from the environment and the command line. */
export interface Setting {
  path: string[];
  flag: string;
  env: string;
  kind: LeafKind;
  description: string;
}

const kebab = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const snake = (key: string): string => kebab(key).replace(/-/g, '_').toUpperCase();

/** The schema's type, through optional and default wrappers. */
function leafKind(schema: z.ZodType): LeafKind | undefined {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; entries?: Record<string, string> } }).def;
  switch (def.type) {
    case 'optional':
    case 'default':
      return leafKind(def.innerType!);
    case 'string':
      return { type: 'string' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'enum', values: Object.values(def.entries!) };
    default:
      return undefined;
  }
}

function isSection(schema: z.ZodType): schema is z.ZodObject {
  return (schema as unknown as { def: { type: string } }).def.type === 'object';
}

/** Every scalar key of the schema, with its flag and environment variable made from its path. */
export const SETTINGS: readonly Setting[] = (() => {
  const out: Setting[] = [];
  const walk = (shape: Record<string, z.ZodType>, path: string[]): void => {
    for (const [key, schema] of Object.entries(shape)) {
      const p = [...path, key];
      if (isSection(schema)) walk(schema.shape as Record<string, z.ZodType>, p);
      else {
        const kind = leafKind(schema);
        if (kind) out.push({ path: p, flag: `--${p.map(kebab).join('.')}`, env: `SWITCHBOARD_${p.map(snake).join('__')}`, kind, description: schema.description ?? '' });
      }
    }
  };
  walk(configSchema.shape as Record<string, z.ZodType>, []);
  return out;
})();

/** Short names kept from before the schema, and the cluster settings that fill a union. */
interface Alias {
  flag: string;
  env: string;
  takesValue: boolean;
  description: string;
  apply: (o: ConfigOverrides, v: string) => void;
}
const ALIASES: readonly Alias[] = [
  {
    flag: '--channel-binding-on',
    env: 'SWITCHBOARD_CHANNEL_BINDING_ON',
    takesValue: true,
    description: 'Listeners offering SCRAM-*-PLUS: starttls,direct-tls, one of them, or none.',
    apply: (o, v) => {
      const listeners = v.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none');
      for (const l of listeners) if (l !== 'starttls' && l !== 'direct-tls') throw new ConfigError(`--channel-binding-on: invalid listener ${JSON.stringify(l)} (starttls, direct-tls or none)`);
      o.channelBindingOn = listeners as ServerConfig['channelBindingOn'];
    },
  },
  {
    flag: '--ws-trusted-proxies',
    env: 'SWITCHBOARD_WS_TRUSTED_PROXIES',
    takesValue: true,
    description: 'Same as wsTrustedProxies, comma-separated: 127.0.0.1,::1,10.0.0.0/8.',
    apply: (o, v) => (o.wsTrustedProxies = v.split(',').map((s) => s.trim()).filter((s) => s !== '')),
  },
  { flag: '--bind', env: 'SWITCHBOARD_BIND', takesValue: true, description: 'Same as --bind-address.', apply: (o, v) => (o.bindAddress = v) },
  { flag: '--c2s-tls-port', env: 'SWITCHBOARD_C2S_TLS_PORT', takesValue: true, description: 'Same as --c2s-direct-tls-port.', apply: (o, v) => (o.c2sDirectTlsPort = toNumber('--c2s-tls-port', v)) },
  { flag: '--log-level', env: 'SWITCHBOARD_LOG_LEVEL', takesValue: true, description: 'Same as --log.level.', apply: (o, v) => (o.log = { ...o.log, level: v as ServerConfig['log']['level'] }) },
  { flag: '--postgres', env: 'SWITCHBOARD_POSTGRES_URL', takesValue: true, description: 'Store in PostgreSQL at this URL.', apply: (o, v) => (o.storage = { kind: 'postgres', url: v }) },
  {
    flag: '--nats',
    env: 'SWITCHBOARD_NATS_URL',
    takesValue: true,
    description: 'Route over NATS at this URL (a cluster).',
    apply: (o, v) => (o.router = { kind: 'nats', url: v, prefix: o.router?.kind === 'nats' ? o.router.prefix : 'switchboard' }),
  },
  {
    flag: '--nats-prefix',
    env: 'SWITCHBOARD_NATS_PREFIX',
    takesValue: true,
    description: 'NATS subject prefix (one per cluster).',
    apply: (o, v) => (o.router = { kind: 'nats', url: o.router?.kind === 'nats' ? o.router.url : 'nats://127.0.0.1:4222', prefix: v }),
  },
];

/** Flags the CLI reads itself. */
const CLI_FLAGS = ['--config', '--help', '--version'];
/** Environment variables with our prefix that are not settings (tests, benchmarks, the config file's path). */
const OTHER_ENV = /^SWITCHBOARD_(CONFIG|TEST_.*|BENCH_.*|ALLOC_PROFILE|LOG_FORMAT)$/;

function toNumber(where: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${where}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function toBoolean(where: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
}

function coerce(where: string, setting: Setting, v: string): string | number | boolean {
  switch (setting.kind.type) {
    case 'number':
      return toNumber(where, v);
    case 'boolean':
      return toBoolean(where, v);
    case 'enum':
      if (!setting.kind.values.includes(v)) throw new ConfigError(`${where}: expected one of ${setting.kind.values.join(', ')}, got ${JSON.stringify(v)}`);
      return v;
    default:
      return v;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = value;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${best}?)` : '';
}

/** The schema with every key optional, sections partial: what one layer (a file) may hold. */
const overridesSchema = z.strictObject(
  Object.fromEntries(Object.entries(configSchema.shape as Record<string, z.ZodType>).map(([k, s]) => [k, (isSection(s) ? s.partial() : s).optional()])),
);

function describeValue(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let node = root;
  for (const key of path) node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}

/** Zod's issues as one message per line, each naming the key and where it came from. */
function explain(issues: z.core.$ZodIssue[], input: unknown, where: string): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const section = valueAt(configSchema.shape, issue.path.flatMap((p) => [p, 'shape'])) as Record<string, unknown> | undefined;
        const known = Object.keys(section ?? configSchema.shape);
        return issue.keys.map((k) => `${where}: unknown key "${path ? `${path}.` : ''}${k}"${suggest(k, known)}`).join('\n');
      }
      const got = describeValue(valueAt(input, issue.path));
      if (issue.code === 'invalid_type') return `${where}: "${path}" must be ${issue.expected === 'number' ? 'a number' : issue.expected === 'boolean' ? 'true or false' : `a ${issue.expected}`}, not ${got}`;
      return `${where}: "${path}" ${issue.message.replace(/^Invalid input: /, '')} (got ${got})`;
    })
    .join('\n');
}

function validateLayer(layer: unknown, where: string): ConfigOverrides {
  const result = overridesSchema.safeParse(layer);
  if (!result.success) throw new ConfigError(explain(result.error.issues, layer, where));
  return result.data as ConfigOverrides;
}

function readFileLayer(file: string): ConfigOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file}: must hold a JSON object`);
  return validateLayer(parsed, `config file ${file}`);
}

function envLayer(env: NodeJS.ProcessEnv): { overrides: ConfigOverrides; unknown: string[] } {
  const raw: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const s of SETTINGS) {
    known.add(s.env);
    const v = env[s.env];
    if (v !== undefined && v !== '') setPath(raw, s.path, coerce(s.env, s, v));
  }
  const overrides = validateLayer(raw, 'environment');
  for (const a of ALIASES) {
    known.add(a.env);
    const v = env[a.env];
    if (v !== undefined && v !== '') a.apply(overrides, v);
  }
  const unknown = Object.keys(env).filter((k) => k.startsWith('SWITCHBOARD_') && !known.has(k) && !OTHER_ENV.test(k));
  return { overrides, unknown };
}

export interface CommandLine {
  config: ServerConfig;
  /** Words that are not flags (a subcommand's arguments). */
  positional: string[];
  help: boolean;
  version: boolean;
  /** Problems worth a warning that do not stop the start (unknown SWITCHBOARD_* variables). */
  warnings: string[];
}

/** Reads defaults, `--config FILE` (or SWITCHBOARD_CONFIG), the environment and flags (`--flag value`, `--flag=value`; booleans take no value). */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CommandLine {
  const positional: string[] = [];
  const rawFlags: Record<string, unknown> = {};
  const aliasValues: [Alias, string][] = [];
  let file = env.SWITCHBOARD_CONFIG || undefined;
  let help = false;
  let version = false;
  const allFlags = [...SETTINGS.map((s) => s.flag), ...ALIASES.map((a) => a.flag), ...CLI_FLAGS];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '-V' || arg === '--version') {
      version = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`${name} needs a value`);
      i++;
      return next;
    };
    if (name === '--config') {
      file = takeValue();
      continue;
    }
    const setting = SETTINGS.find((s) => s.flag === name);
    if (setting) {
      // A boolean flag alone means true; `--flag=false`, or a following 1/0/true/false/yes/no/on/off, sets it.
      const bare = setting.kind.type === 'boolean' && inline === undefined && !/^(1|0|true|false|yes|no|on|off)$/i.test(argv[i + 1] ?? '');
      const value = bare ? true : coerce(name, setting, takeValue());
      setPath(rawFlags, setting.path, value);
      continue;
    }
    const alias = ALIASES.find((a) => a.flag === name);
    if (alias) {
      aliasValues.push([alias, takeValue()]);
      continue;
    }
    throw new ConfigError(`unknown flag ${name}${suggest(name, allFlags)}; see --help`);
  }

  let config = DEFAULT_CONFIG;
  if (file) config = mergeConfig(config, readFileLayer(file));
  const fromEnv = envLayer(env);
  config = mergeConfig(config, fromEnv.overrides);
  const fromFlags = validateLayer(rawFlags, 'command line');
  for (const [alias, v] of aliasValues) alias.apply(fromFlags, v);
  config = mergeConfig(config, fromFlags);

  const checked = configSchema.safeParse(config);
  if (!checked.success) throw new ConfigError(explain(checked.error.issues, config, 'configuration'));
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(
      config.tlsCert !== undefined
        ? `--tls-cert (tlsCert) is set but --tls-key (tlsKey) is not: give both files, or neither for a self-signed pair`
        : `--tls-key (tlsKey) is set but --tls-cert (tlsCert) is not: give both files, or neither for a self-signed pair`,
    );
  }
  const warnings = fromEnv.unknown.map((k) => `unknown environment variable ${k}${suggest(k, [...SETTINGS.map((s) => s.env), ...ALIASES.map((a) => a.env)])}, ignored`);
  return { config: { ...config, dataDir: resolve(config.dataDir) }, positional, help, version, warnings };
}

/** The config alone (for callers that take no positional words). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return parseCommandLine(argv, env).config;
}

/** `--help`'s list of settings, made from the schema. */
export function settingsHelp(): string {
  const lines: string[] = [];
  const defaults = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  for (const s of SETTINGS) {
    const type = s.kind.type === 'enum' ? s.kind.values.join('|') : s.kind.type === 'boolean' ? '' : s.kind.type === 'number' ? 'N' : 'VALUE';
    const def = valueAt(defaults, s.path);
    lines.push(`  ${`${s.flag}${type ? ` ${type}` : ''}`.padEnd(38)} ${s.description}${def === undefined ? '' : ` [${JSON.stringify(def)}]`}`);
  }
  for (const a of ALIASES) lines.push(`  ${`${a.flag}${a.takesValue ? ' VALUE' : ''}`.padEnd(38)} ${a.description}`);
  return lines.join('\n');
}
