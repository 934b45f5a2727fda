// XEP-0313 Message Archive Management as an sm module, with XEP-0359 stanza
// ids: every chat or normal message with a body (§5) that a local user sends
// or receives is archived for that user, with the same server-assigned id on
// both sides, and the recipient's copy carries <stanza-id by='user@domain'>
// before any copy of it is made (carbons) or it is stored offline — so a
// client that syncs by MAM recognises an offline message it also received
// as one message.
//
//   inSess   50  a message the user sends: the sender's entry (to a local user of this shard it waits
//                for pktUser, so both sides go in one transaction under one id; to a component or a
//                user of another shard it is written here, under an id of its own)
//   pktUser  60  a message for a local user, to be delivered or stored offline: forged stanza ids by
//                the user are stripped (XEP-0359 §5), the id is stamped, both entries are written
//   iq       account  urn:xmpp:mam:2 query (form get, query set), metadata (get) and prefs (get, set)
//   sessStart         XEP-0386 Bind 2 asks for the archive's <metadata/> (§3.2): answered into <bound/>
//
// The id is chosen in memory and the entries are written behind (writer.ts:
// one transaction per archiveWriteDelayMs, 1 s by default, for every
// session), so archiving adds no wait
// to delivery. A storage failure does not hold the message up either: it was
// delivered with its stanza id, the archive misses it, and the failure is
// logged (archive.failed) and counted (switchboard:archive:write-failed), so
// online chat goes on while the database is away (#17). A message that needs
// storage to be delivered at all (offline) is refused by offline storage.

import { Element } from '@switchboard/xml';
import { mamMetadataElement, NS_MAM, NS_MAM_EXTENDED, NS_STANZA_ID, stanzaIdBy, stanzaIdElement, withoutStanzaIdsBy } from '@switchboard/protocol';
import type { ArchiveDefault, ArchiveEntry, ArchivePrefs } from '../../../storage/archive.ts';
import { bareOf } from '../../../storage/archive.ts';
import type { PktUser, Verdict } from '../../chains.ts';
import type { Classified } from '../../classify.ts';
import { defineModule } from '../../module.ts';
import { isReturned } from '../../returned.ts';
import { moduleLogger } from '../../../log.ts';
import { archivable, bodyText, decide } from './eligible.ts';
import { PrefsCache } from './prefs-cache.ts';
import { archiveMetadata, serveMetadata, serveQuery, servePrefs, type QueryDeps } from './query.ts';
import { ArchiveSweep } from './sweep.ts';
import { ArchiveWriter, DEFAULT_WRITER_OPTIONS, type ArchiveWriterOptions } from './writer.ts';
import { stanzaIdOf } from './stanza-id.ts';
import { channels } from '../../../diagnostics.ts';

export interface MamOptions {
  /** §6: the default of users who set no preferences. */
  default: ArchiveDefault;
  /** Retention: messages older than this are removed; 0 keeps them. */
  expirySeconds: number;
  /** Most messages per user; 0 for no limit. */
  maxPerUser: number;
  /** Index message text for the full-text field (SQLite FTS5, PostgreSQL tsvector). */
  fullText: boolean;
  /** Seconds between retention sweeps (default 300). */
  sweepIntervalSeconds?: number;
  /** The write-behind queue (writer.ts); tests shorten it. */
  writer?: Partial<ArchiveWriterOptions>;
}

export interface MamApi {
  /** Runs one retention sweep now (the timer runs them every sweepIntervalSeconds). */
  sweep(): Promise<{ expired: number; trimmed: number }>;
  /** Stops the sweep timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

/** The archive's preferences could not be read: said once per failure, and the message goes on unarchived. */
const archiveFailed = (err: unknown, username: string): 'pass' => {
  moduleLogger('mam').error({ event: 'archive.failed', user: username, err }, 'message delivered without archiving: the archive failed');
  return 'pass';
};

/** A write-behind transaction failed: its messages were delivered (with stanza ids) and are not in the archive. */
const writeFailed = (err: unknown, entries: readonly ArchiveEntry[]): void => {
  const users = [...new Set(entries.map((e) => e.username))];
  moduleLogger('mam').error({ event: 'archive.failed', entries: entries.length, users: users.slice(0, 20), err }, 'messages delivered without archiving: the archive failed');
  if (channels.archiveWriteFailed.hasSubscribers) channels.archiveWriteFailed.publish({ entries: entries.length });
};

export const mam = defineModule<MamOptions, MamApi>({
  name: 'mam',
  setup(ctx, options) {
    const archive = ctx.storage.archive;
    const domain = ctx.domain;
    const writer = new ArchiveWriter(archive, writeFailed, { ...DEFAULT_WRITER_OPTIONS, ...options.writer });
    const defaults: ArchivePrefs = { default: options.default, always: [], never: [] };
    const prefs = new PrefsCache(archive, domain, defaults);
    /** The sender's entry of a message to a local user, until pktUser writes it with the recipient's. */
    const outgoing = new WeakMap<Classified, ArchiveEntry>();

    /** Does `username` archive messages with `contact` (a bare JID)? Synchronous while the preferences are cached. */
    const wants = (username: string, contact: string): boolean | Promise<boolean> => {
      const p = prefs.get(username);
      const inRoster = async () => (await ctx.rosters.load(username)).items.has(contact);
      const decided = p instanceof Promise ? p.then((loaded) => decide(loaded, contact, inRoster)) : decide(p, contact, inRoster);
      // Preferences or roster unreadable (the store is away): not archived, and the message goes on.
      return decided instanceof Promise ? decided.catch((err: unknown) => {
            archiveFailed(err, username);
            return false;
          }) : decided;
    };

    const entry = (username: string, id: string, timestamp: Date, withJid: string, c: Classified, stanza: Element): ArchiveEntry => {
      const body = options.fullText ? bodyText(stanza) : undefined;
      return { username, host: domain, id, timestamp, with: withJid, stanza: c.text ?? stanza.toString(), ...(body !== undefined ? { body } : {}) };
    };

    // ---- the sender's side ----
    const sentDecided = (username: string, c: Classified, local: boolean, archived: boolean): Verdict | Promise<Verdict> => {
      if (!archived) return 'pass';
      const to = c.to!;
      const now = new Date();
      const e = entry(username, stanzaIdOf(now.getTime()), now, to.toString(), c, c.stanza);
      if (local) {
        outgoing.set(c, e);
        return 'pass';
      }
      const full = writer.enqueue([e]);
      return full ? full.then(() => 'pass') : 'pass';
    };
    const sent = (username: string, c: Classified, local: boolean): Verdict | Promise<Verdict> => {
      const archived = wants(username, c.to!.bare().toString());
      return archived instanceof Promise ? archived.then((a) => sentDecided(username, c, local, a)) : sentDecided(username, c, local, archived);
    };
    ctx.hook(
      'inSess',
      ({ session, c }) => {
        if (c.kind !== 'message' || c.to === undefined || !archivable(c.stanza, c.type)) return 'pass';
        const local = c.address === 'bare' || c.address === 'full';
        // A message to oneself is archived once, as received.
        if ((local && c.to.local === session.username) || (!local && c.address !== 'remote')) return 'pass';
        // To a user of another shard (docs/protocol.md "Shards") the sender's entry is written here, under its own id.
        return sent(session.username, c, local && ctx.peerOf(c.to.bare().toString()) === undefined);
      },
      50,
    );

    // ---- the recipient's side ----
    /**
     * The delivery was decided before a wait (preferences read from storage, a full write queue): a session that
     * ended meanwhile (its c2s went away) does not get it; the others do, or, with none left, offline storage
     * keeps it (RFC 6121 §8.5.3.2.1). Nothing is dropped.
     */
    const decideAgain = (p: PktUser): 'pass' => {
      if (p.delivery.action === 'deliver' && p.delivery.to.some((s) => s.ended)) {
        const live = p.delivery.to.filter((s) => !s.ended);
        p.delivery = live.length > 0 ? { action: 'deliver', to: live } : { action: 'offline' };
      }
      return 'pass';
    };
    const receivedDecided = (p: PktUser, stanza: Element, fromJid: string, mine: boolean, waited: boolean): Verdict | Promise<Verdict> => {
      const { c, username, bare } = p;
      const theirs = outgoing.get(c);
      outgoing.delete(c);
      if (!mine && !theirs) return waited ? decideAgain(p) : 'pass';
      const timestamp = theirs?.timestamp ?? new Date();
      const id = theirs?.id ?? stanzaIdOf(timestamp.getTime());
      const entries = theirs ? [theirs] : [];
      if (mine) entries.push(entry(username, id, timestamp, fromJid, c, stanza));
      const full = writer.enqueue(entries);
      if (mine) {
        const idElement = stanzaIdElement(bare, id);
        c.stanza = new Element(stanza.name, stanza.withAttrs({}).attrs, [...stanza.children, idElement]);
        // The client's own text stays the text delivered, with the id written in before its end tag (no serialisation).
        c.text = c.text?.endsWith('</message>') ? `${c.text.slice(0, -'</message>'.length)}${idElement.toString()}</message>` : undefined;
      }
      if (full) return full.then(() => decideAgain(p));
      return waited ? decideAgain(p) : 'pass';
    };
    const received = (p: PktUser, stanza: Element, fromJid: string): Verdict | Promise<Verdict> => {
      const mine = wants(p.username, bareOf(fromJid));
      return mine instanceof Promise ? mine.then((m) => receivedDecided(p, stanza, fromJid, m, true)) : receivedDecided(p, stanza, fromJid, mine, false);
    };
    ctx.hook(
      'pktUser',
      (p) => {
        const { c, bare, delivery } = p;
        if (c.kind !== 'message' || (delivery.action !== 'deliver' && delivery.action !== 'offline')) return 'pass';
        // A message handed back unacknowledged (XEP-0198, the 510 race) was archived on its first pass, with the id
        // it carries: it is not archived twice, and keeps the id (a client that syncs by MAM recognises it).
        if (isReturned(c) && stanzaIdBy(c.stanza, bare) !== undefined) return 'pass';
        // XEP-0359 §5: an id claiming to be the user's archive's that the archive did not give is removed.
        const stanza = withoutStanzaIdsBy(c.stanza, bare);
        if (stanza !== c.stanza) {
          c.stanza = stanza;
          c.text = undefined;
        }
        const from = stanza.attrs.from;
        if (from === undefined || !archivable(stanza, c.type)) return 'pass';
        return received(p, stanza, from);
      },
      60,
    );

    // ---- queries and preferences ----
    // A query reads what was queued before it (read your writes).
    const deps: QueryDeps = { domain, archive, prefs, sendTo: ctx.sendTo, beforeRead: () => writer.flush(), maxPage: 250, defaultPage: 50, maxIds: 250, fullText: options.fullText };
    ctx.iq({ xmlns: NS_MAM, name: 'query', targets: ['account'], handler: (iq) => serveQuery(deps, iq) });
    ctx.iq({ xmlns: NS_MAM, name: 'prefs', targets: ['account'], handler: (iq) => servePrefs(deps, iq) });
    ctx.iq({ xmlns: NS_MAM, name: 'metadata', targets: ['account'], handler: (iq) => serveMetadata(deps, iq) });
    // XEP-0386 §3.2: <bound/> SHOULD describe the archive at the moment of binding, so a client knows where to sync
    // from. An archive that cannot be read leaves it out (logged): the bind goes on, as messages go on unarchived.
    ctx.hook('sessStart', async ({ session, features, bound }) => {
      if (!bound || !features?.some((f) => f.is('metadata', NS_MAM))) return;
      try {
        bound.push(mamMetadataElement(await archiveMetadata(deps, session.username)));
      } catch (err) {
        moduleLogger('mam').error({ event: 'archive.failed', user: session.username, err }, 'Bind 2 answered without the archive metadata: the archive failed');
      }
    });
    ctx.feature('account', NS_MAM_EXTENDED);
    ctx.feature('account', NS_STANZA_ID);
    ctx.hook('userDelete', ({ username }) => prefs.forget(username));

    const sweep = new ArchiveSweep(
      archive,
      { expirySeconds: options.expirySeconds, maxPerUser: options.maxPerUser, batch: 500, intervalSeconds: options.sweepIntervalSeconds ?? 300 },
      (err) => console.error('switchboard: archive sweep failed', err),
    );
    sweep.start();
    return {
      sweep: async () => {
        await writer.flush();
        return sweep.runOnce();
      },
      stop: async () => {
        await sweep.stop();
        await writer.close();
      },
    };
  },
});
