// MucStore on SQLite: one row per persistent room, one per archived message.

import type Database from 'better-sqlite3';
import type { MucStore, RoomMessage } from '../ports.ts';

interface MessageRow {
  id: number;
  nick: string;
  stanza: string;
  at: number;
}

export class SqliteMuc implements MucStore {
  private readonly get;
  private readonly put;
  private readonly removeRoom;
  private readonly removeMessages;
  private readonly list;
  private readonly append;

  constructor(private readonly db: Database.Database) {
    this.get = db.prepare<[string, string], { state: string }>('SELECT state FROM muc_rooms WHERE service = ? AND room = ?');
    this.put = db.prepare(
      'INSERT INTO muc_rooms (service, room, state, public, name) VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, room) DO UPDATE SET state = excluded.state, public = excluded.public, name = excluded.name',
    );
    this.removeRoom = db.prepare('DELETE FROM muc_rooms WHERE service = ? AND room = ?');
    this.removeMessages = db.prepare('DELETE FROM muc_messages WHERE service = ? AND room = ?');
    this.list = db.prepare<[string, number], { room: string; name: string }>('SELECT room, name FROM muc_rooms WHERE service = ? AND public = 1 ORDER BY room LIMIT ?');
    this.append = db.prepare('INSERT INTO muc_messages (service, room, nick, stanza, at) VALUES (?, ?, ?, ?, ?)');
  }

  async getRoom(service: string, room: string): Promise<string | undefined> {
    return this.get.get(service, room)?.state;
  }

  async putRoom(service: string, room: string, state: string, listing: { public: boolean; name: string }): Promise<void> {
    this.put.run(service, room, state, listing.public ? 1 : 0, listing.name);
  }

  async deleteRoom(service: string, room: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.removeMessages.run(service, room);
      return this.removeRoom.run(service, room).changes > 0;
    })();
  }

  async publicRooms(service: string, limit: number): Promise<{ room: string; name: string }[]> {
    return this.list.all(service, limit);
  }

  async appendMessage(service: string, room: string, message: { stanza: string; nick: string; at: Date }): Promise<string> {
    return String(this.append.run(service, room, message.nick, message.stanza, message.at.getTime()).lastInsertRowid);
  }

  async messages(service: string, room: string, options: { limit: number; before?: string; after?: string; start?: Date; end?: Date }): Promise<RoomMessage[]> {
    const where = ['service = ?', 'room = ?'];
    const args: (string | number)[] = [service, room];
    const add = (clause: string, value: string | number): void => {
      where.push(clause);
      args.push(value);
    };
    if (options.before !== undefined) add('id < ?', Number(options.before));
    if (options.after !== undefined) add('id > ?', Number(options.after));
    if (options.start) add('at >= ?', options.start.getTime());
    if (options.end) add('at <= ?', options.end.getTime());
    // Paging forward from `after` reads the oldest first; otherwise the newest, turned back into order.
    const forward = options.after !== undefined;
    const rows = this.db
      .prepare<(string | number)[], MessageRow>(`SELECT id, nick, stanza, at FROM muc_messages WHERE ${where.join(' AND ')} ORDER BY id ${forward ? 'ASC' : 'DESC'} LIMIT ?`)
      .all(...args, options.limit);
    if (!forward) rows.reverse();
    return rows.map((r) => ({ id: String(r.id), nick: r.nick, stanza: r.stanza, at: new Date(r.at) }));
  }
}
