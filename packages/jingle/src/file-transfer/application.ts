// Wires XEP-0234 into a JingleManager: incoming file offers become
// FileTransferSessions, outgoing ones are created here, and the disco
// features name exactly the transports this configuration can do.

import type { Jid } from '@switchboard/jid';
import type { JingleManager } from '../manager.ts';
import {
  NS_BYTESTREAMS, NS_IBB, NS_JINGLE_DTLS, NS_JINGLE_DTLS_SCTP, NS_JINGLE_FT, NS_JINGLE_IBB, NS_JINGLE_ICE_UDP, NS_JINGLE_S5B, nsHashAlgorithm,
} from '../namespaces.ts';
import { FileTransferSession, type FileOffer, type FileTransferOptions, type Method } from './file-transfer-session.ts';
import { dataChannelAvailable } from './datachannel.ts';

export interface FileTransfers {
  /** Starts sending a file to a full JID; resolves once session-initiate is out. */
  offer(peer: string | Jid, file: FileOffer, method?: Method): Promise<FileTransferSession>;
}

export function registerFileTransfer(manager: JingleManager, options: FileTransferOptions = {}): FileTransfers {
  const features = [NS_JINGLE_FT, NS_JINGLE_IBB, NS_IBB, nsHashAlgorithm(options.hashAlgorithm ?? 'sha-256')];
  if (options.socks5) features.push(NS_JINGLE_S5B, NS_BYTESTREAMS);
  // XEP-0176 §11, XEP-0320 §5, XEP-0343 §6: what a peer (StanzaJS among them) looks for before a data channel offer.
  if (options.datachannel && dataChannelAvailable(options.datachannel)) features.push(NS_JINGLE_ICE_UDP, NS_JINGLE_DTLS, NS_JINGLE_DTLS_SCTP);
  manager.registerApplication({
    namespace: NS_JINGLE_FT,
    features,
    create: (init) => new FileTransferSession(init, options),
  });
  return {
    async offer(peer, file, method) {
      const session = manager.addSession(new FileTransferSession({ peer, initiator: true, requestTimeoutMs: manager.requestTimeoutMs }, options));
      await session.offer(file, method);
      return session;
    },
  };
}
