// Storage calls timed for the operator (#22: storage latency histograms): each
// port's methods are wrapped once, at the composition root, and publish how
// long a call took, to its settling, on diagnostics channel storageCall.
// Nobody subscribed (metrics off), a call costs one extra function call.

import { performance } from 'node:perf_hooks';
import { channels, type StorageCallMessage } from '../diagnostics.ts';
import type { Storage } from './ports.ts';

const PORTS = ['accounts', 'rosters', 'offline', 'userData', 'archive', 'muc', 'fastTokens'] as const;

/** The same storage, with every port's calls timed. */
export function timedStorage(storage: Storage): Storage {
  const timed: Record<string, unknown> = {};
  for (const port of PORTS) timed[port] = timedPort(port, storage[port] as object);
  return {
    kind: storage.kind,
    ...(timed as Pick<Storage, (typeof PORTS)[number]>),
    close: () => storage.close(),
  };
}

function timedPort<T extends object>(port: string, target: T): T {
  const out: Record<string, unknown> = {};
  for (const name of methodNames(target)) {
    const method = (target as Record<string, (...args: unknown[]) => unknown>)[name]!;
    out[name] = (...args: unknown[]): unknown => {
      if (!channels.storageCall.hasSubscribers) return method.apply(target, args);
      const start = performance.now();
      const done = (): void => channels.storageCall.publish({ port, op: name, seconds: (performance.now() - start) / 1000 } satisfies StorageCallMessage);
      const result = method.apply(target, args);
      if (result instanceof Promise) return result.finally(done);
      done();
      return result;
    };
  }
  // Anything that is not a method (a store's fields) reads through to the store.
  return Object.setPrototypeOf(out, target) as T;
}

/** The methods of a store object and its classes, Object's own left out. */
function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d && typeof d.value === 'function') names.add(name);
    }
  }
  return [...names];
}
