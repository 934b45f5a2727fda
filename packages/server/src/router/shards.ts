// Which sm shard owns a user (#17, docs/protocol.md "Shards"). Users are
// spread over `count` shards by a stable hash of the bare JID, as jabberd2
// shards its sm: the first four bytes of SHA-1(bare JID) as an unsigned
// integer, modulo the count. Every process of a cluster must agree on the
// count; each shard is one router address, owned by one sm at a time
// (router/shard-claims.ts). With one shard the address is plain `sm`, as it
// was before sharding, so a single process and an unsharded cluster are unchanged.

import { createHash } from 'node:crypto';
import type { ComponentAddress } from './router.ts';

export const SM_ADDRESS = 'sm';
const SHARD_PREFIX = 'sm/shard-';

/** The router address of shard `index` of `count`. */
export function shardAddress(index: number, count: number): ComponentAddress {
  return count === 1 ? SM_ADDRESS : `${SHARD_PREFIX}${index}`;
}

/** Whether an address is an sm's (the unsharded `sm` or one shard's). */
export function isSmAddress(address: ComponentAddress): boolean {
  return address === SM_ADDRESS || address.startsWith(SHARD_PREFIX);
}

/** The shard of a bare JID: SHA-1 of it, first four bytes big-endian, modulo `count`. */
export function shardOf(bareJid: string, count: number): number {
  if (count === 1) return 0;
  return createHash('sha1').update(bareJid).digest().readUInt32BE(0) % count;
}

/** The bare JID of a JID string (no parsing beyond the separators: the JIDs here were prepared already). */
export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/** The shards of a cluster, as every component that routes to an sm sees them. */
export class ShardMap {
  constructor(readonly count = 1) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`shards must be a positive integer, not ${count}`);
  }

  /** The address of the sm that owns the user of `jid` (full or bare). */
  addressOf(jid: string): ComponentAddress {
    return this.count === 1 ? SM_ADDRESS : shardAddress(shardOf(bareOf(jid), this.count), this.count);
  }

  indexOf(jid: string): number {
    return shardOf(bareOf(jid), this.count);
  }

  address(index: number): ComponentAddress {
    return shardAddress(index, this.count);
  }

  /** Every shard's address, for what every sm must hear (a service coming online). */
  addresses(): ComponentAddress[] {
    return Array.from({ length: this.count }, (_, k) => shardAddress(k, this.count));
  }
}
