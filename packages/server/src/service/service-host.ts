// Runs services as components on the router (docs/protocol.md "Services" and
// "Service shards"). A service domain is split into shards by the room (or
// node, or whatever bare address a stanza is to; router/service-shards.ts),
// each attached at its own address, `component/<domain>` when there is one
// shard. Each attached shard announces itself to the sm with the `component`
// control, so the sm routes it exactly as it routes an external component:
// the sm holds no service code.
//
// In one process the host serves every shard. Across processes (`leases`)
// each shard is owned through a lease, by the same claims as the sm's shards
// (router/shard-claims.ts): any number of processes may host a service, each
// takes its share, the rest stand by, and a dead owner's shards are taken
// within the lease's TTL. The new owner holds nothing in memory for them: a
// MUC loads a room from the store at its first stanza, with no occupants.

import type { KV } from 'nats';
import type { Element } from '@switchboard/xml';
import { replyWithError, stanzaError } from '@switchboard/protocol';
import { componentControl, fanOutPayload, readControl, type Envelope } from '../router/envelope.ts';
import type { ComponentAddress, Router } from '../router/router.ts';
import { ShardMap } from '../router/shards.ts';
import { ServiceShards } from '../router/service-shards.ts';
import { ShardClaims } from '../router/shard-claims.ts';
import { log } from '../log-line.ts';
import type { Service } from './service.ts';

/** Ownership across processes: the prefix's lease bucket (router/lease.ts) and who this process is in it. */
export interface ServiceLeases {
  bucket: KV;
  /** A lease not renewed for this long expires: how long a dead process's shards stay unowned. */
  ttlMs: number;
  holder: string;
}

export interface ServiceHostOptions {
  /** The sm shards: a stanza goes to the shard of its recipient, an announcement to every shard. */
  smShards?: ShardMap;
  /** Shards of each service domain (default 1); the same in every process of a cluster. */
  serviceShards?: number;
  /** Across processes: each shard owned through a lease. Absent: this process serves every shard. */
  leases?: ServiceLeases;
}

/** One service and the shards of it this process serves. */
interface Hosted {
  service: Service;
  shards: ServiceShards;
  /** Shards attached here now: a stanza for another (one in flight at a handover) is answered, never served. */
  serving: Set<number>;
  claims: ShardClaims | undefined;
  /** Envelopes that came while a shard's lease was not fresh, waiting for its renewal, by shard. */
  unconfirmed: Map<number, Envelope[]>;
  send(stanza: Element): void;
}

/** Most envelopes one shard holds while its lease is renewed after a pause; past it they are answered at once. */
const MAX_UNCONFIRMED = 1000;

export class ServiceHost {
  private readonly hosted: Hosted[] = [];
  private readonly smShards: ShardMap;
  private readonly serviceShards: number;

  constructor(
    private readonly router: Router,
    private readonly options: ServiceHostOptions = {},
  ) {
    this.smShards = options.smShards ?? new ShardMap(1);
    this.serviceShards = options.serviceShards ?? 1;
  }

  private announce(from: ComponentAddress, action: 'online' | 'offline', domain: string): void {
    for (const to of this.smShards.addresses()) this.router.route({ to, from, payload: componentControl(action, domain) });
  }

  get services(): readonly Service[] {
    return this.hosted.map((h) => h.service);
  }

  /** Starts the service, then serves its shards: all of them, or across processes those its leases give it. */
  async add(service: Service): Promise<void> {
    const shards = new ServiceShards(service.domain, this.serviceShards);
    // What the service sends goes out from the shard its `from` belongs to (the room's), to the sm of its `to`.
    const send = (stanza: Element): void =>
      this.router.route({ to: this.smShards.addressOf(stanza.attrs.to ?? ''), from: shards.addressOf(stanza.attrs.from ?? service.domain), payload: stanza });
    const fanOut = (stanza: Element, recipients: readonly string[]): void => {
      if (recipients.length === 0) return;
      if (recipients.length === 1) return send(stanza.withAttrs({ to: recipients[0] }));
      const from = shards.addressOf(stanza.attrs.from ?? service.domain);
      // One envelope per sm shard, with the recipients it owns.
      const byShard = new Map<ComponentAddress, { jid: string }[]>();
      for (const jid of recipients) {
        const to = this.smShards.addressOf(jid);
        let targets = byShard.get(to);
        if (!targets) byShard.set(to, (targets = []));
        targets.push({ jid });
      }
      for (const [to, targets] of byShard) this.router.route({ to, from, payload: fanOutPayload(stanza, targets) });
    };
    await service.start({ domain: service.domain, send, fanOut });
    const hosted: Hosted = { service, shards, serving: new Set(), claims: undefined, unconfirmed: new Map(), send };
    this.hosted.push(hosted);
    const leases = this.options.leases;
    if (!leases) {
      for (let k = 0; k < shards.count; k++) await this.attachShard(hosted, k);
      return;
    }
    hosted.claims = new ShardClaims(leases.bucket, {
      group: service.domain,
      count: shards.count,
      ttlMs: leases.ttlMs,
      holder: leases.holder,
      keyOf: (k) => shards.address(k),
      acquired: (k) => this.attachShard(hosted, k),
      releasing: (k) => this.releaseShard(hosted, k, true),
      // Fenced: another process owns the shard now. Stop at once and forget its state; its users learn it by
      // XEP-0410 self-ping, as after a crash (the new owner answers not-acceptable).
      lost: (k) => void this.releaseShard(hosted, k, false),
    });
    // A standby does not wait here: it serves whatever it is given later.
    await hosted.claims.start();
  }

  private async attachShard(hosted: Hosted, k: number): Promise<void> {
    const address = hosted.shards.address(k);
    await this.router.attach(address, (envelope) => this.receive(hosted, k, envelope));
    hosted.serving.add(k);
    this.announce(address, 'online', hosted.service.domain);
    log('info', `${hosted.service.kind} ${hosted.service.domain}: serving ${address} (shard ${k} of ${hosted.shards.count})`, undefined, 'service.shard.serving');
  }

  /** Stops serving shard `k`: the service forgets it (saying goodbye first when `clean`), the sm hears it is offline. */
  private async releaseShard(hosted: Hosted, k: number, clean: boolean): Promise<void> {
    if (!hosted.serving.delete(k)) return;
    const address = hosted.shards.address(k);
    if (!clean) await this.router.detach(address);
    // Whatever the service fails on, the shard is given up: attached after its lease goes, it would split rooms.
    await Promise.resolve(hosted.service.stopShard?.((jid) => hosted.shards.indexOf(jid) === k, clean)).catch((err: unknown) =>
      log('error', `${hosted.service.kind} ${hosted.service.domain}: forgetting shard ${k} failed`, err, 'service.shard.stop.failed'),
    );
    // Fenced, not a word: the address is the new owner's now, and an `offline` from here would make the sm take
    // it for gone (the goodbye of our detach carries our old epoch, which the others ignore).
    if (!clean) return log('error', `${hosted.service.kind} ${hosted.service.domain}: lost ${address} (shard ${k}) to another process`, undefined, 'service.shard.lost');
    this.announce(address, 'offline', hosted.service.domain);
    await this.router.detach(address);
    log('info', `${hosted.service.kind} ${hosted.service.domain}: gave ${address} (shard ${k}) back`, undefined, 'service.shard.released');
  }

  private receive(hosted: Hosted, k: number, envelope: Envelope): void {
    // Controls (a failed announcement coming back) are the host's, not the service's.
    if (readControl(envelope.payload)) return;
    if (hosted.claims && (!hosted.claims.fresh(k) || hosted.unconfirmed.has(k))) return this.holdUntilRenewed(hosted, k, envelope);
    this.serve(hosted, k, envelope);
  }

  /**
   * This process was paused past its lease's TTL (stopped, a long GC): another may own the shard now and have
   * been sent the same envelopes. They wait for a renewal: still ours, they are served in order; taken, each is
   * answered service-unavailable — never served twice, never dropped (one the new owner also got costs its sender
   * an extra error: docs/protocol.md "Service shards").
   */
  private holdUntilRenewed(hosted: Hosted, k: number, envelope: Envelope): void {
    let waiting = hosted.unconfirmed.get(k);
    if (waiting && waiting.length >= MAX_UNCONFIRMED) return this.unavailable(hosted, envelope);
    if (waiting) {
      waiting.push(envelope);
      return;
    }
    hosted.unconfirmed.set(k, (waiting = [envelope]));
    const claims = hosted.claims!;
    void claims
      .confirm(k)
      .catch(() => false)
      .then((ours) => {
        hosted.unconfirmed.delete(k);
        if (!ours) log('warn', `${hosted.service.kind} ${hosted.service.domain}: shard ${k}'s lease could not be renewed after a pause; ${waiting.length} stanza(s) answered, not served`, undefined, 'service.shard.unconfirmed');
        for (const e of waiting) {
          if (ours) this.serve(hosted, k, e);
          else this.unavailable(hosted, e);
        }
      });
  }

  private unavailable(hosted: Hosted, envelope: Envelope): void {
    const reply = replyWithError(envelope.payload, stanzaError('service-unavailable', { text: 'this part of the service is moving to another process; try again' }));
    if (reply) hosted.send(reply);
  }

  private serve(hosted: Hosted, k: number, envelope: Envelope): void {
    const { service, send } = hosted;
    const stanza = envelope.payload;
    // Sent while this process owned the shard, arriving after it gave it up: served here it would split the room.
    if (!hosted.serving.has(k)) return this.unavailable(hosted, envelope);
    const fail = (err: unknown): void => {
      console.error(`switchboard: ${service.kind} ${service.domain} failed on a stanza`, err);
      // Nothing is lost: the sender learns the service could not handle it.
      const reply = replyWithError(stanza, stanzaError('internal-server-error'));
      if (reply) send(reply);
    };
    try {
      const done = service.receive(stanza);
      if (done) done.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Stops every service (each says goodbye to its users first), then tells the sm its shards are offline. */
  async stop(): Promise<void> {
    for (const hosted of this.hosted.splice(0).reverse()) {
      const { service } = hosted;
      // Across processes each shard is given back cleanly (its users told, its lease deleted for a standby at once).
      if (hosted.claims) await hosted.claims.stop().catch((err: unknown) => console.error(`switchboard: giving back ${service.kind} ${service.domain}`, err));
      await service.stop().catch((err: unknown) => console.error(`switchboard: stopping ${service.kind} ${service.domain}`, err));
      for (const k of [...hosted.serving]) {
        hosted.serving.delete(k);
        const address = hosted.shards.address(k);
        this.announce(address, 'offline', service.domain);
        await this.router.detach(address);
      }
    }
  }
}
