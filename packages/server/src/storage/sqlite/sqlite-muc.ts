// MucStore on SQLite: one row per persistent room. (The muc_messages table of
// the same migration is unused: room messages went to the message archive.)

import type Database from 'better-sqlite3';
import type { MucStore } from '../ports.ts';
import { mucBulk } from './sqlite-bulk.ts';

export class SqliteMuc implements MucStore {
  private readonly get;
  private readonly put;
  private readonly removeRoom;
  private readonly list;
  readonly bulk;

  constructor(db: Database.Database) {
    this.get = db.prepare<[string, string], { state: string }>('SELECT state FROM muc_rooms WHERE service = ? AND room = ?');
    this.put = db.prepare(
      'INSERT INTO muc_rooms (service, room, state, public, name) VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, room) DO UPDATE SET state = excluded.state, public = excluded.public, name = excluded.name',
    );
    this.removeRoom = db.prepare('DELETE FROM muc_rooms WHERE service = ? AND room = ?');
    this.list = db.prepare<[string, number], { room: string; name: string }>('SELECT room, name FROM muc_rooms WHERE service = ? AND public = 1 ORDER BY room LIMIT ?');
    this.bulk = mucBulk(db);
  }

  async getRoom(service: string, room: string): Promise<string | undefined> {
    return this.get.get(service, room)?.state;
  }

  async putRoom(service: string, room: string, state: string, listing: { public: boolean; name: string }): Promise<void> {
    this.put.run(service, room, state, listing.public ? 1 : 0, listing.name);
  }

  async deleteRoom(service: string, room: string): Promise<boolean> {
    return this.removeRoom.run(service, room).changes > 0;
  }

  async publicRooms(service: string, limit: number): Promise<{ room: string; name: string }[]> {
    return this.list.all(service, limit);
  }
}
