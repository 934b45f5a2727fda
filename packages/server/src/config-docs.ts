// docs/configuration.md, made from the schema (config-schema.ts) and the
// defaults (config.ts): `npm run docs:config` writes it, and
// test/config.test.ts fails when the file and this output differ.

import { DEFAULT_CONFIG } from './config.ts';
import { configSchema } from './config-schema.ts';
import { SETTINGS } from './config-load.ts';
import type { z } from 'zod';

function describe(schema: z.ZodType): string {
  return (schema.description ?? '').replace(/\|/g, '\\|');
}

function valueAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function code(v: unknown): string {
  return v === undefined ? '(unset)' : `\`${JSON.stringify(v).replace(/\|/g, '\\|')}\``;
}

export function configurationMarkdown(): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from packages/server/src/config-schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Settings come from the defaults below, then a JSON file (`--config FILE` or `SWITCHBOARD_CONFIG`),',
    'then environment variables, then flags; later layers win. Each layer is checked against the schema:',
    'an unknown key or flag is refused with the nearest known name, a value of the wrong type is refused',
    "naming the key and where it came from, and `serve` exits with status 2. A key's flag is its path in",
    'kebab case (`--offline-quota`, `--limits.max-stanza-size`), its variable the path in upper snake case',
    'with `__` between levels (`SWITCHBOARD_OFFLINE_QUOTA`, `SWITCHBOARD_LIMITS__MAX_STANZA_SIZE`); a boolean',
    'flag alone means true (`--registration`, `--registration=false`). Lists and the `router`/`storage` objects',
    'are set in the file (or with `--nats`, `--nats-prefix`, `--postgres`).',
    '',
    'Short flags kept from earlier versions: `--bind` (bindAddress), `--c2s-tls-port` (c2sDirectTlsPort),',
    '`--log-level` (log.level), `--postgres URL`, `--nats URL`, `--nats-prefix P` (and their variables',
    '`SWITCHBOARD_BIND`, `SWITCHBOARD_C2S_TLS_PORT`, `SWITCHBOARD_LOG_LEVEL`, `SWITCHBOARD_POSTGRES_URL`,',
    '`SWITCHBOARD_NATS_URL`, `SWITCHBOARD_NATS_PREFIX`).',
    '',
    '| key | default | flag / environment | description |',
    '|---|---|---|---|',
  ];
  const shape = configSchema.shape as Record<string, z.ZodType>;
  const row = (path: string[], schema: z.ZodType): void => {
    const setting = SETTINGS.find((s) => s.path.join('.') === path.join('.'));
    const where = setting ? `\`${setting.flag}\`<br>\`${setting.env}\`` : 'file only';
    out.push(`| \`${path.join('.')}\` | ${code(valueAt(DEFAULT_CONFIG, path))} | ${where} | ${describe(schema)} |`);
  };
  for (const [key, schema] of Object.entries(shape)) {
    const def = (schema as unknown as { def: { type: string } }).def;
    if (def.type === 'object') {
      for (const [sub, subSchema] of Object.entries((schema as z.ZodObject).shape as Record<string, z.ZodType>)) row([key, sub], subSchema);
    } else row([key], schema);
  }
  out.push('');
  return out.join('\n');
}
