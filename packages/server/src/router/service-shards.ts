// Which process serves which part of a service (docs/protocol.md "Service
// shards"). A service domain (a MUC's `conference.example.org`) is split into
// `count` shards by the same stable hash the sm shards users by (shards.ts:
// SHA-1 of the bare JID, first four bytes, modulo the count), taken of the
// bare address a stanza is to — the room JID for a MUC — so every stanza for
// one room reaches the one process that owns its shard. A stanza for the
// domain itself (disco on `conference.example.org`) belongs to shard 0.
//
// Shard k of a domain is the router address `component/<domain>/shard-k`;
// with one shard it is plain `component/<domain>`, the address an XEP-0114
// component of the domain has, so an unsharded service is unchanged. Each
// address is owned through a lease (shard-claims.ts), as the sm's shards are.

import { COMPONENT_ADDRESS_PREFIX } from './envelope.ts';
import type { ComponentAddress } from './router.ts';
import { bareOf, shardOf } from './shards.ts';

const SHARD_SEPARATOR = '/shard-';

/** The router address of shard `index` of `count` of a service domain. */
export function serviceShardAddress(domain: string, index: number, count: number): ComponentAddress {
  return count === 1 ? COMPONENT_ADDRESS_PREFIX + domain : `${COMPONENT_ADDRESS_PREFIX}${domain}${SHARD_SEPARATOR}${index}`;
}

/** The shard of a JID in a service domain: its bare JID's hash, or 0 for the domain itself. */
export function serviceShardOf(jid: string, count: number): number {
  if (count === 1) return 0;
  const bare = bareOf(jid);
  return bare.includes('@') ? shardOf(bare, count) : 0;
}

/** The domain of a component or service shard address (`component/<domain>[/shard-k]`), or undefined for other addresses. */
export function componentDomainOf(address: ComponentAddress): string | undefined {
  if (!address.startsWith(COMPONENT_ADDRESS_PREFIX)) return undefined;
  const rest = address.slice(COMPONENT_ADDRESS_PREFIX.length);
  const cut = rest.indexOf(SHARD_SEPARATOR);
  return cut < 0 ? rest : rest.slice(0, cut);
}

/** One service domain's shards, as the service host and every sm see them. */
export class ServiceShards {
  constructor(
    readonly domain: string,
    readonly count = 1,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`service shards must be a positive integer, not ${count}`);
  }

  /** The shard of a JID in the domain (the room of `room@domain/nick`). */
  indexOf(jid: string): number {
    return serviceShardOf(jid, this.count);
  }

  /** The address of the shard serving `jid`. */
  addressOf(jid: string): ComponentAddress {
    return serviceShardAddress(this.domain, this.indexOf(jid), this.count);
  }

  address(index: number): ComponentAddress {
    return serviceShardAddress(this.domain, index, this.count);
  }
}
