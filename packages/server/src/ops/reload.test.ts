import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, mergeConfig } from '../config.ts';
import { applyReload, changedKeys } from './reload.ts';
import type { LogLevel } from '../log.ts';

describe('reload', () => {
  it('names changed keys by path, arrays as leaves', () => {
    const next = mergeConfig(DEFAULT_CONFIG, { limits: { maxDepth: 10 }, admins: ['a@localhost'], log: { level: 'debug' } });
    assert.deepEqual(changedKeys(DEFAULT_CONFIG, next), ['admins', 'limits.maxDepth', 'log.level']);
    assert.deepEqual(changedKeys(DEFAULT_CONFIG, structuredClone(DEFAULT_CONFIG)), []);
  });

  it('applies the level and live limits, names the rest, and keeps what failed out of the config in force', async () => {
    const levels: LogLevel[] = [];
    const limits: number[] = [];
    const next = mergeConfig(DEFAULT_CONFIG, { limits: { maxStanzaSize: 1000, preAuthTotal: 5 }, log: { level: 'warn' }, tlsCert: '/x.crt', tlsKey: '/x.key', c2sPort: 1 });
    const { report, config } = await applyReload(DEFAULT_CONFIG, next, {
      setLogLevel: (l) => void levels.push(l),
      c2s: {
        reloadTls: async () => {
          throw new Error('TLS certificate /x.crt cannot be read');
        },
        applyLimits: (c) => void limits.push(c.limits.maxStanzaSize),
      },
    });
    assert.deepEqual(levels, ['warn']);
    assert.deepEqual(limits, [1000]);
    assert.deepEqual(report.applied, ['limits.maxStanzaSize 1000 (new connections)', 'log.level warn']);
    assert.deepEqual(report.needsRestart, ['c2sPort', 'limits.preAuthTotal']);
    assert.match(report.errors[0]!, /cannot be read; the previous certificate stays in use/);
    // In force now: the applied keys only; the refused certificate and the restart-only keys keep their running values.
    assert.deepEqual(changedKeys(config, next), ['c2sPort', 'limits.preAuthTotal', 'tlsCert', 'tlsKey']);
  });

  it('without a c2s in the process, certificate keys need a restart and limits are not taken', async () => {
    const next = mergeConfig(DEFAULT_CONFIG, { limits: { maxStanzaSize: 1000 } });
    const { report } = await applyReload(DEFAULT_CONFIG, next, { setLogLevel: () => {} });
    assert.deepEqual(report.applied, []);
    assert.deepEqual(report.needsRestart, ['limits.maxStanzaSize']);
  });
});
