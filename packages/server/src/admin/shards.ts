// A process's administration over every sm shard it serves (docs/protocol.md
// "Shards"): a user's operation goes to the shard that holds the user, lists
// and counts span them all. Unsharded (the default) there is one sm and this
// is that sm's view. A user whose shard another process serves is refused by
// the operations (`serves` false): its sessions can only be ended there.

import type { ServerConfig } from '../config.ts';
import type { Storage } from '../storage/ports.ts';
import type { SessionManager } from '../sm/sm.ts';
import type { SmSession } from '../sm/session.ts';
import { AdminOperations } from './operations.ts';

export function adminOverShards(config: Pick<ServerConfig, 'domain' | 'scramIterations'>, storage: Storage, sms: ReadonlyMap<number, SessionManager>): AdminOperations {
  const owner = (bare: string): SessionManager | undefined => {
    for (const sm of sms.values()) if (sm.owns(bare)) return sm;
    return undefined;
  };
  const bareOf = (jid: string): string => jid.split('/')[0]!;
  const needOwner = (bare: string): SessionManager => {
    const sm = owner(bare);
    if (!sm) throw new Error(`no sm shard of this process holds ${bare}`);
    return sm;
  };
  return new AdminOperations({
    domain: config.domain,
    accounts: storage.accounts,
    userData: storage.userData,
    scramIterations: config.scramIterations,
    sessions: {
      get size() {
        let n = 0;
        for (const sm of sms.values()) n += sm.sessions.size;
        return n;
      },
      *all(): Iterable<SmSession> {
        for (const sm of sms.values()) yield* sm.sessions.all();
      },
      bare: (bare) => owner(bare)?.sessions.bare(bare) ?? [],
    },
    serves: (bare) => owner(bare) !== undefined,
    sendTo: (session, stanza) => needOwner(session.bareJid).sendTo(session, stanza),
    userCreated: (bare) => needOwner(bare).userCreated(bare),
    removeUser: (bare) => needOwner(bare).removeUser(bare),
    endSessions: (jid, reason) => needOwner(bareOf(jid)).endSessionsOf(jid, reason),
  });
}
