import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceShards, componentDomainOf, serviceShardAddress, serviceShardOf } from './service-shards.ts';
import { shardOf } from './shards.ts';

describe('service shards (docs/protocol.md "Service shards")', () => {
  it('one shard is the plain component address, as before sharding', () => {
    const s = new ServiceShards('conference.example.org');
    assert.equal(s.addressOf('lobby@conference.example.org/Nick'), 'component/conference.example.org');
    assert.equal(serviceShardAddress('conference.example.org', 0, 1), 'component/conference.example.org');
  });

  it("a room's shard is the sm's hash of its bare JID; an occupant JID goes with its room; the domain is shard 0", () => {
    const s = new ServiceShards('conference.example.org', 4);
    for (let i = 0; i < 50; i++) {
      const room = `room${i}@conference.example.org`;
      assert.equal(s.indexOf(room), shardOf(room, 4));
      assert.equal(s.indexOf(`${room}/Nick ${i}`), s.indexOf(room));
      assert.equal(s.addressOf(`${room}/x`), `component/conference.example.org/shard-${shardOf(room, 4)}`);
    }
    assert.equal(serviceShardOf('conference.example.org', 4), 0);
    assert.equal(s.addressOf('conference.example.org'), 'component/conference.example.org/shard-0');
    // Spread over every shard.
    assert.equal(new Set(Array.from({ length: 50 }, (_, i) => s.indexOf(`room${i}@conference.example.org`))).size, 4);
  });

  it('the domain of an address, sharded or not; other addresses have none', () => {
    assert.equal(componentDomainOf('component/conference.example.org/shard-3'), 'conference.example.org');
    assert.equal(componentDomainOf('component/conference.example.org'), 'conference.example.org');
    assert.equal(componentDomainOf('sm/shard-1'), undefined);
    assert.equal(componentDomainOf('c2s/host-1'), undefined);
  });
});
