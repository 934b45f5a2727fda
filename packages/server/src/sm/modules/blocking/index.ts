// XEP-0191 blocking command as an sm module: the iq protocol, and the checks
// on the chains. A user's list is held in memory from the bind of each of
// its sessions to that session's end, so the stanza path of an online user
// never reads storage.
//
//   inSess   100  §3.4: nothing goes from the user to someone it blocked
//   pktUser  100  §3.3: nothing reaches the user from someone it blocked
//   presenceOut    §3.2: the user's presence is not broadcast to a blocked contact

import { parseJid, type Jid } from '@switchboard/jid';
import { stanzaError } from '@switchboard/protocol';
import type { Verdict } from '../../chains.ts';
import { defineModule } from '../../module.ts';
import type { SmSession } from '../../session.ts';
import { BlockLists, blockedError, NS_BLOCKING } from './block-lists.ts';

export { BlockLists, blockedError, NS_BLOCKING } from './block-lists.ts';

/**
 * A blocked sender learns nothing: presence is dropped, the rest gets
 * service-unavailable (§3.3) — but groupchat and headline messages are
 * dropped too, as Prosody's mod_blocklist does: an error from an occupant
 * makes a room remove it (XEP-0045 §18), so blocking one occupant would
 * throw the blocker out of the room, and a headline service does not read
 * errors.
 */
function refused(kind: string, type: string): Verdict {
  if (kind === 'presence' || (kind === 'message' && (type === 'groupchat' || type === 'headline'))) return 'handled';
  return stanzaError('service-unavailable');
}

export const blocking = defineModule<void, BlockLists>({
  name: 'blocking',
  setup(ctx) {
    const lists = new BlockLists({
      domain: ctx.domain,
      userData: ctx.storage.userData,
      sessions: ctx.sessions,
      sendTo: ctx.sendTo,
      sendUnavailableTo: (username, jid) => ctx.im.sendUnavailableTo(`${username}@${ctx.domain}`, jid),
    });
    for (const name of ['blocklist', 'block', 'unblock']) {
      ctx.iq({ xmlns: NS_BLOCKING, name, targets: ['account'], handler: (iq) => lists.iq(iq) });
    }
    // §2: clients look for the command in the server's disco#info (Converse.js loads no block list otherwise).
    ctx.feature('host', NS_BLOCKING);

    /** Sessions that hold their user's list: each releases only what it retained. */
    const holding = new WeakSet<SmSession>();
    ctx.hook('sessStart', async ({ session }) => {
      await lists.retain(session.username);
      holding.add(session);
    });
    ctx.hook('sessEnd', ({ session }) => {
      if (holding.delete(session)) lists.release(session.username);
    });
    ctx.hook('userDelete', ({ username }) => lists.accountRemoved(username));

    ctx.hook(
      'inSess',
      ({ session, c }) => {
        // The sender's list is held while it has a session; while no held list blocks anyone, nothing to check.
        if (!c.to || c.address === 'host' || c.address === 'self' || !lists.anyHeldBlocks || !lists.blockedSync(session.username, c.to)) return 'pass';
        return c.kind === 'presence' ? 'handled' : blockedError();
      },
      100,
    );

    ctx.hook(
      'pktUser',
      ({ c, username, sessions, from }) => {
        // An online recipient's list is held in memory; while no held list blocks anyone, nothing to check.
        if (c.address === 'self' || (sessions.length > 0 && !lists.anyHeldBlocks)) return 'pass';
        // A session's stanzas carry its full JID as `from` (stamped by the c2s): no need to parse it again.
        let sender: Jid | undefined = from?.jid;
        if (sender === undefined) {
          const parsed = parseJid(c.stanza.attrs.from ?? '');
          if (!parsed.ok) return 'pass';
          sender = parsed.jid;
        }
        const blocked = lists.blockedSync(username, sender) ?? lists.blocked(username, sender);
        if (blocked instanceof Promise) return blocked.then((b) => (b ? refused(c.kind, c.type) : 'pass'));
        return blocked ? refused(c.kind, c.type) : 'pass';
      },
      100,
    );

    ctx.hook('presenceOut', ({ username, contact }) => {
      if (!lists.anyHeldBlocks) return 'pass';
      const parsed = parseJid(contact);
      return parsed.ok && lists.blockedSync(username, parsed.jid) === true ? 'handled' : 'pass';
    });
    return lists;
  },
});
