// A MUC service's limits and defaults (config key `muc`, one entry per
// service domain). Every per-room and per-occupant store is bounded here.

export interface MucServiceOptions {
  /** The service's domain, e.g. `conference.example.org`. */
  domain: string;
  /** Most occupants of one room, whatever the room's own setting (§10.2 muc#roomconfig_maxusers). */
  maxOccupants?: number;
  /** Most messages of history a room keeps and offers (§7.2.13). */
  maxHistory?: number;
  /** Longest nickname in characters. */
  maxNickLength?: number;
  /** Longest subject in characters. */
  maxSubjectLength?: number;
  /** Flood control per occupant: messages per second, and the burst allowed above it. */
  messagesPerSecond?: number;
  burst?: number;
  /** Most rooms one service holds (created or loaded) at once. */
  maxRooms?: number;
  /** Only users of these domains may create rooms (none: anyone). */
  createRoomsDomains?: string[];
}

export type MucLimits = Required<Omit<MucServiceOptions, 'createRoomsDomains'>> & { createRoomsDomains: string[] | undefined };

export function mucLimits(options: MucServiceOptions): MucLimits {
  return {
    domain: options.domain,
    maxOccupants: options.maxOccupants ?? 1000,
    maxHistory: options.maxHistory ?? 100,
    maxNickLength: options.maxNickLength ?? 64,
    maxSubjectLength: options.maxSubjectLength ?? 1024,
    messagesPerSecond: options.messagesPerSecond ?? 5,
    burst: options.burst ?? 20,
    maxRooms: options.maxRooms ?? 100_000,
    createRoomsDomains: options.createRoomsDomains,
  };
}
